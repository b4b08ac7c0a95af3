//! Property tests: the geometry, the kernels and the binary against a naive
//! reference written here from the specification, not from the kernels.
//!
//! The reference enumerates, for every output coordinate, the window taps
//! in window order (row-major over the spatial taps), computes each tap's
//! input coordinate `o·S − pad_begin + t·D`, skips taps outside `[0, L)`
//! and reduces what is left. Output lengths come from the formula
//! (`floor_or_ceil((L + pb + pe − eff) / S) + 1`, the ceil-mode rule that
//! drops a last window starting in the end padding, `ceil(L / S)` for
//! SAME), never from cnnops' `AxisGeometry`.
//!
//! Reductions (the spec): max/min give NaN if the window holds a NaN, else
//! the first extreme in window order (so −0.0 before 0.0 gives −0.0);
//! argmax reports the first best cell (the first NaN wins); avg and lp are
//! computed in `f64` and rounded to the float type (integers give `f64`).
//!
//! Failures are not persisted (no `proptest-regressions/` file is written);
//! proptest prints the minimal input instead.

use crate::common;
use cnnops::geometry::{AxisGeometry, AxisPad};
use cnnops::ops::Element;
use cnnops::ops::pool::{IndexScope, Mode, PoolShape, pool_argmax, pool_mean, pool_minmax};
use cnnops::ops::relu::{Relu, relu, relu_in_place};
use half::f16;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use std::any::TypeId;
use std::fmt::Debug;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases) }
}

// ---------------------------------------------------------------------------
// Reference geometry
// ---------------------------------------------------------------------------

/// How one axis is padded, as requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pad {
    Explicit(usize, usize),
    Same,
    SameLower,
    Valid,
}

/// One axis as requested: input length, window, stride, dilation, padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Axis {
    l: usize,
    k: usize,
    s: usize,
    d: usize,
    pad: Pad,
    ceil: bool,
}

/// One axis as resolved by the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RefAxis {
    l: usize,
    k: usize,
    s: usize,
    d: usize,
    pb: usize,
    pe: usize,
    out: usize,
}

impl RefAxis {
    /// Input coordinate of tap `t` of window `o` (negative in the begin
    /// padding).
    fn coord(&self, o: usize, t: usize) -> isize {
        (o * self.s) as isize - self.pb as isize + (t * self.d) as isize
    }

    fn is_real(&self, c: isize) -> bool {
        c >= 0 && c < self.l as isize
    }

    fn in_padded(&self, c: isize) -> bool {
        c >= -(self.pb as isize) && c < (self.l + self.pe) as isize
    }
}

/// The reference resolution of one axis: `None` where cnnops must refuse.
fn reference_axis(a: Axis) -> Option<RefAxis> {
    let eff = a.d * (a.k - 1) + 1;
    let (pb, pe) = match a.pad {
        Pad::Explicit(b, e) => (b, e),
        // geometry.rs documents that --ceil has no meaning with same/valid
        _ if a.ceil => return None,
        Pad::Valid => (0, 0),
        Pad::Same | Pad::SameLower => {
            let out = a.l.div_ceil(a.s);
            let total = ((out - 1) * a.s + eff).saturating_sub(a.l);
            let (small, big) = (total / 2, total - total / 2);
            if a.pad == Pad::Same { (small, big) } else { (big, small) }
        }
    };
    let padded = a.l + pb + pe;
    if padded < eff {
        return None;
    }
    let span = padded - eff;
    let mut out = if a.ceil { span.div_ceil(a.s) } else { span / a.s } + 1;
    if a.ceil && (out - 1) * a.s >= a.l + pb {
        out -= 1;
    }
    if matches!(a.pad, Pad::Same | Pad::SameLower) {
        assert_eq!(out, a.l.div_ceil(a.s), "reference SAME arithmetic");
    }
    let r = RefAxis { l: a.l, k: a.k, s: a.s, d: a.d, pb, pe, out };
    let every_window_real = (0..out).all(|o| (0..a.k).any(|t| r.is_real(r.coord(o, t))));
    every_window_real.then_some(r)
}

fn library_axis(a: Axis) -> Result<AxisGeometry, cnnops::exit::UsageError> {
    let pad = match a.pad {
        Pad::Explicit(begin, end) => AxisPad::Explicit { begin, end },
        Pad::Same => AxisPad::SameUpper,
        Pad::SameLower => AxisPad::SameLower,
        Pad::Valid => AxisPad::Valid,
    };
    AxisGeometry::new(a.l, a.k, a.s, a.d, pad, a.ceil)
}

/// Checks cnnops' geometry of `a` against the reference.
fn check_axis(a: Axis) -> Result<Option<(RefAxis, AxisGeometry)>, TestCaseError> {
    match (reference_axis(a), library_axis(a)) {
        (None, Err(_)) => Ok(None),
        (Some(r), Ok(g)) => {
            prop_assert_eq!(
                (g.output, g.pad_begin, g.pad_end),
                (r.out, r.pb, r.pe),
                "output length, pad begin, pad end of {:?}",
                a
            );
            Ok(Some((r, g)))
        }
        (Some(r), Err(e)) => Err(TestCaseError::fail(format!(
            "cnnops rejects the valid geometry {a:?} (reference {r:?}): {}",
            e.0
        ))),
        (None, Ok(g)) => {
            Err(TestCaseError::fail(format!("cnnops accepts the invalid geometry {a:?}: {g:?}")))
        }
    }
}

fn pad_strategy(max_pad: usize) -> impl Strategy<Value = Pad> {
    prop_oneof![
        6 => (0..=max_pad, 0..=max_pad).prop_map(|(b, e)| Pad::Explicit(b, e)),
        1 => Just(Pad::Same),
        1 => Just(Pad::SameLower),
        1 => Just(Pad::Valid),
    ]
}

/// A valid axis of length up to `max_l`; a window equal to the input and
/// strides larger than the window come up often.
fn valid_axis(max_l: usize) -> impl Strategy<Value = (RefAxis, Axis)> {
    (
        1..=max_l,
        1..=5usize,
        1..=5usize,
        1..=3usize,
        pad_strategy(3),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(l, k, s, d, pad, ceil, whole)| {
            let (k, d) = if whole { (l, 1) } else { (k, d) };
            let ceil = ceil && matches!(pad, Pad::Explicit(..));
            Axis { l, k, s, d, pad, ceil }
        })
        .prop_filter_map("geometry cnnops must refuse", |a| reference_axis(a).map(|r| (r, a)))
}

// ---------------------------------------------------------------------------
// Reference pooling
// ---------------------------------------------------------------------------

/// Every multi-index below `dims`, row-major (last axis fastest).
fn grid(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    for &n in dims {
        all = all
            .into_iter()
            .flat_map(|prefix: Vec<usize>| {
                (0..n).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    all
}

/// One real cell of a window.
#[derive(Clone, Copy, Debug)]
struct Tap<T> {
    value: T,
    /// Flat C-order position within the spatial map.
    map: usize,
    /// Flat C-order position within the whole input.
    tensor: usize,
}

/// One window: its real cells in window order, and how many taps lie
/// inside the padded extent.
#[derive(Clone, Debug)]
struct Window<T> {
    taps: Vec<Tap<T>>,
    padded: usize,
}

/// The windows of an `outer × L0 × .. × inner` input, in output C order.
fn reference_windows<T: Copy>(
    outer: usize,
    inner: usize,
    axes: &[RefAxis],
    input: &[T],
) -> Vec<Window<T>> {
    let lens: Vec<usize> = axes.iter().map(|a| a.l).collect();
    let cells: usize = lens.iter().product();
    assert_eq!(input.len(), outer * cells * inner);
    let outs: Vec<usize> = axes.iter().map(|a| a.out).collect();
    let kernels: Vec<usize> = axes.iter().map(|a| a.k).collect();
    let taps = grid(&kernels);
    let mut windows = vec![];
    for m in 0..outer {
        for o in grid(&outs) {
            for ch in 0..inner {
                let mut w = Window { taps: vec![], padded: 0 };
                for t in &taps {
                    let coords: Vec<isize> =
                        axes.iter().enumerate().map(|(i, a)| a.coord(o[i], t[i])).collect();
                    if axes.iter().zip(&coords).all(|(a, &c)| a.in_padded(c)) {
                        w.padded += 1;
                    }
                    if axes.iter().zip(&coords).all(|(a, &c)| a.is_real(c)) {
                        let map =
                            coords.iter().zip(&lens).fold(0, |acc, (&c, &l)| acc * l + c as usize);
                        let tensor = (m * cells + map) * inner + ch;
                        w.taps.push(Tap { value: input[tensor], map, tensor });
                    }
                }
                assert!(!w.taps.is_empty(), "reference: a valid geometry has no empty window");
                windows.push(w);
            }
        }
    }
    windows
}

/// The winning tap of a max (or min) window: the first NaN if there is
/// one, else the first strictly better value in window order.
fn reference_best<T: Val>(w: &Window<T>, max: bool) -> Tap<T> {
    let mut best = w.taps[0];
    for &t in &w.taps[1..] {
        if best.value.nan() {
            break;
        }
        let better = if max { t.value > best.value } else { t.value < best.value };
        if t.value.nan() || better {
            best = t;
        }
    }
    best
}

fn reference_avg<T: Val>(w: &Window<T>, count_include_pad: bool) -> f64 {
    let sum = w.taps.iter().fold(0.0, |s, t| s + t.value.wide());
    let n = if count_include_pad { w.padded } else { w.taps.len() };
    sum / n as f64
}

fn reference_lp<T: Val>(w: &Window<T>, p: f64) -> f64 {
    let sum = w.taps.iter().fold(0.0, |s, t| s + t.value.wide().abs().powf(p));
    sum.powf(1.0 / p)
}

// ---------------------------------------------------------------------------
// Element types, seen by the reference
// ---------------------------------------------------------------------------

/// What the reference needs of an element type; written here, not taken
/// from cnnops' `Element` (method names differ so the two never clash).
trait Val: Element {
    const FLOAT: bool;
    fn nan(self) -> bool;
    fn wide(self) -> f64;
    fn bits(self) -> u64;
    /// `x` as the avg/lp output stores it, back in `f64`.
    fn round_mean(x: f64) -> f64;
    /// `x·alpha` for leaky ReLU, in the precision the spec gives.
    fn leak(self, alpha: f64) -> Self;
    fn zero() -> Self;
    fn from_wide(x: f64) -> Self;
}

macro_rules! int_val {
    ($($t:ty),*) => {$(
        impl Val for $t {
            const FLOAT: bool = false;
            fn nan(self) -> bool { false }
            fn wide(self) -> f64 { self as f64 }
            fn bits(self) -> u64 { self as u64 }
            fn round_mean(x: f64) -> f64 { x }
            fn leak(self, alpha: f64) -> Self { (self as f64 * alpha) as $t }
            fn zero() -> Self { 0 }
            fn from_wide(x: f64) -> Self { x as $t }
        }
    )*};
}
int_val!(u8, i8, i16, u16, i32, u32, i64, u64);

impl Val for f32 {
    const FLOAT: bool = true;
    fn nan(self) -> bool {
        f32::is_nan(self)
    }
    fn wide(self) -> f64 {
        self as f64
    }
    fn bits(self) -> u64 {
        self.to_bits() as u64
    }
    fn round_mean(x: f64) -> f64 {
        x as f32 as f64
    }
    fn leak(self, alpha: f64) -> Self {
        self * alpha as f32
    }
    fn zero() -> Self {
        0.0
    }
    fn from_wide(x: f64) -> Self {
        x as f32
    }
}

impl Val for f64 {
    const FLOAT: bool = true;
    fn nan(self) -> bool {
        f64::is_nan(self)
    }
    fn wide(self) -> f64 {
        self
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn round_mean(x: f64) -> f64 {
        x
    }
    fn leak(self, alpha: f64) -> Self {
        self * alpha
    }
    fn zero() -> Self {
        0.0
    }
    fn from_wide(x: f64) -> Self {
        x
    }
}

impl Val for f16 {
    const FLOAT: bool = true;
    fn nan(self) -> bool {
        f16::is_nan(self)
    }
    fn wide(self) -> f64 {
        f16::to_f64(self)
    }
    fn bits(self) -> u64 {
        self.to_bits() as u64
    }
    fn round_mean(x: f64) -> f64 {
        f16_nearest(x).to_f64()
    }
    fn leak(self, alpha: f64) -> Self {
        // float16 is scaled in float32 (Element::scale, as PyTorch's opmath)
        f16::from_f32(self.to_f32() * alpha as f32)
    }
    fn zero() -> Self {
        f16::ZERO
    }
    fn from_wide(x: f64) -> Self {
        f16_nearest(x)
    }
}

/// The float16 nearest `x`, ties to even, rounded once. `half`'s
/// `f16::from_f64` rounds through float32 (or drops low bits first), which
/// can land one step off next to a midpoint. Here: the float16 step at
/// `|x|` is a power of two `q` (2^-24 below 2^-14), so `|x| / q` is exact,
/// and rounding it to a whole number is the one rounding.
fn f16_nearest(x: f64) -> f16 {
    if x.is_nan() {
        return f16::NAN;
    }
    let a = x.abs();
    // 65520 is halfway from 65504 to 2^16, which is even: ties overflow.
    if a >= 65520.0 {
        return if x > 0.0 { f16::INFINITY } else { f16::NEG_INFINITY };
    }
    let exponent = ((a.to_bits() >> 52) as i32 - 1023).max(-14);
    let q = 2f64.powi(exponent - 10);
    let r = (a / q).round_ties_even() * q;
    // Exact in float16, so half's conversion is exact too.
    f16::from_f64(r.copysign(x))
}

/// The reference's float16 rounding: against `half`'s float32 to
/// float16 conversion (one rounding, correct) over float32 values, and at
/// the cases a second rounding gets wrong.
#[test]
fn f16_nearest_rounds_once() {
    let mut h = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..200_000 {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        let x = f32::from_bits(h as u32);
        let (got, want) = (f16_nearest(f64::from(x)), f16::from_f32(x));
        assert!(got.to_bits() == want.to_bits() || (x.is_nan() && got.is_nan()), "{x:e}");
    }
    // Just above the midpoint between 1 and 1 + 2^-10: float32 rounds it
    // onto the midpoint, which then rounds to even (1).
    assert_eq!(f16_nearest(1.0 + 2f64.powi(-11) + 2f64.powi(-40)).to_bits(), 0x3C01);
    assert_eq!(f16_nearest(1.0 + 2f64.powi(-11)).to_bits(), 0x3C00);
    assert_eq!(f16_nearest(65519.999).to_bits(), 0x7BFF);
    assert_eq!(f16_nearest(-65520.0).to_bits(), 0xFC00);
    assert_eq!(f16_nearest(2f64.powi(-25)).to_bits(), 0);
    assert_eq!(f16_nearest(-3.0 * 2f64.powi(-26)).to_bits(), 0x8001);
    assert_eq!(f16_nearest(-1e-300).to_bits(), 0x8000);
}

/// Reads an avg/lp output element, checking its type is the one the spec
/// gives: the float type itself, or `f64` for integers.
fn mean_values<T: Val>(out: &[T::Mean]) -> Result<Vec<f64>, TestCaseError> {
    let m = TypeId::of::<T::Mean>();
    if T::FLOAT {
        prop_assert!(m == TypeId::of::<T>(), "avg/lp of a float type keeps the type");
    } else {
        prop_assert!(m == TypeId::of::<f64>(), "avg/lp of an integer type is float64");
    }
    Ok(out
        .iter()
        .map(|x| {
            let b = bytemuck::bytes_of(x);
            if m == TypeId::of::<f64>() {
                f64::from_ne_bytes(b.try_into().unwrap())
            } else if m == TypeId::of::<f32>() {
                f32::from_ne_bytes(b.try_into().unwrap()) as f64
            } else {
                f16::from_ne_bytes(b.try_into().unwrap()).to_f64()
            }
        })
        .collect())
}

/// Tolerance of lp: 1e-6 relative, or one float16 step for float16.
fn mean_tolerance<T: 'static>() -> f64 {
    if TypeId::of::<T>() == TypeId::of::<f16>() { 2f64.powi(-10) } else { 1e-6 }
}

fn same_bits<T: Val>(a: T, b: T) -> bool {
    (a.nan() && b.nan()) || a.bits() == b.bits()
}

// ---------------------------------------------------------------------------
// Value strategies: specials (NaN, ±inf, ±0, extremes) and repeats often
// ---------------------------------------------------------------------------

fn f64_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => select(vec![
            f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 0.0, -0.0,
            1.0, -1.0, 2.5, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324,
        ]),
        2 => (-3i32..=3).prop_map(f64::from),
        3 => -100.0f64..100.0,
    ]
}

fn f32_value() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => select(vec![
            f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, 0.0, -0.0,
            1.0, -1.0, 2.5, f32::MAX, f32::MIN, f32::MIN_POSITIVE, 1e-45,
        ]),
        2 => (-3i32..=3).prop_map(|v| v as f32),
        3 => -100.0f32..100.0,
    ]
}

fn f16_value() -> impl Strategy<Value = f16> {
    prop_oneof![
        4 => f32_value().prop_map(f16::from_f32),
        1 => select(vec![f16::MAX, f16::MIN, f16::MIN_POSITIVE, f16::from_bits(1), f16::NAN]),
    ]
}

macro_rules! int_value {
    ($name:ident, $t:ty) => {
        fn $name() -> impl Strategy<Value = $t> {
            prop_oneof![
                2 => select(vec![<$t>::MIN, <$t>::MAX, 0 as $t, 1 as $t, <$t>::MIN.wrapping_add(1)]),
                3 => (0u8..=4).prop_map(|v| (v as $t).wrapping_sub(2 as $t)),
                2 => any::<$t>(),
            ]
        }
    };
}
int_value!(i8_value, i8);
int_value!(u8_value, u8);
int_value!(i16_value, i16);
int_value!(u16_value, u16);
int_value!(i32_value, i32);
int_value!(u32_value, u32);
int_value!(i64_value, i64);
int_value!(u64_value, u64);

/// A vector of one of the element types.
#[derive(Clone, Debug)]
enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<f16>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
}

fn data(len: impl Into<prop::collection::SizeRange> + Clone) -> impl Strategy<Value = Data> {
    prop_oneof![
        4 => vec(f32_value(), len.clone()).prop_map(Data::F32),
        3 => vec(f64_value(), len.clone()).prop_map(Data::F64),
        3 => vec(f16_value(), len.clone()).prop_map(Data::F16),
        1 => vec(i8_value(), len.clone()).prop_map(Data::I8),
        1 => vec(u8_value(), len.clone()).prop_map(Data::U8),
        1 => vec(i16_value(), len.clone()).prop_map(Data::I16),
        1 => vec(u16_value(), len.clone()).prop_map(Data::U16),
        1 => vec(i32_value(), len.clone()).prop_map(Data::I32),
        1 => vec(u32_value(), len.clone()).prop_map(Data::U32),
        1 => vec(i64_value(), len.clone()).prop_map(Data::I64),
        1 => vec(u64_value(), len).prop_map(Data::U64),
    ]
}

macro_rules! dispatch {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            Data::F32($v) => $body,
            Data::F64($v) => $body,
            Data::F16($v) => $body,
            Data::I8($v) => $body,
            Data::U8($v) => $body,
            Data::I16($v) => $body,
            Data::U16($v) => $body,
            Data::I32($v) => $body,
            Data::U32($v) => $body,
            Data::I64($v) => $body,
            Data::U64($v) => $body,
        }
    };
}

// ---------------------------------------------------------------------------
// Property 1: geometry
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(2000))]

    /// Output length, padding and accept/reject agree with the reference
    /// for explicit, same, same-lower and valid padding, floor and ceil.
    #[test]
    fn props_geometry_matches_reference(
        l in 1..=12usize,
        k in 1..=5usize,
        s in 1..=5usize,
        d in 1..=4usize,
        pad in pad_strategy(5),
        ceil in any::<bool>(),
    ) {
        check_axis(Axis { l, k, s, d, pad, ceil })?;
    }
}

// ---------------------------------------------------------------------------
// Property 2: pooling kernels
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct PoolCase {
    outer: usize,
    inner: usize,
    axes: Vec<(RefAxis, Axis)>,
    p: f64,
}

impl PoolCase {
    fn input_len(&self) -> usize {
        self.outer * self.inner * self.axes.iter().map(|(r, _)| r.l).product::<usize>()
    }
}

fn pool_case() -> impl Strategy<Value = (PoolCase, Data)> {
    (1..=3usize)
        .prop_flat_map(|n| {
            let max_l = [12, 8, 5][n - 1];
            (
                1..=3usize,
                1..=4usize,
                vec(valid_axis(max_l), n),
                select(vec![1.0, 2.0, 3.0, 4.0, 0.5, 1.5]),
            )
        })
        .prop_map(|(outer, inner, axes, p)| PoolCase { outer, inner, axes, p })
        .prop_flat_map(|case| {
            let len = case.input_len();
            (Just(case), data(len))
        })
}

fn check_pool<T: Val>(case: &PoolCase, input: &[T]) -> Result<(), TestCaseError> {
    let mut refs = vec![];
    let mut geoms = vec![];
    for &(_, a) in &case.axes {
        let (r, g) = check_axis(a)?.expect("the strategy only makes valid axes");
        refs.push(r);
        geoms.push(g);
    }
    let shape = PoolShape::new(case.outer, case.inner, &geoms);
    let windows = reference_windows(case.outer, case.inner, &refs, input);
    let n = windows.len();
    prop_assert_eq!(shape.output_len(), n);

    for max in [true, false] {
        let mut out = vec![T::zero(); n];
        pool_minmax(input, &shape, max, &mut out);
        for (i, (w, &got)) in windows.iter().zip(&out).enumerate() {
            let want = reference_best(w, max).value;
            prop_assert!(
                same_bits(got, want),
                "{} output {i}: got {got:?}, want {want:?}, window {:?}",
                if max { "max" } else { "min" },
                w.taps.iter().map(|t| t.value).collect::<Vec<_>>()
            );
        }
    }

    for scope in [IndexScope::Map, IndexScope::Tensor] {
        let mut out = vec![T::zero(); n];
        let mut idx = vec![-1i64; n];
        pool_argmax(input, &shape, scope, &mut out, &mut idx);
        for (i, w) in windows.iter().enumerate() {
            let best = reference_best(w, true);
            let want_idx = if scope == IndexScope::Map { best.map } else { best.tensor } as i64;
            prop_assert!(
                same_bits(out[i], best.value) && idx[i] == want_idx,
                "argmax {scope:?} output {i}: got ({:?}, {}), want ({:?}, {want_idx}), window {:?}",
                out[i],
                idx[i],
                best.value,
                w.taps.iter().map(|t| (t.value, t.map)).collect::<Vec<_>>()
            );
        }
    }

    let modes = [
        Mode::Avg { count_include_pad: false },
        Mode::Avg { count_include_pad: true },
        Mode::Lp { p: case.p },
        Mode::Lp { p: 2.0 },
    ];
    for mode in modes {
        let mut out = vec![<T::Mean as Element>::ZERO; n];
        pool_mean(input, &shape, mode, &mut out);
        let got = mean_values::<T>(&out)?;
        // Sums in window order (exact for float16 and integers), then one
        // division and one rounding, as the reference: bit for bit. Norms
        // differ in how they raise to powers.
        let tol = if let Mode::Avg { .. } = mode { 0.0 } else { mean_tolerance::<T>() };
        for (i, w) in windows.iter().enumerate() {
            let want = T::round_mean(match mode {
                Mode::Avg { count_include_pad } => reference_avg(w, count_include_pad),
                Mode::Lp { p } => reference_lp(w, p),
                _ => unreachable!(),
            });
            prop_assert!(
                common::close(&[got[i]], &[want], tol),
                "{mode:?} output {i}: got {}, want {want}, window {:?} (padded count {})",
                got[i],
                w.taps.iter().map(|t| t.value).collect::<Vec<_>>(),
                w.padded
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    /// max, min, argmax (both scopes), avg (both counts) and lp agree with
    /// the reference for 1-3 spatial axes, channels first and last, every
    /// dtype.
    #[test]
    fn props_pool_kernels_match_reference((case, input) in pool_case()) {
        dispatch!(&input, v => check_pool(&case, v))?;
    }
}

/// An axis the channels-first fast paths take: strides 2 and 3 with
/// windows of two or three taps, dilated or not (folded straight from the
/// row), stride 1 (contiguous passes), and overlapping windows (the row
/// cache), over lengths that leave partial chunks at the end and, with
/// dilation and padding, taps that reach no output.
fn fast_axis(max_l: usize) -> impl Strategy<Value = (RefAxis, Axis)> {
    let windows = vec![
        (2, 2, 1),
        (2, 3, 1),
        (3, 3, 1),
        (1, 2, 1),
        (1, 3, 1),
        (2, 4, 1),
        (3, 2, 1),
        (2, 2, 2),
        (3, 2, 2),
        (3, 3, 2),
        (2, 3, 2),
    ];
    (1..=max_l, select(windows), pad_strategy(2), any::<bool>())
        .prop_map(|(l, (s, k, d), pad, ceil)| {
            let ceil = ceil && matches!(pad, Pad::Explicit(..));
            Axis { l, k, s, d, pad, ceil }
        })
        .prop_filter_map("geometry cnnops must refuse", |a| reference_axis(a).map(|r| (r, a)))
}

/// Channels-first cases (one element per pixel) of two and three spatial
/// axes built from [`fast_axis`].
fn fast_pool_case() -> impl Strategy<Value = (PoolCase, Data)> {
    (2..=3usize)
        .prop_flat_map(|n| {
            let max_l = [0, 0, 19, 9][n];
            (1..=3usize, vec(fast_axis(max_l), n), select(vec![1.0, 2.0, 3.0, 4.0]))
        })
        .prop_map(|(outer, axes, p)| PoolCase { outer, inner: 1, axes, p })
        .prop_flat_map(|case| {
            let len = case.input_len();
            (Just(case), data(len))
        })
}

proptest! {
    #![proptest_config(config(400))]

    /// The fast paths for channels-first maps (windows folded straight
    /// from the row, rows reduced once and cached, then merged in window
    /// order) keep the reference's values bit for bit, including which of
    /// -0.0 and 0.0 wins a tie and that NaN wins a window.
    #[test]
    fn props_channels_first_fast_paths_match_reference((case, input) in fast_pool_case()) {
        dispatch!(&input, v => check_pool(&case, v))?;
    }
}

// ---------------------------------------------------------------------------
// Property 3: ReLU
// ---------------------------------------------------------------------------

fn reference_relu<T: Val>(x: T, alpha: Option<f64>, max: Option<T>) -> T {
    let y = if x < T::zero() {
        match alpha {
            None => T::zero(),
            Some(a) => x.leak(a),
        }
    } else {
        x
    };
    match max {
        Some(m) if y > m => m,
        _ => y,
    }
}

fn check_relu<T: Val>(
    input: &[T],
    alpha: Option<f64>,
    max: Option<f64>,
) -> Result<(), TestCaseError> {
    let f = Relu { alpha, max: max.map(T::from_wide) };
    let want: Vec<T> = input.iter().map(|&x| reference_relu(x, alpha, f.max)).collect();
    let mut out = vec![T::zero(); input.len()];
    relu(input, &mut out, f);
    let mut in_place = input.to_vec();
    relu_in_place(&mut in_place, f);
    for (i, &w) in want.iter().enumerate() {
        prop_assert!(
            same_bits(out[i], w) && same_bits(in_place[i], w),
            "relu {f:?} at {i}: input {:?}, got {:?} (in place {:?}), want {w:?}",
            input[i],
            out[i],
            in_place[i]
        );
    }
    Ok(())
}

fn relu_params() -> impl Strategy<Value = (Option<f64>, Option<f64>)> {
    (
        select(vec![None, Some(0.1), Some(-0.5), Some(2.0), Some(0.0), Some(1.0 / 3.0)]),
        select(vec![None, Some(6.0), Some(0.0), Some(-1.0), Some(1.5)]),
    )
}

proptest! {
    #![proptest_config(config(400))]

    /// Plain, leaky and clipped ReLU, copying and in place, every dtype.
    #[test]
    fn props_relu_matches_reference(input in data(0..300usize), (alpha, max) in relu_params()) {
        dispatch!(&input, v => check_relu(v, alpha, max))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 64, ..config(2) })]

    /// Inputs longer than one parallel chunk (65536 elements).
    #[test]
    fn props_relu_parallel_chunks(
        input in prop_oneof![
            vec(f32_value(), 65_537..100_000usize).prop_map(Data::F32),
            vec(i16_value(), 65_537..100_000usize).prop_map(Data::I16),
        ],
        (alpha, max) in relu_params(),
    ) {
        dispatch!(&input, v => check_relu(v, alpha, max))?;
    }
}

// ---------------------------------------------------------------------------
// Property 4: the binary
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PadForm {
    None,
    Symmetric,
    BeginEnd,
    Same,
    SameLower,
    Valid,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CliMode {
    Max,
    MaxIndices(IndexScope),
    Min,
    Avg { count_include_pad: bool },
    Lp(Option<f64>),
}

#[derive(Clone, Debug)]
struct CliCase {
    layout: &'static str,
    shape: Vec<usize>,
    axes: Vec<(RefAxis, Axis)>,
    form: PadForm,
    ceil: bool,
    stride_given: bool,
    dilation_given: bool,
    mode: CliMode,
}

fn is_spatial(c: char) -> bool {
    matches!(c, 'D' | 'H' | 'W')
}

/// A valid axis for one spatial letter, under the case-wide flags.
fn cli_axis(
    max_l: usize,
    form: PadForm,
    ceil: bool,
    stride_given: bool,
    dilation_given: bool,
) -> impl Strategy<Value = (RefAxis, Axis)> {
    (1..=max_l, 1..=4usize, 1..=4usize, 1..=3usize, 0..=2usize, 0..=2usize)
        .prop_map(move |(l, k, s, d, b, e)| {
            let pad = match form {
                PadForm::None => Pad::Explicit(0, 0),
                PadForm::Symmetric => Pad::Explicit(b, b),
                PadForm::BeginEnd => Pad::Explicit(b, e),
                PadForm::Same => Pad::Same,
                PadForm::SameLower => Pad::SameLower,
                PadForm::Valid => Pad::Valid,
            };
            let s = if stride_given { s } else { k };
            let d = if dilation_given { d } else { 1 };
            Axis { l, k, s, d, pad, ceil }
        })
        .prop_filter_map("geometry cnnops must refuse", |a| reference_axis(a).map(|r| (r, a)))
}

fn cli_case() -> impl Strategy<Value = (CliCase, bool, Vec<u8>)> {
    let flags = (
        select(vec!["HWC", "NHWC", "NCHW", "CHW", "NCW", "W", "NCDHW"]),
        select(vec![
            PadForm::None,
            PadForm::Symmetric,
            PadForm::BeginEnd,
            PadForm::Same,
            PadForm::SameLower,
            PadForm::Valid,
        ]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            Just(CliMode::Max),
            Just(CliMode::MaxIndices(IndexScope::Map)),
            Just(CliMode::MaxIndices(IndexScope::Tensor)),
            Just(CliMode::Min),
            any::<bool>().prop_map(|c| CliMode::Avg { count_include_pad: c }),
            select(vec![None, Some(1.0), Some(2.0), Some(3.0), Some(0.5)]).prop_map(CliMode::Lp),
        ],
    );
    flags
        .prop_flat_map(|(layout, form, ceil, stride_given, dilation_given, mode)| {
            let ceil =
                ceil && matches!(form, PadForm::None | PadForm::Symmetric | PadForm::BeginEnd);
            let n = layout.chars().filter(|&c| is_spatial(c)).count();
            let max_l = [12, 7, 4][n - 1];
            let others = layout.chars().filter(|&c| !is_spatial(c)).count();
            (
                Just((layout, form, ceil, stride_given, dilation_given, mode)),
                vec(1..=3usize, others),
                vec(cli_axis(max_l, form, ceil, stride_given, dilation_given), n),
            )
        })
        .prop_map(|((layout, form, ceil, stride_given, dilation_given, mode), others, axes)| {
            let mut others = others.into_iter();
            let mut spatial = axes.iter();
            let shape = layout
                .chars()
                .map(|c| {
                    if is_spatial(c) { spatial.next().unwrap().0.l } else { others.next().unwrap() }
                })
                .collect();
            CliCase { layout, shape, axes, form, ceil, stride_given, dilation_given, mode }
        })
        .prop_flat_map(|case| {
            let len: usize = case.shape.iter().product();
            let f32_bytes = |v: Vec<f32>| (true, v.iter().flat_map(|x| x.to_le_bytes()).collect());
            let i16_bytes = |v: Vec<i16>| (false, v.iter().flat_map(|x| x.to_le_bytes()).collect());
            (
                Just(case),
                prop_oneof![
                    vec(f32_value(), len).prop_map(f32_bytes),
                    vec(i16_value(), len).prop_map(i16_bytes),
                ],
            )
        })
        .prop_map(|(case, (is_f32, bytes))| (case, is_f32, bytes))
}

/// One flag value per axis joined by `x`, or a single number when all
/// axes agree.
fn per_axis(values: impl Iterator<Item = usize>) -> String {
    let v: Vec<usize> = values.collect();
    if v.iter().all(|&x| x == v[0]) {
        v[0].to_string()
    } else {
        v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("x")
    }
}

fn cli_args(case: &CliCase) -> Vec<String> {
    let axes: Vec<Axis> = case.axes.iter().map(|&(_, a)| a).collect();
    let mut args = vec!["pool".to_string(), "--layout".into(), case.layout.into()];
    args.extend(["--size".into(), per_axis(axes.iter().map(|a| a.k))]);
    if case.stride_given {
        args.extend(["--stride".into(), per_axis(axes.iter().map(|a| a.s))]);
    }
    if case.dilation_given {
        args.extend(["--dilation".into(), per_axis(axes.iter().map(|a| a.d))]);
    }
    let begin = |a: &Axis| match a.pad {
        Pad::Explicit(b, _) => b,
        _ => unreachable!(),
    };
    let end = |a: &Axis| match a.pad {
        Pad::Explicit(_, e) => e,
        _ => unreachable!(),
    };
    match case.form {
        PadForm::None => {}
        PadForm::Symmetric => args.extend(["--pad".into(), per_axis(axes.iter().map(begin))]),
        PadForm::BeginEnd => args.extend([
            "--pad-begin".into(),
            per_axis(axes.iter().map(begin)),
            "--pad-end".into(),
            per_axis(axes.iter().map(end)),
        ]),
        PadForm::Same => args.extend(["--pad".into(), "same".into()]),
        PadForm::SameLower => args.extend(["--pad".into(), "same-lower".into()]),
        PadForm::Valid => args.extend(["--pad".into(), "valid".into()]),
    }
    if case.ceil {
        args.push("--ceil".into());
    }
    match case.mode {
        CliMode::Max => {}
        CliMode::MaxIndices(scope) => {
            let s = if scope == IndexScope::Map { "map" } else { "tensor" };
            args.extend(["--indices-scope".into(), s.into()]);
        }
        CliMode::Min => args.extend(["--mode".into(), "min".into()]),
        CliMode::Avg { count_include_pad } => {
            args.extend(["--mode".into(), "avg".into()]);
            if count_include_pad {
                args.push("--count-include-pad".into());
            }
        }
        CliMode::Lp(p) => {
            args.extend(["--mode".into(), "lp".into()]);
            if let Some(p) = p {
                args.extend(["--p".into(), p.to_string()]);
            }
        }
    }
    args
}

fn check_cli<T: Val>(
    case: &CliCase,
    input: &[T],
    bytes: &[u8],
    descr: &str,
) -> Result<(), TestCaseError> {
    // The layout, mapped by hand: axes before the spatial letters are
    // outer, axes after are inner.
    let first = case.layout.find(is_spatial).unwrap();
    let n = case.axes.len();
    let outer: usize = case.shape[..first].iter().product();
    let inner: usize = case.shape[first + n..].iter().product();
    let refs: Vec<RefAxis> = case.axes.iter().map(|&(r, _)| r).collect();
    let mut out_shape = case.shape.clone();
    for (i, r) in refs.iter().enumerate() {
        out_shape[first + i] = r.out;
    }
    let windows = reference_windows(outer, inner, &refs, input);

    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.npy");
    let out_path = dir.path().join("out.npy");
    let idx_path = dir.path().join("idx.npy");
    std::fs::write(&in_path, common::make_npy(descr, &case.shape, bytes)).unwrap();
    let mut args = cli_args(case);
    if matches!(case.mode, CliMode::MaxIndices(_)) {
        args.extend(["--indices".into(), idx_path.to_str().unwrap().into()]);
    }
    let result = common::cnnops().args(&args).arg(&in_path).arg(&out_path).output().unwrap();
    prop_assert!(
        result.status.success(),
        "cnnops {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&result.stderr)
    );
    let out = common::read_npy(&out_path);
    prop_assert_eq!(&out.shape, &out_shape, "output shape of cnnops {}", args.join(" "));
    let got = out.to_f64();
    match case.mode {
        CliMode::Max | CliMode::MaxIndices(_) | CliMode::Min => {
            prop_assert_eq!(out.descr.as_str(), descr);
            let max = case.mode != CliMode::Min;
            let want: Vec<f64> =
                windows.iter().map(|w| reference_best(w, max).value.wide()).collect();
            prop_assert!(
                common::same_bits_f64(&got, &want),
                "cnnops {}: got {got:?}, want {want:?}",
                args.join(" ")
            );
            if let CliMode::MaxIndices(scope) = case.mode {
                let idx = common::read_npy(&idx_path);
                prop_assert_eq!(idx.descr.as_str(), "<i8");
                prop_assert_eq!(&idx.shape, &out_shape);
                let want: Vec<f64> = windows
                    .iter()
                    .map(|w| {
                        let b = reference_best(w, true);
                        (if scope == IndexScope::Map { b.map } else { b.tensor }) as f64
                    })
                    .collect();
                prop_assert_eq!(idx.to_f64(), want, "indices of cnnops {}", args.join(" "));
            }
        }
        CliMode::Avg { .. } | CliMode::Lp(_) => {
            prop_assert_eq!(out.descr.as_str(), if T::FLOAT { descr } else { "<f8" });
            let want: Vec<f64> = windows
                .iter()
                .map(|w| {
                    T::round_mean(match case.mode {
                        CliMode::Avg { count_include_pad } => reference_avg(w, count_include_pad),
                        CliMode::Lp(p) => reference_lp(w, p.unwrap_or(2.0)),
                        _ => unreachable!(),
                    })
                })
                .collect();
            prop_assert!(
                common::close(&got, &want, 1e-6),
                "cnnops {}: got {got:?}, want {want:?}",
                args.join(" ")
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 400, ..config(24) })]

    /// The binary, end to end: random layout, window flags and mode on
    /// float32 and int16 files, against the reference.
    #[test]
    fn props_cli_pool_matches_reference((case, is_f32, bytes) in cli_case()) {
        if is_f32 {
            let v: Vec<f32> =
                bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            check_cli(&case, &v, &bytes, "<f4")?;
        } else {
            let v: Vec<i16> =
                bytes.chunks_exact(2).map(|c| i16::from_le_bytes(c.try_into().unwrap())).collect();
            check_cli(&case, &v, &bytes, "<i2")?;
        }
    }
}

/// The smallest input found by `props_cli_pool_matches_reference` on which
/// the binary panicked: a dilation larger than the stride with begin
/// padding on the first spatial axis, so window 0's first real row (1)
/// comes after window 1's (0). Expected output `[[2], [1]]`.
#[test]
fn props_cli_dilated_first_axis() {
    let axis = |l, k, s, d, pad| {
        let a = Axis { l, k, s, d, pad, ceil: false };
        (reference_axis(a).unwrap(), a)
    };
    let case = CliCase {
        layout: "NCHW",
        shape: vec![1, 1, 2, 1],
        axes: vec![axis(2, 2, 1, 2, Pad::Explicit(1, 1)), axis(1, 1, 1, 1, Pad::Explicit(0, 0))],
        form: PadForm::Symmetric,
        ceil: false,
        stride_given: true,
        dilation_given: true,
        mode: CliMode::Max,
    };
    let values = [1.0f32, 2.0];
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(case.axes[0].0.out, 2);
    check_cli(&case, &values, &bytes, "<f4").unwrap();
}
