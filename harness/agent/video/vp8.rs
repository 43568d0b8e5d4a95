//! VP8 through the system's libvpx (`env-libvpx-sys`, pre-generated bindings, linked through
//! pkg-config `vpx`; Debian's `libvpx-dev`).
//!
//! The encoder is set up as a WebRTC sender's: one pass, CBR at the layer's bitrate, real-time
//! deadline, `cpu-used -6` (a negative value fixes speed 6; a positive one lets libvpx pick the
//! speed from wall-clock encode times, which would make the bitstream depend on the machine's
//! load), error resilient, no lag, no frame dropping, no automatic keyframes (a keyframe only
//! when asked for one), one thread (deterministic).
//!
//! The unsafe FFI lives in the two small types here; each owns a boxed `vpx_codec_ctx_t` (libvpx
//! keeps pointers into it, so it never moves) and destroys it in `Drop`.

use super::source::I420;
use super::{Picture, VideoCodec, VideoError, VideoLayer};
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_long, c_uint, c_ulong};
use std::ptr;
use vpx_sys as vpx;

/// libvpx's message for `err`, with the context's detail when it has one.
fn message(ctx: *mut vpx::vpx_codec_ctx_t, err: vpx::vpx_codec_err_t) -> String {
    // SAFETY: vpx_codec_err_to_string returns a static NUL-terminated string for any code.
    let base = unsafe { CStr::from_ptr(vpx::vpx_codec_err_to_string(err)) }
        .to_string_lossy()
        .into_owned();
    if ctx.is_null() {
        return base;
    }
    // SAFETY: ctx is an initialised context; the detail is NULL or a NUL-terminated string it
    // owns, valid until the next call on the context (we copy it now).
    let detail = unsafe { vpx::vpx_codec_error_detail(ctx) };
    if detail.is_null() {
        base
    } else {
        // SAFETY: non-null, NUL-terminated (above).
        let d = unsafe { CStr::from_ptr(detail) }.to_string_lossy();
        format!("{base}: {d}")
    }
}

/// A live VP8 encoder for one layer.
pub struct Vp8Encoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
    width: usize,
    height: usize,
    frame: u64,
    /// The picture handed to libvpx (it reads planes through raw pointers into this buffer).
    buf: Vec<u8>,
}

// SAFETY: the context is owned by this value alone and libvpx keeps no thread-local state for
// it; moving it between threads (never sharing it) is what libvpx allows.
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    pub fn new(layer: VideoLayer) -> Result<Self, VideoError> {
        let init_err = |detail: String| VideoError::Init {
            codec: VideoCodec::Vp8,
            detail,
        };
        let mut cfg = MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::uninit();
        // SAFETY: vpx_codec_vp8_cx returns the static VP8 encoder interface;
        // vpx_codec_enc_config_default fills the whole config (usage 0) when it returns OK.
        let rc = unsafe {
            vpx::vpx_codec_enc_config_default(vpx::vpx_codec_vp8_cx(), cfg.as_mut_ptr(), 0)
        };
        if rc != vpx::VPX_CODEC_OK {
            return Err(init_err(message(ptr::null_mut(), rc)));
        }
        // SAFETY: initialised by the call above (it returned OK).
        let mut cfg = unsafe { cfg.assume_init() };
        cfg.g_w = layer.width;
        cfg.g_h = layer.height;
        cfg.g_timebase = vpx::vpx_rational {
            num: 1,
            den: layer.fps as c_int,
        };
        cfg.g_threads = 1;
        cfg.g_error_resilient = vpx::VPX_ERROR_RESILIENT_DEFAULT;
        cfg.g_pass = vpx::vpx_enc_pass::VPX_RC_ONE_PASS;
        cfg.g_lag_in_frames = 0;
        cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = (layer.bitrate_bps / 1000).max(1);
        cfg.rc_dropframe_thresh = 0;
        cfg.rc_resize_allowed = 0;
        cfg.rc_min_quantizer = 2;
        cfg.rc_max_quantizer = 56;
        // The rate control's buffer, ms: it bounds the keyframe (about 10 KB at 640x360,
        // 30 fps, 600 kbit/s, as video.md measured; libvpx's defaults allow 25 KB and more).
        cfg.rc_buf_initial_sz = 1000;
        cfg.rc_buf_optimal_sz = 1200;
        cfg.rc_buf_sz = 2000;
        cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_DISABLED;
        cfg.kf_min_dist = 0;
        cfg.kf_max_dist = c_uint::MAX;

        let mut ctx = Box::new(MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed());
        // SAFETY: ctx points to writable memory for a context (all-zero is a valid "not yet
        // initialised" context: null pointers, error code OK); cfg is a complete config that
        // libvpx copies during init.
        let rc = unsafe {
            vpx::vpx_codec_enc_init_ver(
                ctx.as_mut_ptr(),
                vpx::vpx_codec_vp8_cx(),
                &cfg,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        if rc != vpx::VPX_CODEC_OK {
            return Err(init_err(message(ptr::null_mut(), rc)));
        }
        // SAFETY: initialised by vpx_codec_enc_init_ver (it returned OK). Box<MaybeUninit<T>>
        // and Box<T> have the same layout.
        let ctx: Box<vpx::vpx_codec_ctx_t> = unsafe { Box::from_raw(Box::into_raw(ctx).cast()) };
        let mut enc = Vp8Encoder {
            ctx,
            width: layer.width as usize,
            height: layer.height as usize,
            frame: 0,
            buf: Vec::new(),
        };
        use vpx::vp8e_enc_control_id as id;
        enc.control(id::VP8E_SET_CPUUSED as c_int, -6)?;
        enc.control(id::VP8E_SET_NOISE_SENSITIVITY as c_int, 0)?;
        enc.control(id::VP8E_SET_STATIC_THRESHOLD as c_int, 1)?;
        enc.control(id::VP8E_SET_TOKEN_PARTITIONS as c_int, 0)?;
        Ok(enc)
    }

    fn control(&mut self, id: c_int, value: c_int) -> Result<(), VideoError> {
        let ctx: *mut vpx::vpx_codec_ctx_t = &mut *self.ctx;
        // SAFETY: ctx is an initialised encoder; every control we set takes one int.
        let rc = unsafe { vpx::vpx_codec_control_(ctx, id, value) };
        if rc != vpx::VPX_CODEC_OK {
            return Err(VideoError::Init {
                codec: VideoCodec::Vp8,
                detail: format!("control {id} = {value}: {}", message(ctx, rc)),
            });
        }
        Ok(())
    }

    /// Encodes the next frame (a keyframe when `keyframe`); returns the frame and whether it is
    /// a keyframe. A frame libvpx did not produce is an error: every frame must be produced.
    pub fn encode(&mut self, pic: &I420, keyframe: bool) -> Result<(Vec<u8>, bool), VideoError> {
        let n = self.frame;
        self.frame += 1;
        let err = |detail: String| VideoError::Encode {
            codec: VideoCodec::Vp8,
            frame: n,
            detail,
        };
        if pic.width != self.width || pic.height != self.height {
            return Err(err(format!(
                "picture is {}x{}, the encoder was made for {}x{}",
                pic.width, pic.height, self.width, self.height
            )));
        }
        self.buf.clear();
        self.buf.extend_from_slice(&pic.y);
        self.buf.extend_from_slice(&pic.u);
        self.buf.extend_from_slice(&pic.v);
        let mut img = MaybeUninit::<vpx::vpx_image_t>::zeroed();
        // SAFETY: buf holds a packed I420 picture of width x height (stride alignment 1);
        // vpx_img_wrap only records pointers into it and fills img, which lives until the end of
        // this function, as does buf (unchanged meanwhile).
        let wrapped = unsafe {
            vpx::vpx_img_wrap(
                img.as_mut_ptr(),
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width as c_uint,
                self.height as c_uint,
                1,
                self.buf.as_mut_ptr(),
            )
        };
        if wrapped.is_null() {
            return Err(err("vpx_img_wrap refused the picture".into()));
        }
        // Deltas predict from the previous frame only (no golden or altref frame), so that a
        // keyframe alternate can stand in for the frame before them (see VideoClip::keyframe).
        let flags = if keyframe {
            vpx::VPX_EFLAG_FORCE_KF
        } else {
            vpx::VP8_EFLAG_NO_REF_GF
                | vpx::VP8_EFLAG_NO_REF_ARF
                | vpx::VP8_EFLAG_NO_UPD_GF
                | vpx::VP8_EFLAG_NO_UPD_ARF
        } as c_long;
        let ctx: *mut vpx::vpx_codec_ctx_t = &mut *self.ctx;
        // SAFETY: ctx is an initialised encoder; wrapped points to img, valid (above).
        let rc = unsafe {
            vpx::vpx_codec_encode(
                ctx,
                wrapped,
                n as i64,
                1,
                flags,
                vpx::VPX_DL_REALTIME as c_ulong,
            )
        };
        if rc != vpx::VPX_CODEC_OK {
            return Err(err(message(ctx, rc)));
        }
        let mut out = Vec::new();
        let mut key = false;
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: ctx is an initialised encoder and iter the iterator it handed back; the
            // packet is valid until the next encode call, and we copy its bytes now.
            let pkt = unsafe { vpx::vpx_codec_get_cx_data(ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            // SAFETY: non-null packets point to a valid vpx_codec_cx_pkt_t (above).
            let pkt = unsafe { &*pkt };
            if pkt.kind != vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            // SAFETY: for a frame packet the union holds `frame`, whose buf/sz describe the
            // frame's bytes.
            let f = unsafe { pkt.data.frame };
            // SAFETY: buf points to sz readable bytes (above).
            out.extend_from_slice(unsafe {
                std::slice::from_raw_parts(f.buf as *const u8, f.sz as usize)
            });
            key |= f.flags & vpx::VPX_FRAME_IS_KEY != 0;
        }
        if out.is_empty() {
            return Err(err(
                "libvpx produced no frame; frame dropping is off, so this should not happen".into(),
            ));
        }
        Ok((out, key))
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in new() and is destroyed only here.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

/// A libvpx VP8 decoder handing back the luma and chroma planes, unpadded.
pub struct Vp8Decoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
}

// SAFETY: as for Vp8Encoder: owned, never shared.
unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub fn new() -> Result<Self, VideoError> {
        let cfg = vpx::vpx_codec_dec_cfg_t {
            threads: 1,
            w: 0,
            h: 0,
        };
        let mut ctx = Box::new(MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed());
        // SAFETY: ctx points to writable zeroed context memory; cfg is complete; libvpx copies
        // what it needs of it during init.
        let rc = unsafe {
            vpx::vpx_codec_dec_init_ver(
                ctx.as_mut_ptr(),
                vpx::vpx_codec_vp8_dx(),
                &cfg,
                0,
                vpx::VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        if rc != vpx::VPX_CODEC_OK {
            return Err(VideoError::Init {
                codec: VideoCodec::Vp8,
                detail: message(ptr::null_mut(), rc),
            });
        }
        // SAFETY: initialised (above); same layout.
        let ctx: Box<vpx::vpx_codec_ctx_t> = unsafe { Box::from_raw(Box::into_raw(ctx).cast()) };
        Ok(Vp8Decoder { ctx })
    }

    pub fn decode(&mut self, data: &[u8]) -> Result<Option<Picture>, VideoError> {
        let err = |detail: String| VideoError::Decode {
            codec: VideoCodec::Vp8,
            detail,
        };
        // An empty buffer would mean "flush" to libvpx; a VP8 frame has at least a 3-byte tag.
        if data.len() < 3 {
            return Err(err(format!(
                "a VP8 frame is at least 3 bytes (its frame tag), got {}",
                data.len()
            )));
        }
        let ctx: *mut vpx::vpx_codec_ctx_t = &mut *self.ctx;
        // SAFETY: ctx is an initialised decoder; data is readable for its length, which libvpx
        // does not keep beyond the call.
        let rc = unsafe {
            vpx::vpx_codec_decode(ctx, data.as_ptr(), data.len() as c_uint, ptr::null_mut(), 0)
        };
        if rc != vpx::VPX_CODEC_OK {
            return Err(err(message(ctx, rc)));
        }
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        let mut last = None;
        loop {
            // SAFETY: ctx is an initialised decoder; the image is valid until the next decode
            // call, and we copy its planes now.
            let img = unsafe { vpx::vpx_codec_get_frame(ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            // SAFETY: non-null images are valid (above).
            last = Some(unsafe { copy_planes(&*img) });
        }
        Ok(last)
    }
}

/// The picture's planes, without their stride padding.
///
/// # Safety
/// `img` must be a valid 8-bit I420 image from libvpx (planes readable for stride x rows).
unsafe fn copy_planes(img: &vpx::vpx_image_t) -> Picture {
    let (w, h) = (img.d_w as usize, img.d_h as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let plane = |k: usize, pw: usize, ph: usize| -> Vec<u8> {
        let stride = img.stride[k] as usize;
        let mut out = Vec::with_capacity(pw * ph);
        for r in 0..ph {
            // SAFETY: the plane has ph rows of `stride` bytes, each at least pw long (caller).
            let row = unsafe { std::slice::from_raw_parts(img.planes[k].add(r * stride), pw) };
            out.extend_from_slice(row);
        }
        out
    };
    Picture {
        width: w as u32,
        height: h as u32,
        y: plane(0, w, h),
        u: plane(1, cw, ch),
        v: plane(2, cw, ch),
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in new() and is destroyed only here.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}
