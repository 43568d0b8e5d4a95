//! Two facts read from or fixed in what goes on the wire: an RTP datagram's sequence number,
//! and a session description's origin line made the same width every run.

/// The SDP with its `o=` line's session id and version replaced by fixed-width values derived
/// from `seed`. rtc 0.21 fills them from an unseeded RNG and the wall clock, so their digit
/// count (and the signaling message's size on the emulated network) changed from run to run.
/// The far end only compares the session id between offers, which this keeps stable.
pub fn fixed_origin(sdp: &str, seed: u32) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        match line.strip_prefix("o=") {
            Some(rest) => {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if f.len() == 6 {
                    let id = 1_000_000_000_000_000_000u64 + u64::from(seed) * 1_000_003;
                    let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
                    out.push_str(&format!(
                        "o={} {id} 2 {} {} {}{eol}",
                        f[0], f[3], f[4], f[5]
                    ));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The sequence number of an RTP (not RTCP) datagram, read from its header (in the clear under
/// SRTP); None for STUN, DTLS, RTCP or anything shorter than an RTP header. RFC 7983: a first
/// byte of 128-191 is RTP or RTCP; RTCP's packet types 192-223 put the second byte's low seven
/// bits in 64-95, which no dynamic RTP payload type we negotiate uses.
pub fn rtp_sequence(b: &[u8]) -> Option<u16> {
    if b.len() < 12 || b[0] >> 6 != 2 || (64..=95).contains(&(b[1] & 0x7f)) {
        return None;
    }
    Some(u16::from_be_bytes([b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::{fixed_origin, rtp_sequence};

    #[test]
    fn rtp_sequence_only_from_rtp() {
        let mut rtp = [0u8; 20];
        rtp[0] = 0x80;
        rtp[1] = 111 | 0x80; // Opus, marker set
        rtp[2..4].copy_from_slice(&4242u16.to_be_bytes());
        assert_eq!(rtp_sequence(&rtp), Some(4242));
        rtp[1] = 200; // RTCP sender report
        assert_eq!(rtp_sequence(&rtp), None);
        let stun = [0x00u8, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0];
        assert_eq!(rtp_sequence(&stun), None);
        assert_eq!(rtp_sequence(&[22u8; 12]), None); // DTLS
        assert_eq!(rtp_sequence(&rtp[..11]), None);
    }

    #[test]
    fn the_origin_line_gets_fixed_width_seeded_values_and_nothing_else_changes() {
        let a = "v=0\r\no=- 123456789012345678 987654321 IN IP4 0.0.0.0\r\ns=-\r\n";
        let b = "v=0\r\no=- 9 1 IN IP4 0.0.0.0\r\ns=-\r\n";
        let (fa, fb) = (fixed_origin(a, 7), fixed_origin(b, 7));
        assert_eq!(fa, fb);
        assert_eq!(
            fa,
            "v=0\r\no=- 1000000000007000021 2 IN IP4 0.0.0.0\r\ns=-\r\n"
        );
        assert_ne!(fixed_origin(a, 8), fa);
    }
}
