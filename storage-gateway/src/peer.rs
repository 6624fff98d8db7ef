//! Who is asking, as far as limits are concerned: the connecting address, with IPv6 addresses
//! grouped by their /64 (one host usually holds a whole /64, so single addresses cost nothing).

use std::net::{IpAddr, Ipv6Addr};

/// A peer address as the per-peer limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerKey(IpAddr);

impl PeerKey {
    /// The key of a connection from `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => PeerKey(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => PeerKey(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    PeerKey(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

impl std::fmt::Display for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => v4.fmt(f),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_are_grouped_by_their_64_and_mapped_v4_is_v4() {
        let a = PeerKey::of("2001:db8:1:2::1".parse().unwrap());
        let b = PeerKey::of("2001:db8:1:2:ffff::9".parse().unwrap());
        let c = PeerKey::of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(
            PeerKey::of("::ffff:10.0.0.1".parse().unwrap()),
            PeerKey::of("10.0.0.1".parse().unwrap())
        );
        assert_ne!(
            PeerKey::of("10.0.0.1".parse().unwrap()),
            PeerKey::of("10.0.0.2".parse().unwrap())
        );
    }
}
