//! RTP payload formats for video, receive side: what one packet says about the frame it belongs
//! to (does it start a frame, is the frame a keyframe, what size is the picture), and the
//! codec bitstream rebuilt from a frame's packets for a pixel decoder.
//!
//! Everything here is read from the payload the far end sent, never from its settings: the
//! receiver knows what it received.
//!
//! ```
//! use callharness::agent::video_rtp::depacketize::inspect;
//! use callharness::agent::video::VideoCodec;
//! // A VP8 packet that starts a keyframe of 640x360 (RFC 7741 descriptor, then the VP8 header).
//! let p = [0x90, 0x80, 0x80, 0x01, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01];
//! let info = inspect(VideoCodec::Vp8, &p).unwrap();
//! assert!(info.starts_frame && info.keyframe);
//! assert_eq!(info.resolution, Some((640, 360)));
//! ```

use super::packetize::{FU_A, STAP_A};
use crate::agent::video::VideoCodec;

/// What one video RTP payload says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketInfo {
    /// The packet is the first of its frame (VP8: S=1 and partition 0; H.264: a parameter set,
    /// an access unit delimiter, or the first slice of a picture).
    pub starts_frame: bool,
    /// The frame is a keyframe (VP8: an intra frame; H.264: an IDR slice or a parameter set
    /// before one). Known from the packet that carries the frame's header.
    pub keyframe: bool,
    /// The picture size, when this packet carries it (VP8 keyframe header, H.264 SPS).
    pub resolution: Option<(u32, u32)>,
}

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("empty video payload")]
    Empty,
    #[error("truncated {0} payload")]
    Truncated(&'static str),
    #[error("H.264 NAL unit type {0} is not one packetization mode 1 allows")]
    NalType(u8),
}

/// Reads one payload.
pub fn inspect(codec: VideoCodec, p: &[u8]) -> Result<PacketInfo, PayloadError> {
    match codec {
        VideoCodec::Vp8 => vp8(p),
        VideoCodec::H264 => h264(p),
    }
}

/// Length of the VP8 payload descriptor at the start of `p`.
fn vp8_descriptor_len(p: &[u8]) -> Result<usize, PayloadError> {
    let b0 = *p.first().ok_or(PayloadError::Empty)?;
    let mut n = 1;
    if b0 & 0x80 != 0 {
        let x = *p.get(1).ok_or(PayloadError::Truncated("VP8"))?;
        n = 2;
        if x & 0x80 != 0 {
            let pid = *p.get(n).ok_or(PayloadError::Truncated("VP8"))?;
            n += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            n += 1;
        }
        if x & 0x30 != 0 {
            n += 1;
        }
    }
    if n > p.len() {
        return Err(PayloadError::Truncated("VP8"));
    }
    Ok(n)
}

fn vp8(p: &[u8]) -> Result<PacketInfo, PayloadError> {
    let d = vp8_descriptor_len(p)?;
    let starts = p[0] & 0x10 != 0 && p[0] & 0x07 == 0;
    let mut info = PacketInfo {
        starts_frame: starts,
        ..Default::default()
    };
    if starts {
        let h = &p[d..];
        let b0 = *h.first().ok_or(PayloadError::Truncated("VP8"))?;
        // RFC 6386 9.1: the frame tag's bit 0 is 0 for a key frame.
        info.keyframe = b0 & 0x01 == 0;
        if info.keyframe && h.len() >= 10 && h[3..6] == [0x9d, 0x01, 0x2a] {
            let w = u32::from(u16::from_le_bytes([h[6], h[7]]) & 0x3fff);
            let hh = u32::from(u16::from_le_bytes([h[8], h[9]]) & 0x3fff);
            info.resolution = Some((w, hh));
        }
    }
    Ok(info)
}

/// NAL unit types that matter here.
const NAL_SLICE: u8 = 1;
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;

/// What one NAL unit (its header byte and what follows) says.
fn nal_info(nal: &[u8], first_fragment: bool) -> PacketInfo {
    let t = nal[0] & 0x1f;
    let body = &nal[1..];
    match t {
        NAL_SPS => PacketInfo {
            starts_frame: true,
            keyframe: true,
            resolution: sps_resolution(body),
        },
        NAL_PPS | NAL_AUD => PacketInfo {
            starts_frame: true,
            keyframe: t == NAL_PPS,
            resolution: None,
        },
        NAL_SLICE | NAL_IDR => PacketInfo {
            // first_mb_in_slice is ue(v); 0 is the single bit '1'.
            starts_frame: first_fragment && body.first().is_some_and(|b| b & 0x80 != 0),
            keyframe: t == NAL_IDR,
            resolution: None,
        },
        _ => PacketInfo::default(),
    }
}

fn h264(p: &[u8]) -> Result<PacketInfo, PayloadError> {
    let b0 = *p.first().ok_or(PayloadError::Empty)?;
    match b0 & 0x1f {
        1..=23 => Ok(nal_info(p, true)),
        STAP_A => {
            let mut info = PacketInfo::default();
            let mut rest = &p[1..];
            let mut first = true;
            while rest.len() >= 2 {
                let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                if n == 0 || rest.len() < 2 + n {
                    return Err(PayloadError::Truncated("STAP-A"));
                }
                let i = nal_info(&rest[2..2 + n], true);
                if first {
                    info.starts_frame = i.starts_frame;
                }
                first = false;
                info.keyframe |= i.keyframe;
                info.resolution = info.resolution.or(i.resolution);
                rest = &rest[2 + n..];
            }
            Ok(info)
        }
        FU_A => {
            let fu = *p.get(1).ok_or(PayloadError::Truncated("FU-A"))?;
            let start = fu & 0x80 != 0;
            let header = (b0 & 0xe0) | (fu & 0x1f);
            let mut nal = vec![header];
            nal.extend_from_slice(p.get(2..3).unwrap_or(&[]));
            let mut info = nal_info(&nal, start);
            info.keyframe &= start;
            Ok(info)
        }
        t => Err(PayloadError::NalType(t)),
    }
}

/// Appends the codec bitstream a packet carries to `frame` (H.264: Annex B with start codes,
/// FU-A fragments joined; VP8: the payload without its descriptor).
pub fn append_bitstream(
    codec: VideoCodec,
    p: &[u8],
    frame: &mut Vec<u8>,
) -> Result<(), PayloadError> {
    match codec {
        VideoCodec::Vp8 => {
            let d = vp8_descriptor_len(p)?;
            frame.extend_from_slice(&p[d..]);
        }
        VideoCodec::H264 => {
            let b0 = *p.first().ok_or(PayloadError::Empty)?;
            match b0 & 0x1f {
                1..=23 => {
                    frame.extend_from_slice(&[0, 0, 0, 1]);
                    frame.extend_from_slice(p);
                }
                STAP_A => {
                    let mut rest = &p[1..];
                    while rest.len() >= 2 {
                        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                        if n == 0 || rest.len() < 2 + n {
                            return Err(PayloadError::Truncated("STAP-A"));
                        }
                        frame.extend_from_slice(&[0, 0, 0, 1]);
                        frame.extend_from_slice(&rest[2..2 + n]);
                        rest = &rest[2 + n..];
                    }
                }
                FU_A => {
                    let fu = *p.get(1).ok_or(PayloadError::Truncated("FU-A"))?;
                    if fu & 0x80 != 0 {
                        frame.extend_from_slice(&[0, 0, 0, 1, (b0 & 0xe0) | (fu & 0x1f)]);
                    }
                    frame.extend_from_slice(&p[2..]);
                }
                t => return Err(PayloadError::NalType(t)),
            }
        }
    }
    Ok(())
}

/// Reads bits from an H.264 RBSP, skipping emulation-prevention bytes (`00 00 03`).
struct Bits<'a> {
    b: &'a [u8],
    byte: usize,
    bit: u8,
    zeros: u8,
}

impl<'a> Bits<'a> {
    fn new(b: &'a [u8]) -> Self {
        Bits {
            b,
            byte: 0,
            bit: 0,
            zeros: 0,
        }
    }

    fn bit(&mut self) -> Option<u32> {
        if self.bit == 0 {
            // Entering a new byte: drop an emulation-prevention byte.
            if self.zeros >= 2 && self.b.get(self.byte) == Some(&3) {
                self.byte += 1;
                self.zeros = 0;
            }
            let cur = *self.b.get(self.byte)?;
            self.zeros = if cur == 0 { self.zeros + 1 } else { 0 };
        }
        let cur = *self.b.get(self.byte)?;
        let v = (cur >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.byte += 1;
        }
        Some(u32::from(v))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |acc, _| Some((acc << 1) | self.bit()?))
    }

    /// Exp-Golomb unsigned.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }

    fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        Some(if k % 2 == 1 {
            k.div_ceil(2) as i32
        } else {
            -((k / 2) as i32)
        })
    }
}

/// The picture size an SPS (without its NAL header byte) declares, after cropping
/// (H.264 7.3.2.1.1); None when it cannot be read.
pub fn sps_resolution(sps: &[u8]) -> Option<(u32, u32)> {
    let mut r = Bits::new(sps);
    let profile = r.bits(8)?;
    r.bits(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format = 1;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format = r.ue()?;
        if chroma_format == 3 {
            r.bit()?;
        }
        r.ue()?; // bit depth luma
        r.ue()?; // bit depth chroma
        r.bit()?; // qpprime_y_zero_transform_bypass
        if r.bit()? == 1 {
            for i in 0..if chroma_format == 3 { 12 } else { 8 } {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?;
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            for _ in 0..r.ue()? {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let w_mbs = r.ue()? + 1;
    let h_units = r.ue()? + 1;
    let frame_mbs_only = r.bit()?;
    if frame_mbs_only == 0 {
        r.bit()?;
    }
    r.bit()?; // direct_8x8_inference_flag
    let (mut w, mut h) = (w_mbs * 16, h_units * 16 * (2 - frame_mbs_only));
    if r.bit()? == 1 {
        let (l, rr, t, b) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
        let (cx, cy) = match chroma_format {
            0 => (1, 2 - frame_mbs_only),
            1 => (2, 2 * (2 - frame_mbs_only)),
            2 => (2, 2 - frame_mbs_only),
            _ => (1, 2 - frame_mbs_only),
        };
        w = w.checked_sub(cx * (l + rr))?;
        h = h.checked_sub(cy * (t + b))?;
    }
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::video_rtp::packetize::packetize;

    /// Writes bits MSB first, for building an SPS by hand.
    struct W(Vec<bool>);
    impl W {
        fn bits(&mut self, v: u32, n: u32) {
            for i in (0..n).rev() {
                self.0.push((v >> i) & 1 == 1);
            }
        }
        fn ue(&mut self, v: u32) {
            let x = v + 1;
            let n = 32 - x.leading_zeros();
            self.bits(0, n - 1);
            self.bits(x, n);
        }
        fn bytes(mut self) -> Vec<u8> {
            self.0.push(true); // rbsp stop bit
            while !self.0.len().is_multiple_of(8) {
                self.0.push(false);
            }
            self.0
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | b as u8))
                .collect()
        }
    }

    /// A baseline SPS for `w` x `h` (cropped from whole macroblocks when needed).
    fn sps(w: u32, h: u32) -> Vec<u8> {
        let mut s = W(Vec::new());
        s.bits(66, 8); // baseline
        s.bits(0xc0, 8);
        s.bits(31, 8);
        s.ue(0);
        s.ue(0); // log2_max_frame_num_minus4
        s.ue(2); // poc type 2
        s.ue(1); // refs
        s.bits(0, 1);
        let (wm, hm) = (w.div_ceil(16), h.div_ceil(16));
        s.ue(wm - 1);
        s.ue(hm - 1);
        s.bits(1, 1); // frame_mbs_only
        s.bits(1, 1); // direct 8x8
        let (cw, ch) = (wm * 16 - w, hm * 16 - h);
        if cw + ch > 0 {
            s.bits(1, 1);
            s.ue(0);
            s.ue(cw / 2);
            s.ue(0);
            s.ue(ch / 2);
        } else {
            s.bits(0, 1);
        }
        s.bits(0, 1); // no VUI
        s.bytes()
    }

    #[test]
    fn sps_sizes_with_and_without_cropping() {
        assert_eq!(sps_resolution(&sps(640, 368)), Some((640, 368)));
        assert_eq!(sps_resolution(&sps(640, 360)), Some((640, 360)));
        assert_eq!(sps_resolution(&sps(1280, 720)), Some((1280, 720)));
        assert_eq!(sps_resolution(&sps(320, 180)), Some((320, 180)));
        assert_eq!(sps_resolution(&[66]), None);
    }

    #[test]
    fn emulation_prevention_bytes_are_skipped() {
        // `00 00 03 80 00 00`: the 03 is not data, so this is 16 zeros, a one and 16 zero bits.
        let mut r = Bits::new(&[0x00, 0x00, 0x03, 0x80, 0x00, 0x00]);
        assert_eq!(r.ue(), Some(65_535));
    }

    #[test]
    fn h264_frame_start_keyframe_and_size_from_packets() {
        let mut frame = vec![0, 0, 0, 1, 0x67];
        frame.extend(sps(640, 360));
        frame.extend([0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80]);
        frame.extend([0, 0, 0, 1, 0x65, 0x88]);
        frame.extend(std::iter::repeat_n(0x5a, 4_000));
        let mut out = Vec::new();
        packetize(VideoCodec::H264, &frame, 0, &mut out);
        let infos: Vec<PacketInfo> = out
            .iter()
            .map(|p| inspect(VideoCodec::H264, p).unwrap())
            .collect();
        assert_eq!(infos[0].resolution, Some((640, 360)));
        assert!(infos[0].starts_frame && infos[0].keyframe);
        // The IDR's first fragment starts a picture too; later fragments do not.
        assert!(infos[2].keyframe && infos[2].starts_frame);
        assert!(infos[3..].iter().all(|i| !i.starts_frame && !i.keyframe));
        // A delta frame's slice starts a frame and is not a keyframe.
        let d = inspect(VideoCodec::H264, &[0x41, 0x9a, 0x01]).unwrap();
        assert!(d.starts_frame && !d.keyframe);
        // A second slice of the same picture (first_mb_in_slice > 0) does not start it.
        let s2 = inspect(VideoCodec::H264, &[0x41, 0x40, 0x01]).unwrap();
        assert!(!s2.starts_frame);
        // The bitstream comes back whole.
        let mut back = Vec::new();
        for p in &out {
            append_bitstream(VideoCodec::H264, p, &mut back).unwrap();
        }
        assert_eq!(back, frame);
    }

    #[test]
    fn vp8_delta_frames_and_continuations() {
        let mut out = Vec::new();
        let mut frame = vec![0x31u8, 0x02, 0x00]; // bit 0 set: an inter frame
        frame.extend(std::iter::repeat_n(7, 2_500));
        packetize(VideoCodec::Vp8, &frame, 5, &mut out);
        let i0 = inspect(VideoCodec::Vp8, &out[0]).unwrap();
        assert!(i0.starts_frame && !i0.keyframe && i0.resolution.is_none());
        let i1 = inspect(VideoCodec::Vp8, &out[1]).unwrap();
        assert!(!i1.starts_frame);
        let mut back = Vec::new();
        for p in &out {
            append_bitstream(VideoCodec::Vp8, p, &mut back).unwrap();
        }
        assert_eq!(back, frame);
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        for p in [
            &[][..],
            &[0x90][..],
            &[0x90, 0x80][..],
            &[0x90, 0x80, 0x80][..],
        ] {
            assert!(inspect(VideoCodec::Vp8, p).is_err(), "{p:?}");
        }
        for p in [&[][..], &[0x1c][..], &[0x18, 0, 9, 1][..], &[0x1e, 1][..]] {
            assert!(inspect(VideoCodec::H264, p).is_err(), "{p:?}");
        }
    }
}
