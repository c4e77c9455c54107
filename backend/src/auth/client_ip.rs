//! The client's address, for per-IP limits and the audit log.
use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The socket peer, or — when the peer is a trusted proxy — the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    Some(resolve(
        peer,
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
        trusted,
    ))
}

fn resolve<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain: Vec<IpAddr> = forwarded
        .flat_map(|h| h.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .copied()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn header_is_ignored_from_an_untrusted_peer() {
        let got = resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &[]);
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn last_untrusted_hop_is_the_client() {
        let trusted = vec!["10.0.0.0/8".parse().expect("net")];
        let got = resolve(
            ip("10.0.0.2"),
            ["6.6.6.6, 1.2.3.4, 10.0.0.7"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("1.2.3.4"));
    }
}
