//! Who a caller is (access.md): the bearer access token of the operator's OpenID Provider,
//! verified once, at the edge, into a [`Caller`] that a handler receives like a parsed query.
//! The service is a resource server: it starts no login and never sees a password.
//!
//! A token is accepted only when its signature verifies with the issuer's key named by `kid`
//! under an algorithm of `auth.algorithms` that the key is for (the header never chooses the
//! algorithm alone; `none` and HS* never), its `typ` is `at+jwt` (RFC 9068: an ID token is no
//! access token), `iss` is the issuer, `aud` holds the audience, `exp` lies ahead and
//! `nbf`/`iat` not, each a number, `sub` is there, and the scope is granted. The JOSE work is
//! `jsonwebtoken`'s (≥ 10.3, which refuses a malformed `exp` or `nbf`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::client_address::IpNet;
use super::limits::{KeyedLimits, Limiter, bearer, client_of};
use crate::error::ApiError;
use crate::settings::AuthSettings;

/// The longest token read: a real access token is a few kilobytes.
pub const MAX_TOKEN_BYTES: usize = 8 << 10;
/// How often an unknown `kid` may send the service to the issuer for its keys.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// A verified caller: who (`sub`), for which organisation or municipality (`cvr`), and what
/// the audit records of the token (`client_id`, `jti`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub cvr: String,
    pub client_id: Option<String>,
    pub jti: Option<String>,
}

/// Why a token was not accepted. What a client is told is only the RFC 6750 error code;
/// the reason is for the log (never with the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, or one that does not verify: 401 `invalid_token`.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// A valid token without the scope: 403 `insufficient_scope`.
    #[error("the token lacks the scope")]
    InsufficientScope,
    /// The issuer's keys cannot be had: nobody is let in (fail closed).
    #[error("the issuer's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The issuer's discovery document names `jwks_uri`.
    Discovery(String),
    /// A JWKS URL.
    Url(String),
    /// Keys given, never fetched (tests, air-gapped operation).
    Fixed(JwkSet),
}

/// The accepted algorithms from their names; `none` and the HMAC ones are refused (a
/// public key is no shared secret).
pub fn algorithms(text: &str) -> Result<Vec<Algorithm>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|name| {
            let alg: Algorithm = name.parse().map_err(|_| format!("unknown algorithm {name:?}"))?;
            match alg {
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                    Err(format!("{name} is a shared-secret algorithm; only public-key ones are accepted"))
                }
                _ => Ok(alg),
            }
        })
        .collect()
}

/// The issuer's keys by `kid`, each with the algorithm its JWK names, if any.
#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, (DecodingKey, Option<Algorithm>)>,
    fetched: Option<Instant>,
}

pub struct Verifier {
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    cvr_claim: Vec<String>,
    scope: String,
    leeway: u64,
    source: KeySource,
    keys: tokio::sync::RwLock<Keys>,
    /// One fetch at a time: the others wait for it, and then read what it brought.
    fetching: tokio::sync::Mutex<()>,
    client: reqwest::Client,
    /// Tokens verified already, by their SHA-256, with their callers and `exp`: a client
    /// sends one token many times, and its signature need not be checked each time (an RSA
    /// verification is about 0.3 ms of a core). Kept at most until `exp` (and a minute).
    verified: moka::sync::Cache<[u8; 32], (Caller, u64)>,
}

/// Tokens kept verified (each a few hundred bytes).
const VERIFIED_TOKENS: u64 = 100_000;

impl Verifier {
    /// The verifier `auth` describes; `None` when signed-in access is off (no issuer).
    pub fn from_settings(auth: &AuthSettings) -> Result<Option<Verifier>, String> {
        let Some(issuer) = auth.issuer.clone() else { return Ok(None) };
        let source = match &auth.jwks_url {
            Some(url) => KeySource::Url(url.clone()),
            None => KeySource::Discovery(issuer.clone()),
        };
        Verifier::new(issuer, auth, source).map(Some)
    }

    pub fn new(issuer: String, auth: &AuthSettings, source: KeySource) -> Result<Verifier, String> {
        let algorithms = algorithms(&auth.algorithms)?;
        if algorithms.is_empty() {
            return Err("auth.algorithms names no algorithm".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        let mut keys = Keys::default();
        if let KeySource::Fixed(set) = &source {
            keys.by_kid = index(set);
            keys.fetched = Some(Instant::now());
        }
        Ok(Verifier {
            issuer,
            audience: auth.audience.clone(),
            algorithms,
            cvr_claim: auth.cvr_claim.split('.').map(str::to_string).collect(),
            scope: auth.scope.clone(),
            leeway: auth.leeway_seconds,
            source,
            keys: tokio::sync::RwLock::new(keys),
            fetching: tokio::sync::Mutex::new(()),
            client,
            verified: moka::sync::Cache::builder().max_capacity(VERIFIED_TOKENS).time_to_live(Duration::from_secs(60)).build(),
        })
    }

    /// The caller a token stands for.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        use sha2::Digest;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("longer than any access token"));
        }
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((caller, exp)) = self.verified.get(&key) {
            // (as the verification would: expired once past exp and the leeway)
            if now <= exp.saturating_add(self.leeway) {
                return Ok(caller);
            }
            self.verified.invalidate(&key);
            return Err(AuthError::Invalid("expired"));
        }
        let (caller, exp) = self.verify_signed(token).await?;
        self.verified.insert(key, (caller.clone(), exp));
        Ok(caller)
    }

    async fn verify_signed(&self, token: &str) -> Result<(Caller, u64), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("not a JWS"))?;
        if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")) {
            return Err(AuthError::Invalid("typ is not at+jwt: not an access token"));
        }
        if !self.algorithms.contains(&header.alg) {
            return Err(AuthError::Invalid("an algorithm not accepted"));
        }
        let kid = header.kid.ok_or(AuthError::Invalid("no kid"))?;
        let (key, key_alg) = self.key(&kid).await?;
        if key_alg.is_some_and(|a| a != header.alg) {
            return Err(AuthError::Invalid("the key is for another algorithm"));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                AuthError::Invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => "expired",
                    ErrorKind::ImmatureSignature => "not yet valid",
                    ErrorKind::InvalidIssuer => "another issuer",
                    ErrorKind::InvalidAudience => "another audience",
                    ErrorKind::InvalidSignature => "the signature does not verify",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    _ => "malformed",
                })
            })?
            .claims;
        // (a NumericDate may have a fraction; the signature check above read it as a number)
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .filter(|e| e.is_finite() && *e >= 0.0)
            .ok_or(AuthError::Invalid("exp is not a number"))?;
        let exp = exp.floor() as u64;
        Ok((self.caller(&claims)?, exp))
    }

    /// What the verified claims say of the caller; `iat` and the scope are checked here, as
    /// `jsonwebtoken` leaves them.
    fn caller(&self, claims: &Value) -> Result<Caller, AuthError> {
        if let Some(iat) = claims.get("iat") {
            let now = jsonwebtoken::get_current_timestamp();
            if !iat.as_f64().is_some_and(|t| t.is_finite() && t <= (now + self.leeway) as f64) {
                return Err(AuthError::Invalid("iat is not a past time"));
            }
        }
        let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let sub = text(claims.get("sub")).ok_or(AuthError::Invalid("sub is not a string"))?;
        let granted = match (claims.get("scope"), claims.get("scp")) {
            (Some(Value::String(s)), _) => s.split_ascii_whitespace().any(|x| x == self.scope),
            (_, Some(Value::Array(a))) => a.iter().any(|x| x.as_str() == Some(&self.scope)),
            (_, Some(Value::String(s))) => s.split_ascii_whitespace().any(|x| x == self.scope),
            _ => false,
        };
        if !granted {
            return Err(AuthError::InsufficientScope);
        }
        let cvr = self.cvr_claim.iter().try_fold(claims, |v, key| v.get(key)).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => n.as_u64().map(|n| format!("{n:08}")),
            _ => None,
        });
        let cvr = cvr.filter(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit())).ok_or(AuthError::Invalid("no CVR number"))?;
        Ok(Caller { sub, cvr, client_id: text(claims.get("client_id")), jti: text(claims.get("jti")) })
    }

    /// The key named `kid`: from the keys kept, else from the issuer, fetched again at most
    /// once per [`REFETCH_INTERVAL`] whatever the traffic.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<Algorithm>), AuthError> {
        if let Some((key, alg)) = self.keys.read().await.by_kid.get(kid) {
            return Ok((key.clone(), *alg));
        }
        let _one = self.fetching.lock().await;
        let due = self.keys.read().await.fetched.is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
        if due && !matches!(self.source, KeySource::Fixed(_)) {
            let fetched = self.fetch().await;
            let mut keys = self.keys.write().await;
            keys.fetched = Some(Instant::now());
            match fetched {
                Ok(set) => keys.by_kid = index(&set),
                // (the keys kept stay: an issuer away for a moment locks nobody out who was in)
                Err(e) if keys.by_kid.is_empty() => return Err(AuthError::KeysUnavailable(e)),
                Err(e) => tracing::warn!(error = %e, "the issuer's keys could not be fetched again"),
            }
        }
        let keys = self.keys.read().await;
        keys.by_kid.get(kid).map(|(key, alg)| (key.clone(), *alg)).ok_or(AuthError::Invalid("an unknown kid"))
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let get = |url: String| async move {
            let r = self.client.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("{url}: {}", r.status()));
            }
            r.bytes().await.map_err(|e| format!("{url}: {e}"))
        };
        let jwks_url = match &self.source {
            KeySource::Fixed(set) => return Ok(set.clone()),
            KeySource::Url(url) => url.clone(),
            KeySource::Discovery(issuer) => {
                let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
                let doc: Value = serde_json::from_slice(&get(url.clone()).await?).map_err(|e| format!("{url}: {e}"))?;
                if doc.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
                    return Err(format!("{url} names another issuer"));
                }
                doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| format!("{url} names no jwks_uri"))?.to_string()
            }
        };
        serde_json::from_slice(&get(jwks_url.clone()).await?).map_err(|e| format!("{jwks_url}: {e}"))
    }
}

/// The signing keys of a set by `kid`: keys without a `kid`, for encryption, or of a kind
/// the library cannot use are left out.
fn index(set: &JwkSet) -> HashMap<String, (DecodingKey, Option<Algorithm>)> {
    use jsonwebtoken::jwk::PublicKeyUse;
    set.keys
        .iter()
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter_map(|k| {
            let kid = k.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(k).ok()?;
            let alg = k.common.key_algorithm.and_then(|a| a.to_string().parse::<Algorithm>().ok());
            Some((kid, (key, alg)))
        })
        .collect()
}

/// Signed-in access at the edge: the verifier (none when `auth.issuer` is unset: `/v1/me` is
/// then not found), each caller's allowance, and the allowance failed authentications draw on
/// per client address.
pub struct Gate {
    verifier: Option<Verifier>,
    scope: String,
    per_caller: KeyedLimits<String>,
    failures: Limiter,
    trusted_proxies: Vec<IpNet>,
}

impl Gate {
    pub fn new(verifier: Option<Verifier>, auth: &AuthSettings, failures: Limiter, trusted_proxies: Vec<IpNet>) -> Gate {
        Gate {
            verifier,
            scope: auth.scope.clone(),
            per_caller: KeyedLimits::per_minute(auth.requests_per_minute),
            failures,
            trusted_proxies,
        }
    }

    pub fn enabled(&self) -> bool {
        self.verifier.is_some()
    }

    /// Forgets callers whose allowance is whole again (called every minute).
    pub fn forget_idle(&self) {
        self.per_caller.forget_idle();
    }

    /// The caller of a request, or the problem that answers it.
    async fn admit(&self, req: &HttpRequest) -> Result<Caller, ApiError> {
        let Some(verifier) = &self.verifier else {
            return Err(ApiError::NotFound("signed-in access is off: the setting auth.issuer is not set".into()));
        };
        // (RFC 6750 2.3 allows the query; access.md does not: URLs end up in logs and histories)
        if form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| k == "access_token") {
            return Err(ApiError::invalid("access_token", "send the access token in Authorization: Bearer, never in the URL"));
        }
        let verified = match bearer(req) {
            Some(token) => verifier.verify(token).await,
            None => Err(AuthError::Invalid("no bearer token")),
        };
        match verified {
            Ok(caller) => {
                if let Err(wait) = self.per_caller.check(&caller.sub) {
                    return Err(ApiError::TooManyRequests { retry_after_seconds: wait.as_secs().max(1) });
                }
                Ok(caller)
            }
            Err(e) => {
                tracing::info!(reason = %e, "a signed-in request was refused");
                // failed authentications spend the client address's anonymous allowance
                if let Err(wait) = self.failures.check(client_of(req, &self.trusted_proxies), false) {
                    return Err(ApiError::TooManyRequests { retry_after_seconds: wait.as_secs().max(1) });
                }
                Err(match e {
                    AuthError::Invalid(_) => ApiError::InvalidToken,
                    AuthError::InsufficientScope => ApiError::InsufficientScope(self.scope.clone()),
                    AuthError::KeysUnavailable(_) => {
                        ApiError::Unavailable("the issuer's signing keys cannot be had; nobody can sign in now".into())
                    }
                })
            }
        }
    }
}

/// The verified caller of a `/v1/me` request, received by a handler like its parsed query.
/// Who it is is noted on the request for the audit record, and so is a refusal.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Caller);

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<SignedIn, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(gate) = req.app_data::<web::Data<Gate>>() else {
                return Err(ApiError::Internal("no signed-in gate is configured".into()).into());
            };
            let caller = gate.admit(&req).await?;
            super::audit::note_caller(&req, &caller);
            Ok(SignedIn(caller))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const ISSUER: &str = "https://login.example.org";
    const RSA: &str = include_str!("../../tests/fixtures/auth/rsa.pem");
    const OTHER_RSA: &str = include_str!("../../tests/fixtures/auth/other-rsa.pem");
    const RSA_PUBLIC: &str = include_str!("../../tests/fixtures/auth/rsa.pub.pem");
    const EC: &str = include_str!("../../tests/fixtures/auth/ec.pem");
    const JWKS: &str = include_str!("../../tests/fixtures/auth/jwks.json");

    fn settings() -> AuthSettings {
        AuthSettings { issuer: Some(ISSUER.into()), ..AuthSettings::default() }
    }

    fn verifier() -> Verifier {
        let set: JwkSet = serde_json::from_str(JWKS).unwrap();
        Verifier::new(ISSUER.into(), &settings(), KeySource::Fixed(set)).unwrap()
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": ["boligsocial", "other"], "sub": "user-1", "exp": now() + 300, "iat": now() - 5,
               "nbf": now() - 5, "scope": "openid boligsocial:departments", "cvr": "12345678", "client_id": "kommune-it", "jti": "j-1"})
    }

    fn header(alg: Algorithm, kid: &str, typ: &str) -> Header {
        Header { typ: Some(typ.into()), kid: Some(kid.into()), ..Header::new(alg) }
    }

    fn sign(header: &Header, claims: &Value, pem: &str) -> String {
        let key = match header.alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        };
        encode(header, claims, &key).unwrap()
    }

    fn rs256(claims: &Value) -> String {
        sign(&header(Algorithm::RS256, "rsa-1", "at+jwt"), claims, RSA)
    }

    fn b64(v: &Value) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[tokio::test]
    async fn a_token_verified_once_still_expires() {
        let v = Verifier::new(
            ISSUER.into(),
            &AuthSettings { leeway_seconds: 0, ..settings() },
            KeySource::Fixed(serde_json::from_str(JWKS).unwrap()),
        )
        .unwrap();
        let mut c = claims();
        c["exp"] = json!(now() + 1);
        let token = rs256(&c);
        assert!(v.verify(&token).await.is_ok());
        assert!(v.verify(&token).await.is_ok(), "kept");
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(v.verify(&token).await, Err(AuthError::Invalid("expired")));
        // another token is verified on its own, not taken for a kept one
        let mut other = claims();
        other["sub"] = json!("user-2");
        assert_eq!(v.verify(&rs256(&other)).await.unwrap().sub, "user-2");
    }

    #[tokio::test]
    async fn an_access_token_of_the_issuer_names_its_caller() {
        let v = verifier();
        let caller = v.verify(&rs256(&claims())).await.unwrap();
        assert_eq!(
            caller,
            Caller { sub: "user-1".into(), cvr: "12345678".into(), client_id: Some("kommune-it".into()), jti: Some("j-1".into()) }
        );
        // every accepted algorithm, with the key made for it; the typ as RFC 9068 allows it
        assert!(v.verify(&sign(&header(Algorithm::PS256, "rsa-ps", "application/at+JWT"), &claims(), RSA)).await.is_ok());
        assert!(v.verify(&sign(&header(Algorithm::ES256, "ec-1", "at+jwt"), &claims(), EC)).await.is_ok());
        // scp instead of scope, a CVR under a dotted path, as a number
        let mut c = claims();
        c.as_object_mut().unwrap().remove("scope");
        c["scp"] = json!(["boligsocial:departments"]);
        c["nemlogin"] = json!({"cvr": 1234567});
        let nested = Verifier::new(
            ISSUER.into(),
            &AuthSettings { cvr_claim: "nemlogin.cvr".into(), ..settings() },
            KeySource::Fixed(serde_json::from_str(JWKS).unwrap()),
        )
        .unwrap();
        assert_eq!(nested.verify(&rs256(&c)).await.unwrap().cvr, "01234567");
    }

    /// Tokens an attacker would try, each refused as invalid (401) whatever else it holds.
    #[tokio::test]
    async fn hostile_tokens_are_refused() {
        let v = verifier();
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut c = claims();
            edit(&mut c);
            c
        };
        let good_body = rs256(&claims());
        let parts: Vec<&str> = good_body.split('.').collect();
        let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": "rsa-1"})), parts[1]);
        let hs256_with_public_key =
            encode(&header(Algorithm::HS256, "rsa-1", "at+jwt"), &claims(), &EncodingKey::from_secret(RSA_PUBLIC.as_bytes())).unwrap();
        // (what, the token, why it is refused)
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "forged: signed by another key",
                sign(&header(Algorithm::RS256, "rsa-1", "at+jwt"), &claims(), OTHER_RSA),
                "the signature does not verify",
            ),
            ("alg none", none, "not a JWS"),
            ("HS256 keyed with the public key", hs256_with_public_key, "an algorithm not accepted"),
            ("RS384, not accepted", sign(&header(Algorithm::RS384, "rsa-1", "at+jwt"), &claims(), RSA), "an algorithm not accepted"),
            (
                "PS256 with the RS256 key's kid",
                sign(&header(Algorithm::PS256, "rsa-1", "at+jwt"), &claims(), RSA),
                "the key is for another algorithm",
            ),
            (
                "an ID token (typ JWT)",
                sign(&header(Algorithm::RS256, "rsa-1", "JWT"), &claims(), RSA),
                "typ is not at+jwt: not an access token",
            ),
            (
                "no typ",
                sign(&Header { kid: Some("rsa-1".into()), ..Header::new(Algorithm::RS256) }, &claims(), RSA),
                "typ is not at+jwt: not an access token",
            ),
            ("unknown kid", sign(&header(Algorithm::RS256, "rsa-9", "at+jwt"), &claims(), RSA), "an unknown kid"),
            ("expired", rs256(&with(&|c| c["exp"] = json!(now() - 120))), "expired"),
            ("not yet valid", rs256(&with(&|c| c["nbf"] = json!(now() + 120))), "not yet valid"),
            ("issued in the future", rs256(&with(&|c| c["iat"] = json!(now() + 3600))), "iat is not a past time"),
            ("exp a string", rs256(&with(&|c| c["exp"] = json!((now() + 300).to_string()))), "a required claim is missing"),
            ("nbf a string", rs256(&with(&|c| c["nbf"] = json!("0"))), "malformed"),
            ("iat a string", rs256(&with(&|c| c["iat"] = json!("0"))), "iat is not a past time"),
            ("no exp", rs256(&with(&|c| drop(c.as_object_mut().unwrap().remove("exp")))), "a required claim is missing"),
            ("another issuer", rs256(&with(&|c| c["iss"] = json!("https://evil.example.org"))), "another issuer"),
            ("another audience", rs256(&with(&|c| c["aud"] = json!("somebody-else"))), "another audience"),
            ("no sub", rs256(&with(&|c| drop(c.as_object_mut().unwrap().remove("sub")))), "a required claim is missing"),
            ("no CVR", rs256(&with(&|c| drop(c.as_object_mut().unwrap().remove("cvr")))), "no CVR number"),
            ("a CVR of seven digits", rs256(&with(&|c| c["cvr"] = json!("1234567"))), "no CVR number"),
            ("64 KB", rs256(&with(&|c| c["pad"] = json!("x".repeat(64 << 10)))), "longer than any access token"),
            ("not a JWS", "eyJhbGciOiJSUzI1NiJ9".into(), "not a JWS"),
            ("empty", String::new(), "not a JWS"),
        ];
        for (what, token, why) in cases {
            assert_eq!(v.verify(&token).await, Err(AuthError::Invalid(why)), "{what}");
        }
        // a valid token without the scope is a 403, not a 401
        let no_scope = rs256(&with(&|c| c["scope"] = json!("openid profile")));
        assert_eq!(v.verify(&no_scope).await, Err(AuthError::InsufficientScope));
    }

    #[test]
    fn shared_secret_and_unknown_algorithms_cannot_be_configured() {
        assert_eq!(algorithms("RS256, PS256,ES256").unwrap(), [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256]);
        for bad in ["HS256", "RS256, HS512", "none", "RS257"] {
            assert!(algorithms(bad).is_err(), "{bad}");
        }
    }

    /// A JWKS server on loopback that counts the requests it answers.
    fn jwks_server(body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, count)
    }

    /// Keys are fetched when first needed, kept, and fetched again on an unknown kid at most
    /// once per interval, however many such tokens come.
    #[tokio::test]
    async fn unknown_kids_do_not_send_the_service_to_the_issuer_each_time() {
        let (url, fetched) = jwks_server(JWKS);
        let v = Verifier::new(ISSUER.into(), &settings(), KeySource::Url(url)).unwrap();
        assert!(v.verify(&rs256(&claims())).await.is_ok());
        assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 1);
        for i in 0..200 {
            let token = sign(&header(Algorithm::RS256, &format!("made-up-{i}"), "at+jwt"), &claims(), RSA);
            assert!(matches!(v.verify(&token).await, Err(AuthError::Invalid(_))));
        }
        assert!(v.verify(&rs256(&claims())).await.is_ok());
        assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 1, "within the interval, no fetch again");
    }

    /// An issuer that cannot be reached lets nobody in.
    #[tokio::test]
    async fn an_unreachable_issuer_fails_closed() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let v = Verifier::new(ISSUER.into(), &settings(), KeySource::Discovery(format!("http://{closed}"))).unwrap();
        assert!(matches!(v.verify(&rs256(&claims())).await, Err(AuthError::KeysUnavailable(_))));
    }
}
