//! Which addresses a delivery may reach (the SSRF rule). An endpoint URL names a host
//! whose addresses can change at any time, so the rule is applied to every address a
//! lookup returns, at creation and again at every delivery, and the delivery connects to
//! exactly the addresses that passed (see [`attempt`](crate::attempt)).
//!
//! Always refused: the cloud metadata service (169.254.169.254, fd00:ec2::254), link-local,
//! unspecified, multicast, broadcast and reserved ranges. Refused unless the policy allows
//! private addresses (`taskapi serve --allow-private-webhooks`, for local development):
//! loopback, private (RFC 1918), carrier-grade NAT (100.64.0.0/10) and unique-local
//! (fc00::/7). An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4) is judged
//! by the IPv4 address inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the cloud metadata service")]
    Metadata,
    #[error("a link-local address")]
    LinkLocal,
    #[error("a loopback address")]
    Loopback,
    #[error("a private address")]
    Private,
    #[error("an unspecified, multicast, broadcast or reserved address")]
    Reserved,
}

/// Whether private and loopback addresses may be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    pub allow_private: bool,
}

impl AddressPolicy {
    /// Only public addresses: the rule on AWS and for `taskapi serve` by default.
    pub const PUBLIC_ONLY: Self = Self {
        allow_private: false,
    };
    /// Loopback and private addresses too: local development and tests.
    pub const ALLOW_PRIVATE: Self = Self {
        allow_private: true,
    };

    /// `Ok` if a delivery may connect to `ip`, else why not.
    pub fn check(self, ip: IpAddr) -> Result<(), Refusal> {
        match classify(ip) {
            None => Ok(()),
            Some(Refusal::Loopback | Refusal::Private) if self.allow_private => Ok(()),
            Some(refusal) => Err(refusal),
        }
    }
}

/// The refusal `ip` falls under, whatever the policy; `None` for a public address.
fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some(Refusal::Metadata)
    } else if ip.is_link_local() {
        Some(Refusal::LinkLocal)
    } else if ip.is_loopback() {
        Some(Refusal::Loopback)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some(Refusal::Private)
    } else if a == 0
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240
        // 192.0.0.0/24 (protocol assignments), the documentation nets, 198.18.0.0/15.
        || (a, b, c) == (192, 0, 0)
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19))
    {
        Some(Refusal::Reserved)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let first = ip.segments()[0];
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some(Refusal::Metadata)
    } else if ip.is_loopback() {
        Some(Refusal::Loopback)
    } else if first & 0xffc0 == 0xfe80 {
        Some(Refusal::LinkLocal)
    } else if first & 0xfe00 == 0xfc00 {
        Some(Refusal::Private)
    } else if ip.is_unspecified()
        || ip.is_multicast()
        // 2001:db8::/32, documentation; fec0::/10, the old site-local.
        || (first == 0x2001 && ip.segments()[1] == 0xdb8)
        || first & 0xffc0 == 0xfec0
    {
        Some(Refusal::Reserved)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if !(hi == 0 && lo <= 1) => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn the_ssrf_table() {
        use Refusal::*;
        let table: &[(&str, Option<Refusal>)] = &[
            ("169.254.169.254", Some(Metadata)),
            ("fd00:ec2::254", Some(Metadata)),
            ("::ffff:169.254.169.254", Some(Metadata)),
            ("169.254.1.1", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("127.0.0.1", Some(Loopback)),
            ("127.8.9.10", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            ("2002:7f00:1::", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(Private)),
            ("100.127.255.255", Some(Private)),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("0.0.0.0", Some(Reserved)),
            ("0.1.2.3", Some(Reserved)),
            ("::", Some(Reserved)),
            ("224.0.0.1", Some(Reserved)),
            ("ff02::1", Some(Reserved)),
            ("255.255.255.255", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            ("192.0.2.1", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("2001:db8::1", Some(Reserved)),
            ("93.184.216.34", None),
            ("100.128.0.1", None),
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("2606:4700:4700::1111", None),
            ("::ffff:8.8.8.8", None),
        ];
        for (raw, expected) in table {
            assert_eq!(classify(ip(raw)), *expected, "{raw}");
        }
    }

    #[test]
    fn allowing_private_opens_loopback_and_private_only() {
        let open = AddressPolicy::ALLOW_PRIVATE;
        for raw in ["127.0.0.1", "::1", "10.1.2.3", "fd12::1", "100.64.0.1"] {
            assert_eq!(open.check(ip(raw)), Ok(()), "{raw}");
            assert!(AddressPolicy::PUBLIC_ONLY.check(ip(raw)).is_err(), "{raw}");
        }
        for raw in [
            "169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "0.0.0.0",
            "224.0.0.1",
        ] {
            assert!(open.check(ip(raw)).is_err(), "{raw} is refused even so");
        }
        assert_eq!(AddressPolicy::PUBLIC_ONLY.check(ip("8.8.8.8")), Ok(()));
    }
}
