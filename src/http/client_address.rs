//! Who the client is, behind load balancers: the connection's peer address, unless that peer
//! is a proxy the operator trusts, in which case `X-Forwarded-For` is read from the right,
//! past every trusted proxy, to the first address that is not one.
//!
//! Only trusted proxies are believed: a client can write any `X-Forwarded-For` it likes, so
//! taking its leftmost entry (or any entry without a trusted hop after it) would let anyone
//! choose the key its requests are rate limited under.

use std::net::IpAddr;

pub use ipnet::IpNet;

/// `10.0.0.0/8, 192.168.1.7, ::1`: networks or single addresses, comma-separated.
pub fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an IP address or network such as 10.0.0.0/8"))
        })
        .collect()
}

/// The client's address for a request from `peer` carrying these `X-Forwarded-For` values.
pub fn client_address<'a>(peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(&ip.to_canonical()));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    // Several header lines are one list, in order (RFC 9110, 5.3).
    let hops: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).collect();
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop.trim()) else {
            // a hop we cannot read ends what can be believed: the last trusted proxy is the client
            return client;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            return client;
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, or with a port as some proxies write it: `192.0.2.1:4711`,
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_networks_and_single_addresses() {
        let n = parse_networks(" 10.0.0.0/8, 192.168.1.7 ,::1,").unwrap();
        assert_eq!(n.len(), 3);
        assert!(n[0].contains(&ip("10.200.3.4")));
        assert!(n[1].contains(&ip("192.168.1.7")));
        assert!(!n[1].contains(&ip("192.168.1.8")));
        assert!(n[2].contains(&ip("::1")));
        assert_eq!(parse_networks("").unwrap(), vec![]);
        assert!(parse_networks("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(parse_networks("lb.internal").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = parse_networks("10.0.0.0/8").unwrap();
        assert_eq!(client_address(ip("203.0.113.9"), ["198.51.100.1"], &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("203.0.113.9"), ["198.51.100.1"], &[]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right() {
        let trusted = parse_networks("10.0.0.0/8, 192.168.0.1").unwrap();
        // a spoofed first entry, the real client, then our two proxies
        let xff = ["6.6.6.6, 198.51.100.7, 192.168.0.1", "10.1.2.3"];
        assert_eq!(client_address(ip("10.0.0.2"), xff, &trusted), ip("198.51.100.7"));
        // no header: the proxy itself is all we know
        assert_eq!(client_address(ip("10.0.0.2"), [], &trusted), ip("10.0.0.2"));
        // every hop trusted: the leftmost one
        assert_eq!(client_address(ip("10.0.0.2"), ["10.9.9.9"], &trusted), ip("10.9.9.9"));
        // garbage stops the walk at the last trusted proxy
        assert_eq!(client_address(ip("10.0.0.2"), ["198.51.100.7, unknown"], &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn reads_ports_brackets_and_mapped_addresses() {
        let trusted = parse_networks("10.0.0.0/8").unwrap();
        assert_eq!(client_address(ip("::ffff:10.0.0.2"), ["198.51.100.7:4711"], &trusted), ip("198.51.100.7"));
        assert_eq!(client_address(ip("10.0.0.2"), ["[2001:db8::1]:80"], &trusted), ip("2001:db8::1"));
        assert_eq!(client_address(ip("10.0.0.2"), ["2001:db8::1"], &trusted), ip("2001:db8::1"));
        assert_eq!(client_address(ip("::ffff:203.0.113.9"), [], &trusted), ip("203.0.113.9"));
    }
}
