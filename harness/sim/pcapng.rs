//! A small pcapng writer: the blocks Wireshark and tshark need to read a capture of IPv4
//! packets, and the IPv4, UDP and TCP headers to put around a payload.
//!
//! A file is one section header block (SHB), one interface description block (IDB, link type
//! 228 = raw IPv4, `if_tsresol` = 9 so time stamps are nanoseconds) and an enhanced packet block
//! (EPB) per packet, with the packet's direction in `epb_flags`. Blocks are little-endian (the
//! byte-order magic says so; readers swap as needed). Format: the pcapng specification,
//! draft-ietf-opsawg-pcapng, sections 4.1, 4.2 and 4.3.
//!
//! Nothing here reads a clock or opens a file: time stamps are handed in, bytes go to any
//! [`Write`], so the same input gives the same bytes.
//!
//! ```
//! use callharness::sim::pcapng::{ipv4_udp, Direction, PcapngWriter};
//! let mut w = PcapngWriter::new(Vec::new(), "example", "alice", "").unwrap();
//! let mut pkt = Vec::new();
//! ipv4_udp(&mut pkt, "10.0.0.1:5000".parse().unwrap(), "10.0.0.2:6000".parse().unwrap(), b"hi");
//! assert_eq!(pkt.len(), 20 + 8 + 2);
//! w.packet(1_500_000_000, Direction::Outbound, &pkt).unwrap();
//! let bytes = w.finish().unwrap();
//! assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a]); // a section header block first
//! ```

use std::io::{self, Write};
use std::net::SocketAddrV4;

/// LINKTYPE_IPV4: each packet starts with its IPv4 header.
pub const LINKTYPE_IPV4: u16 = 228;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// TCP flag PSH.
pub const TCP_PSH: u8 = 0x08;
/// TCP flag ACK.
pub const TCP_ACK: u8 = 0x10;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const EPB: u32 = 6;
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;
/// A TTL as a host's stack sets it.
const TTL: u8 = 64;

/// Which way a packet crossed the host's interface (pcapng `epb_flags` bits 0-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by the host.
    Inbound,
    /// Sent by the host.
    Outbound,
}

/// Writes one pcapng section with one raw-IPv4 interface to `W`.
pub struct PcapngWriter<W: Write> {
    out: W,
    /// Reused for each block, so writing a packet allocates nothing once it has grown.
    block: Vec<u8>,
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a capture: writes the section header (with `app` as `shb_userappl` and
    /// `comment`, if not empty, as its comment) and the interface named `if_name`.
    pub fn new(out: W, app: &str, if_name: &str, comment: &str) -> io::Result<Self> {
        let mut w = PcapngWriter {
            out,
            block: Vec::with_capacity(2048),
        };
        let mut body = Vec::new();
        body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major version
        body.extend_from_slice(&0u16.to_le_bytes()); // minor version
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        if !comment.is_empty() {
            option(&mut body, OPT_COMMENT, comment.as_bytes());
        }
        option(&mut body, SHB_USERAPPL, app.as_bytes());
        option(&mut body, OPT_END, &[]);
        w.block(SHB, &body)?;
        body.clear();
        body.extend_from_slice(&LINKTYPE_IPV4.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&0u32.to_le_bytes()); // snap length: no limit
        option(&mut body, IF_NAME, if_name.as_bytes());
        option(&mut body, IF_TSRESOL, &[9]); // 10^-9 s
        option(&mut body, OPT_END, &[]);
        w.block(IDB, &body)?;
        Ok(w)
    }

    /// Writes one packet (an IPv4 packet, headers included) seen at `t_ns` nanoseconds.
    pub fn packet(&mut self, t_ns: u64, dir: Direction, packet: &[u8]) -> io::Result<()> {
        let len = packet.len() as u32;
        let padded = packet.len().next_multiple_of(4);
        let total = (28 + padded + 12 + 4) as u32;
        let b = &mut self.block;
        b.clear();
        b.extend_from_slice(&EPB.to_le_bytes());
        b.extend_from_slice(&total.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // interface 0
        b.extend_from_slice(&((t_ns >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(t_ns as u32).to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes()); // captured length
        b.extend_from_slice(&len.to_le_bytes()); // original length
        b.extend_from_slice(packet);
        b.resize(28 + padded, 0);
        let flags: u32 = match dir {
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        };
        option(b, EPB_FLAGS, &flags.to_le_bytes());
        option(b, OPT_END, &[]);
        b.extend_from_slice(&total.to_le_bytes());
        debug_assert_eq!(b.len(), total as usize);
        self.out.write_all(b)
    }

    /// Flushes and hands back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let total = (12 + body.len()) as u32;
        self.out.write_all(&kind.to_le_bytes())?;
        self.out.write_all(&total.to_le_bytes())?;
        self.out.write_all(body)?;
        self.out.write_all(&total.to_le_bytes())
    }
}

/// Appends a pcapng option (code, length, value padded to 4 bytes).
fn option(b: &mut Vec<u8>, code: u16, value: &[u8]) {
    b.extend_from_slice(&code.to_le_bytes());
    b.extend_from_slice(&(value.len() as u16).to_le_bytes());
    b.extend_from_slice(value);
    b.resize(b.len() + (value.len().next_multiple_of(4) - value.len()), 0);
}

/// Replaces `buf` with an IPv4/UDP packet carrying `payload` (IPv4 header checksum and UDP
/// checksum computed; the IP identification is derived from the UDP checksum, so the copy a
/// sender captured and the one its peer captured carry the same one).
pub fn ipv4_udp(buf: &mut Vec<u8>, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
    buf.clear();
    let udp_len = 8 + payload.len();
    ipv4_header(buf, src, dst, PROTO_UDP, udp_len);
    buf.extend_from_slice(&src.port().to_be_bytes());
    buf.extend_from_slice(&dst.port().to_be_bytes());
    buf.extend_from_slice(&(udp_len as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
    let sum = l4_checksum(src, dst, PROTO_UDP, &buf[20..]);
    // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
    let sum = if sum == 0 { 0xffff } else { sum };
    buf[26..28].copy_from_slice(&sum.to_be_bytes());
    set_ip_id(buf, sum);
}

/// One TCP segment's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment {
    /// Sequence number of the first payload byte.
    pub seq: u32,
    /// Acknowledgement number (meaningful with [`TCP_ACK`]).
    pub ack: u32,
    /// Flag bits ([`TCP_ACK`], [`TCP_PSH`], ...).
    pub flags: u8,
}

/// Replaces `buf` with an IPv4/TCP packet carrying `payload` (20-byte TCP header, window
/// 65535, checksums computed; IP identification from the TCP checksum, as for UDP).
pub fn ipv4_tcp(
    buf: &mut Vec<u8>,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seg: TcpSegment,
    payload: &[u8],
) {
    buf.clear();
    ipv4_header(buf, src, dst, PROTO_TCP, 20 + payload.len());
    buf.extend_from_slice(&src.port().to_be_bytes());
    buf.extend_from_slice(&dst.port().to_be_bytes());
    buf.extend_from_slice(&seg.seq.to_be_bytes());
    buf.extend_from_slice(&seg.ack.to_be_bytes());
    buf.push(5 << 4); // data offset: 5 words
    buf.push(seg.flags);
    buf.extend_from_slice(&0xffffu16.to_be_bytes()); // window
    buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    buf.extend_from_slice(payload);
    let sum = l4_checksum(src, dst, PROTO_TCP, &buf[20..]);
    buf[36..38].copy_from_slice(&sum.to_be_bytes());
    set_ip_id(buf, sum);
}

/// Replaces `buf` with `packet`, a whole IPv4/TCP packet a stack wrote, with the addresses
/// and ports a datagram carried (`src`, `dst`: a NAT may have rewritten them on the way) and
/// its checksums computed again for them. A packet too short to be IPv4/TCP is kept as it is.
pub fn ipv4_tcp_as_carried(buf: &mut Vec<u8>, src: SocketAddrV4, dst: SocketAddrV4, packet: &[u8]) {
    buf.clear();
    buf.extend_from_slice(packet);
    let ihl = usize::from(buf.first().map_or(0, |b| b & 0x0f)) * 4;
    if buf.len() < ihl + 20 || ihl < 20 {
        return;
    }
    buf[12..16].copy_from_slice(&src.ip().octets());
    buf[16..20].copy_from_slice(&dst.ip().octets());
    buf[ihl..ihl + 2].copy_from_slice(&src.port().to_be_bytes());
    buf[ihl + 2..ihl + 4].copy_from_slice(&dst.port().to_be_bytes());
    buf[ihl + 16..ihl + 18].copy_from_slice(&[0, 0]);
    let sum = l4_checksum(src, dst, PROTO_TCP, &buf[ihl..]);
    buf[ihl + 16..ihl + 18].copy_from_slice(&sum.to_be_bytes());
    buf[10..12].copy_from_slice(&[0, 0]);
    let ip = !fold(sum16(0, &buf[..ihl]));
    buf[10..12].copy_from_slice(&ip.to_be_bytes());
}

/// Appends a 20-byte IPv4 header (no options, don't-fragment, TTL 64) for `l4_len` bytes
/// after it; identification and checksum are filled in by [`set_ip_id`].
fn ipv4_header(buf: &mut Vec<u8>, src: SocketAddrV4, dst: SocketAddrV4, proto: u8, l4_len: usize) {
    let total = (20 + l4_len).min(usize::from(u16::MAX)) as u16;
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0x40, 0, TTL, proto, 0, 0]);
    buf.extend_from_slice(&src.ip().octets());
    buf.extend_from_slice(&dst.ip().octets());
}

/// Sets the IPv4 identification to `id` and computes the header checksum.
fn set_ip_id(buf: &mut [u8], id: u16) {
    buf[4..6].copy_from_slice(&id.to_be_bytes());
    buf[10..12].copy_from_slice(&[0, 0]);
    let sum = !fold(sum16(0, &buf[..20]));
    buf[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// The UDP/TCP checksum over the pseudo-header and `segment` (whose checksum field is 0).
fn l4_checksum(src: SocketAddrV4, dst: SocketAddrV4, proto: u8, segment: &[u8]) -> u16 {
    let mut s = sum16(0, &src.ip().octets());
    s = sum16(s, &dst.ip().octets());
    s += u64::from(proto);
    s += segment.len() as u64;
    !fold(sum16(s, segment))
}

/// Adds `b` to a one's-complement sum as big-endian 16-bit words (an odd byte padded with 0).
fn sum16(mut s: u64, b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        s += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        s += u64::from(*last) << 8;
    }
    s
}

fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// Walks the blocks of a capture: (type, body) each, checking both length fields.
    fn blocks(b: &[u8]) -> Vec<(u32, &[u8])> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let (kind, len) = (u32_at(b, at), u32_at(b, at + 4) as usize);
            assert_eq!(len % 4, 0, "block at {at} not padded");
            assert_eq!(
                u32_at(b, at + len - 4) as usize,
                len,
                "trailing length at {at}"
            );
            out.push((kind, &b[at + 8..at + len - 4]));
            at += len;
        }
        out
    }

    #[test]
    fn file_is_shb_idb_then_one_epb_per_packet() {
        let mut w = PcapngWriter::new(Vec::new(), "callharness test", "bob", "hi").unwrap();
        w.packet(0x1_0000_0005, Direction::Inbound, &[1, 2, 3, 4, 5])
            .unwrap();
        w.packet(7, Direction::Outbound, &[9; 8]).unwrap();
        let bytes = w.finish().unwrap();
        let b = blocks(&bytes);
        assert_eq!(
            b.iter().map(|x| x.0).collect::<Vec<_>>(),
            [SHB, IDB, EPB, EPB]
        );
        assert_eq!(u32_at(b[0].1, 0), 0x1A2B_3C4D);
        // IDB: link type 228, then if_name "bob", if_tsresol 9.
        let idb = b[1].1;
        assert_eq!(u16::from_le_bytes([idb[0], idb[1]]), LINKTYPE_IPV4);
        assert_eq!(&idb[8..15], &[2, 0, 3, 0, b'b', b'o', b'b']);
        assert_eq!(&idb[16..21], &[9, 0, 1, 0, 9]);
        // EPB: interface 0, time stamp high/low, lengths, data padded, inbound flag.
        let epb = b[2].1;
        assert_eq!([0, 1, 2, 3, 4].map(|i| u32_at(epb, i * 4)), [0, 1, 5, 5, 5]);
        assert_eq!(&epb[20..28], &[1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(&epb[28..36], &[2, 0, 4, 0, 1, 0, 0, 0]);
        assert_eq!(u32_at(b[3].1, 20 + 8 + 4), 2, "outbound flag");
    }

    #[test]
    fn udp_packet_has_valid_checksums() {
        let mut p = Vec::new();
        let payload = [0x80u8, 111, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 0xab];
        ipv4_udp(
            &mut p,
            addr("10.0.0.1:50001"),
            addr("10.0.0.2:50002"),
            &payload,
        );
        assert_eq!(p.len(), 41);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 41);
        assert_eq!(p[9], PROTO_UDP);
        // A header (or segment plus pseudo-header) with a correct checksum sums to 0xffff.
        assert_eq!(fold(sum16(0, &p[..20])), 0xffff);
        let mut s = sum16(0, &p[12..20]) + u64::from(PROTO_UDP) + 21;
        s = sum16(s, &p[20..]);
        assert_eq!(fold(s), 0xffff);
        assert_eq!(&p[28..], &payload);
        // The same packet gets the same identification, another packet another one.
        let mut q = Vec::new();
        ipv4_udp(
            &mut q,
            addr("10.0.0.1:50001"),
            addr("10.0.0.2:50002"),
            &payload,
        );
        assert_eq!(p, q);
        ipv4_udp(
            &mut q,
            addr("10.0.0.1:50001"),
            addr("10.0.0.2:50002"),
            b"other",
        );
        assert_ne!(p[4..6], q[4..6]);
    }

    #[test]
    fn tcp_segment_carries_seq_ack_flags_and_valid_checksum() {
        let mut p = Vec::new();
        let seg = TcpSegment {
            seq: 0x0102_0304,
            ack: 0x0a0b_0c0d,
            flags: TCP_ACK | TCP_PSH,
        };
        ipv4_tcp(
            &mut p,
            addr("10.0.0.1:5061"),
            addr("10.0.0.2:5061"),
            seg,
            b"OFFER",
        );
        assert_eq!(p.len(), 45);
        assert_eq!(p[9], PROTO_TCP);
        assert_eq!(&p[24..32], &[1, 2, 3, 4, 10, 11, 12, 13]);
        assert_eq!((p[32], p[33]), (0x50, 0x18));
        assert_eq!(fold(sum16(0, &p[..20])), 0xffff);
        let mut s = sum16(0, &p[12..20]) + u64::from(PROTO_TCP) + 25;
        s = sum16(s, &p[20..]);
        assert_eq!(fold(s), 0xffff);
    }

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 section 3: these words sum to 0xddf2 in one's complement.
        let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum16(0, &b)), 0xddf2);
    }
}
