//! H.264 `frame_num` renumbering, so that a replayed clip reads as one live stream.
//!
//! A P slice's `frame_num` counts reference frames since the last IDR (mod MaxFrameNum), and
//! OpenH264's decoder reports a lost reference (`dsRefLost`) and drops the frame when it does
//! not go up by one. A clip's frames keep the numbers of their one encode: after a keyframe
//! alternate (`frame_num` 0) or at the loop's wrap the next delta's number is off. The sender
//! therefore rewrites it: OpenH264 writes `frame_num` as a fixed 15-bit field
//! (log2_max_frame_num = 15, POC type 2: nothing else in the slice header depends on it) right
//! after three Exp-Golomb fields, so the rewrite keeps the slice's length in bits; only the
//! emulation prevention bytes may change.

use super::{VideoCodec, VideoError};

/// OpenH264's log2_max_frame_num (`au_set.cpp`: fixed for every stream it writes).
pub const LOG2_MAX_FRAME_NUM: u32 = 15;

fn corrupt(detail: &str) -> VideoError {
    VideoError::Decode {
        codec: VideoCodec::H264,
        detail: format!("cannot renumber the access unit: {detail}"),
    }
}

/// `au` (Annex B) with every slice's `frame_num` set to `frame_num` mod 2^15, into `out`
/// (cleared first). Parameter sets and other NAL units are copied unchanged.
pub fn set_frame_num(au: &[u8], frame_num: u32, out: &mut Vec<u8>) -> Result<(), VideoError> {
    out.clear();
    let starts = start_codes(au);
    if starts.first() != Some(&0) && starts.first() != Some(&1) {
        return Err(corrupt("it does not start with a start code"));
    }
    out.extend_from_slice(&au[..starts[0]]);
    let mut rbsp = Vec::new();
    for (k, &sc) in starts.iter().enumerate() {
        let body = sc + 3;
        let mut end = starts.get(k + 1).copied().unwrap_or(au.len());
        // A 4-byte start code's leading zero belongs to the start code, not to this NAL unit.
        if end > body && k + 1 < starts.len() && au[end - 1] == 0 {
            end -= 1;
        }
        out.extend_from_slice(&au[sc..body.min(au.len())]);
        let nal = &au[body.min(end)..end];
        let kind = nal.first().map(|b| b & 0x1f);
        if matches!(kind, Some(1) | Some(5)) {
            unescape(&nal[1..], &mut rbsp);
            patch(&mut rbsp, frame_num)?;
            out.push(nal[0]);
            escape(&rbsp, out);
        } else {
            out.extend_from_slice(nal);
        }
        // Bytes between this NAL unit and the next start code (a 4-byte start code's zero).
        let next = starts.get(k + 1).copied().unwrap_or(au.len());
        out.extend_from_slice(&au[end..next]);
    }
    Ok(())
}

/// The 15-bit `frame_num` of the first slice in `au`.
pub fn frame_num(au: &[u8]) -> Result<u32, VideoError> {
    let starts = start_codes(au);
    for (k, &sc) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(au.len());
        let nal = &au[(sc + 3).min(end)..end];
        if matches!(nal.first().map(|b| b & 0x1f), Some(1) | Some(5)) {
            let mut rbsp = Vec::new();
            unescape(&nal[1..], &mut rbsp);
            let pos = frame_num_position(&rbsp)?;
            return read_bits(&rbsp, pos, LOG2_MAX_FRAME_NUM);
        }
    }
    Err(corrupt("no slice in it"))
}

/// Offsets of every `00 00 01`.
fn start_codes(b: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 {
            v.push(i);
            i += 3;
        } else {
            i += 1;
        }
    }
    v
}

fn unescape(ebsp: &[u8], rbsp: &mut Vec<u8>) {
    rbsp.clear();
    let mut zeros = 0;
    for &b in ebsp {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        rbsp.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
}

fn escape(rbsp: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
}

fn bit(b: &[u8], pos: usize) -> Result<u32, VideoError> {
    b.get(pos / 8)
        .map(|byte| u32::from(byte >> (7 - pos % 8)) & 1)
        .ok_or_else(|| corrupt("the slice header is cut short"))
}

fn read_bits(b: &[u8], pos: usize, n: u32) -> Result<u32, VideoError> {
    (0..n as usize).try_fold(0, |acc, k| Ok(acc << 1 | bit(b, pos + k)?))
}

/// Skips one ue(v) Exp-Golomb code at `pos`; returns the position after it.
fn skip_ue(b: &[u8], mut pos: usize) -> Result<usize, VideoError> {
    let mut zeros = 0;
    while bit(b, pos)? == 0 {
        zeros += 1;
        pos += 1;
        if zeros > 31 {
            return Err(corrupt("an Exp-Golomb code longer than 32 bits"));
        }
    }
    Ok(pos + 1 + zeros)
}

/// Bit position of `frame_num` in a slice header's RBSP (after the NAL header byte):
/// first_mb_in_slice, slice_type and pic_parameter_set_id come first.
fn frame_num_position(rbsp: &[u8]) -> Result<usize, VideoError> {
    let mut pos = 0;
    for _ in 0..3 {
        pos = skip_ue(rbsp, pos)?;
    }
    Ok(pos)
}

fn patch(rbsp: &mut [u8], frame_num: u32) -> Result<(), VideoError> {
    let pos = frame_num_position(rbsp)?;
    let n = LOG2_MAX_FRAME_NUM as usize;
    if (pos + n).div_ceil(8) > rbsp.len() {
        return Err(corrupt("the slice header is cut short"));
    }
    for k in 0..n {
        let v = (frame_num >> (n - 1 - k)) & 1;
        let (byte, shift) = ((pos + k) / 8, 7 - (pos + k) % 8);
        rbsp[byte] = (rbsp[byte] & !(1 << shift)) | ((v as u8) << shift);
    }
    Ok(())
}
