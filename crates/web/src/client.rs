//! Who sent a request. Directly connected, it is the peer's address. Behind
//! a reverse proxy every peer is the proxy, so the client is read from
//! `X-Forwarded-For`, but only when the peer is a proxy the clinic named as
//! trusted: anyone else can write that header. The client is then the
//! right-most address in the header that is not itself a trusted proxy (the
//! left part is whatever the client claimed).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The addresses and networks of the reverse proxies whose
/// `X-Forwarded-For` is believed, e.g. `10.0.0.5, 192.168.0.0/16, ::1`.
/// Empty (the default): the header is ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("trusted proxy: {entry:?} {rule}")]
pub struct TrustedProxyError {
    pub entry: String,
    pub rule: &'static str,
}

impl FromStr for TrustedProxies {
    type Err = TrustedProxyError;

    /// A list of addresses or CIDR networks, separated by commas or spaces.
    fn from_str(text: &str) -> Result<TrustedProxies, TrustedProxyError> {
        let mut networks = Vec::new();
        for entry in text.split([',', ' ']).filter(|e| !e.is_empty()) {
            let error = |rule| TrustedProxyError {
                entry: entry.to_owned(),
                rule,
            };
            let (address, prefix) = match entry.split_once('/') {
                Some((address, prefix)) => (address, Some(prefix)),
                None => (entry, None),
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| error("is not an IPv4 or IPv6 address"))?;
            let address = address.to_canonical();
            let bits = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => bits,
                Some(prefix) => prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= bits)
                    .ok_or_else(|| error("has a prefix length out of range"))?,
            };
            networks.push(Network {
                address: masked(address, prefix),
                prefix,
            });
        }
        Ok(TrustedProxies(networks))
    }
}

impl TrustedProxies {
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| {
            network.address.is_ipv4() == address.is_ipv4()
                && masked(address, network.prefix) == network.address
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address, put in each request by [`identify`]: what audit
/// entries, the sign-in throttle and the rate limits see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The client of a request from `peer` with `headers`.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddress {
        let peer = peer.to_canonical();
        if !trusted.contains(peer) {
            return ClientAddress(peer);
        }
        // Header lines in order, each a comma-separated list: the right-most
        // entry was added by the nearest proxy.
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let Ok(address) = entry.parse::<IpAddr>() else {
                // Not an address: nothing left of it can be believed.
                break;
            };
            client = address.to_canonical();
            if !trusted.contains(client) {
                break;
            }
        }
        ClientAddress(client)
    }

    /// What limits count by: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's network, which hands out addresses by the billion).
    pub fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(_) => self.0,
            IpAddr::V6(_) => masked(self.0, 64),
        }
    }

    /// [`Self::limit_key`] as text, e.g. `203.0.113.7` or `2001:db8:1:2::/64`.
    pub fn limit_key_text(self) -> String {
        match self.limit_key() {
            IpAddr::V4(address) => address.to_string(),
            IpAddr::V6(network) => format!("{network}/64"),
        }
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(of_extensions(&parts.extensions))
    }
}

/// The client of a request whose extensions are `extensions`: what
/// [`identify`] found, else the peer, else the unspecified address.
pub fn of_extensions(extensions: &axum::http::Extensions) -> ClientAddress {
    extensions
        .get::<ClientAddress>()
        .copied()
        .unwrap_or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(ClientAddress(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), |info| {
                    ClientAddress(info.0.ip().to_canonical())
                })
        })
}

/// Puts the [`ClientAddress`] into each request.
pub async fn identify(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = of_extensions(request.extensions()).0;
    let client = ClientAddress::resolve(peer, request.headers(), &trusted);
    request.extensions_mut().insert(client);
    next.run(request).await
}

fn masked(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & mask).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(trusted: &str, peer: &str, forwarded: &[&str], expected: &str) {
        let trusted: TrustedProxies = trusted.parse().unwrap();
        let mut headers = HeaderMap::new();
        for line in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        let client = ClientAddress::resolve(peer.parse().unwrap(), &headers, &trusted);
        assert_eq!(
            client.0,
            expected.parse::<IpAddr>().unwrap(),
            "trusted {trusted:?}, peer {peer}, forwarded {forwarded:?}"
        );
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        // No trusted proxy: the header is anyone's to write, and ignored.
        check("", "198.51.100.1", &["203.0.113.7"], "198.51.100.1");
        // A peer that is not the trusted proxy: ignored too.
        check("10.0.0.5", "198.51.100.1", &["203.0.113.7"], "198.51.100.1");
        check("10.0.0.5", "10.0.0.5", &["203.0.113.7"], "203.0.113.7");
        // The client wrote a fake entry first; the proxy appended the truth.
        check(
            "10.0.0.5",
            "10.0.0.5",
            &["1.2.3.4, 203.0.113.7"],
            "203.0.113.7",
        );
        // Two proxies in a chain, both trusted, over two header lines.
        check(
            "10.0.0.0/8",
            "10.0.0.5",
            &["1.2.3.4, 203.0.113.7", "10.1.1.1"],
            "203.0.113.7",
        );
        // Garbage stops the walk: the last address believed is the proxy's.
        check("10.0.0.5", "10.0.0.5", &["203.0.113.7, junk"], "10.0.0.5");
        check("10.0.0.5", "10.0.0.5", &[], "10.0.0.5");
        check("::1", "::1", &["2001:db8::7"], "2001:db8::7");
        check(
            "127.0.0.1",
            "::ffff:127.0.0.1",
            &["203.0.113.9"],
            "203.0.113.9",
        );
    }

    #[test]
    fn trusted_proxy_lists_are_parsed_or_refused_by_entry() {
        let list: TrustedProxies = "10.0.0.0/8, 192.168.1.1 ::1".parse().unwrap();
        assert!(list.contains("10.200.3.4".parse().unwrap()));
        assert!(list.contains("192.168.1.1".parse().unwrap()));
        assert!(!list.contains("192.168.1.2".parse().unwrap()));
        assert!(list.contains("::1".parse().unwrap()));
        assert_eq!(
            "10.0.0.0/33".parse::<TrustedProxies>(),
            Err(TrustedProxyError {
                entry: "10.0.0.0/33".into(),
                rule: "has a prefix length out of range"
            })
        );
        assert!("proxy.example.org".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a = ClientAddress("2001:db8:1:2::1".parse().unwrap());
        let b = ClientAddress("2001:db8:1:2:ffff::9".parse().unwrap());
        assert_eq!(a.limit_key(), b.limit_key());
        assert_eq!(a.limit_key_text(), "2001:db8:1:2::/64");
        let v4 = ClientAddress("203.0.113.7".parse().unwrap());
        assert_eq!(v4.limit_key_text(), "203.0.113.7");
    }
}
