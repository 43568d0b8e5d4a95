//! The few IPv4 and TCP header fields the host reads and writes itself: ports, sequence and
//! acknowledgement numbers and flags for accounting, the address rewrite a NAT on the path
//! implies, and the RST that stands for a reset the emulator reported.
//!
//! ```
//! use callharness::tcp::segment::{rst_ack, Segment};
//! let (src, dst) = ("10.0.0.3:443".parse().unwrap(), "10.0.0.2:49152".parse().unwrap());
//! let bytes = rst_ack(src, dst, 1001);
//! let s = Segment::parse(&bytes).unwrap();
//! assert_eq!((s.src, s.dst, s.rst, s.ack), (src, dst, true, Some(1001)));
//! ```

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber,
};
use std::net::{Ipv4Addr, SocketAddrV4};

/// IPv4 protocol number of TCP.
const PROTO_TCP: u8 = 6;
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// What the host needs to know of one IPv4 TCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number, if the ACK flag is set.
    pub ack: Option<u32>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// TCP payload bytes (after the TCP header and its options).
    pub payload_len: u32,
    /// Offset of the TCP header in the packet (the IPv4 header's length), bytes.
    pub tcp_offset: usize,
}

impl Segment {
    /// Reads an IPv4 packet carrying TCP; `None` if it is not one or is cut short.
    pub fn parse(b: &[u8]) -> Option<Segment> {
        if b.len() < 20 || b[0] >> 4 != 4 || b[9] != PROTO_TCP {
            return None;
        }
        let ihl = usize::from(b[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if ihl < 20 || total < ihl + 20 || total > b.len() {
            return None;
        }
        let t = &b[ihl..total];
        let data_offset = usize::from(t[12] >> 4) * 4;
        if data_offset < 20 || data_offset > t.len() {
            return None;
        }
        let flags = t[13];
        let word = |i: usize| u32::from_be_bytes([t[i], t[i + 1], t[i + 2], t[i + 3]]);
        let port = |i: usize| u16::from_be_bytes([t[i], t[i + 1]]);
        let addr = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
        Some(Segment {
            src: SocketAddrV4::new(addr(12), port(0)),
            dst: SocketAddrV4::new(addr(16), port(2)),
            seq: word(4),
            ack: (flags & ACK != 0).then(|| word(8)),
            syn: flags & SYN != 0,
            fin: flags & FIN != 0,
            rst: flags & RST != 0,
            payload_len: (t.len() - data_offset) as u32,
            tcp_offset: ihl,
        })
    }

    /// Sequence space the segment occupies: payload, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload_len + u32::from(self.syn) + u32::from(self.fin)
    }

    /// A connection attempt: SYN without ACK (a SYN-ACK is an answer, not an attempt).
    pub fn is_attempt(&self) -> bool {
        self.syn && self.ack.is_none()
    }
}

/// Writes `src` and `dst` (addresses and ports) into the headers of the IPv4 TCP packet `b`
/// whose TCP header starts at `tcp_offset`, as a NAT would have. The checksums are left as
/// they were: the host's device does not verify checksums on receive (see `device.rs`).
pub fn rewrite_addrs(b: &mut [u8], tcp_offset: usize, src: SocketAddrV4, dst: SocketAddrV4) {
    b[12..16].copy_from_slice(&src.ip().octets());
    b[16..20].copy_from_slice(&dst.ip().octets());
    b[tcp_offset..tcp_offset + 2].copy_from_slice(&src.port().to_be_bytes());
    b[tcp_offset + 2..tcp_offset + 4].copy_from_slice(&dst.port().to_be_bytes());
}

/// `a` is before `b` in sequence space (RFC 793 modular comparison).
pub fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// An IPv4 RST|ACK from `src` to `dst` acknowledging `ack` (a refused SYN's sequence number
/// plus one), checksums computed: what a host refusing a connection sends back.
pub fn rst_ack(src: SocketAddrV4, dst: SocketAddrV4, ack: u32) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        control: TcpControl::Rst,
        seq_number: TcpSeqNumber(0),
        ack_number: Some(TcpSeqNumber(ack as i32)),
        window_len: 0,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None, None, None],
        timestamp: None,
        payload: &[],
    };
    let ip = Ipv4Repr {
        src_addr: *src.ip(),
        dst_addr: *dst.ip(),
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    let mut bytes = vec![0u8; ip.buffer_len() + tcp.buffer_len()];
    let caps = ChecksumCapabilities::default();
    let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
    ip.emit(&mut packet, &caps);
    let (s, d) = (IpAddress::Ipv4(*src.ip()), IpAddress::Ipv4(*dst.ip()));
    tcp.emit(
        &mut TcpPacket::new_unchecked(packet.payload_mut()),
        &s,
        &d,
        &caps,
    );
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_changes_what_parse_reads() {
        let (src, dst) = (
            "10.0.0.3:443".parse().unwrap(),
            "10.0.0.2:50000".parse().unwrap(),
        );
        let mut b = rst_ack(src, dst, 7);
        let s = Segment::parse(&b).unwrap();
        let (nat, me) = (
            "192.0.2.1:6000".parse().unwrap(),
            "10.0.0.9:1".parse().unwrap(),
        );
        rewrite_addrs(&mut b, s.tcp_offset, nat, me);
        let t = Segment::parse(&b).unwrap();
        assert_eq!((t.src, t.dst, t.ack, t.seq_len()), (nat, me, Some(7), 0));
    }

    #[test]
    fn parse_refuses_what_is_not_ipv4_tcp() {
        let b = rst_ack(
            "1.2.3.4:1".parse().unwrap(),
            "5.6.7.8:2".parse().unwrap(),
            1,
        );
        assert!(Segment::parse(&b[..30]).is_none());
        let mut udp = b.clone();
        udp[9] = 17;
        assert!(Segment::parse(&udp).is_none());
    }

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_before(u32::MAX - 5, 3));
        assert!(!seq_before(3, u32::MAX - 5));
        assert!(!seq_before(9, 9));
    }
}
