//! Allowances per client address (governor's keyed limiters): one for requests that proved
//! who they are, one for the rest, so that anonymous traffic (a token guesser) cannot spend
//! an authenticated client's; and who the client is, and what bearer token it sent.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::client_address::{IpNet, client_address};

type KeyedLimiter<C> = RateLimiter<IpAddr, HashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Allowances per client address: one for requests with the valid
/// token, one for the rest, so that anonymous traffic (a token guesser) cannot spend the
/// operator's.
pub struct ClientLimits<C: Clock = DefaultClock> {
    authenticated: KeyedLimiter<C>,
    anonymous: KeyedLimiter<C>,
}

pub type Limiter = Arc<ClientLimits>;

pub fn limiter(authenticated_per_minute: u32, anonymous_per_minute: u32) -> Limiter {
    Arc::new(ClientLimits::with_clock(authenticated_per_minute, anonymous_per_minute, DefaultClock::default()))
}

impl<C: Clock + Clone> ClientLimits<C> {
    pub fn with_clock(authenticated_per_minute: u32, anonymous_per_minute: u32, clock: C) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        ClientLimits {
            authenticated: RateLimiter::hashmap_with_clock(quota(authenticated_per_minute), clock.clone()),
            anonymous: RateLimiter::hashmap_with_clock(quota(anonymous_per_minute), clock),
        }
    }

    /// Spends one request of the client's allowance; how long to wait when there is none.
    pub fn check(&self, client: IpAddr, authenticated: bool) -> Result<(), Duration> {
        let limiter = if authenticated { &self.authenticated } else { &self.anonymous };
        limiter.check_key(&client).map_err(|not_until| not_until.wait_time_from(limiter_clock_now(limiter)))
    }

    /// Forgets the clients whose allowance is whole again (called every minute): a limiter
    /// that remembered every address it ever saw would grow without bound.
    pub fn forget_idle(&self) {
        for l in [&self.authenticated, &self.anonymous] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Clients remembered.
    pub fn clients(&self) -> usize {
        self.authenticated.len() + self.anonymous.len()
    }
}

fn limiter_clock_now<C: Clock>(l: &KeyedLimiter<C>) -> C::Instant {
    l.clock().now()
}

/// Equal in time whatever the inputs: both sides are hashed to 32 bytes first.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// A keyed allowance per minute, for keys that are not addresses (a caller's `sub`).
pub struct KeyedLimits<K: std::hash::Hash + Eq + Clone> {
    limiter: RateLimiter<K, HashMapStateStore<K>, DefaultClock, NoOpMiddleware>,
}

impl<K: std::hash::Hash + Eq + Clone> KeyedLimits<K> {
    pub fn per_minute(n: u32) -> Self {
        KeyedLimits { limiter: RateLimiter::hashmap(Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))) }
    }

    /// Spends one of the key's allowance; how long to wait when there is none.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Forgets the keys whose allowance is whole again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The client's address: the peer's, or what trusted proxies say of it.
pub fn client_of(req: &HttpRequest, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let forwarded_for = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
    client_address(peer, forwarded_for, trusted_proxies)
}

/// The bearer token of `Authorization`, if one was sent (RFC 6750: the scheme in any case).
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_and_kind() {
        let l = limiter(2, 1);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(l.check(a, false).is_ok());
        assert!(l.check(a, false).is_err(), "the anonymous allowance is spent");
        assert!(l.check(a, true).is_ok(), "the same address's authenticated one is not");
        assert!(l.check(a, true).is_ok());
        assert!(l.check(a, true).is_err());
        assert!(l.check(IpAddr::from([10, 0, 0, 2]), true).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        use governor::clock::FakeRelativeClock;
        let clock = FakeRelativeClock::default();
        let l = ClientLimits::with_clock(30, 10, clock.clone());
        for i in 0..150_000u32 {
            let _ = l.check(IpAddr::from(i.to_be_bytes()), i % 2 == 0);
        }
        assert_eq!(l.clients(), 150_000);
        l.forget_idle();
        assert_eq!(l.clients(), 150_000, "their allowances are not whole yet");
        clock.advance(Duration::from_secs(61));
        l.forget_idle();
        assert_eq!(l.clients(), 0);
    }

    #[test]
    fn compares_secrets() {
        assert!(same_secret("0123456789abcdef", "0123456789abcdef"));
        assert!(!same_secret("0123456789abcdef", "0123456789abcdeF"));
        assert!(!same_secret("0123456789abcdef", "0123456789abcdef0"));
        assert!(!same_secret("", "x"));
    }

    #[test]
    fn limits_per_key() {
        let l = KeyedLimits::per_minute(2);
        assert!(l.check(&"a".to_string()).is_ok());
        assert!(l.check(&"a".to_string()).is_ok());
        assert!(l.check(&"a".to_string()).is_err());
        assert!(l.check(&"b".to_string()).is_ok());
    }
}
