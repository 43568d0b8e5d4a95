//! Path MTU, tunnel overhead and IPv4 fragmentation.
//!
//! A packet of `size` bytes (its IP size) becomes `size + overhead` on the wire (a tunnel adds
//! its headers to every packet). If that exceeds the link's MTU the packet is fragmented the
//! way IPv4 does it (RFC 791): every fragment repeats the 20-byte IP header and carries a
//! multiple of 8 payload bytes, and each fragment is then sent (and can be lost) on its own;
//! the packet arrives only if every fragment does. With don't-fragment set, the packet is
//! dropped with reason `mtu` instead. So a tunnel's overhead lowers the largest packet that
//! passes whole from `mtu` to `mtu − overhead`.
//!
//! ```
//! use callharness::net::mtu::Fragments;
//! // 1500-byte packet, 73 bytes of IPsec overhead, 1500-byte MTU: two fragments.
//! let f = Fragments::of(1500, 73, Some(1500));
//! assert_eq!(f.count, 2);
//! assert_eq!(f.wire_size(0), 20 + 1400 + 73);
//! assert_eq!(f.wire_size(1), 20 + 80 + 73);
//! ```

/// The IPv4 header every fragment repeats (no options).
pub const IPV4_HEADER: u32 = 20;

/// How a packet is split for a link: `count` fragments, all but the last carrying `chunk`
/// payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragments {
    /// Number of fragments (1 if the packet fits).
    pub count: u32,
    chunk: u32,
    last_payload: u32,
    overhead: u32,
    whole: u32,
}

impl Fragments {
    /// Splits a packet of `size` IP bytes for a link adding `overhead` bytes per packet and
    /// limited to `mtu` bytes (None: no limit). The MTU must leave room for 8 payload bytes
    /// (validated at configuration: at least 68 + overhead).
    #[inline]
    pub fn of(size: u32, overhead: u32, mtu: Option<u32>) -> Fragments {
        let whole = Fragments {
            count: 1,
            chunk: 0,
            last_payload: 0,
            overhead,
            whole: size + overhead,
        };
        let Some(mtu) = mtu else { return whole };
        if size + overhead <= mtu || size <= IPV4_HEADER {
            return whole;
        }
        let chunk = ((mtu - overhead - IPV4_HEADER) / 8 * 8).max(8);
        let payload = size - IPV4_HEADER;
        let count = payload.div_ceil(chunk);
        Fragments {
            count,
            chunk,
            last_payload: payload - (count - 1) * chunk,
            overhead,
            whole: size + overhead,
        }
    }

    /// True if the packet must be fragmented.
    pub fn needed(&self) -> bool {
        self.count > 1
    }

    /// Bytes on the wire of fragment `i` (header, payload and overhead).
    #[inline]
    pub fn wire_size(&self, i: u32) -> u32 {
        if self.count == 1 {
            self.whole
        } else if i + 1 < self.count {
            IPV4_HEADER + self.chunk + self.overhead
        } else {
            IPV4_HEADER + self.last_payload + self.overhead
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_that_fit_are_whole() {
        let f = Fragments::of(1500, 0, Some(1500));
        assert_eq!((f.count, f.wire_size(0)), (1, 1500));
        let f = Fragments::of(9000, 40, None);
        assert_eq!((f.count, f.wire_size(0)), (1, 9040));
    }

    #[test]
    fn overhead_lowers_the_effective_mtu() {
        // With 73 bytes of overhead on a 1500 MTU, 1427 bytes is the largest whole packet.
        assert_eq!(Fragments::of(1427, 73, Some(1500)).count, 1);
        assert_eq!(Fragments::of(1428, 73, Some(1500)).count, 2);
    }

    #[test]
    fn fragments_carry_every_payload_byte_in_multiples_of_eight() {
        for size in [1501, 3000, 4000, 65_000] {
            let f = Fragments::of(size, 0, Some(1500));
            let payload: u32 = (0..f.count).map(|i| f.wire_size(i) - IPV4_HEADER).sum();
            assert_eq!(payload, size - IPV4_HEADER, "{size}");
            assert!((0..f.count).all(|i| f.wire_size(i) <= 1500));
            assert!((0..f.count - 1).all(|i| (f.wire_size(i) - IPV4_HEADER).is_multiple_of(8)));
        }
    }
}
