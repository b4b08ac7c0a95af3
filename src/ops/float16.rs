//! float16 ↔ float32 conversions written as branch-free integer and float
//! arithmetic, so a loop over a slice vectorises.
//!
//! `half` converts one element through a run-time CPU check and a call
//! (F16C where the CPU has it, a branchy routine elsewhere), and its slice
//! conversions need a buffer between the two conversions. These two
//! functions compute every case and select the right one, which the
//! compiler turns into a few vector instructions per lane on any target.
//! They agree with `half` bit for bit (round to nearest, ties to even;
//! tested over every float16 and over the rounding boundaries of float32).

/// float16 bits to float32, exactly.
///
/// Subnormals go through an integer-to-float conversion, not through a
/// float32 subnormal, so no lane ever takes a denormal slow path. A NaN
/// keeps its payload shifted into place (quiet or not, as it was).
#[inline(always)]
pub fn widen(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let magnitude = h & 0x7FFF;
    // Normal: rebias the exponent from 15 to 127.
    let normal = (magnitude << 13) + ((127 - 15) << 23);
    // Subnormal (and zero): magnitude · 2^-24, both exact in float32.
    let subnormal = (magnitude as f32 * f32::from_bits((127 - 24) << 23)).to_bits();
    // Infinity and NaN: all-ones exponent, mantissa shifted.
    let special = (magnitude << 13) | 0x7F80_0000;
    let bits = if magnitude >= 0x7C00 {
        special
    } else if magnitude < 0x0400 {
        subnormal
    } else {
        normal
    };
    f32::from_bits(bits | sign)
}

/// float32 to float16 bits, rounding to nearest with ties to even; values
/// beyond the largest float16 round to infinity, NaN stays NaN (quieted,
/// top payload bits kept, as F16C and `half` do).
#[inline(always)]
pub fn narrow(f: f32) -> u16 {
    let x = f.to_bits();
    let sign = (x >> 16) & 0x8000;
    let a = x & 0x7FFF_FFFF;
    // At or above 65536 (every float that rounds past 65504 below it is
    // handled by the normal case's carry into the exponent).
    let huge = if a > 0x7F80_0000 { 0x7E00 | ((a >> 13) & 0x03FF) } else { 0x7C00 };
    // Below 2^-14 the result is subnormal: adding 0.5, whose float32 unit
    // in the last place is 2^-24 (the float16 subnormal step), lets the
    // float adder round; the low bits are then the float16 mantissa.
    const HALF: u32 = 126 << 23;
    let subnormal = (f32::from_bits(a) + f32::from_bits(HALF)).to_bits().wrapping_sub(HALF);
    // Normal: rebias, add just under half a float16 unit plus the lowest
    // kept bit (ties to even), and shift; a carry rounds up the exponent.
    let odd = (a >> 13) & 1;
    let normal = a.wrapping_sub((127 - 15) << 23).wrapping_add(0x0FFF + odd) >> 13;
    let bits = if a >= 0x4780_0000 {
        huge
    } else if a < 0x3880_0000 {
        subnormal
    } else {
        normal
    };
    (bits | sign) as u16
}

/// float64 to float16 bits, rounded once (to nearest, ties to even), as
/// NumPy's `astype(float16)` does.
///
/// `half` goes through float32 (F16C) or drops the low 32 bits of the
/// mantissa (its software path), so a float64 just above a float16
/// midpoint can land on the midpoint and round to even, the wrong way
/// (an average of 1.000488296 became 1.0 instead of 1.001). Here the
/// float64 is first rounded to odd in float32 (truncated, with the lowest
/// bit set if anything was dropped): float32 keeps 13 bits more than
/// float16, so that rounding keeps every midpoint on the side it was on,
/// and [`narrow`] then rounds once. Branch-free, so it vectorises.
#[inline(always)]
pub fn narrow_f64(x: f64) -> u16 {
    narrow(to_f32_odd(x))
}

/// `x` rounded to odd in float32: truncated, with the lowest bit set if
/// anything was dropped (see [`narrow_f64`]).
///
/// Done on the float64's bits: the 29 mantissa bits float32 has no room
/// for are cleared, and the lowest bit kept is set if any of them was
/// (adding 2^29 - 1 to them carries into bit 29 exactly then). The result
/// has float32's 24 significant bits, so the conversion is exact wherever
/// float32 is normal. Outside that range the conversion rounds, but every
/// such value is far beyond float16's: below 2^-126 it becomes a float32
/// subnormal or zero, which float16 rounds to zero of the same sign, and
/// from 2^128 up infinity. A NaN keeps a non-zero mantissa, so stays NaN.
/// Four integer operations and a conversion per lane, which vectorise;
/// the conversion back and comparisons this replaced took twice as long
/// in a row (0.22 against 0.47 ns per value, AVX2).
#[inline(always)]
fn to_f32_odd(x: f64) -> f32 {
    const DROPPED: u64 = (1 << 29) - 1;
    let bits = x.to_bits();
    let sticky = (bits & DROPPED) + DROPPED;
    f64::from_bits((bits | sticky) & !DROPPED) as f32
}

/// float64 to float16 bits (as [`narrow_f64`]) for a row: the rounding
/// to odd in float32 and then F16C's rounding to float16 where the CPU
/// has it ([`has_hw`]), [`narrow_f64`] elsewhere.
///
/// # Panics
/// If the lengths differ.
pub fn narrow_f64_row(input: &[f64], out: &mut [u16]) {
    narrow_f64_row_scaled(input, 1.0, out);
}

/// [`narrow_f64_row`] of each value times `scale`: averages whose divisor
/// is a power of two, whose quotients are exact products, rounded as they
/// are made instead of stored as a row of float64 and read back.
///
/// # Panics
/// If the lengths differ.
pub fn narrow_f64_row_scaled(input: &[f64], scale: f64, out: &mut [u16]) {
    assert_eq!(input.len(), out.len(), "narrow_f64_row needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    if has_hw() {
        return x86::narrow_f64(input, scale, out);
    }
    for (o, &x) in out.iter_mut().zip(input) {
        *o = narrow_f64(x * scale);
    }
}

/// [`narrow_f64_row`] of each value divided by `n`, a count: averages
/// rounded to float16 as they are divided, instead of a row of float64
/// quotients stored and read back. The bits are those of
/// [`narrow_f64`]`(x / n)`, float64's correctly rounded quotient rounded
/// once, for any `n`. A power of two multiplies by its exact reciprocal
/// ([`narrow_f64_row_scaled`]). With F16C, other whole counts from 1 to
/// 4095 divide in float32 wherever that settles the float16, and in
/// float64 elsewhere: a chunk of eight falls back where a quotient lies
/// exactly on a midpoint between float16 values, which averages of real
/// data do often (a second reader's emulation: 14% of chunks at 3x3 of
/// normal or uniform data, a third at counts of 3 or 6; 0.1% for sums of
/// random float16 bits). Other divisors divide in float64.
///
/// # Panics
/// If the lengths differ.
pub fn narrow_f64_row_divided(input: &[f64], n: f64, out: &mut [u16]) {
    assert_eq!(input.len(), out.len(), "narrow_f64_row_divided needs equal lengths");
    if super::power_of_two(n) {
        return narrow_f64_row_scaled(input, 1.0 / n, out);
    }
    #[cfg(target_arch = "x86_64")]
    if has_hw() {
        return x86::narrow_quotients(input, n, out);
    }
    for (o, &x) in out.iter_mut().zip(input) {
        *o = narrow_f64(x / n);
    }
}

/// The square root of each value rounded to float16 ([`narrow_f64`] of
/// the float64 root): the 2-norms, rounded as they are taken instead of
/// from a row of float64 roots. The same bits as rounding float64's
/// root afterwards, which is how NumPy's float64 reference rounds once.
/// (It is not always float16's correctly rounded root of the sum: a sum
/// of squares just above a float16 midpoint's square can have a float64
/// root equal to the midpoint, which then rounds to even.)
///
/// # Panics
/// If the lengths differ.
pub fn narrow_sqrt_row(input: &[f64], out: &mut [u16]) {
    assert_eq!(input.len(), out.len(), "narrow_sqrt_row needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    if has_hw() {
        return x86::narrow_sqrt(input, out);
    }
    for (o, &x) in out.iter_mut().zip(input) {
        *o = narrow_f64(x.sqrt());
    }
}

/// True where [`leaky_hw`] runs: x86-64 with AVX2 and F16C, unless the
/// hidden `CNNOPS_TEST_NO_F16C` variable is set. The tests set it to run
/// the software conversions, the paths of CPUs without F16C, on machines
/// that have it.
pub fn has_hw() -> bool {
    static HW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HW.get_or_init(|| cpu_has_f16c() && std::env::var_os("CNNOPS_TEST_NO_F16C").is_none())
}

fn cpu_has_f16c() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("f16c");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// Proof that the CPU has AVX2 and F16C ([`has_hw`]), taken by the
/// kernels that need them, so they check once, not per call.
#[derive(Clone, Copy, Debug)]
pub struct F16c(());

impl F16c {
    /// The proof where [`has_hw`] holds, else `None`.
    pub fn detect() -> Option<F16c> {
        (cfg!(target_arch = "x86_64") && has_hw()).then_some(F16c(()))
    }
}

/// Folds float16 pixels into float64, widened by F16C a block of
/// channels at a time: `acc` is a row of pixels of `inner` elements, and
/// pixel `c`, whose window `window(c) = (first, taps)` starts at element
/// `first` of each row and takes `taps` pixels `step` elements apart, gets
/// in `acc[i]` the fold by `f` from +0 of element `i` of each of them in
/// window order (the rows in turn, each row's taps in turn). The sums of
/// a block of 32 channels stay in registers over the window.
///
/// Software widening took about ten instructions per eight values, over
/// half of float16 channels-last average pooling.
///
/// # Panics
/// If `acc` is not whole pixels, or a window reaches past a row.
pub fn fold_pixels(
    hw: F16c,
    acc: &mut [f64],
    rows: &[&[u16]],
    (inner, step): (usize, usize),
    window: impl Fn(usize) -> (usize, usize),
    f: impl Fn(f64, f32) -> f64 + Copy,
) {
    assert!(inner > 0 && acc.len().is_multiple_of(inner), "fold_pixels needs whole pixels");
    #[cfg(target_arch = "x86_64")]
    x86::fold_pixels(hw, acc, rows, (inner, step), window, f);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (hw, acc, rows, step, window, f);
}

/// The Lp norms [`norm_pixels`] and [`norm_row`] take into float16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// p = 2: terms `x·x`, the root a square root.
    L2,
    /// p = 3: terms `|x|·|x|·|x|`, the root a cube root (the float64
    /// reference's is [`cube_roots`]').
    ///
    /// [`cube_roots`]: super::pow::cube_roots
    L3,
    /// p = 4: terms `q·q` with `q = x·x`, the root the square root of the
    /// square root.
    L4,
}

impl Norm {
    /// The float64 reference's term of `x`: `x·x`, `x·x·|x|` or
    /// `(x·x)·(x·x)`, exact for a float16 `x`.
    pub fn term(self, x: f64) -> f64 {
        let q = x * x;
        match self {
            Norm::L2 => q,
            Norm::L3 => q * x.abs(),
            Norm::L4 => q * q,
        }
    }

    /// `out[i]` gets the norm of the float64 sum `sums[i]` as the float64
    /// path rounds it: the square root, the cube root
    /// ([`pow::cube_roots`]) or the square root of the square root,
    /// rounded once to float16.
    ///
    /// [`pow::cube_roots`]: super::pow::cube_roots
    ///
    /// # Panics
    /// If `out` holds more than eight values.
    pub fn narrow_roots(self, sums: [f64; 8], out: &mut [u16]) {
        let len = out.len();
        match self {
            Norm::L2 => narrow_sqrt_row(&sums[..len], out),
            Norm::L3 => {
                let mut roots = [0f64; 8];
                super::pow::cube_roots(&sums, &mut roots);
                narrow_f64_row(&roots[..len], out);
            }
            Norm::L4 => narrow_sqrt_row(&sums.map(f64::sqrt)[..len], out),
        }
    }
}

/// The float16 Lp norms ([`Norm`]) of float16 pixel windows laid out as
/// [`fold_pixels`] reads them: `out` is a row of pixels of `inner`
/// elements, and `out[c·inner + i]` gets the norm of element `i` of the
/// cells of pixel `c`'s window. The bits are those of the float64 fold
/// in window order from +0 of the norm's terms, its float64 root,
/// rounded once: the float64 path's.
///
/// The terms are summed in float32, in no fixed order, and the float32
/// root rounded by F16C where it settles the float16; a chunk of eight
/// with a lane it does not settle is summed as above (its roots rounded
/// as the float64 path rounds them). Where the float64 path widened
/// every cell to float64 at each tap, raised it and added four lanes at
/// a time, this widens to float32 and adds eight.
///
/// # Panics
/// If `out` is not whole pixels, or a window reaches past a row.
pub fn norm_pixels(
    hw: F16c,
    out: &mut [u16],
    rows: &[&[u16]],
    (inner, step): (usize, usize),
    window: impl Fn(usize) -> (usize, usize),
    norm: Norm,
) {
    assert!(inner > 0 && out.len().is_multiple_of(inner), "norm_pixels needs whole pixels");
    #[cfg(target_arch = "x86_64")]
    x86::norm_pixels(hw, out, rows, (inner, step), window, norm);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (hw, out, rows, step, window, norm);
}

/// The float16 Lp norms ([`Norm`]) of windows of at most `cells` float16
/// cells from float32 sums of their terms: `sums[i]` must be a float32
/// sum, from +0 and in any order, of a window's terms, each product
/// rounded to float32 (for the 2-norm, the squares, which are exact).
/// `out[i]` gets the float32 root rounded by F16C where that settles the
/// float16 (as in [`norm_pixels`]); a chunk of eight it does not settle,
/// `out[at..at + len]`, is left to `exact(at, chunk)`, which must write
/// the reference's bits (float64's fold in window order, its root,
/// rounded once).
///
/// # Panics
/// If the lengths differ.
pub fn norm_row(
    hw: F16c,
    sums: &[f32],
    cells: usize,
    norm: Norm,
    out: &mut [u16],
    exact: impl FnMut(usize, &mut [u16]),
) {
    assert_eq!(sums.len(), out.len(), "norm_row needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    x86::norm_row(hw, sums, cells, norm, out, exact);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (hw, cells, norm, exact);
}

/// The most cells a window of [`norm_pixels`] or [`norm_row`] may have
/// for float32 sums to settle its norm: beyond it, every chunk is summed
/// in float64 (the float32 sums' error bound, in float32 ulps of the
/// root, grows with the count of terms).
pub const NORM_CELLS: usize = 1024;

/// Sums of float16 windows three pixels wide with stride two along rows
/// of pixels of `inner` elements, widened by F16C: `acc[c·inner + e]`
/// gets, from +0, the sum over each of `rows` of element `e` of its pixels
/// `2c`, `2c + 1` and `2c + 2` (each value, or with `abs` its magnitude),
/// plus `carry[c·inner + e]` where `carried`. `carry` then holds the sums
/// of the last row alone: the row a 3×3 window with stride 2 shares with
/// the window below it, which takes it as carried. `columns` is scratch
/// space, for the last column of each row.
///
/// Each input value is widened once where [`fold_pixels`] widened it at
/// every window it is in (2.25 times at 3×3/2): a window's last column is
/// the next one's first, and its last row the first of the one below.
/// The sums are of float16 values in float64, exact in any order, so only
/// their sign at zero could tell orders apart; the +0 start settles it.
///
/// # Panics
/// If `acc` is not whole pixels, `carry` differs from it in length,
/// `rows` is empty or holds more than three rows, or a row is shorter than
/// the `2P + 1` pixels `P` outputs read.
pub fn sum_windows_3s2(
    hw: F16c,
    acc: &mut [f64],
    rows: &[&[u16]],
    inner: usize,
    (carry, carried): (&mut [f64], bool),
    abs: bool,
    columns: &mut Vec<f64>,
) {
    assert!(inner > 0 && acc.len().is_multiple_of(inner), "sum_windows_3s2 needs whole pixels");
    assert_eq!(carry.len(), acc.len(), "sum_windows_3s2 needs a carry per output");
    assert!((1..=3).contains(&rows.len()), "sum_windows_3s2 takes one to three rows");
    let span = (2 * (acc.len() / inner) + 1) * inner;
    assert!(rows.iter().all(|r| r.len() >= span), "sum_windows_3s2 needs whole windows");
    #[cfg(target_arch = "x86_64")]
    x86::sum_windows_3s2(hw, acc, rows, inner, (carry, carried), abs, columns);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (hw, acc, rows, inner, carry, carried, abs, columns);
}

/// Leaky (and clipped) ReLU of float16 bits with the F16C conversion
/// instructions, eight lanes at a time. Same results as the element
/// definition: a negative value (not −0.0, not NaN) becomes `x·alpha`
/// rounded once to float16, a value above `max` becomes `max`, and every
/// other value keeps its bits. With `stream`, the output is written with
/// non-temporal stores (see [`super::stream`]).
///
/// # Panics
/// If the lengths differ, or the CPU lacks the instructions ([`has_hw`]).
pub fn leaky_hw(input: &[u16], out: &mut [u16], alpha: f32, max: Option<u16>, stream: bool) {
    assert_eq!(input.len(), out.len(), "leaky_hw needs equal lengths");
    assert!(has_hw(), "leaky_hw needs AVX2 and F16C");
    #[cfg(target_arch = "x86_64")]
    x86::leaky(input, out, alpha, max, stream);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (input, out, alpha, max, stream);
}

/// float16 bits to float32 (as [`widen`]) for a row: with the F16C
/// conversion where the CPU has it ([`has_hw`]), eight lanes per
/// instruction where [`widen`] takes about twenty, and which quiets
/// signalling NaNs (payload kept); with [`widen`] elsewhere.
///
/// # Panics
/// If the lengths differ.
pub fn widen_row(input: &[u16], out: &mut [f32]) {
    assert_eq!(input.len(), out.len(), "widen_row needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    if has_hw() {
        return x86::widen(input, out);
    }
    for (o, &h) in out.iter_mut().zip(input) {
        *o = widen(h);
    }
}

/// float16 bits of whole pairs to float32, even cells into `evens` and
/// odd cells into `odds` (`evens[i]` is cell `2i`, `odds[i]` cell
/// `2i + 1`), each first masked by `mask` (`0x7FFF` takes the absolute
/// value, `0xFFFF` keeps it). With F16C where the CPU has it ([`has_hw`]):
/// sixteen cells per shuffle and two conversions, where widening the row
/// and then splitting it moved one float32 per instruction (a fifth of
/// float16 average pooling at 3x3/2); with [`widen`] elsewhere.
///
/// # Panics
/// If `input` is not twice as long as `evens` and `odds`.
pub fn widen_pairs_row(input: &[u16], evens: &mut [f32], odds: &mut [f32], mask: u16) {
    assert!(
        input.len() == 2 * evens.len() && evens.len() == odds.len(),
        "widen_pairs_row needs whole pairs"
    );
    #[cfg(target_arch = "x86_64")]
    if has_hw() {
        return x86::widen_pairs(input, evens, odds, mask);
    }
    for ((e, o), pair) in evens.iter_mut().zip(odds.iter_mut()).zip(input.as_chunks::<2>().0) {
        *e = widen(pair[0] & mask);
        *o = widen(pair[1] & mask);
    }
}

/// A row version of [`narrow_f64`] of values times a scale, for the tests.
#[cfg(test)]
type NarrowRow = fn(&[f64], f64, &mut [u16]);

#[cfg(target_arch = "x86_64")]
mod x86 {
    // Calling a `target_feature` function and the streaming store are
    // `unsafe`; the rest is safe code (the intrinsics are safe inside the
    // function, and vectors move in and out of arrays through `bytemuck`).
    #![allow(unsafe_code)]
    use std::arch::x86_64::*;

    pub(super) fn leaky(
        input: &[u16],
        out: &mut [u16],
        alpha: f32,
        max: Option<u16>,
        stream: bool,
    ) {
        // SAFETY: `leaky_hw` checked that the CPU has AVX2 and F16C.
        unsafe {
            match max {
                None => leaky_avx2::<false>(input, out, alpha, 0, stream),
                Some(m) => leaky_avx2::<true>(input, out, alpha, m, stream),
            }
        }
    }

    pub(super) fn fold_pixels(
        _: super::F16c,
        acc: &mut [f64],
        rows: &[&[u16]],
        geometry: (usize, usize),
        window: impl Fn(usize) -> (usize, usize),
        f: impl Fn(f64, f32) -> f64 + Copy,
    ) {
        // SAFETY: an `F16c` exists only where the CPU has AVX2 and F16C.
        unsafe { fold_pixels_avx2(acc, rows, geometry, window, f) }
    }

    /// [`super::fold_pixels`]: blocks of 32 channels, then of 8, then
    /// one by one.
    #[target_feature(enable = "avx2,f16c")]
    fn fold_pixels_avx2(
        acc: &mut [f64],
        rows: &[&[u16]],
        (inner, step): (usize, usize),
        window: impl Fn(usize) -> (usize, usize),
        f: impl Fn(f64, f32) -> f64 + Copy,
    ) {
        let eight =
            |x: &[u16; 8]| -> [f32; 8] { bytemuck::cast(_mm256_cvtph_ps(bytemuck::cast(*x))) };
        for (c, pixel) in acc.chunks_exact_mut(inner).enumerate() {
            let (first, taps) = window(c);
            if taps == 0 {
                pixel.fill(0.0);
                continue;
            }
            // Each row's span of the window, checked once.
            let span = (taps - 1) * step + inner;
            let (blocks, rest) = pixel.as_chunks_mut::<32>();
            for (k, block) in blocks.iter_mut().enumerate() {
                let mut sums = [0.0; 32];
                for row in rows {
                    let row = &row[first..][..span];
                    for t in 0..taps {
                        let x: &[u16; 32] = row[t * step + 32 * k..][..32].try_into().unwrap();
                        let (x, _) = x.as_chunks::<8>();
                        let w: [[f32; 8]; 4] = std::array::from_fn(|q| eight(&x[q]));
                        for (s, &w) in sums.iter_mut().zip(w.as_flattened()) {
                            *s = f(*s, w);
                        }
                    }
                }
                *block = sums;
            }
            let done = blocks.len() * 32;
            let (eights, ones) = rest.as_chunks_mut::<8>();
            for (k, block) in eights.iter_mut().enumerate() {
                let mut sums = [0.0; 8];
                for row in rows {
                    let row = &row[first..][..span];
                    for t in 0..taps {
                        let x: &[u16; 8] = row[t * step + done + 8 * k..][..8].try_into().unwrap();
                        for (s, w) in sums.iter_mut().zip(eight(x)) {
                            *s = f(*s, w);
                        }
                    }
                }
                *block = sums;
            }
            let done = done + eights.len() * 8;
            for (k, s) in ones.iter_mut().enumerate() {
                *s = 0.0;
                for row in rows {
                    let row = &row[first..][..span];
                    for t in 0..taps {
                        *s = f(*s, super::widen(row[t * step + done + k]));
                    }
                }
            }
        }
    }

    pub(super) fn norm_pixels(
        _: super::F16c,
        out: &mut [u16],
        rows: &[&[u16]],
        geometry: (usize, usize),
        window: impl Fn(usize) -> (usize, usize),
        norm: super::Norm,
    ) {
        // SAFETY: an `F16c` exists only where the CPU has AVX2 and F16C.
        unsafe {
            match norm {
                super::Norm::L2 => norm_pixels_avx2::<2>(out, rows, geometry, window),
                super::Norm::L3 => norm_pixels_avx2::<3>(out, rows, geometry, window),
                super::Norm::L4 => norm_pixels_avx2::<4>(out, rows, geometry, window),
            }
        }
    }

    /// The `P`-th roots of `N` vectors of float32 sums, in lockstep: the
    /// cube root is a chain of some twenty dependent steps, and chunks
    /// rooted in turn, between their sums, left the CPU waiting on each
    /// (harness, float16 NHWC Lp p=3 3x3/1, one chunk at a time: 0.67
    /// GiB/s).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn roots<const P: u8, const N: usize>(s: [__m256; N]) -> [__m256; N] {
        match P {
            2 => s.map(|s| _mm256_sqrt_ps(s)),
            3 => cube_roots_ps(s),
            _ => s.map(|s| _mm256_sqrt_ps(_mm256_sqrt_ps(s))),
        }
    }

    /// The float16 bits of eight float32 roots `r` of the `P`-norm's sums
    /// of float16 values ([`roots`]), or `None` where a lane's root lies
    /// within `near` float32 ulps of a float16 midpoint, is NaN or lies in
    /// float16's subnormal range (not +0): see [`norm_pixels_avx2`] for
    /// why the rest round as float64's do.
    #[target_feature(enable = "avx2,f16c")]
    #[inline]
    fn settle(r: __m256, near: __m256i) -> Option<[u16; 8]> {
        let bits = _mm256_castps_si256(r);
        let low = _mm256_and_si256(bits, _mm256_set1_epi32(0x1FFF));
        let off = _mm256_sub_epi32(low, _mm256_set1_epi32(0x1000));
        let far = _mm256_cmpgt_epi32(_mm256_abs_epi32(off), near);
        // The settled range, 2^-14 to +inf, as a start and a span.
        let offset = _mm256_sub_epi32(bits, _mm256_set1_epi32(0x3880_0000));
        let range = _mm256_set1_epi32(0x7F80_0000 - 0x3880_0000);
        let in_range = _mm256_cmpeq_epi32(_mm256_min_epu32(offset, range), offset);
        let zero = _mm256_cmpeq_epi32(bits, _mm256_setzero_si256());
        let settled = _mm256_and_si256(far, _mm256_or_si256(in_range, zero));
        (_mm256_testc_si256(settled, _mm256_set1_epi32(-1)) == 1)
            .then(|| bytemuck::cast(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(r)))
    }

    /// The first guess of `s^(1/3)` in [`cube_roots_ps`]: `bits/3 + K` on
    /// the bits, within 3.2% for every normal `s` (the `K` that minimises
    /// the worst error, found by search).
    const CUBE_ROOT_K: i32 = 0x2A51_06C2;

    /// `s^(1/3)` of float32 sums `s ≥ 0`, within 0.96 float32 ulps of the
    /// exact root for every normal `s` from 2^-100 to 2^100 (the test
    /// `cube_root_within_an_ulp` runs every float32 of `[1, 8)`; the
    /// steps below commute with scaling `s` by 8, exactly: the guess
    /// doubles, as `bits/3` is an integer division, and the rest scales
    /// by powers of two). +0 gives +0 and +inf gives +inf; subnormal `s`
    /// give roots below 2^-14, which are never settled (sums of float16
    /// cubes are not subnormal anyway: the smallest nonzero cube is
    /// 2^-72); NaN gives NaN.
    ///
    /// Two Halley steps from the guess, `c·(c³ + 2s)/(2c³ + s)` (the
    /// error cubes: 3.2% -> 1e-5 -> rounding), the second written as a
    /// correction, `c + c·(s − c³)/(2c³ + s)`, whose own rounding errors
    /// are a fraction of an ulp. Each stage over the `N` vectors before
    /// the next. No fused multiply-adds: the CPU check does not ask for
    /// them. Standalone, AVX2 (Zen 3), 8 roots per 10.5 cycles, against
    /// 17.4 for two third-order steps on `s^(-1/3)` and a Newton step
    /// on `s·r²` (divisions, one per step, pipeline; two square roots
    /// take 9.5).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn cube_roots_ps<const N: usize>(s: [__m256; N]) -> [__m256; N] {
        let mul = |a, b| _mm256_mul_ps(a, b);
        let add = |a, b| _mm256_add_ps(a, b);
        let guess = |s: __m256| {
            let bits = _mm256_castps_si256(s);
            // bits/3 as (bits · 0xAAAAAAAB) >> 33, even and odd lanes apart.
            let m = _mm256_set1_epi32(0xAAAA_AAABu32 as i32);
            let even = _mm256_srli_epi64::<33>(_mm256_mul_epu32(bits, m));
            let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(bits), m);
            let odd = _mm256_and_si256(_mm256_srli_epi64::<1>(odd), _mm256_set1_epi64x(-1 << 32));
            let third = _mm256_blend_epi32::<0b1010_1010>(even, odd);
            _mm256_castsi256_ps(_mm256_add_epi32(third, _mm256_set1_epi32(CUBE_ROOT_K)))
        };
        // Zeros are rooted as ones and put back below: from 0 the guess
        // is about 2^-42, and the cubes of it fell below float32's normal
        // range, whose slow path made a chunk of eight with a zero in it
        // cost three times as much (standalone, 20% zero sums: 36 cycles
        // per eight against 13).
        let zero = s.map(|s| _mm256_cmp_ps::<_CMP_EQ_OQ>(s, _mm256_setzero_ps()));
        let t: [__m256; N] =
            std::array::from_fn(|i| _mm256_blendv_ps(s[i], _mm256_set1_ps(1.0), zero[i]));
        let mut c = t.map(guess);
        for (c, &t) in c.iter_mut().zip(&t) {
            let c3 = mul(mul(*c, *c), *c);
            *c = mul(*c, _mm256_div_ps(add(c3, add(t, t)), add(add(c3, c3), t)));
        }
        for (i, c) in c.iter_mut().enumerate() {
            let t = t[i];
            let c3 = mul(mul(*c, *c), *c);
            let q = _mm256_div_ps(_mm256_sub_ps(t, c3), add(add(c3, c3), t));
            let root = add(*c, mul(*c, q));
            // 0 and inf as they are (the steps make inf inf/inf).
            let inf = _mm256_cmp_ps::<_CMP_EQ_OQ>(t, _mm256_set1_ps(f32::INFINITY));
            *c = _mm256_blendv_ps(root, s[i], _mm256_or_ps(zero[i], inf));
        }
        c
    }

    /// [`cube_roots_ps`] over a row (whole chunks of eight), for the tests.
    #[cfg(test)]
    pub(super) fn cube_root_row(_: super::F16c, s: &[f32], out: &mut [f32]) {
        #[target_feature(enable = "avx2")]
        fn row(s: &[f32], out: &mut [f32]) {
            for (o, &s) in out.as_chunks_mut::<8>().0.iter_mut().zip(s.as_chunks::<8>().0) {
                *o = bytemuck::cast(cube_roots_ps([bytemuck::cast(s)])[0]);
            }
        }
        // SAFETY: an `F16c` exists only where the CPU has AVX2 and F16C.
        unsafe { row(s, out) }
    }

    /// How near a float16 midpoint, in float32 ulps, the float32 root of
    /// a sum of `cells` terms may lie and still be left to float64:
    /// `n/p + 2` for the `p`-th root (the root divides the sum's error by
    /// `p`; see [`norm_pixels_avx2`]), or every root beyond
    /// [`super::NORM_CELLS`]. Fourth roots took `n/2 + 2` before, as
    /// square roots do.
    fn near_midpoint(cells: usize, p: u8) -> i32 {
        if cells <= super::NORM_CELLS { (cells / usize::from(p) + 2) as i32 } else { i32::MAX }
    }

    pub(super) fn norm_row(
        _: super::F16c,
        sums: &[f32],
        cells: usize,
        norm: super::Norm,
        out: &mut [u16],
        exact: impl FnMut(usize, &mut [u16]),
    ) {
        // SAFETY: an `F16c` exists only where the CPU has AVX2 and F16C.
        unsafe {
            match norm {
                super::Norm::L2 => norm_row_avx2::<2>(sums, cells, out, exact),
                super::Norm::L3 => norm_row_avx2::<3>(sums, cells, out, exact),
                super::Norm::L4 => norm_row_avx2::<4>(sums, cells, out, exact),
            }
        }
    }

    /// [`super::norm_row`]: chunks of eight (cube roots four at a time,
    /// in lockstep: see [`roots`]), the rest padded with +0. (Square
    /// roots four at a time, through a copy of each 32 sums, were slower:
    /// harness, float16 NCHW Lp p=2 2x2/2 3.94 -> 3.37 GiB/s.)
    #[target_feature(enable = "avx2,f16c")]
    fn norm_row_avx2<const P: u8>(
        sums: &[f32],
        cells: usize,
        out: &mut [u16],
        mut exact: impl FnMut(usize, &mut [u16]),
    ) {
        let near = _mm256_set1_epi32(near_midpoint(cells, P));
        let (whole, tail) = sums.as_chunks::<8>();
        let (out_whole, out_tail) = out.as_chunks_mut::<8>();
        let mut done = 0;
        if P == 3 {
            let (quads, _) = whole.as_chunks::<4>();
            let (out_quads, _) = out_whole.as_chunks_mut::<4>();
            for (o, s) in out_quads.iter_mut().zip(quads) {
                let r = roots::<P, 4>(bytemuck::cast(*s));
                for (o, &r) in o.iter_mut().zip(&r) {
                    match settle(r, near) {
                        Some(h) => *o = h,
                        None => exact(8 * done, o),
                    }
                    done += 1;
                }
            }
        }
        for (o, &s) in out_whole[done..].iter_mut().zip(&whole[done..]) {
            match settle(roots::<P, 1>([bytemuck::cast(s)])[0], near) {
                Some(h) => *o = h,
                None => exact(8 * done, o),
            }
            done += 1;
        }
        if !tail.is_empty() {
            let mut s = [0f32; 8];
            s[..tail.len()].copy_from_slice(tail);
            match settle(roots::<P, 1>([bytemuck::cast(s)])[0], near) {
                Some(h) => out_tail.copy_from_slice(&h[..tail.len()]),
                None => exact(whole.len() * 8, out_tail),
            }
        }
    }

    /// [`super::norm_pixels`]: blocks of 32 channels, then of 8, then the
    /// rest as a chunk of eight padded with zeros (their terms are +0).
    /// Each chunk's terms go to two sums in turn, taps alternating, so a
    /// chain of adds is half the window long.
    ///
    /// Which chunks are settled. Let `n` be the window's cells and `u =
    /// 2^-24`. Each term is exact in float32 for the 2-norm (a float16
    /// has 11 significant bits, its square 22), within a factor `1 ± u`
    /// for the 3-norm (`q·|x|` rounded once, `q = x·x` exact) and the
    /// 4-norm (`q·q` rounded once); the terms are not negative, so any
    /// order of adding them errs by at most `γ = n·u/(1 − n·u)` of the
    /// exact sum `S`. The float32 root then lies within `(n/2 + 1)·u` of
    /// `√S` for the 2-norm (the root halves the sum's error, and rounds
    /// once more), within `(n/4 + 1.5)·u` of `S^(1/4)` for the 4-norm (two
    /// roots), to first order, and within `(n/3)·u` plus 0.96 ulps of
    /// `S^(1/3)` for the 3-norm ([`cube_roots_ps`]'s error, measured on every
    /// float32 of a period of its scaling). float64's reference errs by
    /// `n·2^-53` at most (its terms are exact: `q` has 22 significant
    /// bits, `q·q` 44, `q·|x|` 33), and [`cube_roots`] by two float64 ulps
    /// more. A float32 `r` in `[2^e, 2^(e+1))` has an ulp of `2^(e-23) ≥
    /// r·u`, so both lie within `n/2 + 1.01` ulps of `r` (`n/4 + 1.51` for
    /// fourth roots, `n/3 + 0.97` for cube roots: at most `⌊n/p⌋ + 2.26`
    /// in each case, as `n/p − ⌊n/p⌋ ≤ 1 − 1/p`). A float16 midpoint,
    /// above float16's smallest normal, is a float32 whose low 13 bits
    /// are 0x1000; a root whose low 13 bits are more than `⌊n/p⌋ + 2`
    /// (a whole number of ulps, so at least `⌊n/p⌋ + 3`) from 0x1000
    /// therefore has the exact root and the reference on its side of every
    /// midpoint, and F16C rounds it as float64's root rounds (near a power
    /// of two, the low bits are near 0 or 0x1FFF, and the values either
    /// side round to that power). As in [`narrow_sqrt_avx2`], +0 is
    /// settled and so are roots from float16's smallest normal to +inf (a
    /// sum of `n ≤ NORM_CELLS` terms of at most `65504⁴` is far below
    /// float32's largest, so an infinite root is an infinite term, as in
    /// float64; the sums [`cube_roots_ps`] sees, at most `2^59` where finite,
    /// are inside the range its error is measured for); NaN and roots in
    /// float16's subnormal range are left to float64. Beyond
    /// [`super::NORM_CELLS`] cells, nothing is settled.
    ///
    /// [`cube_roots`]: super::super::pow::cube_roots
    #[target_feature(enable = "avx2,f16c")]
    fn norm_pixels_avx2<const P: u8>(
        out: &mut [u16],
        rows: &[&[u16]],
        (inner, step): (usize, usize),
        window: impl Fn(usize) -> (usize, usize),
    ) {
        let term = |h: __m128i| {
            let w = _mm256_cvtph_ps(h);
            let q = _mm256_mul_ps(w, w);
            match P {
                2 => q,
                3 => _mm256_mul_ps(q, _mm256_andnot_ps(_mm256_set1_ps(-0.0), w)),
                _ => _mm256_mul_ps(q, q),
            }
        };
        for (c, pixel) in out.chunks_exact_mut(inner).enumerate() {
            let (first, taps) = window(c);
            let cells = rows.len() * taps;
            // Each row's span of the window, checked once.
            let span = if taps == 0 { 0 } else { (taps - 1) * step + inner };
            let near = _mm256_set1_epi32(near_midpoint(cells, P));
            let settled = |r: __m256| settle(r, near);
            // Lanes `at..at + lanes` of the pixel as float64 takes them:
            // `fold_pixels`' fold in window order, over a pixel of those
            // lanes (lanes past `lanes` are +0), and its roots as the
            // float64 path takes and rounds them.
            let norm = match P {
                2 => super::Norm::L2,
                3 => super::Norm::L3,
                _ => super::Norm::L4,
            };
            let exact = |at: usize, lanes: usize| -> [u16; 8] {
                let mut sums = [0f64; 8];
                let term = |s: f64, w: f32| s + norm.term(f64::from(w));
                fold_pixels_avx2(
                    &mut sums[..lanes],
                    rows,
                    (lanes, step),
                    |_| (first + at, taps),
                    term,
                );
                let mut o = [0u16; 8];
                norm.narrow_roots(sums, &mut o);
                o
            };
            // The sum of a chunk of eight at `at`, loaded by `$load`: a
            // macro, so that the load is inlined.
            macro_rules! chunk {
                ($at:expr, $load:expr) => {{
                    let (at, load) = ($at, $load);
                    let (mut a, mut b) = (_mm256_setzero_ps(), _mm256_setzero_ps());
                    for row in rows {
                        let row = &row[first..][..span];
                        let mut t = 0;
                        while t + 1 < taps {
                            a = _mm256_add_ps(a, term(load(&row[t * step + at..])));
                            b = _mm256_add_ps(b, term(load(&row[(t + 1) * step + at..])));
                            t += 2;
                        }
                        if t < taps {
                            a = _mm256_add_ps(a, term(load(&row[t * step + at..])));
                        }
                    }
                    _mm256_add_ps(a, b)
                }};
            }
            let (blocks, rest) = pixel.as_chunks_mut::<32>();
            for (k, block) in blocks.iter_mut().enumerate() {
                let mut a = [_mm256_setzero_ps(); 4];
                let mut b = [_mm256_setzero_ps(); 4];
                let eights = |x: &[u16]| -> [__m128i; 4] {
                    let x: &[u16; 32] = x[..32].try_into().unwrap();
                    bytemuck::cast(*x)
                };
                for row in rows {
                    let row = &row[first..][..span];
                    let mut t = 0;
                    while t + 1 < taps {
                        let x = eights(&row[t * step + 32 * k..]);
                        let y = eights(&row[(t + 1) * step + 32 * k..]);
                        for q in 0..4 {
                            a[q] = _mm256_add_ps(a[q], term(x[q]));
                            b[q] = _mm256_add_ps(b[q], term(y[q]));
                        }
                        t += 2;
                    }
                    if t < taps {
                        let x = eights(&row[t * step + 32 * k..]);
                        for q in 0..4 {
                            a[q] = _mm256_add_ps(a[q], term(x[q]));
                        }
                    }
                }
                let r = roots::<P, 4>(std::array::from_fn(|q| _mm256_add_ps(a[q], b[q])));
                let (block, _) = block.as_chunks_mut::<8>();
                for (q, o) in block.iter_mut().enumerate() {
                    *o = settled(r[q]).unwrap_or_else(|| exact(32 * k + 8 * q, 8));
                }
            }
            if rest.is_empty() {
                continue;
            }
            // The rest: up to three chunks of eight and a tail, rooted
            // together.
            let done = blocks.len() * 32;
            let (eights, tail) = rest.as_chunks_mut::<8>();
            let load = |x: &[u16]| -> __m128i {
                let x: &[u16; 8] = x[..8].try_into().unwrap();
                bytemuck::cast(*x)
            };
            let mut s = [_mm256_setzero_ps(); 4];
            for (k, s) in s[..eights.len()].iter_mut().enumerate() {
                *s = chunk!(done + 8 * k, load);
            }
            let at = done + eights.len() * 8;
            let lanes = tail.len();
            if lanes > 0 {
                let padded = |x: &[u16]| -> __m128i {
                    let mut p = [0u16; 8];
                    p[..lanes].copy_from_slice(&x[..lanes]);
                    bytemuck::cast(p)
                };
                s[eights.len()] = chunk!(at, padded);
            }
            let r = roots::<P, 4>(s);
            for (k, o) in eights.iter_mut().enumerate() {
                *o = settled(r[k]).unwrap_or_else(|| exact(done + 8 * k, 8));
            }
            if lanes > 0 {
                let o = settled(r[eights.len()]).unwrap_or_else(|| exact(at, lanes));
                tail.copy_from_slice(&o[..lanes]);
            }
        }
    }

    pub(super) fn sum_windows_3s2(
        _: super::F16c,
        acc: &mut [f64],
        rows: &[&[u16]],
        inner: usize,
        carry: (&mut [f64], bool),
        abs: bool,
        columns: &mut Vec<f64>,
    ) {
        macro_rules! go {
            ($abs:literal) => {
                // SAFETY: an `F16c` exists only where the CPU has AVX2 and F16C.
                unsafe {
                    match *rows {
                        [a] => sum_3s2_avx2::<1, $abs>(acc, [a], inner, carry, columns),
                        [a, b] => sum_3s2_avx2::<2, $abs>(acc, [a, b], inner, carry, columns),
                        [a, b, c] => sum_3s2_avx2::<3, $abs>(acc, [a, b, c], inner, carry, columns),
                        _ => unreachable!("sum_windows_3s2 takes one to three rows"),
                    }
                }
            };
        }
        if abs { go!(true) } else { go!(false) }
    }

    /// [`super::sum_windows_3s2`] for `N` rows, a pixel at a time (as the
    /// input lies: walking the row once per block of channels instead ran
    /// at two thirds of the speed once the input came from memory), in
    /// blocks of eight channels, the last column of each row kept in
    /// `columns`; then the channels left, one by one.
    #[target_feature(enable = "avx2,f16c")]
    fn sum_3s2_avx2<const N: usize, const ABS: bool>(
        acc: &mut [f64],
        rows: [&[u16]; N],
        inner: usize,
        (carry, carried): (&mut [f64], bool),
        columns: &mut Vec<f64>,
    ) {
        type Eight = [__m256d; 2];
        let span = (2 * (acc.len() / inner) + 1) * inner;
        let rows = rows.map(|r| &r[..span]);
        let mask = if ABS { 0x7FFF } else { 0xFFFF };
        let mask8 = _mm_set1_epi16(mask as i16);
        let widen = |x: &[u16]| -> Eight {
            let x: [u16; 8] = x[..8].try_into().unwrap();
            let x = _mm256_cvtph_ps(_mm_and_si128(bytemuck::cast(x), mask8));
            let (lo, hi) = (_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
            [_mm256_cvtps_pd(lo), _mm256_cvtps_pd(hi)]
        };
        let add = |a: Eight, b: Eight| [_mm256_add_pd(a[0], b[0]), _mm256_add_pd(a[1], b[1])];
        let load = |x: &[f64]| -> Eight { bytemuck::cast(<[f64; 8]>::try_from(&x[..8]).unwrap()) };
        let store =
            |x: &mut [f64], v: Eight| x[..8].copy_from_slice(&bytemuck::cast::<_, [f64; 8]>(v));
        let zero = [_mm256_setzero_pd(); 2];
        let eights = inner / 8 * 8;
        // Column 0 of each row's first window.
        columns.resize(N * inner, 0.0);
        let (columns, _) = columns.split_at_mut(N * inner);
        for (column, row) in columns.chunks_exact_mut(inner).zip(&rows) {
            for e in (0..eights).step_by(8) {
                store(&mut column[e..], widen(&row[e..]));
            }
        }
        // Columns 1 and 2 of each window, as a pair of pixels.
        let mut pairs = rows.map(|r| r[inner..].chunks_exact(2 * inner));
        for (out, kept) in acc.chunks_exact_mut(inner).zip(carry.chunks_exact_mut(inner)) {
            let pair: [(&[u16], &[u16]); N] =
                std::array::from_fn(|r| pairs[r].next().unwrap().split_at(inner));
            for e in (0..eights).step_by(8) {
                let mut sum = if carried { add(zero, load(&kept[e..])) } else { zero };
                for (r, ((middle, next), column)) in
                    pair.iter().zip(columns.chunks_exact_mut(inner)).enumerate()
                {
                    let next = widen(&next[e..]);
                    let row = add(add(load(&column[e..]), widen(&middle[e..])), next);
                    store(&mut column[e..], next);
                    sum = add(sum, row);
                    if r == N - 1 {
                        store(&mut kept[e..], row);
                    }
                }
                store(&mut out[e..], sum);
            }
        }
        let term = |h: u16| f64::from(super::widen(h & mask));
        for e in eights..inner {
            for (c, (out, kept)) in
                acc.chunks_exact_mut(inner).zip(carry.chunks_exact_mut(inner)).enumerate()
            {
                let mut sum = if carried { 0.0 + kept[e] } else { 0.0 };
                for (r, row) in rows.iter().enumerate() {
                    let at = 2 * c * inner + e;
                    let row = term(row[at]) + term(row[at + inner]) + term(row[at + 2 * inner]);
                    sum += row;
                    if r == N - 1 {
                        kept[e] = row;
                    }
                }
                out[e] = sum;
            }
        }
    }

    pub(super) fn widen(input: &[u16], out: &mut [f32]) {
        // SAFETY: `widen_row` checked that the CPU has AVX2 and F16C.
        unsafe { widen_avx2(input, out) }
    }

    /// `out[i] = lane(input[i])` eight at a time, the last partial
    /// chunk padded with zeros.
    #[inline(always)]
    fn by_eight<S: Copy + Default, D: Copy>(
        input: &[S],
        out: &mut [D],
        lane: impl Fn([S; 8]) -> [D; 8],
    ) {
        let (whole, tail) = input.as_chunks::<8>();
        let (out_whole, out_tail) = out.as_chunks_mut::<8>();
        for (o, &x) in out_whole.iter_mut().zip(whole) {
            *o = lane(x);
        }
        if !tail.is_empty() {
            let mut x = [S::default(); 8];
            x[..tail.len()].copy_from_slice(tail);
            out_tail.copy_from_slice(&lane(x)[..tail.len()]);
        }
    }

    pub(super) fn narrow_f64(input: &[f64], scale: f64, out: &mut [u16]) {
        if has_avx512() {
            // SAFETY: checked just now, and AVX2 and F16C by
            // `narrow_f64_row_scaled`.
            unsafe { narrow_f64_avx512(input, scale, out) }
        } else {
            // SAFETY: `narrow_f64_row_scaled` checked that the CPU has
            // AVX2 and F16C.
            unsafe { narrow_f64_avx2(input, scale, out) }
        }
    }

    /// The vector versions of [`narrow_f64`] the CPU can run, by name,
    /// for the tests.
    #[cfg(test)]
    pub(super) fn narrow_f64_versions() -> Vec<(&'static str, super::NarrowRow)> {
        let mut versions: Vec<(&'static str, super::NarrowRow)> = Vec::new();
        if super::cpu_has_f16c() {
            // SAFETY: the CPU has AVX2 and F16C.
            versions.push(("avx2", |x, k, o| unsafe { narrow_f64_avx2(x, k, o) }));
            if has_avx512() {
                // SAFETY: and AVX-512 F and VL.
                versions.push(("avx512", |x, k, o| unsafe { narrow_f64_avx512(x, k, o) }));
            }
        }
        versions
    }

    /// Whether the CPU has AVX-512 F and VL, for [`narrow_f64_avx512`].
    fn has_avx512() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl")
    }

    /// [`narrow_f64_avx2`] with AVX-512's rounding control: truncation to
    /// float32 is one conversion toward zero, and the lowest bit is set
    /// under a mask. It took half the time per value (0.19 against
    /// 0.34 ns) of the AVX2 version of then, which truncated by a
    /// conversion, a comparison and a correction; against today's AVX2
    /// version (bit arithmetic, see `to_f32_odd`) it has not been timed.
    #[target_feature(enable = "avx512f,avx512vl,avx2,f16c")]
    fn narrow_f64_avx512(input: &[f64], scale: f64, out: &mut [u16]) {
        let one = _mm256_set1_epi32(1);
        let scale8 = _mm512_set1_pd(scale);
        let (whole, tail) = input.as_chunks::<8>();
        let (out_whole, out_tail) = out.as_chunks_mut::<8>();
        for (o, x) in out_whole.iter_mut().zip(whole) {
            // SAFETY: `x` is eight float64.
            let x = _mm512_mul_pd(unsafe { _mm512_loadu_pd(x.as_ptr()) }, scale8);
            let cut = _mm512_cvt_roundpd_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(x);
            // Inexact (or NaN, which stays a NaN): make it odd.
            let inexact = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(_mm512_cvtps_pd(cut), x);
            let cut = _mm256_castps_si256(cut);
            let odd = _mm256_castsi256_ps(_mm256_mask_or_epi32(cut, inexact, cut, one));
            *o = bytemuck::cast(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(odd));
        }
        for (o, &x) in out_tail.iter_mut().zip(tail) {
            *o = super::narrow_f64(x * scale);
        }
    }

    /// A closure from eight float64 to `narrow_f64(f(x))` of each, by
    /// F16C: the chunk body of `narrow_each!`, also the exact fallback of
    /// `settle_in_f32!`. A macro for the reason `narrow_each!` is one.
    macro_rules! narrow_lane {
        ($f:expr) => {
            |x: [f64; 8]| -> [u16; 8] {
                let mut odd = [0f32; 8];
                for (o, x) in odd.iter_mut().zip(x) {
                    *o = super::to_f32_odd($f(x));
                }
                bytemuck::cast(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(bytemuck::cast(odd)))
            }
        };
    }

    /// `out[i] = narrow_f64(exact(input[i]))` from `fast`, the float32
    /// counterpart of `exact` (a root or a division, both correctly
    /// rounded and monotonic), on each chunk of eight inputs rounded to
    /// float32, rounded by F16C; a chunk with a lane that this does not
    /// settle takes `exact` ([`narrow_lane`]). Settled: a result not on a
    /// float16 midpoint (low 13 bits other than 0x1000) whose bits masked
    /// by `magnitude` are +0 or lie from float16's smallest normal to
    /// +inf: one unsigned range test, not float comparisons (written with
    /// those, the compiler made about twenty instructions of the check,
    /// and float16 NHWC Lp p=2 2x2/2 ran 6.35 -> 5.36 GiB/s). A mask of
    /// `0x7FFF_FFFF` settles negative results and −0 as their
    /// magnitudes; `!0` leaves them to `exact`. Why the rest is settled:
    /// see [`narrow_sqrt_avx2`] and [`narrow_divided_f32`].
    macro_rules! settle_in_f32 {
        ($input:expr, $out:expr, $fast:expr, $exact:expr, $magnitude:expr) => {{
            let (fast, exact) = ($fast, $exact);
            let exact_lane = narrow_lane!(exact);
            let magnitude = _mm256_set1_epi32($magnitude);
            let low = _mm256_set1_epi32(0x1FFF);
            let midpoint = _mm256_set1_epi32(0x1000);
            // The settled range, 2^-14 to +inf, as a start and a span.
            let normal = _mm256_set1_epi32(0x3880_0000);
            let span = _mm256_set1_epi32(0x7F80_0000 - 0x3880_0000);
            let ones = _mm256_set1_epi32(-1);
            let (whole, tail) = $input.as_chunks::<8>();
            let (out_whole, out_tail) = $out.as_chunks_mut::<8>();
            for (o, &x) in out_whole.iter_mut().zip(whole) {
                let [a, b]: [__m256d; 2] = bytemuck::cast(x);
                let r = fast(_mm256_set_m128(_mm256_cvtpd_ps(b), _mm256_cvtpd_ps(a)));
                let bits = _mm256_castps_si256(r);
                let on_midpoint = _mm256_cmpeq_epi32(_mm256_and_si256(bits, low), midpoint);
                let masked = _mm256_and_si256(bits, magnitude);
                let offset = _mm256_sub_epi32(masked, normal);
                let in_range = _mm256_cmpeq_epi32(_mm256_min_epu32(offset, span), offset);
                let zero = _mm256_cmpeq_epi32(masked, _mm256_setzero_si256());
                let settled = _mm256_andnot_si256(on_midpoint, _mm256_or_si256(in_range, zero));
                *o = if _mm256_testc_si256(settled, ones) == 1 {
                    bytemuck::cast(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(r))
                } else {
                    exact_lane(x)
                };
            }
            for (o, &x) in out_tail.iter_mut().zip(tail) {
                *o = super::narrow_f64(exact(x));
            }
        }};
    }

    /// `out[i] = narrow_f64(f(input[i]))`, whole chunks of eight by F16C,
    /// the rest by [`super::narrow_f64`] (the same bits): the body of the
    /// narrowing kernels. A macro, so that `f` is compiled with the
    /// features of the kernel it is expanded in, and the chunk's body is
    /// inlined into the loop (through [`by_eight`], which calls it for the
    /// tail too, it stayed a call per chunk, with its `vzeroupper`).
    macro_rules! narrow_each {
        ($input:expr, $out:expr, $f:expr) => {{
            let f = $f;
            let lane = narrow_lane!(f);
            let (whole, tail) = $input.as_chunks::<8>();
            let (out_whole, out_tail) = $out.as_chunks_mut::<8>();
            for (o, &x) in out_whole.iter_mut().zip(whole) {
                *o = lane(x);
            }
            for (o, &x) in out_tail.iter_mut().zip(tail) {
                *o = super::narrow_f64(f(x));
            }
        }};
    }

    #[target_feature(enable = "avx2,f16c")]
    fn narrow_f64_avx2(input: &[f64], scale: f64, out: &mut [u16]) {
        narrow_each!(input, out, |x: f64| x * scale)
    }

    pub(super) fn narrow_quotients(input: &[f64], n: f64, out: &mut [u16]) {
        if (1.0..DIVIDED_F32).contains(&n) && n.fract() == 0.0 {
            // SAFETY: `narrow_f64_row_divided` checked that the CPU has
            // AVX2 and F16C.
            unsafe { narrow_divided_f32(input, n, out) }
        } else {
            // SAFETY: as above.
            unsafe { narrow_divided_avx2(input, n, out) }
        }
    }

    /// Whole counts below which [`narrow_divided_f32`] settles quotients:
    /// a float16 midpoint (12 significant bits) times one of them (at most
    /// 12) is a float32 value. Other divisors, such as 1/3, have no such
    /// product, and the float32 quotient can round the other way (a
    /// second reader's examples: `n` = 1/3, 0.1, 3.3, 4095.5).
    const DIVIDED_F32: f64 = 4096.0;

    /// The float64 kernel of [`super::narrow_f64_row_divided`], for the
    /// tests, where the CPU can run it (the row function itself, tested
    /// too, takes [`narrow_divided_f32`] for whole counts below
    /// [`DIVIDED_F32`], which would misround other divisors).
    #[cfg(test)]
    pub(super) fn narrow_quotients_versions() -> Vec<(&'static str, super::NarrowRow)> {
        let mut versions: Vec<(&'static str, super::NarrowRow)> = Vec::new();
        if super::cpu_has_f16c() {
            // SAFETY: the CPU has AVX2 and F16C.
            versions.push(("avx2 divided", |x, n, o| unsafe { narrow_divided_avx2(x, n, o) }));
        }
        versions
    }

    /// [`super::narrow_f64_row_divided`] by a whole count `n` below
    /// [`DIVIDED_F32`], by float32 quotients where they settle the
    /// float16: each chunk of eight sums is rounded to float32 and divided
    /// there (one `vdivps` for eight lanes, where float64 took a product
    /// and two fused multiply-adds for four, and the rounding to odd);
    /// F16C rounds them. A chunk with a lane the float32 quotient cannot
    /// settle takes float64's quotients ([`narrow_lane`]), so the bits are
    /// always those of float64's correctly rounded quotient rounded once.
    ///
    /// Which lanes are settled: the argument of [`narrow_sqrt_avx2`],
    /// with `m·n` for `m²`. A midpoint has at most 12 significant bits and
    /// `n` at most 12, so `m·n` is a float32 value, and division by `n > 0`
    /// is monotonic. Negative quotients and −0 are settled as their
    /// magnitudes. Sums that overflow float32 have quotients beyond
    /// ±65520 (`n` < 2^12), which round to ±inf either way.
    #[target_feature(enable = "avx2,f16c")]
    fn narrow_divided_f32(input: &[f64], n: f64, out: &mut [u16]) {
        let n8 = _mm256_set1_ps(n as f32);
        let fast = |t: __m256| _mm256_div_ps(t, n8);
        settle_in_f32!(input, out, fast, |x: f64| x / n, 0x7FFF_FFFF)
    }

    pub(super) fn narrow_sqrt(input: &[f64], out: &mut [u16]) {
        // SAFETY: `narrow_sqrt_row` checked that the CPU has AVX2 and F16C.
        unsafe { narrow_sqrt_avx2(input, out) }
    }

    /// [`super::narrow_sqrt_row`] by float32 roots where they settle the
    /// float16: each chunk of eight sums is rounded to float32 and its
    /// roots taken there (one `vsqrtps` where float64 took two
    /// `vsqrtpd`, each dearer per lane, and the rounding to odd); F16C
    /// rounds them. A chunk with a lane the float32 root cannot settle
    /// takes float64's roots ([`narrow_lane`]), so the bits are always
    /// those of float64's root rounded once.
    ///
    /// Which lanes are settled: float16 rounds to nearest, so two roots
    /// round alike unless a midpoint `m` between float16 values lies
    /// between them or on one. Above float16's smallest normal, `m` has
    /// 12 significant bits, so `m²` is a float32 value (as is the square
    /// of the largest subnormal midpoint, 2047·2^-25, which a settled root
    /// must also lie above); rounding to
    /// float32 and the root are monotonic, so a sum above `m²` has a
    /// float32 root of at least `m`, one below it at most `m`, and a sum
    /// whose float64 root is `m` is within 2^-52 of `m²` and rounds to
    /// it. A float32 root that is not itself a midpoint (low 13 bits
    /// other than 0x1000) therefore lies on the same side of every
    /// midpoint as float64's root. Left to float64 besides: NaN, and roots
    /// below float16's smallest normal other than +0 (float16's spacing
    /// no longer follows float32's exponent there, and a negative sum can
    /// round to −0). Positive sums that overflow float32 have roots above
    /// 65520, which round to inf either way.
    #[target_feature(enable = "avx2,f16c")]
    fn narrow_sqrt_avx2(input: &[f64], out: &mut [u16]) {
        settle_in_f32!(input, out, _mm256_sqrt_ps, |x: f64| x.sqrt(), !0)
    }

    #[target_feature(enable = "avx2,f16c")]
    fn narrow_divided_avx2(input: &[f64], n: f64, out: &mut [u16]) {
        narrow_each!(input, out, |x: f64| x / n)
    }

    #[target_feature(enable = "avx2,f16c")]
    fn widen_avx2(input: &[u16], out: &mut [f32]) {
        let lane = |x: [u16; 8]| -> [f32; 8] { bytemuck::cast(_mm256_cvtph_ps(bytemuck::cast(x))) };
        by_eight(input, out, lane);
    }

    pub(super) fn widen_pairs(input: &[u16], evens: &mut [f32], odds: &mut [f32], mask: u16) {
        // SAFETY: `widen_pairs_row` checked that the CPU has AVX2 and F16C.
        unsafe { widen_pairs_avx2(input, evens, odds, mask) }
    }

    #[target_feature(enable = "avx2,f16c")]
    fn widen_pairs_avx2(input: &[u16], evens: &mut [f32], odds: &mut [f32], mask: u16) {
        // Within each 128-bit lane, the four even cells' bytes first,
        // then the four odd ones'.
        let order = _mm256_setr_epi8(
            0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, //
            0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
        );
        let mask = _mm256_set1_epi16(mask as i16);
        // Sixteen cells: eight evens and eight odds.
        let lane = |x: [u16; 16]| -> ([f32; 8], [f32; 8]) {
            let v = _mm256_and_si256(bytemuck::cast(x), mask);
            // 64-bit quarters: evens 0-3, odds 0-3, evens 4-7, odds 4-7;
            // then evens 0-7 in the low half, odds 0-7 in the high.
            let v = _mm256_shuffle_epi8(v, order);
            let v = _mm256_permute4x64_epi64::<0b11_01_10_00>(v);
            let e = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
            let o = _mm256_cvtph_ps(_mm256_extracti128_si256::<1>(v));
            (bytemuck::cast(e), bytemuck::cast(o))
        };
        let (whole, tail) = input.as_chunks::<16>();
        let (e_whole, e_tail) = evens.as_chunks_mut::<8>();
        let (o_whole, o_tail) = odds.as_chunks_mut::<8>();
        for ((x, e), o) in whole.iter().zip(e_whole).zip(o_whole) {
            (*e, *o) = lane(*x);
        }
        if !tail.is_empty() {
            // Fewer than eight pairs, padded with zeros.
            let mut x = [0u16; 16];
            x[..tail.len()].copy_from_slice(tail);
            let (e, o) = lane(x);
            e_tail.copy_from_slice(&e[..e_tail.len()]);
            o_tail.copy_from_slice(&o[..o_tail.len()]);
        }
    }

    /// `CLIP`: whether to clip at `max` (a separate copy of the loop,
    /// because the clip takes as many instructions as the rest).
    #[target_feature(enable = "avx2,f16c")]
    fn leaky_avx2<const CLIP: bool>(
        input: &[u16],
        out: &mut [u16],
        alpha: f32,
        max: u16,
        stream: bool,
    ) {
        let a = _mm256_set1_ps(alpha);
        let m = _mm256_cvtph_ps(_mm_set1_epi16(max as i16));
        let lane = |x: [u16; 8]| -> [u16; 8] {
            let bits: __m128i = bytemuck::cast(x);
            let wide = _mm256_cvtph_ps(bits);
            // Negative (sign set, not −0.0 0x8000, not NaN above −inf
            // 0xFC00): as i16, strictly above i16::MIN and at most −1024.
            let neg = _mm_and_si128(
                _mm_cmpgt_epi16(bits, _mm_set1_epi16(i16::MIN)),
                _mm_cmpgt_epi16(_mm_set1_epi16(-1023), bits),
            );
            let product = _mm256_mul_ps(wide, a);
            // Lanes that change take the rounded value; the rest (NaN
            // included) keep their bits.
            let (y, take) = if CLIP {
                let neg_wide = _mm256_cmp_ps::<_CMP_LT_OQ>(wide, _mm256_setzero_ps());
                let y = _mm256_blendv_ps(wide, product, neg_wide);
                let clip = _mm256_cmp_ps::<_CMP_GT_OQ>(y, m);
                // `clip` narrowed to 16-bit lanes.
                let clip16 = _mm_packs_epi32(
                    _mm256_castsi256_si128(_mm256_castps_si256(clip)),
                    _mm256_extracti128_si256::<1>(_mm256_castps_si256(clip)),
                );
                (_mm256_blendv_ps(y, m, clip), _mm_or_si128(neg, clip16))
            } else {
                (product, neg)
            };
            let narrow = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(y);
            bytemuck::cast(_mm_blendv_epi8(bits, narrow, take))
        };
        // Any length, ordinary stores; the last partial vector is padded.
        let plain = |input: &[u16], out: &mut [u16]| by_eight(input, out, lane);
        if !stream {
            return plain(input, out);
        }
        // Streaming stores (see `ops::stream`): up to a 32-byte boundary
        // plainly, then 16 elements per aligned store, then the rest.
        let head = out.as_ptr().align_offset(32).min(out.len());
        let (out_head, out_rest) = out.split_at_mut(head);
        let (in_head, in_rest) = input.split_at(head);
        plain(in_head, out_head);
        let (whole, tail) = in_rest.as_chunks::<16>();
        let (out_whole, out_tail) = out_rest.as_chunks_mut::<16>();
        for (o, x) in out_whole.iter_mut().zip(whole) {
            let (lo, hi) = x.split_at(8);
            let v: [[u16; 8]; 2] = [lane(lo.try_into().unwrap()), lane(hi.try_into().unwrap())];
            let v: __m256i = bytemuck::cast(v);
            // SAFETY: `o` is 32 writable bytes, 32-byte aligned because
            // `head` aligned the first chunk and each chunk is 32 bytes.
            unsafe { _mm256_stream_si256(o.as_mut_ptr().cast(), v) };
        }
        plain(tail, out_tail);
        // Orders the streamed stores before any later store.
        _mm_sfence();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    #[test]
    fn widen_is_exact_for_every_float16() {
        for h in 0..=u16::MAX {
            let want = f16::from_bits(h).to_f32();
            let got = widen(h);
            if want.is_nan() {
                assert!(got.is_nan(), "{h:#06x}");
                assert_eq!(got.to_bits() & 0x803F_FFFF, want.to_bits() & 0x803F_FFFF, "{h:#06x}");
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "{h:#06x}: {got} vs {want}");
            }
        }
    }

    /// The row widening equals [`widen`] for every float16 (a
    /// signalling NaN may come out quieted), at every length around a
    /// vector.
    #[test]
    fn widen_row_is_widen() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        let mut out = vec![0f32; all.len()];
        widen_row(&all, &mut out);
        for (&h, &f) in all.iter().zip(&out) {
            let want = widen(h).to_bits();
            let quieted = want | 0x0040_0000;
            let ok = f.to_bits() == want || (widen(h).is_nan() && f.to_bits() == quieted);
            assert!(ok, "{h:#06x}: {:#010x}, want {want:#010x}", f.to_bits());
        }
        for len in 0..20 {
            let src: Vec<u16> = (0..len).map(|i| 0x3c00 + i as u16 * 77).collect();
            let mut dst = vec![f32::NAN; len];
            widen_row(&src, &mut dst);
            let want: Vec<f32> = src.iter().map(|&h| widen(h)).collect();
            assert_eq!(dst, want, "length {len}");
        }
    }

    /// The pair widening equals [`widen`] of the masked cell, even cells
    /// to `evens` and odd to `odds`, for every float16 (a signalling NaN
    /// may come out quieted) with and without the sign masked off, and at
    /// every length around a vector.
    #[test]
    fn widen_pairs_row_is_widen_split() {
        let check = |src: &[u16], mask: u16| {
            let n = src.len() / 2;
            let (mut evens, mut odds) = (vec![f32::NAN; n], vec![f32::NAN; n]);
            widen_pairs_row(src, &mut evens, &mut odds, mask);
            for (i, &h) in src.iter().enumerate() {
                let got = if i % 2 == 0 { evens[i / 2] } else { odds[i / 2] };
                let want = widen(h & mask);
                let quieted = want.to_bits() | 0x0040_0000;
                let ok =
                    got.to_bits() == want.to_bits() || (want.is_nan() && got.to_bits() == quieted);
                assert!(ok, "{h:#06x} & {mask:#06x} at {i} of {}: {got:e}", src.len());
            }
        };
        let all: Vec<u16> = (0..=u16::MAX).collect();
        // Both phases: every value as an even cell and as an odd one.
        for src in [&all[..], &all[1..all.len() - 1]] {
            check(src, 0xFFFF);
            check(src, 0x7FFF);
        }
        for len in 0..40 {
            let src: Vec<u16> =
                (0..2 * len).map(|i| 0xBC00u16.wrapping_add(i as u16 * 331)).collect();
            check(&src, 0xFFFF);
            check(&src, 0x7FFF);
        }
    }

    /// The row narrowing equals [`narrow_f64`] bit for bit over
    /// midpoints, their neighbours, the float16 range's edges and NaN, at
    /// every length around a vector.
    #[test]
    fn narrow_f64_row_is_narrow_f64() {
        let mut xs = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN];
        xs.extend([65504.0, 65519.99, 65520.0, 1e300, -1e-300, 2f64.powi(-25), 2f64.powi(-24)]);
        for h in (0..=u16::MAX).step_by(7) {
            let f = f64::from(widen(h));
            if !f.is_finite() {
                continue;
            }
            let next = f64::from(widen(h.wrapping_add(1)));
            let mid = (f + next) / 2.0;
            for d in [-1e-17, 0.0, 1e-17] {
                xs.extend([f, mid * (1.0 + d), mid + d, -mid]);
            }
        }
        // The row functions, and each vector version the CPU can run;
        // scaled by 1 and by powers of two (averages of 4 and of 64).
        let plain: NarrowRow = |x, _, o| narrow_f64_row(x, o);
        let mut rows: Vec<(&str, NarrowRow)> =
            vec![("row", plain), ("scaled row", narrow_f64_row_scaled)];
        #[cfg(target_arch = "x86_64")]
        rows.extend(x86::narrow_f64_versions());
        for (name, row) in rows {
            let scales: &[f64] = if name == "row" { &[1.0] } else { &[1.0, 0.25, 1.0 / 64.0] };
            for &scale in scales {
                let mut out = vec![0u16; xs.len()];
                row(&xs, scale, &mut out);
                for (&x, &h) in xs.iter().zip(&out) {
                    let want = narrow_f64(x * scale);
                    assert_eq!(h, want, "{name} ·{scale} {x:e}: {h:#06x}, want {want:#06x}");
                }
                for len in 0..20 {
                    let src: Vec<f64> = (0..len).map(|i| 1.0 + i as f64 / 3.0).collect();
                    let mut dst = vec![0u16; len];
                    row(&src, scale, &mut dst);
                    let want: Vec<u16> = src.iter().map(|&x| narrow_f64(x * scale)).collect();
                    assert_eq!(dst, want, "{name} ·{scale} length {len}");
                }
            }
        }
    }

    /// The divided rows (averages of float16 sums by a count) round each
    /// quotient once: bit for bit against the bisection reference on
    /// float64's quotient, the division NumPy's float64 reference rounds
    /// once to float16 (a product by the reciprocal alone differs). Sums are
    /// float16 values and midpoints times the divisor and their float64
    /// neighbours (where a product by the reciprocal alone misrounds) and
    /// points 2^-8 to 2 float32 ulps either side of midpoints' multiples,
    /// sums
    /// of random float16 values, and the edges of float64; each also alone
    /// in a chunk of easy lanes; divisors include powers of two, counts
    /// either side of 4096, and divisors that are not counts (which the
    /// float32 kernel would misround); every length around a vector.
    #[test]
    fn narrow_f64_row_divided_rounds_each_quotient_once() {
        let mut next = crate::ops::xorshift(0x2F6B_0E3A_9D1C_5487);
        let divisors = [
            1.0,
            2.0,
            3.0,
            4.0,
            5.0,
            6.0,
            7.0,
            9.0,
            12.0,
            25.0,
            27.0,
            49.0,
            81.0,
            343.0,
            4095.0,
            4097.0,
            6561.0,
            1.0 / 3.0,
            0.1,
            3.3,
            4095.5,
        ];
        let mut rows: Vec<(&str, NarrowRow)> = vec![("row", narrow_f64_row_divided)];
        #[cfg(target_arch = "x86_64")]
        rows.extend(x86::narrow_quotients_versions());
        for n in divisors {
            let mut xs = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN];
            xs.extend([f64::MAX, -f64::MAX, 1e300, -1e-300, 5e-324, 65504.0 * n, 65520.0 * n]);
            for h in (0..0x7C00u16).step_by(3) {
                let v = f64::from(f16::from_bits(h));
                let up = if h == 0x7BFF { 65536.0 } else { f64::from(f16::from_bits(h + 1)) };
                for c in [v * n, (v + up) / 2.0 * n] {
                    xs.extend([c, -c, c.next_up(), c.next_down()]);
                }
                // From 2^-8 to 2 float32 ulps either side of a midpoint's
                // multiple.
                let c = (v + up) / 2.0 * n;
                for k in [1.0, 2.0, 2f64.powi(-8)] {
                    xs.extend([c * (1.0 - k * 2f64.powi(-24)), c * (1.0 + k * 2f64.powi(-24))]);
                }
            }
            for _ in 0..2000 {
                let terms = 1 + next() % 9;
                let sum: f64 = (0..terms)
                    .map(|_| f64::from(widen(crate::ops::finite_f16(next() as u16))))
                    .sum();
                xs.push(sum);
            }
            for (name, row) in &rows {
                let mut out = vec![0u16; xs.len()];
                row(&xs, n, &mut out);
                for (&x, &h) in xs.iter().zip(&out) {
                    let want = nearest_f16(x / n);
                    let same = h == want || (x.is_nan() && h & 0x7FFF > 0x7C00);
                    assert!(same, "{name} {x:e} / {n}: {h:#06x}, want {want:#06x}");
                }
                for len in 0..20 {
                    let src = &xs[xs.len() - len..];
                    let mut dst = vec![0u16; len];
                    row(src, n, &mut dst);
                    let want: Vec<u16> = src.iter().map(|&x| nearest_f16(x / n)).collect();
                    assert_eq!(dst, want, "{name} / {n} length {len}");
                }
                // Alone among easy lanes (sums of `n`), so that a value is
                // not settled by float64 only because a neighbour was.
                for &x in &xs {
                    let mut chunk = [n; 8];
                    chunk[5] = x;
                    let mut out = [0u16; 8];
                    row(&chunk, n, &mut out);
                    let want = nearest_f16(x / n);
                    let same = out[5] == want || (x.is_nan() && out[5] & 0x7FFF > 0x7C00);
                    assert!(same, "{name} {x:e} / {n} alone: {:#06x}, want {want:#06x}", out[5]);
                    assert!(out.iter().enumerate().all(|(i, &h)| i == 5 || h == 0x3C00), "{name}");
                }
            }
        }
    }

    /// The rounded roots of [`narrow_sqrt_row`] against the bisection
    /// reference on float64's root: squares of float16 values and of the
    /// midpoints between them (exact in float64) and their neighbours,
    /// sums a few float32 ulps either side of the midpoints' squares
    /// (where a float32 root cannot tell the side), random sums of squares
    /// of float16 values, ±0, ±inf, NaN and negative values (NaN), at
    /// every length around a vector. Each value is also rounded alone
    /// among seven easy ones, so that it is not settled by float64's
    /// roots only because a neighbour in its chunk was.
    #[test]
    fn narrow_sqrt_row_rounds_each_root_once() {
        let mut next = crate::ops::xorshift(0x6A09_E667_F3BC_C909);
        let mut xs = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -1.0, f64::MAX];
        for h in 0..0x7C00u16 {
            let v = f64::from(f16::from_bits(h));
            let up = if h == 0x7BFF { 65536.0 } else { f64::from(f16::from_bits(h + 1)) };
            let mid = (v + up) / 2.0 * ((v + up) / 2.0);
            for c in [v * v, mid] {
                xs.extend([c, c.next_up(), c.next_down()]);
            }
            // Roots from a quarter to eight float32 ulps off the midpoint.
            for k in [1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 2f64.powi(-8)] {
                xs.extend([mid * (1.0 + k * 2f64.powi(-24)), mid * (1.0 - k * 2f64.powi(-24))]);
            }
        }
        for _ in 0..20_000 {
            let terms = 1 + next() % 9;
            let square = |h: u64| f64::from(widen(crate::ops::finite_f16(h as u16))).powi(2);
            xs.push((0..terms).map(|_| square(next())).sum());
        }
        type Row = fn(&[f64], &mut [u16]);
        let mut rows: Vec<(&str, Row)> = vec![("row", narrow_sqrt_row)];
        #[cfg(target_arch = "x86_64")]
        if cpu_has_f16c() {
            rows.push(("avx2", x86::narrow_sqrt));
        }
        for (name, row) in rows {
            let mut out = vec![0u16; xs.len()];
            row(&xs, &mut out);
            for (&x, &h) in xs.iter().zip(&out) {
                let want = nearest_f16(x.sqrt());
                let same = h == want || (x.sqrt().is_nan() && h & 0x7FFF > 0x7C00);
                assert!(same, "{name} sqrt {x:e}: {h:#06x}, want {want:#06x}");
            }
            for len in 0..20 {
                let src = &xs[xs.len() - len..];
                let mut dst = vec![0u16; len];
                row(src, &mut dst);
                let want: Vec<u16> = src.iter().map(|&x| nearest_f16(x.sqrt())).collect();
                assert_eq!(dst, want, "{name} length {len}");
            }
            for &x in &xs {
                let mut chunk = [1.0; 8];
                chunk[3] = x;
                let mut out = [0u16; 8];
                row(&chunk, &mut out);
                let want = nearest_f16(x.sqrt());
                let same = out[3] == want || (x.sqrt().is_nan() && out[3] & 0x7FFF > 0x7C00);
                assert!(same, "{name} sqrt {x:e} alone: {:#06x}, want {want:#06x}", out[3]);
                assert!(out.iter().enumerate().all(|(i, &h)| i == 3 || h == 0x3C00), "{name}");
            }
        }
    }

    #[test]
    fn narrow_rounds_as_half_does() {
        // Every exponent and top mantissa pattern, with the low 13 bits
        // (the ones rounded away) at and around each rounding boundary.
        let lows = [0, 1, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x0800, 0x17FF];
        for high in 0..1u32 << 19 {
            for low in lows {
                let x = f32::from_bits(high << 13 | low);
                let want = f16::from_f32(x).to_bits();
                let got = narrow(x);
                assert_eq!(got, want, "{:#010x} ({x:e})", x.to_bits());
            }
        }
    }

    /// The float16 nearest `x` (ties to the even one), found by bisecting
    /// the ordered float16 values: an independent reference for
    /// [`narrow_f64`]. Values from 65520 (half way to 2^16) up are infinite.
    fn nearest_f16(x: f64) -> u16 {
        if x.is_nan() {
            return 0x7E00;
        }
        let sign = if x.is_sign_negative() { 0x8000 } else { 0 };
        let a = x.abs();
        // Finite magnitudes 0..=0x7BFF in order, then 2^16 standing in for
        // infinity (0x7C00, even) so the top midpoint rounds up.
        let value = |h: u16| if h == 0x7C00 { 65536.0 } else { f64::from(f16::from_bits(h)) };
        if a >= 65536.0 {
            return sign | 0x7C00;
        }
        let (mut lo, mut hi) = (0u16, 0x7C00u16);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if value(mid) <= a { lo = mid } else { hi = mid }
        }
        // value(lo) <= a < value(hi); their midpoint is exact in float64.
        let midpoint = (value(lo) + value(hi)) / 2.0;
        let h = if a < midpoint || (a == midpoint && lo % 2 == 0) { lo } else { hi };
        sign | h
    }

    #[test]
    fn narrow_f64_rounds_once() {
        let mut xs = vec![0.0, -0.0, f64::INFINITY, -f64::INFINITY, f64::MAX, f64::MIN_POSITIVE];
        xs.extend([65504.0, 65519.99, 65520.0, 65520.000001, 1e-300, 2f64.powi(-25)]);
        // Every float16 and every midpoint between neighbours, and values
        // a float64 ulp, 2^-30 and 2^-13 relative away from each, on both
        // sides: the cases going through float32 gets wrong.
        for h in 0..0x7C00u16 {
            let v = f64::from(f16::from_bits(h));
            let next = if h == 0x7BFF { 65536.0 } else { f64::from(f16::from_bits(h + 1)) };
            for c in [v, (v + next) / 2.0] {
                for rel in [f64::EPSILON, 2f64.powi(-30), 2f64.powi(-13)] {
                    xs.extend([c, c * (1.0 + rel), c * (1.0 - rel), c.next_up(), c.next_down()]);
                }
            }
        }
        // And a spread of random bit patterns.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            // Exponents near float16's range, any mantissa.
            let exp = 1023 - 30 + (state >> 58) % 50;
            xs.push(f64::from_bits((state & 0x800F_FFFF_FFFF_FFFF) | exp << 52));
            // Any bits at all: float32's subnormal and overflow ranges too.
            let x = f64::from_bits(state.rotate_left(23));
            if !x.is_nan() {
                xs.push(x);
            }
        }
        for x in xs.into_iter().flat_map(|x| [x, -x]) {
            assert_eq!(narrow_f64(x), nearest_f16(x), "{:#018x} ({x:e})", x.to_bits());
        }
        // NaN stays NaN, sign kept.
        for bits in [0x7FF8_0000_0000_0000u64, 0xFFF0_0000_0000_0001, 0x7FF0_0000_0000_0001] {
            let h = narrow_f64(f64::from_bits(bits));
            assert!(h & 0x7FFF > 0x7C00, "{bits:#018x} gave {h:#06x}");
            assert_eq!(h & 0x8000 != 0, bits >> 63 == 1);
        }
    }

    #[test]
    fn round_trip_is_the_identity_off_nan() {
        for h in 0..=u16::MAX {
            if !f16::from_bits(h).is_nan() {
                assert_eq!(narrow(widen(h)), h, "{h:#06x}");
            }
        }
    }

    /// [`sum_windows_3s2`] against the sums written out here: pixels of 1
    /// to 70 elements (blocks of eight, and single elements), one to three
    /// rows, one to five windows, with and without a carry, of values and
    /// of magnitudes. The values take every exponent and include ±0,
    /// ±inf, NaN and ±65504; float16 sums are exact in float64, so the
    /// order of the additions cannot show, but for the sign of a zero: a
    /// window of −0 sums to +0, as from +0. The carry then holds the last
    /// row's sums.
    #[test]
    fn sum_windows_3s2_sums_each_window() {
        let Some(hw) = F16c::detect() else {
            // Nothing calls `sum_windows_3s2` where the CPU lacks F16C.
            assert!(!has_hw());
            return;
        };
        let specials = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF, 0x7BFF, 0xFBFF];
        let mut next = crate::ops::xorshift(0x2545_F491_4F6C_DD1D);
        let same = |g: f64, w: f64| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
        for inner in [1, 7, 8, 16, 45, 70] {
            for outputs in [1, 2, 5] {
                // One column past the last window, which no sum may take.
                let width = 2 * outputs + 2;
                for n_rows in 1..=3 {
                    let mut rows: Vec<Vec<u16>> = (0..n_rows)
                        .map(|_| {
                            (0..width * inner)
                                .map(|_| {
                                    let h = next();
                                    if h.is_multiple_of(8) {
                                        specials[(h >> 8) as usize % specials.len()]
                                    } else {
                                        crate::ops::finite_f16((h >> 40) as u16)
                                    }
                                })
                                .collect()
                        })
                        .collect();
                    for negative_zeros in [false, true] {
                        if negative_zeros {
                            rows.iter_mut().for_each(|r| r.fill(0x8000));
                        }
                        let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
                        for (carried, abs) in
                            [(false, false), (true, false), (false, true), (true, true)]
                        {
                            let term = |h: u16| {
                                let x = f16::from_bits(h).to_f64();
                                if abs { x.abs() } else { x }
                            };
                            // Sums of float16 values, as a carry holds.
                            let held: Vec<f64> = (0..outputs * inner)
                                .map(|i| if negative_zeros { -0.0 } else { term(refs[0][i]) * 3.0 })
                                .collect();
                            let mut carry = held.clone();
                            let mut columns = vec![f64::NAN; 3];
                            // Stale values the sums must not start from.
                            let mut got: Vec<f64> =
                                (0..outputs * inner).map(|i| (i % 5) as f64).collect();
                            sum_windows_3s2(
                                hw,
                                &mut got,
                                &refs,
                                inner,
                                (&mut carry, carried),
                                abs,
                                &mut columns,
                            );
                            for (at, (&g, &kept)) in got.iter().zip(&carry).enumerate() {
                                let (c, e) = (at / inner, at % inner);
                                let row_sum = |row: &[u16]| {
                                    (0..3).fold(0.0, |s, t| s + term(row[(2 * c + t) * inner + e]))
                                };
                                let mut want = if carried { 0.0 + held[at] } else { 0.0 };
                                for row in &refs {
                                    want += row_sum(row);
                                }
                                let what = format!(
                                    "inner {inner} outputs {outputs} rows {n_rows} carried {carried} abs {abs} -0 {negative_zeros} at {at}"
                                );
                                assert!(same(g, want), "{what}: {g} vs {want}");
                                let last = row_sum(refs[n_rows - 1]);
                                assert!(
                                    kept == last || (kept.is_nan() && last.is_nan()),
                                    "{what}: kept {kept} vs {last}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// [`fold_pixels`] against a loop over each window written out here,
    /// with a fold that tells every order apart (`3s + x`, exact for
    /// these small values), from +0 whatever `acc` held: pixels of 1 to 70
    /// elements (blocks of 32 and of 8, and single elements), edge
    /// windows with fewer taps, dilated taps, and one to three rows. The
    /// values include ±0, ±inf, NaN and subnormals.
    #[test]
    fn fold_pixels_keeps_window_order() {
        let Some(hw) = F16c::detect() else {
            // Nothing calls `fold_pixels` where the CPU lacks F16C.
            assert!(!has_hw());
            return;
        };
        let specials = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF];
        let fold = |s: f64, x: f32| 3.0 * s + f64::from(x);
        for inner in [1, 7, 8, 16, 32, 45, 70] {
            for (stride, kernel, dilation) in [(2, 2, 1), (2, 3, 1), (1, 3, 2)] {
                let width = 11;
                let (step, outputs) = (dilation * inner, (width - 1) / stride);
                // Window `c` starts at pixel `c·stride` and, at the edges,
                // loses taps at its end.
                let window = |c: usize| {
                    let taps = kernel.min((width - 1 - c * stride) / dilation + 1);
                    (c * stride * inner, if c == 0 { 1 } else { taps })
                };
                for n_rows in 1..=3 {
                    let rows: Vec<Vec<u16>> = (0..n_rows)
                        .map(|r| {
                            (0..width * inner)
                                .map(|i| {
                                    let h = (i * 7 + r * 13) % 23;
                                    if h < 7 {
                                        specials[h]
                                    } else {
                                        f16::from_f32(h as f32 - 15.0).to_bits()
                                    }
                                })
                                .collect()
                        })
                        .collect();
                    let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
                    // Stale values the fold must not start from.
                    let mut got: Vec<f64> = (0..outputs * inner).map(|i| (i % 5) as f64).collect();
                    fold_pixels(hw, &mut got, &refs, (inner, step), window, fold);
                    for (at, &g) in got.iter().enumerate() {
                        let (c, e) = (at / inner, at % inner);
                        let (first, taps) = window(c);
                        let mut want = 0.0;
                        for row in &refs {
                            for t in 0..taps {
                                want =
                                    fold(want, f16::from_bits(row[first + t * step + e]).to_f32());
                            }
                        }
                        let same = g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan());
                        assert!(
                            same,
                            "inner {inner} {stride}/{kernel} d{dilation} rows {n_rows} at {at}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// The norms the tests of [`norm_pixels`] and [`norm_row`] take.
    const NORMS: [(u8, Norm); 3] = [(2, Norm::L2), (3, Norm::L3), (4, Norm::L4)];

    /// `x^p` for `x ≥ 0`, as the float64 fold raises (exact for float16).
    fn raise(x: f64, p: u8) -> f64 {
        match p {
            2 => x * x,
            3 => x * x * x,
            _ => x * x * x * x,
        }
    }

    /// `s^(1/p)` in float64: libm's cube root, or square roots.
    fn root(s: f64, p: u8) -> f64 {
        match p {
            2 => s.sqrt(),
            3 => s.cbrt(),
            _ => s.sqrt().sqrt(),
        }
    }

    /// The float64 reference of [`norm_pixels`] for one lane: the fold
    /// of `|x|^p` in window order from +0, its root, rounded once by the
    /// bisection reference.
    fn norm_reference(cells: impl Iterator<Item = u16>, p: u8) -> u16 {
        let mut s = 0.0;
        for h in cells {
            s += raise(f64::from(f16::from_bits(h)).abs(), p);
        }
        nearest_f16(root(s, p))
    }

    /// [`norm_pixels`] against [`norm_reference`] over windows laid out as
    /// in [`fold_pixels_keeps_window_order`], and over one window of more
    /// than [`NORM_CELLS`] cells: random float16 values of every
    /// magnitude (whose float32 sums are not exact), small whole values,
    /// ±0, ±inf, NaN and subnormals.
    #[test]
    fn norm_pixels_round_as_float64_does() {
        let Some(hw) = F16c::detect() else {
            // Nothing calls `norm_pixels` where the CPU lacks F16C.
            assert!(!has_hw());
            return;
        };
        let mut next = crate::ops::xorshift(0x3C6E_F372_FE94_F82B);
        let specials = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF];
        let mut value = move || match next() % 8 {
            0 => specials[(next() % 7) as usize],
            1..=3 => crate::ops::finite_f16(next() as u16),
            _ => f16::from_f32((next() % 200) as f32 - 100.0).to_bits(),
        };
        let check = |got: &[u16], want: u16, at: &str| {
            let same = got[0] == want || (want == 0x7E00 && got[0] & 0x7FFF > 0x7C00);
            assert!(same, "{at}: {:#06x}, want {want:#06x}", got[0]);
        };
        for (p, norm) in NORMS {
            for inner in [1, 7, 8, 13, 32, 45, 70] {
                for (stride, kernel, dilation) in [(2, 2, 1), (2, 3, 1), (1, 3, 2), (1, 3, 1)] {
                    let width = 11;
                    let (step, outputs) = (dilation * inner, (width - 1) / stride);
                    let window = |c: usize| {
                        let taps = kernel.min((width - 1 - c * stride) / dilation + 1);
                        (c * stride * inner, if c == 0 { 1 } else { taps })
                    };
                    for n_rows in 1..=3 {
                        let rows: Vec<Vec<u16>> = (0..n_rows)
                            .map(|_| (0..width * inner).map(|_| value()).collect())
                            .collect();
                        let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
                        let mut got = vec![0x5555u16; outputs * inner];
                        norm_pixels(hw, &mut got, &refs, (inner, step), window, norm);
                        for (at, g) in got.iter().enumerate() {
                            let (c, e) = (at / inner, at % inner);
                            let (first, taps) = window(c);
                            let cells = refs
                                .iter()
                                .flat_map(|row| (0..taps).map(move |t| row[first + t * step + e]));
                            let want = norm_reference(cells, p);
                            let at = format!(
                                "p{p} inner {inner} {stride}/{kernel} d{dilation} rows {n_rows} at {at}"
                            );
                            check(std::slice::from_ref(g), want, &at);
                        }
                    }
                }
            }
            // One window of 3 rows of 350 pixels: more cells than float32
            // sums are trusted with.
            for inner in [8, 13] {
                let taps = 350;
                let rows: Vec<Vec<u16>> =
                    (0..3).map(|_| (0..taps * inner).map(|_| value() & 0x7BFF).collect()).collect();
                let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
                assert!(3 * taps > NORM_CELLS);
                let mut got = vec![0u16; inner];
                norm_pixels(hw, &mut got, &refs, (inner, inner), |_| (0, taps), norm);
                for (e, g) in got.iter().enumerate() {
                    let cells =
                        refs.iter().flat_map(|row| (0..taps).map(move |t| row[t * inner + e]));
                    check(std::slice::from_ref(g), norm_reference(cells, p), "large window");
                }
            }
        }
    }

    /// The float32 cube root of the 3-norm's settle step against libm's
    /// float64 one, on every float32 of `[1, 8)` (one period of the
    /// scaling the root commutes with): within 0.96 ulps, the figure
    /// [`norm_pixels`]' bound uses. Also on float32s spread from 2^-100 to
    /// 2^100 (the scaling, checked), the special values, and subnormal
    /// sums, whose roots must stay below float16's normal range.
    #[test]
    fn cube_root_within_an_ulp() {
        let Some(hw) = F16c::detect() else {
            assert!(!has_hw());
            return;
        };
        let worst = |s: &[f32]| {
            let mut r = vec![0f32; s.len()];
            x86::cube_root_row(hw, s, &mut r);
            let mut worst = 0f64;
            for (&s, &r) in s.iter().zip(&r) {
                let want = f64::from(s).cbrt();
                let ulp = f64::from(r.next_up() - r).min(f64::from(r - r.next_down()));
                worst = worst.max((f64::from(r) - want).abs() / ulp);
            }
            worst
        };
        let (one, eight) = (1f32.to_bits(), 8f32.to_bits());
        let mut period = 0f64;
        for start in (one..eight).step_by(1 << 20) {
            let s: Vec<f32> = (start..eight.min(start + (1 << 20))).map(f32::from_bits).collect();
            period = period.max(worst(&s));
        }
        assert!(period <= 0.96 && period > 0.9, "worst {period} ulps on [1, 8)");
        let mut next = crate::ops::xorshift(0x1F83_D9AB_FB41_BD6B);
        let spread: Vec<f32> = (0..1 << 16)
            .map(|_| f32::from_bits(0x0D80_0000 + (next() % (0x7180_0000 - 0x0D80_0000)) as u32))
            .collect();
        assert!(spread.iter().all(|&s| (2f32.powi(-100)..2f32.powi(100)).contains(&s)));
        assert!(worst(&spread) <= 0.96, "worst {} ulps from 2^-100 to 2^100", worst(&spread));
        let mut specials = [0.0, f32::INFINITY, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mut r = [1f32; 8];
        x86::cube_root_row(hw, &specials, &mut r);
        assert_eq!(r[0].to_bits(), 0);
        assert_eq!(r[1], f32::INFINITY);
        assert!(r[2].is_nan());
        // Zeros (rooted as ones inside) beside other sums, as ReLU'd data
        // gives them: each lane its own root.
        let mixed = [0.0, 8.0, -0.0, 1e-6, 0.0, 3.5e13, 0.0, 1.0];
        x86::cube_root_row(hw, &mixed, &mut r);
        for (&s, &r) in mixed.iter().zip(&r) {
            if s == 0.0 {
                assert_eq!(r.to_bits(), s.to_bits(), "cbrt({s}) = {r}");
            } else {
                let want = f64::from(s).cbrt();
                let ulp = f64::from(f32::EPSILON) * 2f64.powi(want.log2().floor() as i32);
                assert!((f64::from(r) - want).abs() <= 0.96 * ulp, "cbrt({s}) = {r}");
            }
        }
        for first in (1..1 << 23).step_by(8 * 97) {
            for (k, s) in specials.iter_mut().enumerate() {
                *s = f32::from_bits(first + k as u32);
            }
            x86::cube_root_row(hw, &specials, &mut r);
            assert!(r.iter().all(|&r| r < 2f32.powi(-14)), "{specials:?} -> {r:?}");
        }
    }

    /// `count` windows of nine float16 cells whose sum of `p`-th powers
    /// lies within a few float32 ulps of a float16 midpoint's power, in
    /// shuffled order: a float16 `v` below a midpoint `m`, two terms
    /// filling most of the gap to `m^p` (from 3 ulps of `m^p` below it to
    /// 3 above), and six equal terms just under half an ulp of the sum
    /// each, which float32 sums drop.
    fn near_midpoint_windows(p: u8, count: usize, seed: u64) -> Vec<Vec<u16>> {
        let mut next = crate::ops::xorshift(seed);
        let value = |h: u16| f64::from(f16::from_bits(h));
        let below = |x: f64| {
            // The largest float16 at most x (x finite, not negative).
            let h = nearest_f16(x.min(65504.0));
            if value(h) > x { h - 1 } else { h }
        };
        let power = |x: f64| raise(x, p);
        let root = |x: f64| root(x, p);
        let mut combos = Vec::new();
        for _ in 0..count {
            // v from 2^-6 to 2^12.
            let v = 0x1800 + (next() % 0x4800) as u16;
            let m = (value(v) + value(v + 1)) / 2.0;
            let sum = power(m) as f32;
            let ulp = f64::from(sum.next_up() - sum);
            let tiny = below(root(0.45 * ulp));
            let target = power(m) + ((next() % 7) as f64 - 3.0) * ulp;
            let mut gap = target - power(value(v)) - 6.0 * power(value(tiny));
            let mut cells = vec![v];
            for _ in 0..2 {
                let y = below(root(gap.max(0.0)));
                gap -= power(value(y));
                cells.push(y);
            }
            cells.extend([tiny; 6]);
            for i in (1..9).rev() {
                cells.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            combos.push(cells);
        }
        combos
    }

    /// The float32 term of a float16 in [`norm_pixels`] and [`norm_row`].
    fn norm_term(h: u16, p: u8) -> f32 {
        let x = f16::from_bits(h).to_f32();
        let q = x * x;
        match p {
            2 => q,
            3 => q * x.abs(),
            _ => q * q,
        }
    }

    /// [`norm_pixels`] on [`near_midpoint_windows`]: float32's roots of
    /// these, summed in the kernel's order, fall off the midpoint on the
    /// wrong side of it often enough (counted, so that the data can tell
    /// a check too narrow), and the float64 fallback must catch every one.
    #[test]
    fn norm_pixels_settle_near_midpoints() {
        let Some(hw) = F16c::detect() else {
            assert!(!has_hw());
            return;
        };
        for (p, norm) in NORMS {
            let (inner, outputs) = (45, 120);
            let combos = near_midpoint_windows(p, inner * outputs, 0xA54F_F53A_5F1D_36F1);
            // Cell (r, t) of output c, lane e: cell 3r + t of combo c·inner + e.
            let rows: Vec<Vec<u16>> = (0..3)
                .map(|r| {
                    (0..3 * outputs * inner)
                        .map(|i| {
                            let (pixel, e) = (i / inner, i % inner);
                            combos[(pixel / 3) * inner + e][3 * r + pixel % 3]
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
            let mut got = vec![0u16; outputs * inner];
            norm_pixels(hw, &mut got, &refs, (inner, inner), |c| (3 * c * inner, 3), norm);
            let mut wrong_side = 0;
            for (cells, &g) in combos.iter().zip(&got) {
                let want = norm_reference(cells.iter().copied(), p);
                assert_eq!(g, want, "p{p} {cells:x?}");
                // The kernel's float32 sum: taps 0 and 2 of each row in
                // one sum, tap 1 in another.
                let (mut a, mut b) = (0f32, 0f32);
                for (i, &h) in cells.iter().enumerate() {
                    if i % 3 == 1 { b += norm_term(h, p) } else { a += norm_term(h, p) }
                }
                // The kernel's float32 root of it.
                let r = match p {
                    2 => (a + b).sqrt(),
                    3 => {
                        let mut r = [0f32; 8];
                        x86::cube_root_row(hw, &[a + b; 8], &mut r);
                        r[0]
                    }
                    _ => (a + b).sqrt().sqrt(),
                };
                let on_midpoint = r.to_bits() & 0x1FFF == 0x1000;
                wrong_side += usize::from(nearest_f16(f64::from(r)) != want && !on_midpoint);
            }
            assert!(wrong_side > 15, "p{p}: float32 off the midpoint wrongly {wrong_side} times");
        }
    }

    /// [`norm_row`] on sums of [`near_midpoint_windows`] and of random
    /// float16 windows of one to nine cells (every magnitude, ±0, ±inf,
    /// NaN, subnormals), each summed in float32 in its cells' order (any
    /// order is allowed), at every length around a vector, with the
    /// reference as `exact`. The roots of chunks it settles must match
    /// the reference too, and `exact` must be asked for whole chunks.
    #[test]
    fn norm_row_settles_or_asks() {
        let Some(hw) = F16c::detect() else {
            assert!(!has_hw());
            return;
        };
        let mut next = crate::ops::xorshift(0x510E_527F_ADE6_82D1);
        let specials = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF];
        for (p, norm) in NORMS {
            let mut windows = near_midpoint_windows(p, 2000, 0x9B05_688C_2B3E_6C1F);
            for _ in 0..2000 {
                let cells = 1 + next() as usize % 9;
                windows.push(
                    (0..cells)
                        .map(|_| match next() % 6 {
                            0 => specials[(next() % 7) as usize],
                            1 | 2 => crate::ops::finite_f16(next() as u16),
                            _ => f16::from_f32((next() % 200) as f32 - 100.0).to_bits(),
                        })
                        .collect(),
                );
            }
            let want: Vec<u16> =
                windows.iter().map(|w| norm_reference(w.iter().copied(), p)).collect();
            let sums: Vec<f32> =
                windows.iter().map(|w| w.iter().map(|&h| norm_term(h, p)).sum()).collect();
            for len in (0..20).chain([windows.len()]) {
                let mut got = vec![0x5555u16; len];
                let exact = |at: usize, chunk: &mut [u16]| {
                    assert!(at.is_multiple_of(8) && (chunk.len() == 8 || at + chunk.len() == len));
                    chunk.copy_from_slice(&want[at..][..chunk.len()]);
                };
                norm_row(hw, &sums[..len], 9, norm, &mut got, exact);
                for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let same = g == w || (w == 0x7E00 && g & 0x7FFF > 0x7C00);
                    assert!(same, "p{p} length {len} at {i}: {g:#06x}, want {w:#06x}");
                }
            }
        }
    }
}
