//! `x^q` for the Lp norm, written so a loop of it vectorises.
//!
//! `f64::powf` is a call into the platform's libm per cell: about 20 ns,
//! fifty times the rest of an Lp fold, and no loop around it vectorises.
//! A [`Power`] raises to one exponent `q` through tables made for it
//! once: `x = 2^k · m` with `m` in `[1, 2)`, and
//!
//! `x^q = (2^k)^q · c^q · (1 + t)^q`, `t = (m − c) / c`,
//!
//! with `c` the nearest of `1 + i/512`, so `|t| ≤ 2^-10` and a
//! polynomial of degree 5 (8 for `q` above 8.5) gives `(1 + t)^q`.
//! `(2^k)^q` and `c^q` are read from the tables, which libm made to
//! within about half an ulp (`(2^k)^q` as `2^(k·q)` with `k·q` split
//! exactly in two). `m − c` is exact, so the error is that of the
//! tables, the polynomial and two products: the tests bound it by three
//! ulps of libm's `powf` over the whole range, whatever `q` and `x`, and
//! measure 1.74 at worst (libm is within one of the power). Powers of
//! two, 1 among them, are the table's entries. No division and no
//! branch: a loop of it vectorises, with the table reads as gathers.
//!
//! It replaced `exp(q · ln x)` in the table-driven form of musl's `log`
//! and `exp`, whose error grew with `|q · ln x|` (about 1e-13 at worst;
//! it kept float64 outputs on `powf`) and which took 1.65 ns per value
//! with AVX-512 (a Xeon VM) and 3.0 with AVX2, against 0.80 and 1.47
//! this way (rows of float32 powers, standalone model).
//!
//! Lp pooling raises by it for every `p` in [`POWERS`] but 1 to 4, into
//! every output type: float64 outputs too, since it is within three ulps
//! as `powf` is within one, and `powf` took twenty times as long.
//!
//! No crate does this on stable Rust: `sleef` builds on `std::simd`,
//! which is nightly-only, and `wide` picks its instruction set when it is
//! compiled, not at run time as [`vectorised!`](super) kernels do.

use std::sync::{Arc, Mutex};

/// 2^54: subnormal arguments of [`Power`] and [`cube_roots`] are scaled by
/// it into the normal range.
const TWO_54: f64 = 18_014_398_509_481_984.0;

/// Bits of `m` that pick its piece of `[1, 2)`.
const PIECE_BITS: u32 = 9;
/// Pieces of `[1, 2)`: centres `c = 1 + i/PIECES`, each with its `1/c`
/// and `c^q`.
const PIECES: usize = 1 << PIECE_BITS;
/// Entries of [`Power::exps`]: one per biased exponent of `x`, plus 54
/// below them for subnormal `x` scaled by 2^54, rounded up so an index
/// clamped to it needs no bounds check.
const EXPS: usize = 2048 + 64;
/// Powers of two below `2^-958` are kept in [`Power::exps`] times
/// `2^LIFT`, so their products with `c^q · (1 + t)^q` stay normal and a
/// subnormal power is rounded once, when it is scaled back.
const LIFT: i32 = 600;
/// The exponent of `(2^k)^q` below which the entry is lifted.
const LIFT_BELOW: f64 = -958.0;

/// The exponents cnnops raises by [`Power`]: `[1/64, 64]`.
pub const POWERS: std::ops::RangeInclusive<f64> = 1.0 / 64.0..=64.0;

/// Raising to one power `q` through tables made for it (see the module).
pub struct Power {
    /// `(2^(i − 54 − 1023))^q` for index `i` (the biased exponent of `x`,
    /// plus 54 unless `x` is 0 or subnormal, which is scaled by 2^54);
    /// 0 below index 3, which only `x = 0` reads; times
    /// `2^LIFT` below `2^LIFT_BELOW`, 0 where even that is below the
    /// subnormal range, `inf` for `x = inf`.
    exps: Box<[f64; EXPS]>,
    /// The first index not lifted.
    lifted: usize,
    /// `(1/c, c^q)` for each centre `c = 1 + i/PIECES`, `i` from 0 to
    /// `PIECES`: `m` in `[1, 2)` lies within half a piece of one.
    pieces: Box<[[f64; 2]; PIECES + 1]>,
    /// `(1 + t)^q − 1 = t·(a1 + t·(a2 + ...))`: the binomial series.
    coefs: [f64; 8],
    /// Whether the series needs its terms past `t^5` (`q` above 8.5).
    long: bool,
}

impl Power {
    /// The tables for `x^q`, `q` in [`POWERS`] or its reciprocals
    /// (the same range). About 2,600 calls of libm; see [`Power::shared`].
    pub fn new(q: f64) -> Power {
        assert!(POWERS.contains(&q), "Power is for exponents in [1/64, 64], not {q}");
        let mut exps = Box::new([0.0; EXPS]);
        let mut lifted = 0;
        for (i, e) in exps.iter_mut().enumerate() {
            let k = i as i32 - 54 - 1023;
            if k < -1074 {
                continue; // 0 for x = 0; subnormal x index from 3 up.
            }
            // k·q = hi + lo exactly, and 2^(hi + lo) = 2^hi · (1 + lo·ln 2)
            // to far below an ulp; hi + LIFT is exact where it is added.
            let hi = f64::from(k) * q;
            let lo = f64::from(k).mul_add(q, -hi);
            let lift = if hi < LIFT_BELOW { LIFT } else { 0 };
            let v = (hi + f64::from(lift)).exp2();
            *e = if v.is_finite() { v.mul_add(lo * std::f64::consts::LN_2, v) } else { v };
            if lift == 0 && lifted == 0 {
                lifted = i;
            }
        }
        exps[2047 + 54..].fill(f64::INFINITY);
        let mut pieces = Box::new([[0.0; 2]; PIECES + 1]);
        for (i, piece) in pieces.iter_mut().enumerate() {
            let c = 1.0 + i as f64 / PIECES as f64;
            *piece = [1.0 / c, c.powf(q)];
        }
        let mut coefs = [0.0; 8];
        let mut a = 1.0;
        for (n, coef) in coefs.iter_mut().enumerate() {
            a *= (q - n as f64) / (n + 1) as f64;
            *coef = a;
        }
        let long = q > 8.5;
        if !long {
            coefs[5..].fill(0.0);
        }
        Power { exps, lifted, pieces, coefs, long }
    }

    /// The tables for `q`, made once per process and shared: Lp pooling
    /// asks for them for every band of planes.
    pub fn shared(q: f64) -> Arc<Power> {
        static MADE: Mutex<Vec<(u64, Arc<Power>)>> = Mutex::new(Vec::new());
        let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, power)) = made.iter().find(|(bits, _)| *bits == q.to_bits()) {
            return power.clone();
        }
        let power = Arc::new(Power::new(q));
        if made.len() == 16 {
            made.remove(0);
        }
        made.push((q.to_bits(), power.clone()));
        power
    }

    /// `x^q` for `x ≥ 0` (either zero), inf or NaN: `0^q = +0`, `inf^q = inf`,
    /// `NaN^q = NaN`, subnormal `x` and results included. Never fused, so
    /// the same bits on every CPU and as [`powers`] for float64 outputs.
    #[inline(always)]
    pub fn of(&self, x: f64) -> f64 {
        if self.long { self.raise::<false, 8>(x, true) } else { self.raise::<false, 5>(x, true) }
    }

    /// `x^q` as [`Power::of`], with fused multiply-adds if `F`, the series
    /// to `t^D` (5, or 8 where [`Power::long`]), and `x` subnormal only if
    /// `sub`.
    #[inline(always)]
    fn raise<const F: bool, const D: usize>(&self, x: f64, sub: bool) -> f64 {
        // Zero reads the entry 0, so its power is +0 from the tables
        // themselves: no product falls below the normal range, which
        // would take the CPU's slow path.
        let below = x < f64::MIN_POSITIVE;
        let scaled = if sub && below { x * TWO_54 } else { x };
        // The sign bit off: -0 is 0 (and in the powers, `abs` clears it
        // anyway).
        let bits = scaled.to_bits() & !(1 << 63);
        let exp = (bits >> 52) as usize + if below { 0 } else { 54 };
        let mantissa = bits & ((1 << 52) - 1);
        let m = f64::from_bits(1f64.to_bits() | mantissa);
        // The nearest centre c = 1 + i/PIECES (2 for the top half piece).
        let i = (mantissa + (1 << (51 - PIECE_BITS))) >> (52 - PIECE_BITS);
        let c = f64::from_bits(1f64.to_bits() + (i << (52 - PIECE_BITS)));
        let [inv_c, c_q] = self.pieces[(i as usize).min(PIECES)];
        let t = (m - c) * inv_c;
        let a = &self.coefs;
        let mut s = a[D - 1];
        for &a in a[..D - 1].iter().rev() {
            s = madd::<F>(t, s, a);
        }
        let s = t * s;
        // c^q·(1 + t)^q is finite and positive, so its product with an
        // infinite power of two is inf, not NaN.
        let r = madd::<F>(c_q, s, c_q) * self.exps[exp.min(EXPS - 1)];
        let r =
            if exp < self.lifted { r * f64::from_bits(((1023 - LIFT) as u64) << 52) } else { r };
        if x.is_nan() { x } else { r }
    }
}

/// `a · b + c`, fused (one rounding) if `F`: as written otherwise.
#[inline(always)]
fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// Values of a row [`powers`] raises while it asks for the next as many.
const AHEAD: usize = 512;

/// Values [`in_vectors`] rounds its rows' lengths to: a multiple of any
/// vector length times unroll count the compiler picks.
const ROUND: usize = 32;

/// `dst[i] = f(src[i])`, the last part of the row (under [`ROUND`]
/// values) padded with `pad` to [`ROUND`] in a scratch row, so every value
/// goes through the vectorised loop: the loop's scalar remainder took a
/// third of a row of 127 roots. Inlined into each caller's
/// [`vectorised!`](super) clone.
#[inline(always)]
fn in_vectors<S: Copy, D: Copy>(src: &[S], dst: &mut [D], pad: S, f: impl Fn(S) -> D) {
    let n = src.len().min(dst.len());
    let whole = n / ROUND * ROUND;
    for (&s, d) in src[..whole].iter().zip(&mut dst[..whole]) {
        *d = f(s);
    }
    if whole < n {
        let mut from = [pad; ROUND];
        from[..n - whole].copy_from_slice(&src[whole..n]);
        let mut to = [f(pad); ROUND];
        // A length the compiler cannot see, so the loop is the vectorised
        // one, not unrolled into scalar code.
        let len = std::hint::black_box(ROUND);
        for (&s, d) in from[..len].iter().zip(&mut to[..len]) {
            *d = f(s);
        }
        dst[whole..n].copy_from_slice(&to[..n - whole]);
    }
}

vectorised! {
/// `dst[i] = |src[i]|^q` for a row, as [`Power::of`]: the same bits
/// where the outputs are float64 (float64 and integer input), with fused
/// multiply-adds where the CPU has them otherwise. Lp pooling also raises
/// by [`Power::of`] tap by tap where it does not raise rows, and the
/// float64 sums of the same data must not depend on which; float32 and
/// float16 outputs round that last bit away (nearly always), and fusing
/// is a tenth faster.
pub fn powers<T: super::Element>(src: &[T], dst: &mut [f64], power: &Power) {
    const FMA: bool = fused!();
    let fuse = FMA && <T::Mean as super::Element>::DTYPE != crate::npy::DType::F64;
    // Only float64 has values subnormal as f64 (float32, float16 and the
    // integers widen to normal numbers or zero).
    let sub = T::DTYPE == crate::npy::DType::F64;
    let zero = T::ZERO;
    // The gathers leave the processor too few loads in flight to stream a
    // long row from memory: ask for the next block while raising this one.
    for (k, (s, d)) in src.chunks(AHEAD).zip(dst.chunks_mut(AHEAD)).enumerate() {
        let next = &src[((k + 1) * AHEAD).min(src.len())..];
        super::stream::prefetch(&next[..next.len().min(AHEAD)]);
        let abs = |x: T| x.to_f64().abs();
        match (power.long, fuse) {
            (true, true) => in_vectors(s, d, zero, |x| power.raise::<FMA, 8>(abs(x), sub)),
            (false, true) => in_vectors(s, d, zero, |x| power.raise::<FMA, 5>(abs(x), sub)),
            (true, false) => in_vectors(s, d, zero, |x| power.raise::<false, 8>(abs(x), sub)),
            (false, false) => in_vectors(s, d, zero, |x| power.raise::<false, 5>(abs(x), sub)),
        }
    }
}
}

vectorised! {
/// `out[i] = acc[i]^q` for sums `acc ≥ 0` or NaN, as [`Power::of`] but
/// with fused multiply-adds where the CPU has them (the same bounds, not
/// always the same last bit): the roots of Lp, with `power` made for
/// `q = 1/p`. Lp takes its roots only here, a row at a time, so every
/// layout gets the same roots of the same sums.
pub fn roots<M: super::Element>(acc: &[f64], out: &mut [M], power: &Power) {
    const FMA: bool = fused!();
    if power.long {
        in_vectors(acc, out, 0.0, |s| M::from_f64(power.raise::<FMA, 8>(s, true)));
    } else {
        in_vectors(acc, out, 0.0, |s| M::from_f64(power.raise::<FMA, 5>(s, true)));
    }
}
}

/// Values per block of [`cube_roots`] and [`fourth_roots`].
const BLOCK: usize = 64;

vectorised! {
/// `out[i] = acc[i]^(1/3)` for sums `acc ≥ 0` or NaN, within two ulps of
/// the float64 root before the outputs round: the roots of Lp with p = 3,
/// one per output, which `exp(ln(s) / 3)` took 2.6 ns each and made float32 Lp
/// p=3 at 2x2/2 cost three times max pooling.
///
/// `0`, `inf` and NaN are kept, subnormal sums included. No division and
/// no branch, so the loops vectorise: `r = s^(-1/3)` from a guess on the
/// bits (`cbrt_guess`) by two third-order steps (`cbrt_step`: the
/// error ε becomes about 5ε³ each step, 3.5% -> 2e-4 -> 4e-11), then
/// `c = s·r²` and one Newton step on `c` itself, which squares its error
/// again (to about 1e-20, far below an ulp; `cbrt_finish`).
///
/// In blocks, each stage over a block before the next: a
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables against libm: each power of two raised within an ulp
    /// of `powf` (times 2^LIFT where lifted), `1/c` rounded once and
    /// `c^q` as `powf`; the series' coefficients are the binomial ones.
    #[test]
    fn tables_agree_with_libm() {
        for q in [1.0 / 64.0, 1.0 / 3.0, 0.5, 1.5, 2.5, 7.0, 64.0] {
            let power = Power::new(q);
            let mut checked = 0;
            for (i, &got) in power.exps.iter().enumerate() {
                let k = i as i32 - 54 - 1023;
                if !(-1074..=1023).contains(&k) {
                    continue;
                }
                let want = 2f64.powi(k).powf(q);
                if i < power.lifted {
                    // Scaled back, as the products are: rounded once.
                    let scaled = got * 2f64.powi(-LIFT);
                    let off = (scaled - want).abs();
                    assert!(off <= want * f64::EPSILON + f64::from_bits(1), "2^{k} to {q}");
                } else if want.is_normal() {
                    assert!(ulps(got, want) <= 1.0, "2^{k} to {q}: {got:e} vs {want:e}");
                    checked += 1;
                }
            }
            assert!(checked > 0);
            for (i, &[inv_c, c_q]) in power.pieces.iter().enumerate() {
                let c = 1.0 + i as f64 / PIECES as f64;
                assert_eq!((inv_c, c_q), (1.0 / c, c.powf(q)), "piece {i}");
            }
            assert_eq!(power.coefs[0], q);
            assert_eq!(power.coefs[1], q * (q - 1.0) / 2.0);
            assert_eq!(power.long, q > 8.5);
        }
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

    /// Checks `got[i]` against libm's `xs[i].powf(q)`: within three ulps
    /// (libm is within one of the power), and subnormal results within an
    /// ulp of the subnormal step beyond that. Returns the worst error in
    /// ulps.
    fn check_against_libm(what: &str, xs: &[f64], got: &[f64], q: f64) -> f64 {
        assert_eq!(xs.len(), got.len());
        let mut worst = 0f64;
        for (&x, &got) in xs.iter().zip(got) {
            let want = x.powf(q);
            let e = ulps(got, want);
            if e == 0.0 {
                continue;
            }
            if want != 0.0 && want.abs() < f64::MIN_POSITIVE {
                let off = (got - want).abs();
                assert!(off <= want * 3.0 * f64::EPSILON + f64::from_bits(1), "{what}({x:e}, {q})");
                continue;
            }
            assert!(e <= 3.0, "{what}({x:e}, {q}) = {got:e}, libm {want:e} ({e} ulps)");
            worst = worst.max(e);
        }
        worst
    }

    /// Against libm over values spread through the whole f64 range
    /// (subnormals, every binade, near 1) and the powers Lp uses, for
    /// [`Power::of`], the row form [`powers`] (unfused for float64 input,
    /// whose outputs are float64; for float32 input, of the same values
    /// rounded to float32, with fused multiply-adds where the CPU has
    /// them) and [`roots`] (with the tables of `1/p`).
    #[test]
    fn powers_agree_with_libm() {
        let ps =
            [1.0 / 64.0, 0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 1.5, 2.5, 3.0, 4.0, 7.0, 8.5, 9.0, 64.0];
        let xs: Vec<f64> =
            spread(&[f64::MAX, 1.0, 2.0, 0.5]).into_iter().skip(6).step_by(3).collect();
        let narrow: Vec<f32> = xs.iter().map(|&x| x as f32).filter(|x| x.is_finite()).collect();
        let widened: Vec<f64> = narrow.iter().map(|&x| f64::from(x)).collect();
        let mut worst = 0f64;
        let mut got = vec![0f64; xs.len()];
        let mut got32 = vec![0f64; narrow.len()];
        for &p in &ps {
            let (power, root) = (Power::new(p), Power::new(1.0 / p));
            let scalar: Vec<f64> = xs.iter().map(|&x| power.of(x)).collect();
            worst = worst.max(check_against_libm("of", &xs, &scalar, p));
            powers(&xs, &mut got, &power);
            worst = worst.max(check_against_libm("powers", &xs, &got, p));
            powers(&narrow, &mut got32, &power);
            worst = worst.max(check_against_libm("powers of float32", &widened, &got32, p));
            roots(&xs, &mut got, &root);
            worst = worst.max(check_against_libm("roots", &xs, &got, 1.0 / p));
        }
        assert!(worst > 0.5, "the comparison ran: {worst}");
    }

    /// Zeros beside other values in the same vectors: powers and roots of
    /// zero are +0, and the others as libm's.
    #[test]
    fn zeros_beside_other_values() {
        let src: Vec<f32> = (0..3 * 64 + 5)
            .map(|i| if i % 3 == 0 { if i % 2 == 0 { 0.0 } else { -0.0 } } else { i as f32 * 0.75 })
            .collect();
        for p in [1.0 / 64.0, 0.5, 1.5, 2.5, 64.0] {
            let mut pw = vec![f64::NAN; src.len()];
            powers(&src, &mut pw, &Power::new(p));
            let mut rt = vec![f64::NAN; src.len()];
            roots(&pw, &mut rt, &Power::new(1.0 / p));
            for ((&x, &y), &r) in src.iter().zip(&pw).zip(&rt) {
                let x = f64::from(x);
                if x == 0.0 {
                    assert_eq!((y.to_bits(), r.to_bits()), (0, 0), "0^{p}, its root");
                } else {
                    assert!(ulps(y, x.powf(p)) <= 3.0, "{x}^{p} = {y:e}");
                    assert!(ulps(r, y.powf(1.0 / p)) <= 3.0, "({y:e})^(1/{p}) = {r:e}");
                }
            }
        }
    }

    /// The row form takes absolute values and keeps the special values
    /// of [`Power::of`], for float32 rows of lengths around the vector
    /// widths, [`ROUND`] and blocks of [`AHEAD`].
    #[test]
    fn powers_of_float32_rows() {
        for len in [0, 1, 5, 7, 8, 9, 63, 64, 67, 200, 2 * AHEAD + 37] {
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
            powers(&src, &mut dst, &Power::new(1.5));
            for (&x, &y) in src.iter().zip(&dst) {
                let want = f64::from(x).abs().powf(1.5);
                if want.is_nan() {
                    assert!(y.is_nan(), "|{x}|^1.5 = {y}");
                } else {
                    assert!(ulps(y, want) <= 3.0, "|{x:e}|^1.5 = {y:e}, libm {want:e}");
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
        for p in [1.0 / 64.0, 0.5, 3.0, 9.0, 64.0] {
            let power = Power::new(p);
            assert_eq!(power.of(0.0).to_bits(), 0f64.to_bits());
            assert_eq!(power.of(-0.0).to_bits(), 0f64.to_bits());
            let mut root = [f32::NAN; 3];
            roots(&[-0.0, 0.0, 1.0], &mut root, &power);
            assert_eq!(root.map(f32::to_bits), [0, 0, 1f32.to_bits()]);
            assert_eq!(power.of(f64::INFINITY), f64::INFINITY);
            assert!(power.of(f64::NAN).is_nan());
            assert_eq!(power.of(1.0), 1.0);
            let mut row = [0.0; 12];
            let src = [
                0.0,
                f64::INFINITY,
                f64::NAN,
                1.0,
                -0.0,
                f64::NEG_INFINITY,
                2.0,
                8.0,
                0.0,
                0.0,
                0.0,
                0.0,
            ];
            powers(&src, &mut row, &power);
            assert_eq!(row[..2], [0.0, f64::INFINITY]);
            assert!(row[2].is_nan());
            assert_eq!(row[3..6], [1.0, 0.0, f64::INFINITY]);
        }
        // Overflow and underflow as libm.
        assert_eq!(Power::new(64.0).of(1e300), f64::INFINITY);
        assert_eq!(Power::new(64.0).of(1e-300), 0.0);
        assert_eq!(Power::new(64.0).of(f64::MAX), f64::INFINITY);
    }
}
