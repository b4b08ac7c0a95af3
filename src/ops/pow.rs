//! `x^p` for the Lp norm, written so a loop of it vectorises.
//!
//! `f64::powf` is a call into the platform's libm per cell: about 20 ns,
//! fifty times the rest of an Lp fold, and no loop around it vectorises.
//! [`pow`] is `exp(p · ln x)` in the table-driven form of musl's and ARM's
//! optimized-routines `log` and `exp`: `ln` of `x = 2^k · z` is
//! `k · ln 2 + ln c + ln(1 + r)` with `c` the centre of one of 128 pieces
//! of `z`'s range and `r = (z - c) / c` below 2^-7.9 (`z - c` is exact, so
//! `r` has a relative error of an ulp or two, with or without fused
//! multiply-adds), so a short polynomial serves; `exp(y)` is
//! `2^(j/128) · 2^e · exp(r)` with `|r| ≤ ln 2 / 256`.
//! No division, no branch: a loop of it vectorises, with the table reads
//! as element loads. Its relative error is a few units in the last place
//! of an f64 times `|p · ln x|` (about 1e-13 at worst over the range it is
//! used for), far below the precision of the float32 and float16 outputs
//! it serves; float64 outputs keep `powf` (see [`fast_pow_for`]).
//!
//! The tables are built at compile time by fdlibm's (Sun Microsystems,
//! freely redistributable) `log` and `exp`, so they are the same bits on
//! every platform, whatever its libm. Against those fdlibm functions run
//! per value (the form before the tables: two divisions and longer
//! polynomials), a row of float32 powers takes 3.3-3.6 ns per value
//! rather than 4.7 on AVX2 with FMA (Zen 3). AVX2 gathers of the tables
//! were no faster than the element loads (4.6 ns).
//!
//! No crate does this on stable Rust: `sleef` builds on `std::simd`,
//! which is nightly-only, and `wide` picks its instruction set when it is
//! compiled, not at run time as [`vectorised!`](super) kernels do.

// fdlibm's constants digit for digit as published, so they can be checked
// against it; the extra digits round to the same f64.
#![allow(clippy::excessive_precision)]

/// ln 2 split so `k · LN2_HI` is exact for the `k` of an f64 exponent,
/// and for `k < 2^18` at a 128th of it.
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// 2^54: subnormal arguments of [`ln`] and [`cube_roots`] are scaled by it into
/// the normal range.
const TWO_54: f64 = 18_014_398_509_481_984.0;

/// Bits of the table indices.
const BITS: u32 = 7;
/// Entries per table.
const N: usize = 1 << BITS;
/// `ln` reduces `x` to `z` in `[OFF, 2·OFF)` (about `[0.706, 1.412)`,
/// musl's choice), whose top mantissa bits index [`LOG_TABLE`].
const OFF: u64 = 0x3fe6_9555_0000_0000;

/// `(c, 1/c, ln c)` for the centre `c` of each of the `N` pieces of `z`.
static LOG_TABLE: [[f64; 3]; N] = log_table();
/// `2^(j/N)`.
static EXP2_TABLE: [f64; N] = exp2_table();

/// Whether Lp pooling with power `p` into outputs of `out_bytes` bytes
/// each uses [`pow`]: float32 and float16 outputs (an f64 error of 1e-13
/// cannot show in them), and powers whose `p · ln x` and `ln(s) / p` stay
/// far inside the f64 exponent range.
pub fn fast_pow_for(p: f64, out_bytes: usize) -> bool {
    out_bytes <= 4 && (1.0 / 64.0..=64.0).contains(&p)
}

/// `x^p` for `x ≥ 0` or NaN and `p` in `[1/64, 64]`: `0^p = 0`,
/// `inf^p = inf`, `NaN^p = NaN`, subnormal `x` and results included.
#[inline(always)]
pub fn pow(x: f64, p: f64) -> f64 {
    raise::<false>(x, scaled_ln::<false>(x, p, true))
}

/// Values per block of [`powers`] and [`roots`].
const BLOCK: usize = 64;

vectorised! {
/// `dst[i] = |src[i]|^p` (as [`pow`]) for a row.
///
/// In blocks, `p · ln x` of a block and then `exp` of it: a loop of the
/// whole of `pow` has so many instructions that the processor overlaps
/// hardly two of its iterations (with the fdlibm form, one loop 7.8 ns per
/// value, two 5.9 on AVX2), and with fused multiply-adds where the CPU
/// has them.
pub fn powers<T: super::Element>(src: &[T], dst: &mut [f64], p: f64) {
    const FMA: bool = fused!();
    // Only float64 has values subnormal as f64 (float32, float16 and the
    // integers widen to normal numbers or zero).
    let sub = T::DTYPE == crate::npy::DType::F64;
    for (s, d) in src.chunks(BLOCK).zip(dst.chunks_mut(BLOCK)) {
        for (&x, y) in s.iter().zip(d.iter_mut()) {
            *y = scaled_ln::<FMA>(x.to_f64().abs(), p, sub);
        }
        for (&x, y) in s.iter().zip(d.iter_mut()) {
            *y = raise::<FMA>(x.to_f64().abs(), *y);
        }
    }
}
}

vectorised! {
/// `out[i] = acc[i]^(1/p)` (as [`pow`]) for sums `acc ≥ 0` or NaN, in
/// blocks as [`powers`].
pub fn roots<M: super::Element>(acc: &[f64], out: &mut [M], p: f64) {
    const FMA: bool = fused!();
    let root = 1.0 / p;
    let mut y = [0f64; BLOCK];
    for (a, o) in acc.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
        for (&s, y) in a.iter().zip(y.iter_mut()) {
            *y = scaled_ln::<FMA>(s, root, true);
        }
        for ((&s, &y), o) in a.iter().zip(&y).zip(o.iter_mut()) {
            *o = M::from_f64(raise::<FMA>(s, y));
        }
    }
}
}

vectorised! {
/// `out[i] = acc[i]^(1/3)` for sums `acc ≥ 0` or NaN, within two ulps of
/// the float64 root before the outputs round: the roots of Lp with p = 3,
/// one per output, which [`roots`] took 2.6 ns each and made float32 Lp
/// p=3 at 2x2/2 cost three times max pooling.
///
/// `0`, `inf` and NaN are kept, subnormal sums included. No division and
/// no branch, so the loops vectorise: `r = s^(-1/3)` from a guess on the
/// bits (`cbrt_guess`) by two third-order steps (`cbrt_step`: the
/// error ε becomes about 5ε³ each step, 3.5% -> 2e-4 -> 4e-11), then
/// `c = s·r²` and one Newton step on `c` itself, which squares its error
/// again (to about 1e-20, far below an ulp; `cbrt_finish`).
///
/// In blocks, each stage over a block before the next, as [`powers`]: a
/// loop of the whole root is one chain of some thirty dependent
/// operations per lane, and the processor overlapped too few of them
/// (2.9 ns per value in a model on AVX2 with FMA, Zen 3, with three
/// Newton steps and an integer division for the guess; 2.0 this way).
pub fn cube_roots<M: super::Element>(acc: &[f64], out: &mut [M]) {
    const FMA: bool = fused!();
    in_stages(acc, out, cbrt_guess::<FMA>, cbrt_step::<FMA>, cbrt_finish::<FMA>);
}
}

/// The roots of [`cube_roots`] and [`fourth_roots`] a block at a time,
/// each stage over the block before the next: `guess` gives each sum `s`
/// its scaled value `x` and first guess `r`, `step` improves `r` twice,
/// and `finish(s, x, r)` is the root. Inlined into each caller's
/// [`vectorised!`](super) clone.
#[inline(always)]
fn in_stages<M: super::Element>(
    acc: &[f64],
    out: &mut [M],
    guess: impl Fn(f64) -> (f64, f64),
    step: impl Fn(f64, f64) -> f64,
    finish: impl Fn(f64, f64, f64) -> f64,
) {
    let mut x = [0f64; BLOCK];
    let mut r = [0f64; BLOCK];
    for (a, o) in acc.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
        let (x, r) = (&mut x[..a.len()], &mut r[..a.len()]);
        for ((&s, x), r) in a.iter().zip(x.iter_mut()).zip(r.iter_mut()) {
            (*x, *r) = guess(s);
        }
        for _ in 0..2 {
            for (&x, r) in x.iter().zip(r.iter_mut()) {
                *r = step(x, *r);
            }
        }
        for (((&s, &x), &r), o) in a.iter().zip(x.iter()).zip(r.iter()).zip(o.iter_mut()) {
            *o = M::from_f64(finish(s, x, r));
        }
    }
}

vectorised! {
/// `out[i] = acc[i]^(1/4)` for sums `acc ≥ 0` or NaN, within two ulps of
/// two float64 square roots (each within an ulp of the root) before the
/// outputs round: the roots of Lp with p = 4
/// for float32 outputs on AVX-512, where two float64 square roots per
/// output (`vsqrtpd`) took 1.9-2.0 ns each in a standalone model and
/// this 0.85-0.88 (1.67 and 1.11 with AVX2 there, an AVX-512 Xeon VM; on
/// a Zen 3 VM two square roots took 1.43 ns, so other instruction sets
/// keep them).
///
/// `0`, `inf` and NaN are kept, subnormal sums included. No division and
/// no branch, as [`cube_roots`]: `r = s^(-1/4)` from a guess on the bits
/// (`root4_guess`, within 3.2%) by two third-order steps (`root4_step`:
/// the error falls to about 1e-4 and then 1e-11), then `c = s·r³` and
/// one Newton step on `c` itself (`root4_finish`), which squares its
/// error again. In blocks, each stage over a block before the next
/// (`in_stages`).
pub fn fourth_roots<M: super::Element>(acc: &[f64], out: &mut [M]) {
    const FMA: bool = fused!();
    in_stages(acc, out, root4_guess, root4_step::<FMA>, root4_finish::<FMA>);
}
}

/// The inverse fourth root's first guess on the high word of the bits:
/// `K − hi/4` is within 3.2% of `x^(-1/4)` for every normal `x` (the
/// constant that minimises the worst error, found by search).
const ROOT4_K: u64 = 0x4feb_0c00;

/// 2^56, a power of 2^4: subnormal sums are scaled by it into the normal
/// range, and their roots back by 2^-14.
const TWO_56: f64 = 72_057_594_037_927_936.0;

/// The first stage of [`fourth_roots`]: `s` scaled into the normal range
/// and the guess of `s^(-1/4)`. `hi/4` is below 2^29 for every `x ≥ 0`
/// and NaN with a clear sign bit, so `K − hi/4` does not wrap; the guess
/// is garbage (but no fault) for the special values, which
/// `root4_finish` replaces.
#[inline(always)]
fn root4_guess(s: f64) -> (f64, f64) {
    let x = if s < f64::MIN_POSITIVE { s * TWO_56 } else { s };
    (x, f64::from_bits((ROOT4_K - (x.to_bits() >> 34)) << 32))
}

/// `r·(1 + e/4 + 5e²/32)` with `e = 1 − x·r⁴`: a third-order step towards
/// `x^(-1/4)` (the series of `(1 − e)^(-1/4)` to `e²`).
#[inline(always)]
fn root4_step<const F: bool>(x: f64, r: f64) -> f64 {
    let r2 = r * r;
    let e = madd::<F>(-x * r2, r2, 1.0);
    madd::<F>(r * e, madd::<F>(e, 5.0 / 32.0, 0.25), r)
}

/// The last stage of [`fourth_roots`]: `c = x·r³`, one Newton step on `c`
/// (`c -= (c⁴ − x) / (4c³)`, with `1/c³ = r³`), scaled back if `s` was
/// subnormal, and `s` itself for 0, inf and NaN.
#[inline(always)]
fn root4_finish<const F: bool>(s: f64, x: f64, r: f64) -> f64 {
    let r3 = r * r * r;
    let c = x * r3;
    let c2 = c * c;
    let c = madd::<F>(-madd::<F>(c2, c2, -x), r3 * 0.25, c);
    let c = if s < f64::MIN_POSITIVE { c * (1.0 / 16_384.0) } else { c }; // 2^-14
    if s == 0.0 || !s.is_finite() { s } else { c }
}

/// The inverse cube root's first guess, on the high word of the bits:
/// `K − hi/3` is within 3.5% of `x^(-1/3)` for every normal `x` (the
/// constant that minimises the worst error, found by search).
const CBRT_K: u32 = 0x553e_f0fc;

/// `2^52 + K`: `hi · (-1/3) + CBRT_GUESS` holds `K − hi/3`, rounded to a
/// whole number, in its low mantissa bits (it lies in `(0, 2^31)`).
const CBRT_GUESS: f64 = 4_503_599_627_370_496.0 + CBRT_K as f64;

/// The first stage of [`cube_roots`]: `s` scaled into the normal range (by
/// 2^54 if subnormal, 2^18 off the root) and the guess of `s^(-1/3)`.
/// `K − hi/3` is worked out in floating point: the division of the high
/// words by three was ten instructions on AVX2 (there is no 32-bit
/// multiply-high), this is a conversion, a multiply-add and a shift.
#[inline(always)]
fn cbrt_guess<const F: bool>(s: f64) -> (f64, f64) {
    let x = if s < f64::MIN_POSITIVE { s * TWO_54 } else { s };
    // Below 2^31 for every x ≥ 0 and NaN with a clear sign bit; the
    // guess is garbage (but no fault) for the special values, which
    // `cbrt_finish` replaces.
    let hi = (x.to_bits() >> 32) as u32 as i32;
    let t = madd::<F>(f64::from(hi), -1.0 / 3.0, CBRT_GUESS);
    (x, f64::from_bits(t.to_bits() << 32))
}

/// `r·(1 + e/3 + 2e²/9)` with `e = 1 − x·r³`: a third-order step towards
/// `x^(-1/3)` (the series of `(1 − e)^(-1/3)` to `e²`).
#[inline(always)]
fn cbrt_step<const F: bool>(x: f64, r: f64) -> f64 {
    let e = madd::<F>(-x, r * r * r, 1.0);
    madd::<F>(r * e, madd::<F>(e, 2.0 / 9.0, 1.0 / 3.0), r)
}

/// The last stage of [`cube_roots`]: `c = x·r²`, one Newton step on `c`,
/// scaled back if `s` was subnormal, and `s` itself for 0, inf and NaN.
#[inline(always)]
fn cbrt_finish<const F: bool>(s: f64, x: f64, r: f64) -> f64 {
    let c = x * r * r;
    // c -= (c³ − x) / (3c²), with 1/c² = r².
    let c = madd::<F>(-madd::<F>(c * c, c, -x), r * r * (1.0 / 3.0), c);
    let c = if s < f64::MIN_POSITIVE { c * (1.0 / 262_144.0) } else { c }; // 2^-18
    if s == 0.0 || !s.is_finite() { s } else { c }
}

/// `a · b + c`, fused (one rounding) if `F`: as written otherwise.
#[inline(always)]
fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// `p · ln x` clamped to `[-800, 800]`: past ±800 `exp` is 0 or inf
/// anyway, and clamping keeps its scaling exponents in range for garbage
/// lanes (inf, NaN) too. `sub`: `x` may be subnormal.
///
/// 0 for `x = 0`, whose power [`raise`] sets to 0 anyway: its garbage
/// logarithm (about -709) made `exp` underflow, and the CPU's slow path
/// for results below the normal range made every zero cost as much as
/// two other values (float32 rows of powers with half their values 0,
/// as ReLU leaves them: 5.9 ns per value against 3.9 without zeros,
/// AVX2 with FMA, Zen 3; 3.7 with this).
#[inline(always)]
fn scaled_ln<const F: bool>(x: f64, p: f64, sub: bool) -> f64 {
    let y = (p * ln::<F>(x, sub)).clamp(-800.0, 800.0);
    if x == 0.0 { 0.0 } else { y }
}

/// `x^p` from `y = p · ln x` ([`scaled_ln`]), `x`'s special values
/// (0, inf, NaN) kept.
#[inline(always)]
fn raise<const F: bool>(x: f64, y: f64) -> f64 {
    let r = exp::<F>(y);
    let r = if x == 0.0 { 0.0 } else { r };
    let r = if x == f64::INFINITY { f64::INFINITY } else { r };
    if x.is_nan() { x } else { r }
}

/// Natural logarithm of a positive finite `x` (subnormal only if `sub`):
/// any value for other `x`.
#[inline(always)]
fn ln<const F: bool>(x: f64, sub: bool) -> f64 {
    // Subnormals are scaled into the normal range first.
    let tiny = sub && x < f64::MIN_POSITIVE;
    let x = if tiny { x * TWO_54 } else { x };
    let bias: i64 = if tiny { -54 } else { 0 };
    // x = 2^k · z, z in [OFF, 2·OFF); the piece of z's range is the top
    // BITS bits of its mantissa.
    let ix = x.to_bits();
    let tmp = ix.wrapping_sub(OFF);
    let [c, inv_c, ln_c] = LOG_TABLE[(tmp >> (52 - BITS)) as usize % N];
    let k = ((tmp as i64) >> 52) + bias;
    let z = f64::from_bits(ix.wrapping_sub(tmp & (0xfff << 52)));
    // ln z = ln c + ln(1 + r), |r| < 2^-7.9: ln(1 + r) to r^6 (the next
    // term is under 3e-18).
    let r = (z - c) * inv_c;
    let rr = r * r;
    let q = madd::<F>(r, -1.0 / 6.0, 1.0 / 5.0);
    let q = madd::<F>(rr, q, madd::<F>(r, -1.0 / 4.0, 1.0 / 3.0));
    let q = madd::<F>(r, q, -0.5);
    let kd = k as f64;
    let hi = madd::<F>(kd, LN2_HI, ln_c);
    let lo = madd::<F>(kd, LN2_LO, rr * q);
    hi + (r + lo)
}

/// `e^y` for `y` in `[-800, 800]`: 0 below about -745, inf above about
/// 709.78, subnormal results rounded once.
#[inline(always)]
fn exp<const F: bool>(y: f64) -> f64 {
    // kk = round(y · N / ln 2), to nearest even, by the 1.5·2^52 trick:
    // its low bits are kk itself, so no float-to-integer conversion is
    // needed. y = (kk / N) · ln 2 + r, |r| ≤ ln 2 / 2N.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let t = madd::<F>(y, N as f64 / std::f64::consts::LN_2, SHIFT);
    let kk = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let kd = t - SHIFT;
    let r = madd::<F>(-kd, LN2_HI / N as f64, y);
    let r = madd::<F>(-kd, LN2_LO / N as f64, r);
    // e^r - 1 to r^5 (the next term is under 6e-19).
    let rr = r * r;
    let q = madd::<F>(r, 1.0 / 120.0, 1.0 / 24.0);
    let q = madd::<F>(rr, q, madd::<F>(r, 1.0 / 6.0, 0.5));
    let e1 = madd::<F>(rr, q, r);
    let s = EXP2_TABLE[kk as usize % N];
    let m = madd::<F>(s, e1, s);
    // 2^(kk >> BITS) as two factors, each a normal number for the
    // |kk| ≤ 147,800 of |y| ≤ 800, so a subnormal result is rounded
    // once, by the last product.
    let e = kk >> BITS;
    let e1 = e >> 1;
    m * two(e1) * two(e - e1)
}

/// `2^n` for `n` in the normal exponent range.
#[inline(always)]
const fn two(n: i64) -> f64 {
    f64::from_bits(((n + 0x3ff) as u64) << 52)
}

/// [`LOG_TABLE`]: `c` the midpoint of its piece (exact, but for the piece
/// across 1), `1/c` rounded, `ln c`.
const fn log_table() -> [[f64; 3]; N] {
    let mut t = [[0.0; 3]; N];
    let mut i = 0;
    while i < N {
        let lo = f64::from_bits(OFF + ((i as u64) << (52 - BITS)));
        let hi = f64::from_bits(OFF + ((i as u64 + 1) << (52 - BITS)));
        let c = 0.5 * (lo + hi);
        t[i] = [c, 1.0 / c, fdlibm_ln(c)];
        i += 1;
    }
    t
}

/// [`EXP2_TABLE`]: `2^(j/N) = e^(j · ln 2 / N)`, with `ln 2 / N` in two
/// parts so the argument is exact to well below an ulp of the result.
const fn exp2_table() -> [f64; N] {
    let mut t = [0.0; N];
    let mut j = 0;
    while j < N {
        t[j] = fdlibm_exp(j as f64 * (LN2_HI / N as f64), j as f64 * (LN2_LO / N as f64));
        j += 1;
    }
    t
}

/// Natural logarithm of a positive normal `x` (fdlibm `e_log.c`, the
/// argument reduction as in musl); for the tables.
const fn fdlibm_ln(x: f64) -> f64 {
    const LG1: f64 = 6.666_666_666_666_735_130e-01;
    const LG2: f64 = 3.999_999_999_940_941_908e-01;
    const LG3: f64 = 2.857_142_874_366_239_149e-01;
    const LG4: f64 = 2.222_219_843_214_978_396e-01;
    const LG5: f64 = 1.818_357_216_161_805_012e-01;
    const LG6: f64 = 1.531_383_769_920_937_332e-01;
    const LG7: f64 = 1.479_819_860_511_658_591e-01;
    // x = 2^k · (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)).
    let ix = x.to_bits();
    let hx = ((ix >> 32) as u32).wrapping_add(0x3ff0_0000 - 0x3fe6_a09e);
    let k = (hx >> 20) as i64 - 0x3ff;
    let hx = (hx & 0x000f_ffff).wrapping_add(0x3fe6_a09e);
    let f = f64::from_bits(((hx as u64) << 32) | (ix & 0xffff_ffff)) - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = k as f64;
    dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
}

/// `e^(hi + lo)` for `|hi| < ln 2 / 2`, `lo` tiny (fdlibm `e_exp.c`'s
/// kernel, its argument already reduced); for the tables.
const fn fdlibm_exp(hi: f64, lo: f64) -> f64 {
    const P1: f64 = 1.666_666_666_666_660_190_37e-01;
    const P2: f64 = -2.777_777_777_701_559_338_42e-03;
    const P3: f64 = 6.613_756_321_437_934_361_17e-05;
    const P4: f64 = -1.653_390_220_546_525_153_90e-06;
    const P5: f64 = 4.138_136_797_057_238_460_39e-08;
    // e^x = 2^k · e^r, r = x - k · ln 2 as hi - lo.
    let x = hi + lo;
    let k = if x > 0.5 * std::f64::consts::LN_2 { 1 } else { 0 };
    let hi = hi - k as f64 * LN2_HI;
    let lo = k as f64 * LN2_LO - lo;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let e = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    e * two(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile-time tables against libm: `c` inside its piece, `1/c`
    /// rounded once, `ln c` and `2^(j/N)` within an ulp.
    #[test]
    fn tables_agree_with_libm() {
        for (i, &[c, inv_c, ln_c]) in LOG_TABLE.iter().enumerate() {
            let lo = f64::from_bits(OFF + ((i as u64) << (52 - BITS)));
            let hi = f64::from_bits(OFF + ((i as u64 + 1) << (52 - BITS)));
            assert!(lo < c && c < hi, "piece {i}");
            assert_eq!(inv_c, 1.0 / c);
            let want = c.ln();
            assert!(
                (ln_c - want).abs() <= want.abs() * f64::EPSILON,
                "ln c {i}: {ln_c:e} {want:e}"
            );
        }
        for (j, &s) in EXP2_TABLE.iter().enumerate() {
            let want = (j as f64 / N as f64).exp2();
            assert!((s - want).abs() <= want * f64::EPSILON, "2^({j}/N): {s:e} {want:e}");
        }
        assert_eq!(EXP2_TABLE[0], 1.0);
    }

    /// Relative distance of `got` from libm's `want`, in units of f64
    /// epsilon; 0 where both are the same special value.
    fn ulps(got: f64, want: f64) -> f64 {
        if got == want || (got.is_nan() && want.is_nan()) {
            return 0.0;
        }
        if want == 0.0 || !want.is_finite() || !got.is_finite() {
            return f64::INFINITY;
        }
        // Below the normal range one ulp is the smallest subnormal.
        let unit = (want.abs() * f64::EPSILON).max(f64::from_bits(1));
        (got - want).abs() / unit
    }

    /// Checks `got[i]` against libm's `xs[i].powf(p)`: the error stays
    /// within two ulps times `1 + |p · ln x|`, as exp's argument error
    /// grows with it; results libm itself flushes or overflows are
    /// compared as values. Returns the worst error over that budget.
    fn check_against_libm(what: &str, xs: &[f64], got: &[f64], p: f64) -> f64 {
        assert_eq!(xs.len(), got.len());
        let mut worst = 0f64;
        for (&x, &got) in xs.iter().zip(got) {
            let want = x.powf(p);
            let e = ulps(got, want);
            if e == 0.0 {
                continue;
            }
            let subnormal = want != 0.0 && want.abs() < f64::MIN_POSITIVE;
            if subnormal {
                // One rounding at the subnormal step.
                assert!((got - want).abs() <= want.abs() * 1e-12 + f64::from_bits(1));
                continue;
            }
            let scale = 1.0 + (p * x.ln()).abs();
            assert!(e <= 2.0 * scale, "{what}({x:e}, {p}) = {got:e}, libm {want:e}");
            worst = worst.max(e / scale);
        }
        worst
    }

    /// Against libm over values spread through the whole f64 range
    /// (subnormals, every binade, near 1) and the powers Lp uses, for
    /// [`pow`], the row form [`powers`] (fused multiply-adds where the
    /// CPU has them) and [`roots`] (which raise to `1/p`); under one
    /// ulp times the budget measured.
    #[test]
    fn pow_agrees_with_libm() {
        let ps = [1.0 / 64.0, 0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 1.5, 2.5, 3.0, 4.0, 7.0, 64.0];
        let mut xs = vec![];
        for i in 0..200_000u64 {
            // A multiplicative hash spreads the bits over every exponent.
            let bits = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1;
            xs.push(f64::from_bits(bits));
            xs.push(1.0 + (i as f64 - 100_000.0) * 1e-9);
        }
        xs.extend([f64::from_bits(1), f64::MIN_POSITIVE, f64::MAX, 1.0, 2.0, 0.5]);
        let mut worst = 0f64;
        let mut got = vec![0f64; xs.len()];
        for &p in &ps {
            let scalar: Vec<f64> = xs.iter().map(|&x| pow(x, p)).collect();
            worst = worst.max(check_against_libm("pow", &xs, &scalar, p));
            powers(&xs, &mut got, p);
            worst = worst.max(check_against_libm("powers", &xs, &got, p));
            roots(&xs, &mut got, p);
            worst = worst.max(check_against_libm("roots", &xs, &got, 1.0 / p));
        }
        assert!(worst > 0.0, "the comparison ran");
    }

    /// Zeros, whose logarithms [`scaled_ln`] sets to 0, beside other
    /// values in the same blocks and vectors: powers and roots of zero are
    /// +0, and the others as libm's.
    #[test]
    fn zeros_beside_other_values() {
        let src: Vec<f32> = (0..3 * BLOCK + 5)
            .map(|i| if i % 3 == 0 { if i % 2 == 0 { 0.0 } else { -0.0 } } else { i as f32 * 0.75 })
            .collect();
        for p in [1.0 / 64.0, 0.5, 1.5, 2.5, 64.0] {
            let mut pw = vec![f64::NAN; src.len()];
            powers(&src, &mut pw, p);
            let mut rt = vec![f64::NAN; src.len()];
            roots(&pw, &mut rt, p);
            for ((&x, &y), &r) in src.iter().zip(&pw).zip(&rt) {
                let x = f64::from(x);
                if x == 0.0 {
                    assert_eq!((y.to_bits(), r.to_bits()), (0, 0), "0^{p}, its root");
                } else {
                    let want = x.powf(p);
                    assert!(ulps(y, want) <= 2.0 * (1.0 + (p * x.ln()).abs()), "{x}^{p} = {y:e}");
                    let budget = 2.0 * (1.0 + (y.ln() / p).abs());
                    assert!(ulps(r, y.powf(1.0 / p)) <= budget, "({y:e})^(1/{p}) = {r:e}");
                }
            }
        }
    }

    /// The row form takes absolute values and keeps the special values
    /// of [`pow`], for float32 rows of every length around a block.
    #[test]
    fn powers_of_float32_rows() {
        for len in [0, 1, 5, BLOCK - 1, BLOCK, BLOCK + 3, 3 * BLOCK] {
            let src: Vec<f32> = (0..len)
                .map(|i| match i % 6 {
                    0 => -0.0,
                    1 => f32::NEG_INFINITY,
                    2 => f32::NAN,
                    3 => -(i as f32) * 0.37,
                    4 => f32::from_bits(1),
                    _ => i as f32 * 1.5,
                })
                .collect();
            let mut dst = vec![f64::NAN; len];
            powers(&src, &mut dst, 1.5);
            for (&x, &y) in src.iter().zip(&dst) {
                let want = f64::from(x).abs().powf(1.5);
                if want.is_nan() {
                    assert!(y.is_nan(), "|{x}|^1.5 = {y}");
                } else {
                    let budget = 2.0 * (1.0 + (1.5 * f64::from(x).abs().ln()).abs());
                    assert!(ulps(y, want) <= budget, "|{x:e}|^1.5 = {y:e}, libm {want:e}");
                }
            }
        }
    }

    /// [`cube_roots`] against libm's `cbrt` within two ulps, over values
    /// spread through the whole f64 range (subnormals, every binade, near
    /// 1 and near each power of two) and the special values.
    #[test]
    fn cube_roots_agree_with_libm() {
        let xs = spread(&[1.0, 8.0, 27.0, 0.125, 1e-300, 3e300]);
        roots_agree(&xs, "cbrt", cube_roots, cube_roots, f64::cbrt);
    }

    /// Values spread through the whole f64 range (subnormals, every
    /// binade, near 1 and near each power of two): 0, inf, NaN, the
    /// largest, the smallest normal and the smallest subnormal first, then
    /// `more`, then the spread.
    fn spread(more: &[f64]) -> Vec<f64> {
        let mut xs = vec![0.0, f64::INFINITY, f64::NAN, f64::MAX, f64::MIN_POSITIVE];
        xs.push(f64::from_bits(1));
        xs.extend(more);
        for i in 0..400_000u64 {
            xs.push(f64::from_bits(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1));
            xs.push(1.0 + (i as f64 - 200_000.0) * 1e-9);
            let two = f64::from_bits((i % 2046 + 1) << 52);
            xs.push(two * (1.0 + (i % 7) as f64 * f64::EPSILON));
        }
        xs
    }

    /// Roots of `xs` by `root` (float64 outputs) and `root32` (float32)
    /// within two ulps of `want`, 0, inf and NaN kept, and the float32
    /// outputs rounded once from the float64 roots. Returns the float64
    /// roots.
    fn roots_agree(
        xs: &[f64],
        name: &str,
        root: impl Fn(&[f64], &mut [f64]),
        root32: impl Fn(&[f64], &mut [f32]),
        want: impl Fn(f64) -> f64,
    ) -> Vec<f64> {
        let mut got = vec![0f64; xs.len()];
        root(xs, &mut got);
        let mut worst = 0f64;
        for (&x, &y) in xs.iter().zip(&got) {
            let want = want(x);
            let e = ulps(y, want);
            assert!(e <= 2.0, "{name}({x:e}) = {y:e}, want {want:e} ({e} ulps)");
            worst = worst.max(e);
        }
        assert!(worst > 0.0, "the comparison ran");
        assert_eq!(got[0].to_bits(), 0f64.to_bits());
        assert_eq!(got[1], f64::INFINITY);
        assert!(got[2].is_nan());
        let mut out32 = vec![0f32; xs.len()];
        root32(xs, &mut out32);
        for (&y, &o) in got.iter().zip(&out32) {
            assert_eq!(o.to_bits(), (y as f32).to_bits());
        }
        got
    }

    /// [`fourth_roots`] against two square roots within two ulps (each
    /// within an ulp of the root), over values spread through the whole
    /// f64 range and the special values; float32 outputs round once from
    /// the float64 root, and on sums of fourth powers of float32 values
    /// they are the float32 roundings of the two square roots.
    #[test]
    fn fourth_roots_agree_with_square_roots() {
        let xs = spread(&[f64::from_bits(0x000f_ffff_ffff_ffff), 1.0, 16.0, 1e-300]);
        let want = |x: f64| x.sqrt().sqrt();
        let got = roots_agree(&xs, "root4", fourth_roots, fourth_roots, want);
        assert_eq!(got[8], 2.0);
        // Windows of nine float32 values with two decimals.
        let sums: Vec<f64> = (0..200_000u64)
            .map(|i| {
                let v = |t: u64| {
                    let h = (i * 9 + t).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                    f64::from((h % 20_001) as f32 / 100.0 - 100.0)
                };
                (0..9).map(|t| v(t).powi(4)).sum()
            })
            .collect();
        let mut out32 = vec![0f32; sums.len()];
        fourth_roots(&sums, &mut out32);
        for (&s, &o) in sums.iter().zip(&out32) {
            assert_eq!(o.to_bits(), (s.sqrt().sqrt() as f32).to_bits(), "root4({s:e})");
        }
    }

    #[test]
    fn pow_specials() {
        for p in [1.0 / 64.0, 0.5, 3.0, 64.0] {
            assert_eq!(pow(0.0, p).to_bits(), 0f64.to_bits());
            assert_eq!(pow(f64::INFINITY, p), f64::INFINITY);
            assert!(pow(f64::NAN, p).is_nan());
            assert_eq!(pow(1.0, p), 1.0);
        }
        // Overflow and underflow as libm.
        assert_eq!(pow(1e300, 64.0), f64::INFINITY);
        assert_eq!(pow(1e-300, 64.0), 0.0);
    }
}
