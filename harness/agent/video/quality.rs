//! What a person would see: picture quality against the source, black pictures, frozen
//! pictures. All on the luma plane (8-bit, studio range).

use super::Picture;

/// The PSNR reported for identical planes (a mean squared error of 0), dB.
pub const PSNR_IDENTICAL_DB: f64 = 99.0;
/// A picture whose mean luma is at most this is black: the black level 16 plus 12 levels
/// (about 5 % of the 16-235 range) of noise and encoder offset. The moving source's mean is
/// about 130.
pub const BLACK_MEAN_LUMA: f64 = 28.0;
/// Two pictures at least this close (PSNR, dB) are the same picture: a repeated or frozen
/// frame. Consecutive frames of the moving source differ far more (under 25 dB); a
/// re-decoded identical frame gives [`PSNR_IDENTICAL_DB`].
pub const SAME_PICTURE_DB: f64 = 50.0;

/// Peak signal-to-noise ratio of luma plane `b` against `a`, dB: `10 log10(255² / MSE)`,
/// capped at [`PSNR_IDENTICAL_DB`] (identical planes). Planes of different lengths, or empty
/// ones, are not comparable and give 0.
pub fn psnr_y(a: &[u8], b: &[u8]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = i64::from(x) - i64::from(y);
            (d * d) as u64
        })
        .sum();
    if sse == 0 {
        return PSNR_IDENTICAL_DB;
    }
    let mse = sse as f64 / a.len() as f64;
    (10.0 * (255.0f64 * 255.0 / mse).log10()).min(PSNR_IDENTICAL_DB)
}

/// Structural similarity of luma planes `a` and `b` (`width` x `height`), 0..1 (1: identical):
/// the mean of SSIM over 8x8 windows stepped by 4 pixels, with the usual constants
/// C1 = (0.01·255)², C2 = (0.03·255)². Mismatched or too small planes give 0.
pub fn ssim_y(a: &[u8], b: &[u8], width: u32, height: u32) -> f64 {
    let (w, h) = (width as usize, height as usize);
    if a.len() != w * h || b.len() != w * h || w < 8 || h < 8 {
        return 0.0;
    }
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let (mut total, mut windows) = (0.0, 0u64);
    for y0 in (0..=h - 8).step_by(4) {
        for x0 in (0..=w - 8).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0u64, 0u64, 0u64, 0u64, 0u64);
            for r in y0..y0 + 8 {
                for k in r * w + x0..r * w + x0 + 8 {
                    let (p, q) = (u64::from(a[k]), u64::from(b[k]));
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = 64.0;
            let (ma, mb) = (sa as f64 / n, sb as f64 / n);
            let va = saa as f64 / n - ma * ma;
            let vb = sbb as f64 / n - mb * mb;
            let cov = sab as f64 / n - ma * mb;
            total += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            windows += 1;
        }
    }
    total / windows as f64
}

/// Mean luma of the picture, 0..255.
pub fn mean_luma(p: &Picture) -> f64 {
    if p.y.is_empty() {
        return 0.0;
    }
    p.y.iter().map(|&v| u64::from(v)).sum::<u64>() as f64 / p.y.len() as f64
}

/// True when the picture is black, as from a covered camera: its mean luma is at most
/// [`BLACK_MEAN_LUMA`].
pub fn is_black(p: &Picture) -> bool {
    mean_luma(p) <= BLACK_MEAN_LUMA
}

/// True when `b` shows the same picture as `a` (a frozen video): same size and luma within
/// [`SAME_PICTURE_DB`] PSNR.
pub fn same_picture(a: &Picture, b: &Picture) -> bool {
    a.width == b.width && a.height == b.height && psnr_y(&a.y, &b.y) >= SAME_PICTURE_DB
}
