//! RTP payload formats for video, send side: H.264 (RFC 6184, packetization mode 1: single NAL
//! unit packets and FU-A fragments) and VP8 (RFC 7741, with a 15-bit picture ID).
//!
//! A frame's packets are balanced: a frame that needs `n` packets is cut into `n` nearly equal
//! parts (as libwebrtc does) rather than `n - 1` full packets and a short one. The largest
//! payload is [`MAX_PAYLOAD`] bytes: a 1,200-byte RTP packet (libwebrtc's default) less the
//! 12-byte header, a 10-byte SRTP tag and room for two header extensions.
//!
//! ```
//! use callharness::agent::video_rtp::packetize::{packetize, MAX_PAYLOAD};
//! use callharness::agent::video::VideoCodec;
//! // One IDR slice of 3,000 bytes: three FU-A fragments.
//! let mut frame = vec![0, 0, 0, 1, 0x65];
//! frame.extend(std::iter::repeat(0xAB).take(2_999));
//! let mut out = Vec::new();
//! packetize(VideoCodec::H264, &frame, 0, &mut out);
//! assert_eq!(out.len(), 3);
//! assert!(out.iter().all(|p| p.len() <= MAX_PAYLOAD));
//! assert_eq!(out[0][0] & 0x1f, 28); // FU-A
//! assert_eq!(out[0][1], 0x80 | 5); // start bit, IDR
//! assert_eq!(out[2][1], 0x40 | 5); // end bit
//! ```

use crate::agent::video::VideoCodec;
use bytes::{BufMut, Bytes, BytesMut};

/// The largest video RTP payload we send, bytes (see the module docs).
pub const MAX_PAYLOAD: usize = 1_150;

/// FU-A's NAL unit type (RFC 6184 5.8).
pub const FU_A: u8 = 28;
/// STAP-A's NAL unit type (RFC 6184 5.7.1; we receive it, we do not send it).
pub const STAP_A: u8 = 24;

/// Cuts one encoded frame into RTP payloads (appended to `out`, in order; the last one carries
/// the marker bit). `picture_id` is VP8's (15 bits, wrapping); H.264 ignores it.
pub fn packetize(codec: VideoCodec, frame: &[u8], picture_id: u16, out: &mut Vec<Bytes>) {
    packetize_with(codec, frame, picture_id, MAX_PAYLOAD, out);
}

/// [`packetize`] into payloads of at most `max_payload` bytes (at least 64): a sender that
/// wants more, smaller packets (the initial probe's keyframe).
pub fn packetize_with(
    codec: VideoCodec,
    frame: &[u8],
    picture_id: u16,
    max_payload: usize,
    out: &mut Vec<Bytes>,
) {
    let max = max_payload.clamp(64, MAX_PAYLOAD);
    match codec {
        VideoCodec::H264 => {
            for nal in annex_b_nals(frame) {
                h264_nal(nal, max, out);
            }
        }
        VideoCodec::Vp8 => vp8(frame, picture_id, max, out),
    }
}

/// The NAL units of an Annex B byte stream (start codes `00 00 01` or `00 00 00 01` removed;
/// empty units skipped).
pub fn annex_b_nals(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &(_, body)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&(sc, _)| sc);
        // A four-byte start code's leading zero belongs to the start code, not this unit.
        while end > body && stream[end - 1] == 0 && starts.get(k + 1).is_some() {
            end -= 1;
        }
        if end > body {
            nals.push(&stream[body..end]);
        }
    }
    nals.into_iter()
}

/// Number of parts and the size of each when `len` bytes go into payloads of at most `room`.
fn balanced(len: usize, room: usize) -> (usize, usize) {
    let n = len.div_ceil(room).max(1);
    (n, len.div_ceil(n))
}

fn h264_nal(nal: &[u8], max: usize, out: &mut Vec<Bytes>) {
    if nal.len() <= max {
        out.push(Bytes::copy_from_slice(nal));
        return;
    }
    let header = nal[0];
    let body = &nal[1..];
    let (n, part) = balanced(body.len(), max - 2);
    for (k, chunk) in body.chunks(part).enumerate() {
        let mut p = BytesMut::with_capacity(chunk.len() + 2);
        p.put_u8((header & 0xe0) | FU_A);
        let mut fu = header & 0x1f;
        if k == 0 {
            fu |= 0x80;
        }
        if k + 1 == n {
            fu |= 0x40;
        }
        p.put_u8(fu);
        p.put_slice(chunk);
        out.push(p.freeze());
    }
}

/// VP8 payload descriptor length we write: X, then I with a 15-bit picture ID.
const VP8_DESCRIPTOR: usize = 4;

fn vp8(frame: &[u8], picture_id: u16, max: usize, out: &mut Vec<Bytes>) {
    let (_, part) = balanced(frame.len(), max - VP8_DESCRIPTOR);
    let pid = picture_id & 0x7fff;
    for (k, chunk) in frame.chunks(part.max(1)).enumerate() {
        let mut p = BytesMut::with_capacity(chunk.len() + VP8_DESCRIPTOR);
        // X=1, N=0, S on the first packet, PID=0.
        p.put_u8(if k == 0 { 0x90 } else { 0x80 });
        // I=1 (picture ID present), L=T=K=0.
        p.put_u8(0x80);
        // M=1: a 15-bit picture ID.
        p.put_u16(0x8000 | pid);
        p.put_slice(chunk);
        out.push(p.freeze());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h264(frame: &[u8]) -> Vec<Bytes> {
        let mut out = Vec::new();
        packetize(VideoCodec::H264, frame, 0, &mut out);
        out
    }

    #[test]
    fn annex_b_splits_on_both_start_codes() {
        let s = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9,
        ];
        let nals: Vec<&[u8]> = annex_b_nals(&s).collect();
        assert_eq!(
            nals,
            vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 9, 9][..]]
        );
    }

    #[test]
    fn small_nals_go_as_single_nal_packets() {
        let s = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9,
        ];
        let out = h264(&s);
        assert_eq!(out.len(), 3);
        assert_eq!(&out[0][..], &[0x67, 1, 2]);
        assert_eq!(&out[2][..], &[0x65, 9]);
    }

    #[test]
    fn fu_a_fragments_reassemble_to_the_nal_and_are_balanced() {
        let mut nal = vec![0x65u8];
        nal.extend((0..5_000u32).map(|i| (i * 7) as u8));
        let mut s = vec![0, 0, 0, 1];
        s.extend_from_slice(&nal);
        let out = h264(&s);
        assert_eq!(out.len(), 5_000usize.div_ceil(MAX_PAYLOAD - 2));
        let sizes: Vec<usize> = out.iter().map(|p| p.len()).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        let mut back = vec![(out[0][0] & 0xe0) | (out[0][1] & 0x1f)];
        for (k, p) in out.iter().enumerate() {
            assert_eq!(p[0] & 0x1f, FU_A);
            assert_eq!(p[1] & 0x80 != 0, k == 0, "start bit");
            assert_eq!(p[1] & 0x40 != 0, k + 1 == out.len(), "end bit");
            back.extend_from_slice(&p[2..]);
        }
        assert_eq!(back, nal);
    }

    #[test]
    fn vp8_descriptor_marks_the_first_packet_and_carries_the_picture_id() {
        let frame: Vec<u8> = (0..3_000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        packetize(VideoCodec::Vp8, &frame, 0x8123, &mut out);
        assert_eq!(out.len(), 3);
        let mut back = Vec::new();
        for (k, p) in out.iter().enumerate() {
            assert!(p.len() <= MAX_PAYLOAD);
            assert_eq!(p[0], if k == 0 { 0x90 } else { 0x80 });
            assert_eq!(p[1], 0x80);
            assert_eq!(u16::from_be_bytes([p[2], p[3]]), 0x8000 | 0x0123);
            back.extend_from_slice(&p[4..]);
        }
        assert_eq!(back, frame);
    }
}
