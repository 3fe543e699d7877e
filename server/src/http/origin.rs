//! Whose page is asking: the `Origin` check on WebSocket upgrades.
//!
//! A browser sends the session cookie with a WebSocket upgrade from any page, and an upgrade is
//! not subject to CORS: without a check a page on another site could open the event stream as
//! whoever is signed in to the console in that browser (cross-site WebSocket hijacking). So an
//! upgrade authenticated by the cookie must come from the server's own origin — the `Host` it
//! was reached at, or the origin of the configured public URL (behind a proxy that rewrites
//! `Host`). Browsers always send `Origin` on an upgrade; devices send none and are unaffected.
//!
//! A token given explicitly (the bearer header, `?token=`) is not checked: a page that holds a
//! token proves who it is without the browser's help, which is what `?token=` is for (clients
//! that cannot set headers, such as a board running in a browser on another host).

use axum::http::{HeaderMap, header};

/// Whether the request's `Origin`, if it has one, is the server's own. No `Origin`: true.
pub fn same_origin_or_none(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    origin
        .to_str()
        .is_ok_and(|o| is_own_origin(o, host, public_url))
}

/// Whether `origin` (`scheme://host[:port]`) is the server's: the same host and port as the
/// `Host` header, or the public URL's scheme, host and port. `null` and anything unparsable
/// are foreign.
pub fn is_own_origin(origin: &str, host: Option<&str>, public_url: &str) -> bool {
    let Some((scheme, authority)) = split_origin(origin) else {
        return false;
    };
    if host.is_some_and(|h| normalise(&scheme, h) == authority) {
        return true;
    }
    split_origin(public_url).is_some_and(|(s, a)| s == scheme && a == authority)
}

/// `scheme://authority` (anything after the authority dropped, as for the public URL), both
/// lower-cased, the scheme's default port removed.
fn split_origin(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = normalise(&scheme, authority);
    Some((scheme, authority))
}

fn normalise(scheme: &str, authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    match a.strip_suffix(default) {
        Some(bare) => bare.to_owned(),
        None => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "http://127.0.0.1:8080";

    #[test]
    fn the_host_the_server_was_reached_at_is_its_own() {
        assert!(is_own_origin(
            "http://127.0.0.1:8080",
            Some("127.0.0.1:8080"),
            PUBLIC
        ));
        assert!(is_own_origin(
            "https://Hall.Example",
            Some("hall.example:443"),
            PUBLIC
        ));
        assert!(is_own_origin("http://hall.lan", Some("hall.lan"), PUBLIC));
    }

    #[test]
    fn the_public_url_is_its_own_behind_a_proxy_that_rewrites_host() {
        assert!(is_own_origin(
            "https://queue.example.org",
            Some("127.0.0.1:8080"),
            "https://queue.example.org/"
        ));
        assert!(!is_own_origin(
            "http://queue.example.org",
            Some("127.0.0.1:8080"),
            "https://queue.example.org"
        ));
    }

    #[test]
    fn other_sites_null_and_nonsense_are_foreign() {
        let host = Some("127.0.0.1:8080");
        for o in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "http://127.0.0.1:8080.evil.example",
            "null",
            "",
            "file://",
            "http://user@127.0.0.1:8080",
        ] {
            assert!(!is_own_origin(o, host, PUBLIC), "{o}");
        }
        assert!(!is_own_origin("http://127.0.0.1:8080", None, "http://x"));
    }

    #[test]
    fn a_request_without_origin_passes() {
        assert!(same_origin_or_none(&HeaderMap::new(), PUBLIC));
    }
}
