//! Who is asking: the client's address and scheme, believing forwarded headers only from the
//! configured reverse proxies (`trusted_proxies`).
//!
//! Behind nginx every connection comes from nginx, and the client's address is in
//! `X-Forwarded-For` (or RFC 7239 `Forwarded`). Anyone can send those headers, so they count
//! only when the connection itself comes from a trusted proxy. The chain is then read from
//! the nearest hop back, skipping trusted proxies: the first address that is not one is the
//! client (the leftmost entries, which the client itself may have written, are never
//! believed past an untrusted hop). With no proxies configured, the peer is the client.
//!
//! [`client_ip`] is the one place that decides this; per-address limits and logs use it
//! (through the [`ClientAddr`] extractor).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

/// The client's address of a request (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(ClientAddr(client_ip(
            peer_ip(parts),
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

/// The connection's peer (`ConnectInfo`), or 0.0.0.0 for a request that came without one
/// (only in-process tests route requests that way).
pub fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client's address: `peer`, or when `peer` is a trusted proxy, the nearest untrusted hop
/// its forwarded headers name.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops = forwarded_for(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(*ip, trusted) {
                    break;
                }
            }
            // "unknown" or an obfuscated name: nothing further back can be checked.
            None => break,
        }
    }
    client
}

/// Whether the client reached the proxy over https (`X-Forwarded-Proto: https` or
/// `Forwarded: proto=https` from a trusted proxy), or `None` when no trusted proxy says.
pub fn forwarded_https(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Option<bool> {
    if !is_trusted(peer.to_canonical(), trusted) {
        return None;
    }
    let proto = header_values(headers, "forwarded")
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .find_map(|element| param(&element, "proto"))
        .or_else(|| {
            header_values(headers, "x-forwarded-proto")
                .flat_map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .collect::<Vec<_>>()
                })
                .next()
        })?;
    Some(proto.eq_ignore_ascii_case("https"))
}

pub(crate) fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The forwarded-for chain, client first: from `Forwarded` if present, else `X-Forwarded-For`.
/// `None` marks a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = header_values(headers, "forwarded")
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|element| param(&element, "for"))
        .map(|node| parse_node(&node))
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    header_values(headers, "x-forwarded-for")
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.trim().is_empty())
        .map(|node| parse_node(&node))
        .collect()
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok())
}

/// The value of `name=` in one `Forwarded` element (`for=1.2.3.4;proto=https`).
fn param(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:5678`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = node.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    let inner = node.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(client_ip(ip("9.9.9.9"), &h, &[]), ip("9.9.9.9"));
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(client_ip(ip("9.9.9.9"), &h, &trusted), ip("9.9.9.9"));
        assert_eq!(forwarded_https(ip("9.9.9.9"), &h, &trusted), None);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_entries_before_it_are_skipped() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        // The client wrote "6.6.6.6" itself; nginx appended the address it saw.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        // Two proxies: the inner one (10.x) is skipped too.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        // Several header lines read as one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.8"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.8"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_standard_forwarded_header_wins_and_gives_ports_brackets_and_proto() {
        let trusted = nets(&["::1/128"]);
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            (
                "forwarded",
                "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=unknown",
            ),
        ]);
        // The nearest hop is "unknown": it stops the walk at the proxy.
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("::1"));
        let h = headers(&[("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("2001:db8:cafe::17"));
        assert_eq!(forwarded_https(ip("::1"), &h, &trusted), Some(true));
        let h = headers(&[("forwarded", "for=192.0.2.60:80;proto=http")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("192.0.2.60"));
        assert_eq!(forwarded_https(ip("::1"), &h, &trusted), Some(false));
    }

    #[test]
    fn x_forwarded_proto_and_v4_mapped_peers_are_understood() {
        let trusted = nets(&["127.0.0.1/32"]);
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let mapped = ip("::ffff:127.0.0.1");
        assert_eq!(client_ip(mapped, &h, &trusted), ip("198.51.100.4"));
        assert_eq!(forwarded_https(mapped, &h, &trusted), Some(true));
        let garbage = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(client_ip(mapped, &garbage, &trusted), ip("127.0.0.1"));
    }
}
