//! Window kernels: max, min, average and Lp pooling, and max with argmax
//! indices.
//!
//! The input is seen as `outer × L0 × L1 × L2 × inner` in C order: `outer`
//! is the product of the axes before the spatial ones (N, or N·C for
//! channels-first), `inner` the product of those after (C for
//! channels-last), and one- and two-dimensional windows get length-1 axes
//! (`1 × 1 × W`, `H × 1 × W`: see [`PoolShape::new`]). Each output *plane* (one `outer`
//! index, one output index on axis 0) is an independent task for rayon.
//!
//! Inside a plane, the loops run over window taps outside and over output
//! positions of the last axis inside, so the innermost loop walks a
//! contiguous row: whole channel rows for channels-last data, a row of a
//! map for channels-first data. Taps are visited in window order (axis 0,
//! then 1, then 2), which with a strict comparison gives ties to the first
//! cell. Padded cells are never visited: each axis says which taps of which
//! window fall on real data ([`AxisGeometry::taps`],
//! [`AxisGeometry::outputs_for_tap`]).
//!
//! NaN rules: a NaN anywhere in a window makes the max and min NaN (as in
//! PyTorch and NumPy; the first NaN is kept), and sums propagate it. Folds
//! are seeded with `-inf`/`+inf`, so a window of all `-inf` gives `-inf`.
//!
//! Inlining: the window loops, and the closures handed to them, are forced
//! inline only in optimised builds (`cfg_attr(not(debug_assertions), …)`).
//! Forced into every kernel of every instruction set `vectorised!`
//! compiles, they made the debug build of this crate take 11 GB of memory
//! and minutes in one rustc; called instead, 1 GB and 20 s. The code run is
//! the same either way.

use super::float16::Norm;
use super::pow::{POWERS, Power};
use super::{Element, power_of_two};
use crate::geometry::{AxisGeometry, AxisPad};
use crate::npy::DType;
use half::f16;
use rayon::prelude::*;
use std::ops::Range;

/// A closure inlined wherever it is called. Closures passed into a
/// [`vectorised!`] kernel must be, or they are compiled once for the
/// baseline instruction set and called per element or per row (a fill
/// closure left out of line: float16 NCHW max 3x3/2 6.5 -> 2.3 GB/s). An
/// attribute on a closure is stable in argument position only, hence
/// `identity`.
macro_rules! inlined {
    ($($f:tt)*) => { std::convert::identity(#[cfg_attr(not(debug_assertions), inline(always))] $($f)*) };
}

/// The reduction a pooling window applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Largest value; NaN wins.
    Max,
    /// Smallest value; NaN wins.
    Min,
    /// Arithmetic mean.
    Avg {
        /// Divide by every tap inside the padded input, not just real ones.
        count_include_pad: bool,
    },
    /// `(Σ |x|^p)^(1/p)` (ONNX LpPool).
    Lp {
        /// The norm order, positive.
        p: f64,
    },
}

/// Which flat position `--indices` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexScope {
    /// Position within the spatial map, C order (PyTorch `return_indices`).
    Map,
    /// Position within the whole input tensor, C order (ONNX MaxPool).
    Tensor,
}

/// The input seen as `outer × L0 × L1 × L2 × inner`, with the geometry of
/// each spatial axis.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolShape {
    /// Product of the axes before the spatial ones.
    pub outer: usize,
    /// Product of the axes after the spatial ones.
    pub inner: usize,
    /// Geometry of the three spatial axes; missing leading axes are length
    /// 1 with a window of 1.
    pub axes: [AxisGeometry; 3],
}

impl PoolShape {
    /// Builds the shape from one to three spatial axes.
    ///
    /// Two spatial axes `H, W` become `H × 1 × W` and one axis `W` becomes
    /// `1 × 1 × W`: the last real axis is always axis 2 (the contiguous row
    /// the inner loop walks) and, with two or three axes, the first is
    /// always axis 0 (the axis output planes and input bands are cut
    /// along).
    ///
    /// # Panics
    /// If `spatial` is empty or longer than 3 (the layout rules out both).
    pub fn new(outer: usize, inner: usize, spatial: &[AxisGeometry]) -> PoolShape {
        let unit = AxisGeometry::new(1, 1, 1, 1, AxisPad::Valid, false)
            .expect("a unit window on a unit axis is valid");
        let axes = match *spatial {
            [w] => [unit, unit, w],
            [h, w] => [h, unit, w],
            [d, h, w] => [d, h, w],
            _ => panic!("1 to 3 spatial axes, got {}", spatial.len()),
        };
        PoolShape { outer, inner, axes }
    }

    /// Elements in one input row (`L1·L2·inner`): the unit input bands are
    /// made of. Rows are numbered globally: row `m·L0 + i` is row `i` of
    /// map `m`.
    pub fn row_len(&self) -> usize {
        self.axes[1].input * self.axes[2].input * self.inner
    }

    /// Number of input rows (`outer·L0`).
    pub fn rows(&self) -> usize {
        self.outer * self.axes[0].input
    }

    /// Elements in one input map (`L0·L1·L2·inner`).
    pub fn map_len(&self) -> usize {
        self.axes[0].input * self.row_len()
    }

    /// Elements in one output plane (`O1·O2·inner`).
    pub fn plane_len(&self) -> usize {
        self.axes[1].output * self.axes[2].output * self.inner
    }

    /// Number of output planes (`outer·O0`). Plane `m·O0 + a` is output
    /// index `a` on axis 0 of map `m`.
    pub fn planes(&self) -> usize {
        self.outer * self.axes[0].output
    }

    /// The global index of row `(i, j)` of map `m` (axis-0 cell `i`,
    /// axis-1 cell `j`): `(m·L0 + i)·L1 + j`, rows in input order.
    fn row_key(&self, (m, i, j): (usize, usize, usize)) -> usize {
        (m * self.axes[0].input + i) * self.axes[1].input + j
    }

    /// The input rows, as (map, axis-0 row, axis-1 row), of the output row
    /// after output row `b` of plane `a` of map `m`: row `b + 1` of the
    /// plane, or the first of the next plane, in this map or the next;
    /// none after the last plane. What the row-by-row sums ask for ahead.
    fn next_window_rows(
        &self,
        (m, a, b): (usize, usize, usize),
    ) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let [g0, g1, _] = &self.axes;
        let (m, a, b) = if b + 1 < g1.output {
            (m, a, b + 1)
        } else if a + 1 < g0.output {
            (m, a + 1, 0)
        } else {
            (m + 1, 0, 0)
        };
        let taps0 = if m < self.outer { g0.taps(a) } else { 0..0 };
        taps0.flat_map(move |t0| {
            let i = g0.cell(a, t0);
            g1.taps(b).map(move |t1| (m, i, g1.cell(b, t1)))
        })
    }

    /// Elements in the whole input.
    pub fn input_len(&self) -> usize {
        self.outer * self.map_len()
    }

    /// Elements in the whole output.
    pub fn output_len(&self) -> usize {
        self.planes() * self.plane_len()
    }

    /// The input rows that output planes `planes` read: a contiguous range
    /// whose ends never move backwards as the planes advance, so a stream
    /// can be consumed in order with a band of rows.
    ///
    /// Each plane is given the whole extent of its window clipped to the
    /// input, `[max(start, 0), min(start + K', L))`, not just the rows of
    /// its real taps: with dilation and padding the first real tap of one
    /// window can lie *below* that of the window before it, while window
    /// starts and ends only grow.
    pub fn rows_for_planes(&self, planes: Range<usize>) -> Range<usize> {
        if planes.is_empty() {
            return 0..0;
        }
        let g0 = &self.axes[0];
        let o0 = g0.output;
        let eff = g0.extent();
        let extent = |p: usize| {
            let (m, a) = (p / o0, p % o0);
            let start = g0.start(a);
            let lo = start.max(0) as usize;
            let hi = ((start + eff as isize) as usize).min(g0.input);
            (m * g0.input + lo, m * g0.input + hi)
        };
        extent(planes.start).0..extent(planes.end - 1).1
    }

    /// The part of `rows` (starting at global row `base`) that plane `p`
    /// reads, and the map-local index of its first row.
    #[inline]
    fn plane_input<'a, T>(&self, rows: &'a [T], base: usize, p: usize) -> (&'a [T], usize) {
        let g0 = &self.axes[0];
        let a = p % g0.output;
        let row0 = g0.cell(a, g0.taps(a).start);
        let global = (p / g0.output) * g0.input + row0;
        (&rows[(global - base) * self.row_len()..], row0)
    }
}

/// Max or min pooling of the whole `input` into `out`.
///
/// # Panics
/// If the slice lengths do not match `shape`.
pub fn pool_minmax<T: Element>(input: &[T], shape: &PoolShape, max: bool, out: &mut [T]) {
    check_lengths(input.len(), out.len(), shape);
    minmax_planes(input, 0, shape, 0..shape.planes(), max, out);
}

/// Average or Lp pooling of the whole `input` into `out`, accumulating in
/// `f64`.
///
/// # Panics
/// If the slice lengths do not match `shape`, or `mode` is max or min.
pub fn pool_mean<T: Element>(input: &[T], shape: &PoolShape, mode: Mode, out: &mut [T::Mean]) {
    check_lengths(input.len(), out.len(), shape);
    mean_planes(input, 0, shape, 0..shape.planes(), mode, out);
}

/// Max pooling of the whole `input` that also records where each maximum
/// came from.
///
/// Ties go to the first cell in window order; the first NaN of a window
/// wins it. Indices are flat C-order positions within the spatial map
/// ([`IndexScope::Map`]) or within the whole input ([`IndexScope::Tensor`]).
///
/// # Panics
/// If the slice lengths do not match `shape`.
pub fn pool_argmax<T: Element>(
    input: &[T],
    shape: &PoolShape,
    scope: IndexScope,
    out: &mut [T],
    indices: &mut [i64],
) {
    check_lengths(input.len(), out.len(), shape);
    argmax_planes(input, 0, shape, 0..shape.planes(), scope, out, indices);
}

/// Max or min pooling of output planes `planes` into `out`
/// (`planes.len()·plane_len` elements), reading input rows from `rows`,
/// which starts at global row `base` and must hold
/// [`PoolShape::rows_for_planes`]. Planes run in parallel.
///
/// # Panics
/// If `rows` does not cover the planes or `out` has the wrong length.
pub fn minmax_planes<T: Element>(
    rows: &[T],
    base: usize,
    shape: &PoolShape,
    planes: Range<usize>,
    max: bool,
    out: &mut [T],
) {
    let start = planes.start;
    let plane_len = shape.plane_len();
    assert_eq!(out.len(), planes.len() * plane_len);
    if plane_len == 0 {
        return;
    }
    let plan = RowPlan::new(&shape.axes[2], shape.inner, size_of::<T>());
    if T::DTYPE == DType::F16
        && (FlatRows::<i16>::sizes(shape, &FLAT_WINDOWS).is_some()
            || RowCache::<i16>::sizes(shape, &plan).is_some())
    {
        let (rows, out) = (bytemuck::cast_slice(rows), bytemuck::cast_slice_mut(out));
        return minmax_planes_f16(rows, base, shape, start, max, out);
    }
    let seed = if max { T::LOWEST } else { T::HIGHEST };
    out.par_chunks_mut(plane_len).enumerate().for_each_init(
        || Folder::new(shape, &plan, seed, true),
        |folder, (k, plane)| {
            plane.fill(seed);
            if max {
                folder.fold_minmax(rows, base, start + k, plane, T::max_step);
            } else {
                folder.fold_minmax(rows, base, start + k, plane, T::min_step);
            }
        },
    );
}

/// [`minmax_planes`] for float16 windows that go through [`FlatRows`] or
/// the [`RowCache`]. The float16 max and min step costs a dozen vector
/// instructions (NaN tests, and a key that makes `-0.0` equal `+0.0`, for
/// each operand).
///
/// A plane whose input rows hold no NaN and no `-0.0` is folded over
/// [`order_key`]s instead, as `int16`: the step is one instruction, and
/// each value read is keyed on the way in ([`Folder::fold_keyed`]; three
/// more). The keys order those values as IEEE does, and equal keys are
/// equal bits, so the first of equal values and the largest key are the
/// same value: the result is the same bit for bit. Other planes (a NaN
/// must win whatever its key, and `-0.0` tie with `+0.0` to the first in
/// window order) take the exact step. Each kind has its own folder, so the
/// rows one keeps for the next plane stay valid. Through the row cache,
/// NCHW max 3x3/1 with dilation 2 ran 1.25x faster keyed (criterion).
///
/// Plans that read rows in place keep the exact step: keying each value
/// as they read it was no faster (criterion, NHWC and HWC max 2x2/2 and
/// 3x3/2 over 64 channels, the same or up to 0.9x: the scan of the rows
/// costs what the cheaper step saves), and a keyed copy of the plane's
/// rows was slower end to end (NHWC over 256 channels, 0.83x-0.86x).
fn minmax_planes_f16(
    rows: &[f16],
    base: usize,
    shape: &PoolShape,
    start: usize,
    max: bool,
    out: &mut [f16],
) {
    let plan = RowPlan::new(&shape.axes[2], shape.inner, size_of::<f16>());
    let seed = if max { f16::NEG_INFINITY } else { f16::INFINITY };
    let key_seed = order_key(seed.to_bits() as i16);
    let bits: &[i16] = bytemuck::cast_slice(rows);
    let row_len = shape.row_len();
    let g0 = shape.axes[0];
    out.par_chunks_mut(shape.plane_len()).enumerate().for_each_init(
        || (Folder::<i16, i16>::new(shape, &plan, key_seed, true), None, ScannedRows::default()),
        |(keyed, exact, scanned), (k, plane)| {
            let p = start + k;
            // The rows plane `p`'s windows read.
            let (m, a) = (p / g0.output, p % g0.output);
            let taps = g0.taps(a);
            let first = m * g0.input + g0.cell(a, taps.start) - base;
            let last = m * g0.input + g0.cell(a, taps.end - 1) - base;
            if scanned.plain(bits, row_len, first..last + 1) {
                let acc: &mut [i16] = bytemuck::cast_slice_mut(plane);
                acc.fill(key_seed);
                if max {
                    keyed.fold_keyed(bits, base, p, acc, i16::max_step);
                } else {
                    keyed.fold_keyed(bits, base, p, acc, i16::min_step);
                }
                for v in acc {
                    *v = order_key(*v);
                }
            } else {
                let exact = exact.get_or_insert_with(|| Folder::new(shape, &plan, seed, true));
                plane.fill(seed);
                if max {
                    exact.fold_minmax(rows, base, p, plane, f16::max_step);
                } else {
                    exact.fold_minmax(rows, base, p, plane, f16::min_step);
                }
            }
        },
    );
}

/// Values [`ScannedRows`] scans at once: about as many as a fill of the
/// flat rows reads.
const SCAN_SPAN: usize = 4096;

/// Which rows [`plain_f16`] found plain, for the planes of one worker of
/// [`minmax_planes_f16`]. Rows are scanned a span ahead, about
/// [`SCAN_SPAN`] values from a plane's first row on, so that each row is
/// scanned about once, not once per plane whose windows read it (1.5
/// times at 3x3/2), in long passes: float16 NCHW max 3x3/2 6.0-6.3 ->
/// 7.2-7.8 GiB/s, 2x2/2 8.9-10.0 -> 9.6-9.9 (criterion, one thread).
#[derive(Default)]
struct ScannedRows {
    /// Local rows scanned last, and whether they were all plain.
    rows: Range<usize>,
    plain: bool,
}

impl ScannedRows {
    /// Whether `rows` of `bits` (in rows of `row_len`) hold no NaN and no
    /// `-0.0`. Inside a span found plain, without a scan; inside a span
    /// that was not, by scanning `rows` alone (so rows with NaNs cost one
    /// extra scan of each span, not one per plane); else by scanning the
    /// span from `rows.start`.
    fn plain(&mut self, bits: &[i16], row_len: usize, rows: Range<usize>) -> bool {
        let known = self.rows.contains(&rows.start) && rows.end <= self.rows.end;
        if !known {
            let end = (rows.start + SCAN_SPAN / row_len).max(rows.end).min(bits.len() / row_len);
            self.rows = rows.start..end;
            self.plain = plain_f16(&bits[rows.start * row_len..end * row_len]);
        }
        self.plain
            || (self.rows != rows && plain_f16(&bits[rows.start * row_len..rows.end * row_len]))
    }
}

/// The bits of a float16 as an `i16` whose order is IEEE's, `-0.0` just
/// below `+0.0` and NaNs beyond the infinities by their sign: negative
/// values have their magnitude bits flipped. Its own inverse.
#[inline(always)]
fn order_key(bits: i16) -> i16 {
    bits ^ ((bits >> 15) & 0x7FFF)
}

vectorised! {
/// Whether the float16 `bits` hold no NaN and no `-0.0` (see
/// [`minmax_planes_f16`]).
fn plain_f16(bits: &[i16]) -> bool {
    // In blocks, so a loop without an early exit vectorises. The largest
    // magnitude, with `-0.0` counted as 0xFFFF, is past infinity's
    // (0x7C00) if and only if the block holds a NaN or a `-0.0`: one max
    // per value, where or-ing two compares cost 1.5x as long (a
    // standalone model over 3620 values in cache, built as `vectorised!`
    // builds: 0.023 against 0.035 ns per value). The max is written as
    // compares: with `u16::max`, as a `for` loop or `Iterator::fold`, the
    // `vectorised!` clones did not vectorise it (0.38-0.43 ns per value).
    bits.chunks(512).all(|block| {
        let mut top = 0u16;
        for &b in block {
            let b = b as u16;
            let m = if b == 0x8000 { 0xFFFF } else { b & 0x7FFF };
            top = if m > top { m } else { top };
        }
        top <= 0x7C00
    })
}
}

/// Average or Lp pooling of output planes `planes`; see [`minmax_planes`].
///
/// # Panics
/// As [`minmax_planes`], or if `mode` is max or min.
pub fn mean_planes<T: Element>(
    rows: &[T],
    base: usize,
    shape: &PoolShape,
    planes: Range<usize>,
    mode: Mode,
    out: &mut [T::Mean],
) {
    let [g0, g1, g2] = shape.axes;
    let inner = shape.inner;
    let plane_len = shape.plane_len();
    assert_eq!(out.len(), planes.len() * plane_len);
    if plane_len == 0 {
        return;
    }
    let start = planes.start;
    // Divisors of the last axis, computed once: per element they would
    // cost more than the sums themselves for channels-first data.
    let include_pad = matches!(mode, Mode::Avg { count_include_pad: true });
    let counts2: Vec<f64> = (0..g2.output).map(|c| g2.count(c, include_pad) as f64).collect();
    // Channels-first rows divide through a table of their divisors'
    // reciprocals (see [`RowDivisors`]). [`quotient`] replaces the
    // division except for float64 input, whose sums may overflow or
    // underflow in the remainder, and float16 output rounded in software,
    // whose rounding takes longer than the division: float16 NCHW avg
    // 3x3/2 2.9 -> 2.8 GB/s this way, float32 6.9-7.9 -> 7.8-8.3, int8
    // (float64 out) 1.55 -> 1.9.
    let f16_out = <T::Mean as Element>::DTYPE == DType::F16;
    // float16 quotients and norms are rounded a row at a time by F16C
    // where the CPU has it ([`float16::narrow_f64_row`]), from float64.
    let f16_hw = f16_out && super::float16::has_hw();
    let fused = T::DTYPE != DType::F64 && (!f16_out || f16_hw);
    let rows_by_n01 =
        if inner == 1 { row_divisors(shape, include_pad, &counts2) } else { Vec::new() };
    // Whether every output of a row has the same count along the last
    // axis (asked once here: per output row, it cost a quarter of float16
    // NCHW avg 2x2/2).
    let counts_alike = counts2.iter().all(|&c| c == counts2[0]);
    let (counts2, rows_by_n01) = (&counts2, &rows_by_n01);
    let row = g2.output * inner;
    // Lp with p other than 1 to 4 (in [`POWERS`]) raises by the tables of
    // `p` and takes its roots by those of `1/p`, made once per process.
    let (raise, root) = match mode {
        Mode::Lp { p } if POWERS.contains(&p) && !matches!(p, 1.0 | 2.0 | 3.0 | 4.0) => {
            (Some(Power::shared(p)), Some(Power::shared(1.0 / p)))
        }
        _ => (None, None),
    };
    let (raise, root) = (raise.as_deref(), root.as_deref());
    // Finishes the outputs of output row `b` of plane `a` from pixel `c0`
    // on from their sums: a whole row (`finish`), or part of one
    // ([`mean_planes_f16_pixels`]).
    let finish_from =
        move |(a, b, c0): (usize, usize, usize), acc_row: &[f64], out_row: &mut [T::Mean]| {
            // `$fill(acc_row, q, args..)` into a row `q` of float64, which
            // `float16::$narrow(q, out)` rounds to float16 as a row by F16C.
            macro_rules! rounded_row {
                ($fill:ident($($arg:expr),*), $narrow:ident) => {
                    QUOTIENTS.with_borrow_mut(|q| {
                        q.resize(out_row.len(), 0.0);
                        $fill(acc_row, q, $($arg),*);
                        super::float16::$narrow(q, bytemuck::cast_slice_mut(out_row));
                    })
                };
            }
            // `$fill(acc_row, out, args..)` into `out_row`, or into a row of
            // float64 rounded to float16 as a row by F16C.
            macro_rules! by_row {
                ($fill:ident($($arg:expr),*)) => {
                    if f16_hw {
                        rounded_row!($fill($($arg),*), narrow_f64_row);
                    } else {
                        $fill(acc_row, out_row, $($arg),*);
                    }
                };
            }
            match mode {
                Mode::Avg { .. } => {
                    let n01 = (g0.count(a, include_pad) * g1.count(b, include_pad)) as f64;
                    let counts = &counts2[c0..][..out_row.len() / inner];
                    // One divisor for every output (windows away from the
                    // edges): float16 rounded as the quotients are made,
                    // not from a row of them. By a power of two (2x2/2)
                    // the quotients are exact products: harness, one
                    // thread, float16 avg 2x2/2: HWC 6.4 -> 7.7-8.0 GiB/s,
                    // NHWC 6.5 -> 7.7, NCHW 4.0 -> 4.5.
                    let n = n01 * counts[0];
                    let whole_row = counts.len() == counts2.len();
                    let one_count = || match whole_row {
                        true => counts_alike,
                        false => counts.iter().all(|&c| c == counts[0]),
                    };
                    if f16_hw && one_count() {
                        let out = bytemuck::cast_slice_mut(out_row);
                        super::float16::narrow_f64_row_divided(acc_row, n, out);
                        return;
                    }
                    // The tables hold whole rows.
                    let row = rows_by_n01.iter().find(|r| r.n01 == n01 && c0 == 0);
                    let divisors = Divisors { n01, counts: &counts2[c0..], row, fused };
                    by_row!(divide_row(inner, divisors));
                }
                // The 1-norms are their sums: rounded from them, not from
                // a copy; the 2-norms as their roots are taken.
                Mode::Lp { p: 1.0 } if f16_hw => {
                    super::float16::narrow_f64_row(acc_row, bytemuck::cast_slice_mut(out_row))
                }
                Mode::Lp { p: 2.0 } if f16_hw => {
                    super::float16::narrow_sqrt_row(acc_row, bytemuck::cast_slice_mut(out_row))
                }
                // The 4-norms as the 2-norms of the sums' float64 roots:
                // the second root rounded by `narrow_sqrt_row`, whose bits
                // are those of float64's root rounded once, as before.
                Mode::Lp { p: 4.0 } if f16_hw => {
                    rounded_row!(lp_roots(2.0, None), narrow_sqrt_row)
                }
                // Rounded one at a time in software, the float16 norms took
                // two thirds of float16 NHWC Lp p=3.
                Mode::Lp { p } => by_row!(lp_roots(p, root)),
                Mode::Max | Mode::Min => unreachable!("mean_planes is for avg and lp"),
            }
        };
    let finish = move |a: usize, b: usize, acc_row: &[f64], out_row: &mut [T::Mean]| {
        finish_from((a, b, 0), acc_row, out_row)
    };
    // [`mean_planes_wide`] names the plane, not its index along axis 0.
    let by_plane = move |p: usize, b: usize, acc_row: &[f64], out_row: &mut [T::Mean]| {
        finish(p % g0.output, b, acc_row, out_row)
    };
    // Calls `$go!(args.., fold)` with the fold of `mode` for values of
    // type `$ty`.
    // The fold is inlined into the window loops even where it is large
    // (`pow`), or they call it per cell and stay scalar (float32 NCHW 2x2/2
    // lp p=1.5: 0.18 GB/s).
    macro_rules! with_fold {
        ($ty:ty, $go:ident $(, $arg:expr)*) => {{
            match (mode, raise) {
                (Mode::Avg { .. }, _) => $go!($($arg,)* inlined!(|s: f64, x: $ty| s + x.to_f64())),
                (Mode::Lp { p: 1.0 }, _) => $go!($($arg,)* inlined!(|s: f64, x: $ty| s + x.to_f64().abs())),
                (Mode::Lp { p: 2.0 }, _) => {
                    $go!($($arg,)* inlined!(|s: f64, x: $ty| s + whole_power::<2>(x.to_f64())))
                }
                (Mode::Lp { p: 3.0 }, _) => {
                    $go!($($arg,)* inlined!(|s: f64, x: $ty| s + whole_power::<3>(x.to_f64())))
                }
                (Mode::Lp { p: 4.0 }, _) => {
                    $go!($($arg,)* inlined!(|s: f64, x: $ty| s + whole_power::<4>(x.to_f64())))
                }
                (Mode::Lp { .. }, Some(power)) => {
                    $go!($($arg,)* inlined!(move |s: f64, x: $ty| s + power.of(x.to_f64().abs())))
                }
                (Mode::Lp { p: norm }, None) => {
                    $go!($($arg,)* inlined!(|s: f64, x: $ty| s + x.to_f64().abs().powf(norm)))
                }
                (Mode::Max | Mode::Min, _) => unreachable!("mean_planes is for avg and lp"),
            }
        }};
    }
    // Sums through `wide`, each input row mapped once by `widen`.
    macro_rules! wide {
        ($wide:expr, $widen:expr, $add:expr) => {
            mean_planes_wide((rows, base, shape, start), out, $wide, $widen, $add, by_plane)
        };
    }
    if let Mode::Lp { p: norm } = mode
        && !matches!(norm, 1.0 | 2.0 | 3.0 | 4.0)
        && let Some(wide) = WideRows::<f64>::for_shape(shape)
    {
        // The power is the whole cost of these norms: raise each input
        // row once (one contiguous pass) and sum the powered rows, rather
        // than raise every tap (2.25 times per cell at 3x3/2).
        let add = inlined!(|s: f64, y: f64| s + y);
        let parts = (rows, base, shape, start);
        let power = |x: T| x.to_f64().abs().powf(norm);
        if table_pays::<T>(rows.len()) {
            let table = match raise {
                Some(raise) => power_table::<T>(Powers(raise)),
                None => power_table(Each(power)),
            };
            mean_planes_wide(parts, out, wide, Table(&table), add, by_plane);
        } else if let Some(raise) = raise {
            mean_planes_wide(parts, out, wide, Powers(raise), add, by_plane);
        } else {
            mean_planes_wide(parts, out, wide, Each(power), add, by_plane);
        }
        return;
    }
    // float16 only: 16-bit integers were slower this way (NCHW avg 2x2/2
    // 5.75 -> 5.2 GB/s), float16 faster (4.1 -> 4.3, NCDHW 2x2x2/2 2.9 ->
    // 3.5), as its widening costs more than theirs.
    if sums_are_exact::<T>(shape.axes.iter().map(|g| g.kernel).product())
        && T::DTYPE == DType::F16
        && let Mode::Avg { .. } | Mode::Lp { p: 1.0 } = mode
        && let Some(flat) = FlatRows::<f64>::for_shape(shape, 0.0, &FLAT_SUM_WINDOWS)
    {
        let flat = flat.ahead_when_kept();
        // Exact sums need no window order: reduce each input row along
        // the last axis once, as max does, and add the reduced rows.
        let parts = (rows, base, shape, start);
        if let Mode::Lp { .. } = mode {
            mean_planes_flat(parts, out, flat, AbsF32, finish);
        } else {
            mean_planes_flat(parts, out, flat, ToF32, finish);
        }
        return;
    }
    // Sums of values or of magnitudes, exact in any order.
    let exact = match mode {
        Mode::Avg { .. } => Some(false),
        Mode::Lp { p: 1.0 } => Some(true),
        _ => None,
    };
    let cells = shape.axes.iter().map(|g| g.kernel).product();
    let exact = exact.filter(|_| sums_are_exact::<T>(cells));
    // Stride 1 along the row: each value is in `K` windows of its row.
    let by_columns = exact.is_some() && g2.stride == 1 && g2.kernel > 1;
    let plan = RowPlan::new(&g2, inner, size_of::<T>());
    // Powers of float16 at stride 1 along the row, windows of 9 cells or
    // more: each value is in `K` windows of its row, so it is widened
    // once into float64 rows (below) rather than at each of its taps, as
    // the channels-last pixel folds do. Harness, one thread, NHWC 3x3/1:
    // Lp p=2 1.01 -> 1.46 GiB/s (dilation 2 0.99 -> 1.45, HWC 1.00 ->
    // 1.46), p=3 0.52 -> 0.57, p=4 0.52 -> 0.65; at 2x2/1 p=2 it lost
    // (1.72 -> 1.59), and so did float32 there (2.70 -> 2.38), which
    // gained little at 3x3/1 (NHWC 2.17 -> 2.27, HWC 2.16 -> 2.20).
    // float16 2-, 3- and 4-norms into float16 take [`PixelSums::Norms`]
    // instead, which beat it: only windows beyond
    // [`float16::NORM_CELLS`] come here now.
    //
    // [`float16::NORM_CELLS`]: super::float16::NORM_CELLS
    let norms = f16_out
        && matches!(mode, Mode::Lp { p: 2.0 | 3.0 | 4.0 })
        && cells <= super::float16::NORM_CELLS;
    let widen_once = T::DTYPE == DType::F16
        && matches!(plan.kind, RowKind::Contiguous)
        && g2.kernel > 1
        && cells >= 9
        && matches!(mode, Mode::Lp { p: 2.0 | 3.0 | 4.0 })
        && !norms;
    if let Some(hw) = super::float16::F16c::detect()
        && T::DTYPE == DType::F16
        && !(widen_once && WideRows::<f64>::for_shape(shape).is_some())
        && (inner >= DIRECT_INNER || by_columns)
        && let Mode::Avg { .. } | Mode::Lp { p: 1.0 | 2.0 | 3.0 | 4.0 } = mode
    {
        // Channels-last float16 (and float16 stride 1 in any layout):
        // widened by F16C as the blocks of channels are summed. The terms
        // are those of float32, which holds every float16 exactly.
        let parts = (bytemuck::cast_slice::<T, u16>(rows), base, shape, start);
        let sums = match exact {
            // Windows of three pixels with stride two along the row take
            // each value once ([`float16::sum_windows_3s2`]).
            Some(abs) if (g2.kernel, g2.stride, g2.dilation) == (3, 2, 1) => {
                PixelSums::Carry3s2 { abs }
            }
            _ if by_columns => PixelSums::Columns,
            _ if norms => PixelSums::Norms {
                norm: match mode {
                    Mode::Lp { p: 2.0 } => Norm::L2,
                    Mode::Lp { p: 3.0 } => Norm::L3,
                    _ => Norm::L4,
                },
            },
            _ => PixelSums::Fold,
        };
        macro_rules! pixels {
            ($f:expr) => {
                mean_planes_f16_pixels(hw, parts, out, sums, $f, finish_from)
            };
        }
        with_fold!(f32, pixels);
        return;
    }
    // float16 2-, 3- and 4-norms into float16 from rows widened to
    // float32 once (channels-first, and pixels too short for
    // [`PixelSums::Norms`]): the terms summed in float32 along the rows,
    // and the roots rounded where that settles the float16
    // ([`float16::norm_row`]); the rest summed from the input in float64
    // in window order. The same bits as the float64 fold. Harness, one
    // thread, float16 NCHW Lp p=2: 3x3/2 2.66 -> 3.50 GiB/s, 3x3/1 1.17 ->
    // 1.79, 2x2/2 3.91 -> 3.90 (max 5.4, 1.70, 6.2); p=3: 2x2/2 2.04 ->
    // 2.52, 3x3/2 1.50 -> 1.90, 3x3/1 0.59 -> 0.76; p=4, on data with
    // fractions (values of two decimals, -100 to 100): 2x2/2 2.70 ->
    // 3.87, 3x3/2 1.98 -> 2.53, 3x3/1 0.77 -> 1.11. On the harness's
    // integers p=4 gains at 2x2/2 (2.70 -> 3.61) and loses at 3x3/2 (1.98
    // -> 1.83) and 3x3/1 (0.77 -> 0.68): sums of fourth powers of small
    // integers land near float16 midpoints, and 4.4% of the 3x3/2 chunks
    // of eight fall back (1.2% with fractions; a NumPy model of the
    // harness's data), each at several times a settled chunk's cost.
    // Activations are rarely small integers.
    //
    // [`float16::norm_row`]: super::float16::norm_row
    if norms
        && let Mode::Lp { p: p @ (2.0 | 3.0 | 4.0) } = mode
        && let Some(hw) = super::float16::F16c::detect()
        && matches!(plan.kind, RowKind::Contiguous | RowKind::Phased { .. })
        && let Some(wide) = WideRows::<f32>::for_shape(shape)
    {
        let input = bytemuck::cast_slice::<T, u16>(rows);
        let row_len = g2.input * inner;
        let interior = g2.interior();
        let norm = match p {
            2.0 => Norm::L2,
            3.0 => Norm::L3,
            _ => Norm::L4,
        };
        let finish = move |plane: usize, b: usize, sums: &[f32], out_row: &mut [T::Mean]| {
            let a = plane % g0.output;
            // Outputs `at..` of the row as the float64 fold takes them,
            // in window order: rows in turn, each row's taps in turn. (The
            // plane is found here, for the few chunks that need it: found
            // per output row, perf gave it 1% of float16 NCHW Lp p=4 3x3/2
            // in the build that tried p=4 this way.)
            let exact = |at: usize, chunk: &mut [u16]| {
                let (map, row0) = shape.plane_input(input, base, plane);
                let len = chunk.len();
                let term = |x: f32| norm.term(f64::from(x));
                let last = (at + len - 1) / inner;
                let whole = interior.contains(&(at / inner)) && interior.contains(&last);
                // Where every output takes every tap, each output's cell
                // at tap 0 of a row, found once (the later taps lie
                // `dilation · inner` apart), and all eight lanes summed,
                // lanes past `len` on the last output's cells, so the
                // loops have a fixed length. Found at every tap, with two
                // divisions by `inner` each, they made float16 NCHW Lp p=4
                // 3x3/2 1.68 GiB/s rather than 1.84, 3x3/1 0.59 rather
                // than 0.67 (harness, integers: 4.4% of chunks here).
                let mut first = [0usize; 8];
                if whole {
                    for (l, f) in first.iter_mut().enumerate() {
                        let i = at + l.min(len - 1);
                        *f = g2.cell(i / inner, 0) * inner + i % inner;
                    }
                }
                let step = g2.dilation * inner;
                let mut sums = [0f64; 8];
                // Whole windows' cells, eight lanes a tap, gathered in
                // window order and widened (F16C, exact) up to 32 taps at
                // a time: widened eight at a time, the calls took more
                // than the sums (float16 NCHW Lp p=4 3x3/2 on integers:
                // 11% of the run in `widen_avx2`, another 18% here).
                // Harness, one thread, AVX-512 Xeon VM: p=4 3x3/2 1.84 ->
                // 2.66 GiB/s on integers (3.03 -> 3.23 with fractions),
                // 3x3/1 0.76 -> 0.94; p=3 3x3/2 1.90 -> 2.12; p=2 3x3/2
                // with fractions 3.35 -> 3.69.
                let mut cells = [0u16; 8 * 32];
                let mut wide = [0f32; 8 * 32];
                let mut n = 0;
                let mut add_cells = |cells: &[u16], sums: &mut [f64; 8]| {
                    let wide = &mut wide[..cells.len()];
                    super::float16::widen_row(cells, wide);
                    for w in wide.as_chunks::<8>().0 {
                        for (s, &x) in sums.iter_mut().zip(w) {
                            *s += term(x);
                        }
                    }
                };
                for t0 in g0.taps(a) {
                    let r = g0.cell(a, t0);
                    for t1 in g1.taps(b) {
                        let j = g1.cell(b, t1);
                        let row = &map[((r - row0) * g1.input + j) * row_len..][..row_len];
                        if whole {
                            for t2 in 0..g2.kernel {
                                cells[n..n + 8].copy_from_slice(&first.map(|f| row[f + t2 * step]));
                                n += 8;
                                if n == cells.len() {
                                    add_cells(&cells, &mut sums);
                                    n = 0;
                                }
                            }
                        } else {
                            for (l, s) in sums[..len].iter_mut().enumerate() {
                                let (o, c) = ((at + l) / inner, (at + l) % inner);
                                for t2 in g2.taps(o) {
                                    let x = row[g2.cell(o, t2) * inner + c];
                                    *s += term(super::float16::widen(x));
                                }
                            }
                        }
                    }
                }
                add_cells(&cells[..n], &mut sums);
                // Rooted and rounded as the float64 path's `finish` does.
                norm.narrow_roots(sums, chunk);
            };
            let out = bytemuck::cast_slice_mut(out_row);
            // `cells` is the whole window's: edge windows have fewer, so
            // their bound is looser than it need be, never tighter.
            super::float16::norm_row(hw, sums, cells, norm, out, exact);
        };
        let parts = (rows, base, shape, start);
        match norm {
            Norm::L2 => {
                let add = inlined!(|s: f32, x: f32| s + x * x);
                mean_planes_wide(parts, out, wide, ToF32, add, finish);
            }
            Norm::L3 => {
                let add = inlined!(|s: f32, x: f32| s + x * x * x.abs());
                mean_planes_wide(parts, out, wide, ToF32, add, finish);
            }
            Norm::L4 => {
                let add = inlined!(|s: f32, x: f32| s + (x * x) * (x * x));
                mean_planes_wide(parts, out, wide, ToF32, add, finish);
            }
        }
        return;
    }
    // 2-, 3- and 4-norms of 4- and 8-byte types on 2-D maps, windows of
    // 9 cells or more at stride 1 along the row: each cell is in up to
    // `K` windows of its row, and up to `K` rows' windows. Raise each
    // input row once into float64 terms and sum those, rather than raise
    // the cell at each of its taps: the same terms (the same operations)
    // in the same order, so the same bits. Harness, one thread, AVX-512
    // Xeon VM, float32 3x3/1 (the nine taps a pass of `Folder::sum`
    // against the terms' rows): NHWC Lp p=2 1.61 -> 1.72 GiB/s, p=3 1.04
    // -> 1.68, p=4 1.11 -> 1.21; NCHW p=2 1.34 -> 1.50, p=3 1.14 -> 1.32,
    // p=4 1.00 -> 1.12 (max 2.07-2.08). At 2x2/1 p=2 and p=4 lost (NHWC
    // 1.66 -> 1.56, 1.31 -> 1.25), hence the 9 cells.
    if size_of::<T>() >= size_of::<f32>()
        && matches!(plan.kind, RowKind::Contiguous)
        && g1.input == 1
        && cells >= 9
        && let Mode::Lp { p: p @ (2.0 | 3.0 | 4.0) } = mode
        && let Some(wide) = WideRows::<f64>::for_shape(shape)
    {
        let add = inlined!(|s: f64, y: f64| s + y);
        if p == 2.0 {
            wide!(wide, Each(inlined!(|x: T| whole_power::<2>(x.to_f64()))), add);
        } else if p == 3.0 {
            wide!(wide, Each(inlined!(|x: T| whole_power::<3>(x.to_f64()))), add);
        } else {
            wide!(wide, Each(inlined!(|x: T| whole_power::<4>(x.to_f64()))), add);
        }
        return;
    }
    // 2-D channels-first maps, and narrow types in any layout: float32
    // NHWC and NCDHW avg 3x3/1 were slower this way (3.2 -> 2.8 GB/s,
    // 0.63 -> 0.53).
    let narrow = size_of::<T>() < size_of::<f32>();
    if matches!(plan.kind, RowKind::Contiguous)
        && T::DTYPE != DType::F64
        && (narrow || (inner == 1 && g1.input == 1))
        && let Some(wide) = WideRows::<f64>::for_shape(shape)
    {
        // Stride 1: each cell is in up to `K` windows of its row, and
        // mapping it to float64 at every tap cost more than the sums
        // (NCHW avg 3x3/1: float32 1.7 -> 1.95 GB/s, float16 0.54 ->
        // 0.98; float16 NHWC 0.77 -> 1.25). Map each input row once; the
        // sums are the same values in the same order. (float16 averages
        // and 1-norms now add columns' sums instead, [`PixelSums`]; float16
        // Lp p=2 to 4 come here where neither [`PixelSums::Norms`] nor
        // `float16::norm_row` takes them: CPUs without F16C, and windows
        // beyond `float16::NORM_CELLS`.)
        with_fold!(f64, wide, wide, ToF64);
        return;
    }
    if size_of::<T>() < size_of::<f32>()
        && matches!(plan.kind, RowKind::Phased { .. })
        && let Some(wide) = WideRows::<f32>::for_shape(shape)
    {
        // float16 and integers of up to 16 bits are exact in float32:
        // widen each input row once, and sum float32 rows, which the
        // window plans read with shuffles (they are not used for 1- and
        // 2-byte elements, see `RowPlan::new`), rather than split the
        // phases of each row for every output row it is in. Pixels long
        // enough to fold in place (channels-last) gain nothing from it:
        // float16 HWC 2x2/2 4.4 against 4.0 GB/s.
        with_fold!(f32, wide, wide, ToF32);
        return;
    }
    if matches!(plan.kind, RowKind::Phased { .. })
        && let Some(wide) = WideRows::<T>::for_shape(shape)
    {
        // Rows split into phases once, not once for every output row
        // they are in (three times at 3x3/2 with dilation 2).
        with_fold!(T, wide, wide, Each(inlined!(|x: T| x)));
        return;
    }
    // Row by row plans need one row of accumulators, the others a plane.
    let by_row = plan.by_output_row() && !plan.slices_first(shape, size_of::<f64>());
    let acc_len = if by_row { row } else { plane_len };
    let carry_len = if by_row && RowSums::carries(shape, &plan) { row } else { 0 };
    out.par_chunks_mut(plane_len).enumerate().for_each_init(
        || (RowSums::new(acc_len, carry_len), Folder::new(shape, &plan, 0f64, false)),
        |(sums, folder), (k, plane)| {
            let p = start + k;
            let a = p % g0.output;
            macro_rules! sum {
                ($f:expr) => {{
                    let f = $f;
                    if by_row {
                        let (map, row0) = shape.plane_input(rows, base, p);
                        let fin = |b, acc_row: &[f64], out_row: &mut [T::Mean]| {
                            finish(a, b, acc_row, out_row)
                        };
                        let m = p / g0.output;
                        sum_rows((map, row0, m), sums, plane, a, shape, &plan, f, fin);
                    } else {
                        let acc = &mut sums.acc;
                        folder.sum(rows, base, p, acc, f);
                        for (b, (acc_row, out_row)) in
                            acc.chunks_exact(row).zip(plane.chunks_exact_mut(row)).enumerate()
                        {
                            finish(a, b, acc_row, out_row);
                        }
                    }
                }};
            }
            with_fold!(T, sum);
        },
    );
}

/// A job's float64 sums for [`sum_rows`]: one row of them (or a plane,
/// for the plans that fold a plane at a time), and where windows of
/// three rows with stride two share their last row with the next
/// window's first ([`RowSums::carries`]), that row's sums from +0, which
/// start the next output row the job sums if it begins on that row.
struct RowSums {
    acc: Vec<f64>,
    carry: Vec<f64>,
    /// The global index ([`PoolShape::row_key`]) of the input row
    /// `carry` summed, if it holds one.
    carried_row: Option<usize>,
}

impl RowSums {
    fn new(acc_len: usize, carry_len: usize) -> RowSums {
        RowSums { acc: vec![0.0; acc_len], carry: vec![0.0; carry_len], carried_row: None }
    }

    /// Whether [`sum_rows`] carries a row's sums to the next output row:
    /// windows of 3 with stride 2 along the row ([`RowKind::Window`]) and
    /// along the rows (axis 0 of 2-D maps, axis 1 of 3-D ones whose
    /// windows are one slice deep), whose last row is the next window's
    /// first. Other windows are left to the plain fold: each kind here is
    /// one more copy of the loops per fold, type and instruction set.
    fn carries(shape: &PoolShape, plan: &RowPlan) -> bool {
        let [g0, g1, _] = shape.axes;
        let three_two = |g: &AxisGeometry| (g.kernel, g.stride, g.dilation) == (3, 2, 1);
        matches!(plan.kind, RowKind::Window { stride: 2, kernel: 3, dilation: 1, .. })
            && ((g1.kernel == 1 && three_two(&g0)) || (g0.kernel == 1 && three_two(&g1)))
    }
}

/// [`mean_planes`] through [`WideRows`]: each input row mapped once by
/// `widen`, the mapped rows summed by `add` into sums of type `A` (from
/// `A::default()`, +0) through the row plan for rows of `W`, each output
/// row `b` of plane `p` finished by `finish(p, b, sums, out_row)`.
fn mean_planes_wide<T: Element, W: Element, M: Element, A: Copy + Default + Send>(
    (rows, base, shape, start): (&[T], usize, &PoolShape, usize),
    out: &mut [M],
    wide: WideRows<W>,
    widen: impl MapRow<T, W>,
    add: impl Fn(A, W) -> A + Copy + Sync,
    finish: impl Fn(usize, usize, &[A], &mut [M]) + Sync,
) {
    let [_, _, g2] = shape.axes;
    let plan = RowPlan::new(&g2, shape.inner, size_of::<W>());
    let wide = wide.split_for(&plan);
    let plane_len = shape.plane_len();
    let acc_len = if plan.by_output_row() { g2.output * shape.inner } else { plane_len };
    out.par_chunks_mut(plane_len).enumerate().for_each_init(
        || (vec![A::default(); acc_len], wide.clone(), Vec::new()),
        |(acc, wide, scratch), (k, plane)| {
            let p = start + k;
            let fin = |b, acc_row: &[A], out_row: &mut [M]| finish(p, b, acc_row, out_row);
            let parts = (rows, base, p, shape, &plan);
            sum_plane_wide(parts, acc, plane, wide, scratch, widen, add, fin);
        },
    );
}

/// [`mean_planes`] for float16 pixels of [`DIRECT_INNER`] elements or
/// more on a CPU with F16C: the sums of [`PIXEL_SUMS`] outputs at a time
/// folded from the input rows of their windows by
/// [`float16::fold_pixels`] (in window order, so the norms round as the
/// direct fold does), then finished by `finish((a, b, c0), sums, out)`
/// from pixel `c0` of output row `b` of plane `a` on. A whole row of sums
/// did not fit the first-level cache (64 KiB at 128 pixels of 64
/// channels), and its divisions and roundings ran while no input was
/// read.
///
/// `sums` says how windows that lie wholly inside the row may be summed
/// instead, where the fold's sums are exact in any order, or that the
/// float16 2- to 4-norms are rounded as each part is summed, with no
/// `finish` (see [`PixelSums`]).
///
/// [`float16::fold_pixels`]: super::float16::fold_pixels
fn mean_planes_f16_pixels<M: Element>(
    hw: super::float16::F16c,
    (rows, base, shape, start): (&[u16], usize, &PoolShape, usize),
    out: &mut [M],
    sums: PixelSums,
    f: impl Fn(f64, f32) -> f64 + Copy + Sync,
    finish: impl Fn((usize, usize, usize), &[f64], &mut [M]) + Sync,
) {
    let [g0, g1, g2] = shape.axes;
    let inner = shape.inner;
    let row_len = g2.input * inner;
    let out_row = g2.output * inner;
    let pixels = (PIXEL_SUMS / inner).max(1);
    let interior = g2.interior();
    // Interior pixels take every tap with no per-pixel `taps` (a division
    // where the window is dilated).
    let window = |c: usize| {
        if interior.contains(&c) {
            (g2.cell(c, 0) * inner, g2.kernel)
        } else {
            let taps = g2.taps(c);
            let first = if taps.is_empty() { 0 } else { g2.cell(c, taps.start) * inner };
            (first, taps.len())
        }
    };
    let geometry = (inner, g2.dilation * inner);
    let carry_len = if let PixelSums::Carry3s2 { .. } = sums { out_row } else { 0 };
    out.par_chunks_mut(shape.plane_len()).enumerate().for_each_init(
        || {
            let carry = (vec![0f64; carry_len], Vec::new(), None);
            (vec![0f64; pixels * inner], Vec::new(), carry)
        },
        |(acc, group, (carry, columns, carried_row)), (k, plane)| {
            let p = start + k;
            let (m, a) = (p / g0.output, p % g0.output);
            let (map, row0) = shape.plane_input(rows, base, p);
            for (b, out_row) in plane.chunks_exact_mut(out_row).enumerate() {
                group.clear();
                // Global keys of the window's first and last rows.
                let (mut first, mut last) = (None, None);
                for t0 in g0.taps(a) {
                    let i = g0.cell(a, t0);
                    for t1 in g1.taps(b) {
                        let j = g1.cell(b, t1);
                        group.push(&map[((i - row0) * g1.input + j) * row_len..][..row_len]);
                        last = Some((m * g0.input + i) * g1.input + j);
                        first = first.or(last);
                    }
                }
                let abs = match sums {
                    PixelSums::Carry3s2 { abs } if (1..=3).contains(&group.len()) => Some(abs),
                    _ => None,
                };
                // The first row's sums are those the last window kept.
                let carried = group.len() > 1 && *carried_row == first;
                for (q, part) in out_row.chunks_mut(pixels * inner).enumerate() {
                    let c0 = q * pixels;
                    let acc = &mut acc[..part.len()];
                    let by_columns = matches!(sums, PixelSums::Columns);
                    if let PixelSums::Norms { norm } = sums {
                        let out = bytemuck::cast_slice_mut(part);
                        let window = |c| window(c0 + c);
                        super::float16::norm_pixels(hw, out, group, geometry, window, norm);
                        continue;
                    }
                    if abs.is_none() && !by_columns {
                        let window = |c| window(c0 + c);
                        super::float16::fold_pixels(hw, acc, group, geometry, window, f);
                        finish((a, b, c0), acc, part);
                        continue;
                    }
                    // The whole windows `lo..hi` of this part, between edges.
                    let n = part.len() / inner;
                    let lo = interior.start.clamp(c0, c0 + n);
                    let hi = interior.end.clamp(lo, c0 + n);
                    let (head, rest) = acc.split_at_mut((lo - c0) * inner);
                    let (middle, tail) = rest.split_at_mut((hi - lo) * inner);
                    super::float16::fold_pixels(hw, head, group, geometry, |c| window(c0 + c), f);
                    super::float16::fold_pixels(hw, tail, group, geometry, |c| window(hi + c), f);
                    if hi > lo && by_columns {
                        // The window rows' sums of each column the windows
                        // reach (one "pixel" of the whole span, one tap),
                        // then each window's `K` columns added.
                        let from = g2.cell(lo, 0) * inner;
                        let shift = g2.dilation * inner;
                        let span = middle.len() + (g2.kernel - 1) * shift;
                        columns.resize(span, 0.0);
                        let whole = (span, span);
                        super::float16::fold_pixels(hw, columns, group, whole, |_| (from, 1), f);
                        add_shifted(middle, columns, g2.kernel, shift);
                    } else if let (true, Some(abs)) = (hi > lo, abs) {
                        let from = g2.cell(lo, 0) * inner;
                        let new = &group[usize::from(carried)..];
                        let mut cut: [&[u16]; 3] = [&[]; 3];
                        for (cut, row) in cut.iter_mut().zip(new) {
                            *cut = &row[from..];
                        }
                        let carry = (&mut carry[lo * inner..hi * inner], carried);
                        let cut = &cut[..new.len()];
                        super::float16::sum_windows_3s2(
                            hw, middle, cut, inner, carry, abs, columns,
                        );
                    }
                    finish((a, b, c0), acc, part);
                }
                *carried_row = abs.and(last);
            }
        },
    );
}

/// Outputs [`mean_planes_f16_pixels`] sums before it finishes them: 8 KiB
/// of float64 sums.
const PIXEL_SUMS: usize = 1024;

/// How [`mean_planes_f16_pixels`] sums the windows that lie wholly inside
/// the row, where its fold adds values (or their magnitudes) whose
/// float64 sums are exact in any order ([`sums_are_exact`]); edge windows
/// are folded. Or, for float16 2- to 4-norms, how it takes every window's
/// norm ([`PixelSums::Norms`]).
#[derive(Clone, Copy)]
enum PixelSums {
    /// Every window folded by [`float16::fold_pixels`] in window order.
    ///
    /// [`float16::fold_pixels`]: super::float16::fold_pixels
    Fold,
    /// Windows of 3 with stride 2 along the row, of one to three rows:
    /// [`float16::sum_windows_3s2`], each value widened once, the row a
    /// window shares with the one the same job summed before it (in the
    /// plane before, for 2-D maps; in the output row before, for 3-D
    /// ones) carried, not read again. The fold adds each value, or with
    /// `abs` its magnitude. Harness, one thread, float16 avg 3x3/2: NHWC
    /// 4.1 -> 4.5-4.65 GiB/s, HWC 4.1 -> 4.4-4.5 (max 6.7-6.9).
    ///
    /// [`float16::sum_windows_3s2`]: super::float16::sum_windows_3s2
    Carry3s2 { abs: bool },
    /// Stride 1 along the row, in any layout: the window rows' column
    /// sums of a part (each value widened once per output row, where the
    /// fold widened it at each of the `K` windows of the row it is in),
    /// then each window's `K` columns added ([`add_shifted`]). Harness,
    /// one thread, float16 3x3/1 avg: NHWC 1.18 -> 1.51 GiB/s, HWC 1.19
    /// -> 1.56, NCHW 0.86 -> 1.45 (from rows widened to float64 once;
    /// max 1.65-1.91), NCHW dilation 2 0.85 -> 1.44; Lp p=1 NHWC 1.26 ->
    /// 1.77, NCHW 0.95 -> 1.67. The columns added as a copy and two
    /// passes, not in one pass, gave 1.27-1.31 (NCHW 1.25).
    Columns,
    /// float16 Lp p=2, 3 or 4 into float16: every window's norm taken as
    /// its terms are summed ([`float16::norm_pixels`]), in float32 where
    /// that settles the float16, with the bits of the float64 fold in
    /// window order. Harness, one thread, float16 NHWC Lp p=2: 2x2/2 6.29
    /// -> 8.20 GiB/s, 3x3/2 3.91 -> 5.87, 2x2/1 1.68 -> 2.23, 3x3/1 1.47 ->
    /// 1.52 (from rows widened once; HWC 1.44 -> 1.65, dilation 2 1.46 ->
    /// 1.66); max 10.4, 6.8, 3.1 and 1.76. Lp p=4: 2x2/2 3.48 -> 5.23,
    /// 3x3/2 2.44 -> 4.59, 3x3/1 0.82 -> 1.22. Lp p=3 (float64 sums and
    /// cube roots before): 2x2/2 1.95-2.64 -> 4.38-4.41, 3x3/2 2.01-2.02
    /// -> 3.38-3.39, 3x3/1 0.61-0.63 -> 0.85-0.86, 2x2/1 0.71 -> 1.15;
    /// with the same change (a block's roots taken together before they
    /// are checked), p=2 3x3/1 1.61 -> 1.90 and p=4 2x2/2 5.43 -> 5.90.
    ///
    /// [`float16::norm_pixels`]: super::float16::norm_pixels
    Norms { norm: Norm },
}

/// `out[j] = columns[j] + columns[j + shift] + … + columns[j + (k − 1)·shift]`:
/// a stride-1 window's sum from its `k` columns' sums, in slices the
/// compiler vectorises, the first two or three columns in one pass. The
/// columns' sums start from +0, so no output is −0 (as no window-order
/// sum from +0 is).
///
/// # Panics
/// If `columns` is shorter than `out` and `(k − 1)·shift`, or `k` is 0.
fn add_shifted(out: &mut [f64], columns: &[f64], k: usize, shift: usize) {
    assert!(k > 0, "add_shifted needs a window");
    let n = out.len();
    let at = |t: usize| &columns[t * shift..][..n];
    match k {
        1 => out.copy_from_slice(at(0)),
        2 => {
            for ((o, &x), &y) in out.iter_mut().zip(at(0)).zip(at(1)) {
                *o = x + y;
            }
        }
        _ => {
            for (((o, &x), &y), &z) in out.iter_mut().zip(at(0)).zip(at(1)).zip(at(2)) {
                *o = x + y + z;
            }
            for t in 3..k {
                for (o, &x) in out.iter_mut().zip(at(t)) {
                    *o += x;
                }
            }
        }
    }
}

/// [`mean_planes`] through [`FlatRows`] of float64 sums, for types whose
/// sums are exact in any order ([`sums_are_exact`]): the sums of `term(x)`
/// of each window along the last axis once per input row (not once per
/// output row it is in), the windows' reduced rows added by output row,
/// and each output row finished by `finish(a, b, sums, out_row)`.
fn mean_planes_flat<T: Element, M: Element>(
    (rows, base, shape, start): (&[T], usize, &PoolShape, usize),
    out: &mut [M],
    flat: FlatRows<f64>,
    term: impl MapRow<T, f32>,
    finish: impl Fn(usize, usize, &[f64], &mut [M]) + Sync,
) {
    let g0 = shape.axes[0];
    let plane_len = shape.plane_len();
    let row = shape.axes[2].output * shape.inner;
    let window = flat.window;
    // The terms of a window cut short by padding.
    let start_term = inlined!(move |x: T| f64::from(term.map(x)));
    let add_term = inlined!(move |acc: f64, x: T| acc + f64::from(term.map(x)));
    out.par_chunks_mut(plane_len).enumerate().for_each_init(
        || (vec![0f64; plane_len], flat.clone(), Vec::new()),
        |(acc, flat, wide), (n, plane)| {
            let p = start + n;
            // Seeded with +0, as the window-order sums: a window of −0
            // averages to +0.
            acc.fill(0.0);
            let fill = inlined!(|flat: &mut FlatRows<f64>, lo, hi| {
                let run = inlined!(|src: &[T], dst: &mut [f64]| {
                    reduce_sums(src, dst, window, wide, term)
                });
                flat.fill(rows, base, lo, hi, shape, run, (start_term, add_term));
            });
            let add = inlined!(|x: f64, y: f64| x + y);
            fold_plane_flat(rows, base, p, acc, shape, flat, fill, add);
            for (b, (acc_row, out_row)) in
                acc.chunks_exact(row).zip(plane.chunks_exact_mut(row)).enumerate()
            {
                finish(p % g0.output, b, acc_row, out_row);
            }
        },
    );
}

/// The divisors of one output row of averages: `n01 · counts[c]` for
/// output `c` of the last axis.
#[derive(Clone, Copy)]
struct Divisors<'a> {
    /// The product of the counts of the first two axes.
    n01: f64,
    /// The counts of the last axis.
    counts: &'a [f64],
    /// The row's reciprocals, for channels-first rows (where a division
    /// per element would cost more than the sums), if tabled.
    row: Option<&'a RowDivisors>,
    /// Whether [`quotient`] may replace the division (the sums cannot
    /// overflow or underflow in its remainder).
    fused: bool,
}

/// The reciprocals of the divisors of channels-first output rows with one
/// `n01`: `recips[c] = 1 / (n01 · counts[c])`, rounded.
struct RowDivisors {
    n01: f64,
    recips: Vec<f64>,
    /// Every divisor is a power of two, so every reciprocal is exact and
    /// a product by it is the quotient.
    exact: bool,
}

/// [`RowDivisors`] for every distinct `n01` of `shape`; none if there are
/// many (a ragged padding of large windows): those rows divide.
fn row_divisors(shape: &PoolShape, include_pad: bool, counts2: &[f64]) -> Vec<RowDivisors> {
    let [g0, g1, _] = shape.axes;
    let distinct = |g: &AxisGeometry| {
        let mut v: Vec<usize> = (0..g.output).map(|c| g.count(c, include_pad)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (c0, c1) = (distinct(&g0), distinct(&g1));
    let pairs = c0.len() * c1.len();
    if pairs > 64 || pairs * counts2.len() > 1 << 20 {
        return Vec::new();
    }
    let mut table: Vec<RowDivisors> = Vec::new();
    for n01 in c0.iter().flat_map(|&a| c1.iter().map(move |&b| (a * b) as f64)) {
        if table.iter().all(|r| r.n01 != n01) {
            table.push(RowDivisors {
                n01,
                recips: counts2.iter().map(|&n2| 1.0 / (n01 * n2)).collect(),
                exact: power_of_two(n01) && counts2.iter().all(|&n2| power_of_two(n2)),
            });
        }
    }
    table
}

/// `s / n`, correctly rounded (the division's result bit for bit), from
/// `y = 1 / n` rounded, by Markstein's correction: `q = s·y` is within an
/// ulp of the quotient, the remainder `s − q·n` is exact in a fused
/// multiply-add, and `q + remainder·y` rounds to the quotient. Needs a
/// hardware fused multiply-add (else `mul_add` is a slow library call)
/// and no overflow or underflow in the remainder. An exact product
/// (remainder 0, `s` = ±0 included), ±inf and NaN keep `q`, which is then
/// the quotient (`−0 / n` is −0, which the correction would make +0).
#[cfg_attr(not(debug_assertions), inline(always))]
fn quotient(s: f64, n: f64, y: f64) -> f64 {
    let q = s * y;
    let r = (-q).mul_add(n, s);
    if r != 0.0 && q.is_finite() { r.mul_add(y, q) } else { q }
}

vectorised! {
/// `out[c·inner + k] = acc[c·inner + k] / (n01 · counts[c])`: the
/// averages of one output row, each correctly rounded from its sum. Where
/// a divisor is a power of two the quotient is a multiplication by its
/// exact reciprocal; elsewhere, where the target has a fused multiply-add,
/// it is [`quotient`] (a division costs more than the sums: float16 NCHW
/// avg 3x3/2 spent 30% of its time dividing).
fn divide_row<M: Element>(acc: &[f64], out: &mut [M], inner: usize, d: Divisors) {
    let fma = d.fused && fused!();
    let Divisors { n01, counts, row, .. } = d;
    if inner == 1 {
        match row {
            Some(row) if row.exact => {
                for ((o, &s), &y) in out.iter_mut().zip(acc).zip(&row.recips) {
                    *o = M::from_f64(s * y);
                }
            }
            Some(row) if fma => {
                for ((o, &s), (&n2, &y)) in out.iter_mut().zip(acc).zip(counts.iter().zip(&row.recips)) {
                    *o = M::from_f64(quotient(s, n01 * n2, y));
                }
            }
            _ => {
                for ((o, &s), &n2) in out.iter_mut().zip(acc).zip(counts) {
                    *o = M::from_f64(s / (n01 * n2));
                }
            }
        }
        return;
    }
    for ((acc_px, out_px), &n2) in acc.chunks_exact(inner).zip(out.chunks_exact_mut(inner)).zip(counts) {
        let n = n01 * n2;
        if power_of_two(n) {
            let r = 1.0 / n;
            for (&s, o) in acc_px.iter().zip(out_px) {
                *o = M::from_f64(s * r);
            }
        } else if fma {
            let y = 1.0 / n;
            for (&s, o) in acc_px.iter().zip(out_px) {
                *o = M::from_f64(quotient(s, n, y));
            }
        } else {
            for (&s, o) in acc_px.iter().zip(out_px) {
                *o = M::from_f64(s / n);
            }
        }
    }
}
}

thread_local! {
    /// One output row of float64 quotients, rounded to float16 as a row.
    static QUOTIENTS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

vectorised! {
/// `out = acc^(1/p)`: the Lp norms of one output row. p = 3 takes
/// [`cube_roots`] (within two ulps of the root, where `powf(s, 1/3)`
/// is the power of a rounded third), p other than 1 to 4 its roots by the
/// tables `root` of `1/p` where given ([`roots`]), by `powf` otherwise.
/// p = 4 into float32 on AVX-512 takes [`fourth_roots`], where the
/// square-root unit was the bound; elsewhere two square roots.
///
/// A row of up to [`PREFETCH_ROW_BYTES`] is first asked for: at stride 1
/// there are as many outputs as inputs, and their stores waited on their
/// lines (float32 NCHW Lp p=3 3x3/1 ran 3-19% faster, p=4 2-5%).
///
/// [`cube_roots`]: super::pow::cube_roots
/// [`fourth_roots`]: super::pow::fourth_roots
/// [`roots`]: super::pow::roots
fn lp_roots<M: Element>(acc: &[f64], out: &mut [M], p: f64, root: Option<&Power>) {
    if size_of_val(out) <= PREFETCH_ROW_BYTES {
        super::stream::prefetch(out);
    }
    if p == 1.0 {
        for (&s, o) in acc.iter().zip(out) {
            *o = M::from_f64(s);
        }
    } else if p == 2.0 {
        for (&s, o) in acc.iter().zip(out) {
            *o = M::from_f64(s.sqrt());
        }
    } else if p == 4.0
        && M::DTYPE == DType::F32
        && ::multiversion::target::target_cfg_f!(target_feature = "avx512f")
    {
        super::pow::fourth_roots(acc, out);
    } else if p == 4.0 {
        // Within an ulp and a half of the root, as libm's `powf` is
        // within one.
        for (&s, o) in acc.iter().zip(out) {
            *o = M::from_f64(s.sqrt().sqrt());
        }
    } else if p == 3.0 {
        super::pow::cube_roots(acc, out);
    } else if let Some(root) = root {
        super::pow::roots(acc, out, root);
    } else {
        for (&s, o) in acc.iter().zip(out) {
            *o = M::from_f64(s.powf(1.0 / p));
        }
    }
}
}

/// `|x|^P` for `P` of 2, 3 and 4, by multiplication: `powf` costs fifty
/// times the rest of an Lp fold. For float16, float32 and integers of up
/// to 16 bits the square is exact in f64, so these round once, like a
/// correctly rounded power; wider types round twice, within an ulp of f64.
#[cfg_attr(not(debug_assertions), inline(always))]
fn whole_power<const P: u32>(x: f64) -> f64 {
    match P {
        2 => x * x,
        3 => {
            let x = x.abs();
            x * x * x
        }
        4 => {
            let q = x * x;
            q * q
        }
        _ => unreachable!("whole powers 2, 3 and 4"),
    }
}

/// A map of input values, applied a row at a time where rows are mapped
/// once ([`WideRows`], [`reduce_sums`]).
trait MapRow<T, W>: Copy + Sync {
    /// The value of one cell.
    fn map(&self, x: T) -> W;

    /// `dst[i] = map(src[i])`; the slices are as long.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_row(&self, src: &[T], dst: &mut [W])
    where
        T: Copy,
    {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = self.map(x);
        }
    }

    /// `evens[i] = map(src[2i])`, `odds[i] = map(src[2i + 1])`: whole
    /// pairs, `src` twice as long as `evens` and `odds`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_pairs(&self, src: &[T], evens: &mut [W], odds: &mut [W])
    where
        T: Copy,
    {
        pairs_each(src, evens, odds, |x| self.map(x));
    }
}

/// [`MapRow::map_pairs`] cell by cell.
#[cfg_attr(not(debug_assertions), inline(always))]
fn pairs_each<T: Copy, W>(src: &[T], evens: &mut [W], odds: &mut [W], map: impl Fn(T) -> W) {
    for ((e, o), pair) in evens.iter_mut().zip(odds.iter_mut()).zip(src.as_chunks::<2>().0) {
        *e = map(pair[0]);
        *o = map(pair[1]);
    }
}

/// Whether float16 rows of `T` widen with F16C ([`super::float16::has_hw`]).
fn f16_by_f16c<T: Element>() -> bool {
    T::DTYPE == DType::F16 && super::float16::has_hw()
}

/// A map cell by cell, inlined into the loop over the row.
#[derive(Clone, Copy)]
struct Each<F>(F);

impl<T, W, F: Fn(T) -> W + Copy + Sync> MapRow<T, W> for Each<F> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map(&self, x: T) -> W {
        (self.0)(x)
    }
}

/// Values widened to float32 (exact for the types it is used for), float16
/// rows with F16C where the CPU has it ([`super::float16::widen_row`]).
#[derive(Clone, Copy)]
struct ToF32;

impl<T: Element> MapRow<T, f32> for ToF32 {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map(&self, x: T) -> f32 {
        x.to_f64() as f32
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_row(&self, src: &[T], dst: &mut [f32]) {
        if f16_by_f16c::<T>() {
            super::float16::widen_row(bytemuck::cast_slice(src), dst);
        } else {
            for (d, &x) in dst.iter_mut().zip(src) {
                *d = self.map(x);
            }
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_pairs(&self, src: &[T], evens: &mut [f32], odds: &mut [f32]) {
        f32_pairs(src, evens, odds, 0xFFFF, |x| self.map(x));
    }
}

/// Values widened to float64, float16 rows by F16C where the CPU has it
/// ([`super::float16::widen_row`], then float32 to float64). Cell by cell
/// in software, float16 NCHW Lp p=2 3x3/1 spent a sixth of its time
/// widening.
#[derive(Clone, Copy)]
struct ToF64;

impl<T: Element> MapRow<T, f64> for ToF64 {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map(&self, x: T) -> f64 {
        x.to_f64()
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_row(&self, src: &[T], dst: &mut [f64]) {
        if f16_by_f16c::<T>() {
            const PIECE: usize = 256;
            let mut piece = [0f32; PIECE];
            for (s, d) in src.chunks(PIECE).zip(dst.chunks_mut(PIECE)) {
                let piece = &mut piece[..s.len()];
                super::float16::widen_row(bytemuck::cast_slice(s), piece);
                for (d, &x) in d.iter_mut().zip(piece.iter()) {
                    *d = f64::from(x);
                }
            }
        } else {
            for (d, &x) in dst.iter_mut().zip(src) {
                *d = x.to_f64();
            }
        }
    }
}

/// Absolute values widened to float32 (the terms of Lp with p = 1), float16
/// rows and pairs with F16C where the CPU has it
/// ([`super::float16::widen_row`], [`super::float16::widen_pairs_row`]).
#[derive(Clone, Copy)]
struct AbsF32;

impl<T: Element> MapRow<T, f32> for AbsF32 {
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map(&self, x: T) -> f32 {
        (x.to_f64() as f32).abs()
    }

    /// Widened by F16C, then the signs cleared: cell by cell in software,
    /// float16 NCHW Lp p=1 2x2/2 ran at half the speed of avg (62% of
    /// its time in that loop).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_row(&self, src: &[T], dst: &mut [f32]) {
        if f16_by_f16c::<T>() {
            super::float16::widen_row(bytemuck::cast_slice(src), dst);
            for d in dst.iter_mut() {
                *d = d.abs();
            }
        } else {
            for (d, &x) in dst.iter_mut().zip(src) {
                *d = self.map(x);
            }
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_pairs(&self, src: &[T], evens: &mut [f32], odds: &mut [f32]) {
        f32_pairs(src, evens, odds, 0x7FFF, |x| self.map(x));
    }
}

/// [`MapRow::map_pairs`] of `map` (a float32 widening, its sign bit
/// masked by `mask` for float16): float16 by F16C where the CPU has it.
#[cfg_attr(not(debug_assertions), inline(always))]
fn f32_pairs<T: Element>(
    src: &[T],
    evens: &mut [f32],
    odds: &mut [f32],
    mask: u16,
    map: impl Fn(T) -> f32,
) {
    if f16_by_f16c::<T>() {
        super::float16::widen_pairs_row(bytemuck::cast_slice(src), evens, odds, mask);
    } else {
        pairs_each(src, evens, odds, map);
    }
}

/// `|x|^p` by [`super::pow::powers`], a row at a time, through the
/// tables of `p`. `T` must be the input's type: `powers` fuses no
/// multiply-add where `T::Mean` is float64, so the row form gives the
/// bits of [`Power::of`], which Lp raises by tap by tap elsewhere (rows
/// already widened to float32 would be raised fused).
#[derive(Clone, Copy)]
struct Powers<'a>(&'a Power);

impl<T: Element> MapRow<T, f64> for Powers<'_> {
    fn map(&self, x: T) -> f64 {
        self.0.of(x.to_f64().abs())
    }

    fn map_row(&self, src: &[T], dst: &mut [f64]) {
        super::pow::powers(src, dst, self.0);
    }
}

/// Whether `values` cells of a 1- or 2-byte `T` are raised to a power
/// sooner through a [`Table`] of the power of every value of `T` (256 or
/// 65536 of them) than one by one: four cells per entry or more.
fn table_pays<T: Element>(values: usize) -> bool {
    size_of::<T>() <= 2 && values / 4 >= 1 << (8 * size_of::<T>())
}

/// `map` of every value of a 1- or 2-byte `T`, indexed by its bits.
fn power_table<T: Element>(map: impl MapRow<T, f64>) -> Vec<f64> {
    let all: Vec<T> = match size_of::<T>() {
        1 => (0..=u8::MAX).map(|b| bytemuck::pod_read_unaligned(&[b])).collect(),
        2 => (0..=u16::MAX).map(|b| bytemuck::pod_read_unaligned(&b.to_ne_bytes())).collect(),
        n => unreachable!("tables are for 1- and 2-byte types, not {n}"),
    };
    let mut table = vec![0.0; all.len()];
    map.map_row(&all, &mut table);
    table
}

/// A map of 1- and 2-byte values read from a table ([`power_table`]) of
/// its value for each: the same bits as the map it was made by, and for
/// powers sooner. Lp with a fractional `p` spends nearly all its time in
/// [`super::pow::powers`] (0.8 ns per value; libm's `powf`, 20 ns, for `p`
/// out of [`POWERS`]); a read of the table costs about a nanosecond in a
/// standalone model (random values, so the reads spread over the whole
/// table, which stays in the second-level cache).
#[derive(Clone, Copy)]
struct Table<'a>(&'a [f64]);

impl<T: Element> MapRow<T, f64> for Table<'_> {
    fn map(&self, x: T) -> f64 {
        match *bytemuck::bytes_of(&x) {
            [b] => self.0[usize::from(b)],
            [b0, b1] => self.0[usize::from(u16::from_ne_bytes([b0, b1]))],
            _ => unreachable!("tables are for 1- and 2-byte types"),
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    fn map_row(&self, src: &[T], dst: &mut [f64]) {
        // Arrays of the table's length, so the reads need no bounds check.
        if let Ok(table) = <&[f64; 256]>::try_from(self.0) {
            for (d, &b) in dst.iter_mut().zip(bytemuck::cast_slice::<T, u8>(src)) {
                *d = table[usize::from(b)];
            }
        } else {
            let table: &[f64; 65536] = self.0.try_into().expect("a table of 2-byte values");
            for (d, &b) in dst.iter_mut().zip(bytemuck::cast_slice::<T, u16>(src)) {
                *d = table[usize::from(b)];
            }
        }
    }
}

/// Input rows mapped once (raised to the norm's power, widened from
/// float16 and small integers to float32, or to float64 for stride 1, or
/// kept as they are), and split into phases once where the row plan reads
/// phases, kept while the windows that overlap them are summed, so each
/// input cell is mapped and split once.
///
/// Direct mapped: row `(i, j)` of a map (axis-0 cell `i`, axis-1 cell `j`)
/// lives in slot `(i mod E0)·L1 + j`, where `E0` is the axis-0 window extent
/// clipped to the axis: the rows of one window, and those the next output
/// plane along axis 0 shares with it, never share a slot.
///
/// The mapped values and the order they are summed in are those of the
/// direct fold (window order), so the sums are the same bit for bit.
#[derive(Clone)]
struct WideRows<W> {
    data: Vec<W>,
    /// Global key of the row each slot holds (`usize::MAX`: none).
    tags: Vec<usize>,
    /// Slots of the output row being summed, in window order.
    order: Vec<usize>,
    e0: usize,
    l1: usize,
    /// Elements of an input row, and of a slot.
    row_len: usize,
    slot_len: usize,
    /// `(stride, phase_len)` where slots hold their rows split into
    /// phases ([`RowKind::Phased`]), so a row is split once, not once
    /// for every output row it is in; the mapped row waits in `mapped`.
    phases: Option<(usize, usize)>,
    inner: usize,
    mapped: Vec<W>,
}

impl<W: Element> WideRows<W> {
    /// Empty slots for `shape`, or `None` if they would not fit in
    /// [`CACHE_BYTES`] (then every tap is mapped where it is summed).
    fn for_shape(shape: &PoolShape) -> Option<Self> {
        let [g0, g1, g2] = shape.axes;
        let e0 = g0.extent().min(g0.input);
        let row_len = g2.input * shape.inner;
        let slots = e0.checked_mul(g1.input)?;
        if slots.checked_mul(row_len)?.checked_mul(size_of::<W>())? > CACHE_BYTES {
            return None;
        }
        // Allocated on first use, by each worker.
        Some(WideRows {
            data: Vec::new(),
            tags: vec![usize::MAX; slots],
            order: Vec::new(),
            e0,
            l1: g1.input,
            row_len,
            slot_len: row_len,
            phases: None,
            inner: shape.inner,
            mapped: Vec::new(),
        })
    }

    /// Slots that hold their rows split as `plan` (a plan for rows of
    /// `W`) reads them, if it splits rows into phases.
    fn split_for(mut self, plan: &RowPlan) -> Self {
        if let RowKind::Phased { stride, phase_len } = plan.kind {
            self.phases = Some((stride, phase_len));
            self.slot_len = stride * phase_len;
        }
        self
    }

    /// The slot of row `(i, j)` of map `m` of `shape`, keyed by
    /// [`PoolShape::row_key`], mapping it from `map` (which
    /// starts at map-local row `row0`) if the slot does not hold it.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn slot<T: Copy>(
        &mut self,
        map: &[T],
        row0: usize,
        shape: &PoolShape,
        (m, i, j): (usize, usize, usize),
        widen: impl MapRow<T, W>,
    ) -> usize {
        let key = shape.row_key((m, i, j));
        let slot = (i % self.e0) * self.l1 + j;
        if self.tags[slot] != key {
            if self.data.is_empty() {
                self.data = vec![W::ZERO; self.tags.len() * self.slot_len];
            }
            let src = &map[((i - row0) * self.l1 + j) * self.row_len..][..self.row_len];
            let dst = &mut self.data[slot * self.slot_len..][..self.slot_len];
            match self.phases {
                None => widen.map_row(src, dst),
                Some((stride, phase_len)) => {
                    // Widened in one pass, then split: widening as it
                    // splits made the split loops generic over `widen`,
                    // and with `pow` as `widen` (Lp p=1.5) the compiler
                    // then left every widening loop scalar (4.6 times
                    // slower: 0.17 against 0.78 GB/s on two threads).
                    self.mapped.resize(self.row_len, W::ZERO);
                    widen.map_row(src, &mut self.mapped);
                    split_row(&self.mapped, dst, self.inner, stride, phase_len);
                }
            }
            self.tags[slot] = key;
        }
        slot
    }

    /// Asks for row `(i, j)` of map `m` of `shape` to be brought into the cache if
    /// no slot holds it and it is short ([`PREFETCH_ROW_BYTES`]). `rows`
    /// start at global axis-0 row `base`; a row outside them is skipped.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn prefetch<T: Copy>(
        &self,
        rows: &[T],
        base: usize,
        shape: &PoolShape,
        (m, i, j): (usize, usize, usize),
    ) {
        let key = shape.row_key((m, i, j));
        let slot = (i % self.e0) * self.l1 + j;
        if self.tags[slot] != key && key >= base * self.l1 {
            let from = (key - base * self.l1) * self.row_len;
            if let Some(src) = rows.get(from..from + self.row_len) {
                super::stream::prefetch(src);
            }
        }
    }

    /// The row in `slot`, split into phases if [`WideRows::split_for`]
    /// said so.
    fn row(&self, slot: usize) -> &[W] {
        &self.data[slot * self.slot_len..][..self.slot_len]
    }
}

vectorised! {
/// The sums of output plane `p` from [`WideRows`], finished into `out`
/// (`finish(b, sums, out_row)` per output row `b`). `widen` maps an input
/// value into the rows, `add` folds a mapped value into a sum (from
/// `A::default()`); `plan` is the row plan for rows of `W`. `acc` holds
/// one output row of sums for the plans that fold by output row, else a
/// plane.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn sum_plane_wide<T: Element, W: Element, M: Element, A: Copy + Default>(
    (rows, base, p, shape, plan): (&[T], usize, usize, &PoolShape, &RowPlan),
    acc: &mut [A],
    out: &mut [M],
    wide: &mut WideRows<W>,
    scratch: &mut Vec<W>,
    widen: impl MapRow<T, W>,
    add: impl Fn(A, W) -> A + Copy,
    mut finish: impl FnMut(usize, &[A], &mut [M]),
) {
    let [g0, g1, g2] = shape.axes;
    let (map, row0) = shape.plane_input(rows, base, p);
    let (m, a) = (p / g0.output, p % g0.output);
    let out_row_len = g2.output * shape.inner;
    // Rows are mapped where an output row first needs them, so the
    // hardware prefetcher sees only the rows windows use. Where windows
    // skip rows (dilation, stride above the window) it lost the stream and
    // every row waited on memory: ask for the rows of the next output row
    // (in this plane, or the first of the next plane) one output row
    // ahead. float32 NCHW avg 3x3/2 dilation 2 4.1 -> 5.6-5.9 GB/s, Lp
    // p=2 3.8 -> 4.9-5.5, float16 2.7 -> 3.2; two rows ahead was slower
    // (5.4-5.5), and so were three and four.
    let short = wide.row_len * size_of::<T>() <= PREFETCH_ROW_BYTES;
    let ahead = |wide: &WideRows<W>, b: usize| {
        if short {
            for row in shape.next_window_rows((m, a, b)) {
                wide.prefetch(rows, base, shape, row);
            }
        }
    };
    if plan.by_output_row() {
        for (b, out_row) in out.chunks_exact_mut(out_row_len).enumerate() {
            ahead(wide, b);
            wide.order.clear();
            for t0 in g0.taps(a) {
                let i = g0.cell(a, t0);
                for t1 in g1.taps(b) {
                    let slot = wide.slot(map, row0, shape, (m, i, g1.cell(b, t1)), widen);
                    wide.order.push(slot);
                }
            }
            acc.fill(A::default());
            // Three mapped rows per pass: they are in cache already, so
            // there is no sequential read to keep (see `fold_output_row`).
            for group in wide.order.chunks(3) {
                let mut src: [&[W]; 3] = [&[]; 3];
                for (s, &slot) in src.iter_mut().zip(group) {
                    *s = wide.row(slot);
                }
                fold_rows(plan, &src[..group.len()], acc, &g2, add);
            }
            finish(b, acc, out_row);
        }
    } else {
        // 2-D maps whose window rows each take three taps of contiguous
        // rows (3x3/1): the three rows' nine taps in one pass.
        let rows3 =
            wide.phases.is_none() && size_of::<W>() >= 4 && plan.three_rows_of_three(shape, a);
        if rows3 {
            ahead(wide, 0);
            let mut slots = [0; 3];
            for (slot, t0) in slots.iter_mut().zip(g0.taps(a)) {
                *slot = wide.slot(map, row0, shape, (m, g0.cell(a, t0), 0), widen);
            }
            let src = slots.map(|slot| wide.row(slot));
            fold_taps_3rows(plan, src, acc, A::default(), add);
            return finish(0, acc, out);
        }
        acc.fill(A::default());
        for t0 in g0.taps(a) {
            let i = g0.cell(a, t0);
            for (b, acc_row) in acc.chunks_exact_mut(out_row_len).enumerate() {
                if t0 == g0.taps(a).start {
                    ahead(wide, b);
                }
                for t1 in g1.taps(b) {
                    let slot = wide.slot(map, row0, shape, (m, i, g1.cell(b, t1)), widen);
                    if wide.phases.is_some() {
                        fold_taps(plan, wide.row(slot), acc_row, add);
                    } else {
                        fold_row(plan, wide.row(slot), acc_row, &g2, scratch, add);
                    }
                }
            }
        }
        for (b, (acc_row, out_row)) in
            acc.chunks_exact(out_row_len).zip(out.chunks_exact_mut(out_row_len)).enumerate()
        {
            finish(b, acc_row, out_row);
        }
    }
}
}

/// Max pooling with argmax of output planes `planes`; see
/// [`minmax_planes`] and [`pool_argmax`].
///
/// # Panics
/// As [`minmax_planes`].
pub fn argmax_planes<T: Element>(
    rows: &[T],
    base: usize,
    shape: &PoolShape,
    planes: Range<usize>,
    scope: IndexScope,
    out: &mut [T],
    indices: &mut [i64],
) {
    let [g0, g1, g2] = shape.axes;
    let inner = shape.inner;
    let plane_len = shape.plane_len();
    assert_eq!(out.len(), planes.len() * plane_len);
    assert_eq!(out.len(), indices.len());
    if plane_len == 0 {
        return;
    }
    let start = planes.start;
    let map_len = shape.map_len();
    out.par_chunks_mut(plane_len).zip(indices.par_chunks_mut(plane_len)).enumerate().for_each(
        |(k, (plane, idx_plane))| {
            let p = start + k;
            let (m, a) = (p / g0.output, p % g0.output);
            let (map, row0) = shape.plane_input(rows, base, p);
            let base_index = if scope == IndexScope::Tensor { m * map_len } else { 0 };
            for b in 0..g1.output {
                for c in 0..g2.output {
                    for ch in 0..inner {
                        let mut best = T::LOWEST;
                        let mut best_at = usize::MAX;
                        for t0 in g0.taps(a) {
                            let i = g0.cell(a, t0);
                            for t1 in g1.taps(b) {
                                let j = g1.cell(b, t1);
                                for t2 in g2.taps(c) {
                                    let k = g2.cell(c, t2);
                                    let cell = (i * g1.input + j) * g2.input + k;
                                    let local = ((i - row0) * g1.input + j) * g2.input + k;
                                    let x = map[local * inner + ch];
                                    let take = best_at == usize::MAX
                                        || (!best.is_nan() && (x > best || x.is_nan()));
                                    if take {
                                        best = x;
                                        best_at = cell;
                                    }
                                }
                            }
                        }
                        let at = (b * g2.output + c) * inner + ch;
                        plane[at] = best;
                        idx_plane[at] = match scope {
                            IndexScope::Map => best_at as i64,
                            IndexScope::Tensor => (base_index + best_at * inner + ch) as i64,
                        };
                    }
                }
            }
        },
    );
}

fn check_lengths(input: usize, out: usize, shape: &PoolShape) {
    assert_eq!(input, shape.input_len(), "input length does not match the pool shape");
    assert_eq!(out, shape.output_len(), "output length does not match the pool shape");
}

/// Per-worker state for folding output planes: the plan of the last axis
/// (shared), phase scratch and, where windows overlap, the row cache.
struct Folder<'s, T, A> {
    shape: &'s PoolShape,
    plan: &'s RowPlan,
    scratch: Vec<T>,
    cache: Option<RowCache<A>>,
    flat: Option<FlatRows<A>>,
}

impl<'s, T: Element, A: Copy> Folder<'s, T, A> {
    /// A folder; `cache` allows the row cache, which changes the order
    /// values are combined in (rows first, then across rows). That keeps
    /// max and min exact, but not a floating-point sum: `[MAX, 1]` over
    /// `[-MAX, 1]` sums to 0 by rows and to 2 in window order, the order
    /// PyTorch and NumPy use, so sums are never cached.
    fn new(shape: &'s PoolShape, plan: &'s RowPlan, seed: A, cache: bool) -> Self {
        let flat = if cache { FlatRows::for_shape(shape, seed, &FLAT_WINDOWS) } else { None };
        let cache =
            if cache && flat.is_none() { RowCache::for_shape(shape, plan, seed) } else { None };
        Folder { shape, plan, scratch: Vec::new(), cache, flat }
    }

    /// Folds every window of output plane `p` into `acc` (`O1·O2·inner`
    /// accumulators, already seeded), reading `rows`, which start at global
    /// row `base`. `f` folds one input value into an accumulator.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn fold(
        &mut self,
        rows: &[T],
        base: usize,
        p: usize,
        acc: &mut [A],
        f: impl Fn(A, T) -> A + Copy,
    ) {
        let (map, row0) = self.shape.plane_input(rows, base, p);
        let a = p % self.shape.axes[0].output;
        fold_plane(map, row0, acc, a, self.shape, self.plan, &mut self.scratch, f)
    }
}

impl<T: Element> Folder<'_, T, f64> {
    /// [`Folder::fold`] from +0: the sums of plane `p`'s windows into
    /// `acc`, which need not be seeded.
    ///
    /// 2-D maps with 3x3 windows at stride 1 along the row (and pixels of
    /// 4 bytes or more, whose rows [`mean_planes`] does not widen) take
    /// all nine taps in one pass ([`fold_taps_3rows`]), where the plane
    /// fold made one pass per input row, loading and storing the float64
    /// sums three times. The sums and their order are the same. Harness,
    /// one thread, AVX-512 Xeon VM, float32 NHWC 3x3/1, 64 channels:
    /// avg 1.61 -> 2.04 GiB/s, Lp p=1 1.60 -> 2.28, p=2 1.32 -> 1.90,
    /// p=3 0.96 -> 1.31, p=4 0.92 -> 1.09 (max 2.39); HWC avg 1.52 -> 1.88,
    /// Lp p=2 1.36 -> 1.65. (Lp p=2 to 4 now raise each row once instead,
    /// in [`mean_planes`], where the rows can be widened.)
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn sum(
        &mut self,
        rows: &[T],
        base: usize,
        p: usize,
        acc: &mut [f64],
        f: impl Fn(f64, T) -> f64 + Copy,
    ) {
        let shape = self.shape;
        let [g0, _, g2] = shape.axes;
        let a = p % g0.output;
        if size_of::<T>() >= 4 && self.plan.three_rows_of_three(shape, a) {
            let (map, row0) = shape.plane_input(rows, base, p);
            let row_len = g2.input * shape.inner;
            let t = g0.taps(a).start;
            let src =
                [t, t + 1, t + 2].map(|t| &map[(g0.cell(a, t) - row0) * row_len..][..row_len]);
            return sum_three_rows(self.plan, src, acc, f);
        }
        acc.fill(0.0);
        self.fold(rows, base, p, acc, f);
    }
}

impl<T: Element> Folder<'_, T, T> {
    /// [`Folder::fold`] for max and min, where `f` is the whole fold: a
    /// window's first value is its accumulator as it stands, which lets
    /// [`FlatRows`] reduce a window without starting from the seed (a
    /// step that kept the compiler from vectorising the strided reads:
    /// int8 10 against 21 GB/s, float16 2.7 against 13).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn fold_minmax(
        &mut self,
        rows: &[T],
        base: usize,
        p: usize,
        acc: &mut [T],
        f: impl Fn(T, T) -> T + Copy,
    ) {
        match &mut self.flat {
            Some(flat) => {
                let window = flat.window;
                let pairs = &mut self.scratch;
                let fill = inlined!(|flat: &mut FlatRows<T>, lo, hi| {
                    let load = inlined!(|x: T| x);
                    let run = inlined!(|src: &[T], dst: &mut [T]| {
                        reduce_run(src, dst, window, pairs, (load, f))
                    });
                    flat.fill(rows, base, lo, hi, self.shape, run, (load, f));
                });
                fold_plane_flat(rows, base, p, acc, self.shape, flat, fill, f)
            }
            None => match &mut self.cache {
                Some(cache) => fold_plane_cached(
                    rows,
                    base,
                    p,
                    acc,
                    self.shape,
                    self.plan,
                    &mut self.scratch,
                    cache,
                    (f, f),
                ),
                None => self.fold(rows, base, p, acc, f),
            },
        }
    }
}

impl Folder<'_, i16, i16> {
    /// [`Folder::fold_minmax`] of float16 `bits` mapped to
    /// [`order_key`]s as they are read, through the flat rows or the row
    /// cache; `acc` holds keys and `f` folds keys. The flat rows key each
    /// cell as they read it (the `load` of [`reduce_run`]); the row cache
    /// keys the rows it reduces and merges reduced rows, keys already, by
    /// `f` itself.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn fold_keyed(
        &mut self,
        bits: &[i16],
        base: usize,
        p: usize,
        acc: &mut [i16],
        f: impl Fn(i16, i16) -> i16 + Copy,
    ) {
        let step = inlined!(|a: i16, b: i16| f(a, order_key(b)));
        let Some(flat) = &mut self.flat else {
            let cache =
                self.cache.as_mut().expect("keyed planes go through flat rows or the cache");
            let (shape, plan, scratch) = (self.shape, self.plan, &mut self.scratch);
            return fold_plane_cached(bits, base, p, acc, shape, plan, scratch, cache, (step, f));
        };
        let window = flat.window;
        let pairs = &mut self.scratch;
        let fill = inlined!(|flat: &mut FlatRows<i16>, lo, hi| {
            let load = inlined!(|b: i16| order_key(b));
            let run = inlined!(|src: &[i16], dst: &mut [i16]| {
                reduce_run(src, dst, window, pairs, (load, f))
            });
            flat.fill(bits, base, lo, hi, self.shape, run, (load, step));
        });
        fold_plane_flat(bits, base, p, acc, self.shape, flat, fill, f)
    }
}

vectorised! {
/// Folds every window of output plane `a` into `acc` (`O1·O2·inner`
/// accumulators, already seeded). `map` holds the rows of one input map
/// from map-local row `row0` on; `scratch` is reusable working memory.
/// Compiled per instruction set (see `vectorised!` in `ops`).
#[allow(clippy::too_many_arguments)]
fn fold_plane<T: Element, A: Copy>(
    map: &[T],
    row0: usize,
    acc: &mut [A],
    a: usize,
    shape: &PoolShape,
    plan: &RowPlan,
    scratch: &mut Vec<T>,
    f: impl Fn(A, T) -> A + Copy,
) {
    let [g0, g1, g2] = shape.axes;
    let inner = shape.inner;
    let row_len = g2.input * inner;
    let out_row_len = g2.output * inner;
    if plan.slices_first(shape, size_of::<A>()) {
        for t0 in g0.taps(a) {
            for (b, out_row) in acc.chunks_exact_mut(out_row_len).enumerate() {
                let taps0 = (a, t0..t0 + 1);
                fold_output_row(map, row0, out_row, taps0, b, shape, plan, false, f);
            }
        }
        return;
    }
    if plan.by_output_row() {
        for (b, out_row) in acc.chunks_exact_mut(out_row_len).enumerate() {
            fold_output_row(map, row0, out_row, (a, g0.taps(a)), b, shape, plan, false, f);
        }
        return;
    }
    for t0 in g0.taps(a) {
        let i = g0.cell(a, t0);
        for (b, out_row) in acc.chunks_exact_mut(out_row_len).enumerate() {
            for t1 in g1.taps(b) {
                let j = g1.cell(b, t1);
                let in_row = &map[((i - row0) * g1.input + j) * row_len..][..row_len];
                fold_row(plan, in_row, out_row, &g2, scratch, f);
            }
        }
    }
}
}

/// Output row `b` of plane `a` for the [`RowPlan::by_output_row`] plans,
/// its input rows in window order. A row of outputs that fits the
/// first-level cache, and whose input rows were not asked for `ahead`,
/// takes one input row per pass, so the input is read
/// in one sequential stream (interleaving two or three rows of a
/// channels-first map halved the read rate: float32 NCHW 2x2/2 avg 7 against
/// 17 GB/s). A longer row takes up to three input rows per pass, so each
/// output is loaded and stored once per three rows instead of once per row.
/// So do rows whose input rows were asked for `ahead` of the pass
/// ([`sum_rows`]), whatever their length: they are on their way, and
/// interleaving them was faster in all but one case (float32 NCHW 2x2/2,
/// harness, one thread, GiB/s: avg 4.43 -> 5.20, Lp p=1 4.70 -> 5.26,
/// p=3 3.60 -> 4.16, p=4 3.93 -> 4.29; with padding 1, Lp p=1 4.54 ->
/// 5.44, but avg lost, 5.36 -> 4.78, still 1.19x max there).
///
/// Rows of at most [`SHORT_ROW`] bytes of outputs (3-D maps) take up to
/// four input rows per pass: there the loop set-up costs more than the
/// data (NCDHW 40x40x40 avg 3x3x3/2 2.9 -> 3.6 GB/s, 2x2x2/2 6.0 -> 6.3).
/// So do [`RowKind::Direct`] plans (channels-last pixels folded in
/// place), whatever the row's length: a block of a pixel's channels then
/// stays in registers over four rows of the window, where one row per pass
/// loaded and stored it once per row and paid the per-pixel loop once per
/// row (int8 NHWC, 64 channels, whose rows of outputs fit the cache).
/// Only taps `taps0` of axis 0 are folded.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_output_row<T: Element, A: Copy>(
    map: &[T],
    row0: usize,
    out_row: &mut [A],
    (a, taps0): (usize, Range<usize>),
    b: usize,
    shape: &PoolShape,
    plan: &RowPlan,
    ahead: bool,
    f: impl Fn(A, T) -> A + Copy,
) {
    let [g0, g1, g2] = shape.axes;
    let row_len = g2.input * shape.inner;
    let bytes = size_of_val(out_row);
    let per_pass = if bytes <= SHORT_ROW || matches!(plan.kind, RowKind::Direct) {
        4
    } else if bytes <= ROW_IN_CACHE && !ahead {
        1
    } else {
        3
    };
    let mut group: [&[T]; 4] = [&[]; 4];
    let mut n = 0;
    for t0 in taps0 {
        let i = g0.cell(a, t0);
        for t1 in g1.taps(b) {
            let j = g1.cell(b, t1);
            group[n] = &map[((i - row0) * g1.input + j) * row_len..][..row_len];
            n += 1;
            if n == per_pass {
                fold_rows(plan, &group[..n], out_row, &g2, f);
                n = 0;
            }
        }
    }
    if n > 0 {
        fold_rows(plan, &group[..n], out_row, &g2, f);
    }
}

vectorised! {
/// Sums of plane `a` for the [`RowPlan::by_output_row`] plans, one output
/// row at a time into `sums.acc` (one row of accumulators, which stays in
/// the first-level cache), each row finished into `out` as soon as it is
/// summed: no plane of accumulators to zero, store and read back. `map`
/// holds map `m`'s rows from `row0` on (and the rest of the band after).
///
/// Rows of up to [`PREFETCH_ROW_BYTES`] are asked for one output row
/// ahead: the next output row's, in this plane or the next (2-D maps
/// take a plane per output row), so they arrive while this one is
/// summed. The hardware prefetcher alone left these loops waiting on
/// memory. Harness, one thread, AVX-512 Xeon VM, float32 NCHW 256x256
/// maps: avg 2x2/2 3.77 -> 5.45 GiB/s, Lp p=2 3.41 -> 4.68; avg 3x3/2
/// 3.85 -> 4.93, Lp p=2 3.39 -> 4.52 (max 5.5 and 6.4).
///
/// Where [`RowSums::carries`], the pass that adds a window's last row
/// also sums that row from +0 into `sums.carry`, and the next output row
/// summed, here or in the job's next plane, starts from those sums if
/// its window begins on that row: each input row is read once, not 1.5
/// times, in one pass per output row, and the sums are those of the
/// window-order fold bit for bit, as the carry is exactly its prefix.
/// With the prefetch: avg 3x3/2 4.93 -> 5.07, Lp p=2 4.52 -> 4.68, p=3
/// 3.76 -> 3.85, p=4 3.61 -> 3.77.
///
/// `f` must add a term to a sum, `f(s, x) = s + g(x)` with no fused
/// rounding: the carried rows map each cell once as `f(0.0, x)` for both
/// sums ([`window_rows_carry`]), which gives the same bits only then.
#[allow(clippy::too_many_arguments)]
fn sum_rows<T: Element, M: Element>(
    (map, row0, m): (&[T], usize, usize),
    sums: &mut RowSums,
    out: &mut [M],
    a: usize,
    shape: &PoolShape,
    plan: &RowPlan,
    f: impl Fn(f64, T) -> f64 + Copy,
    mut finish: impl FnMut(usize, &[f64], &mut [M]),
) {
    let [g0, g1, g2] = shape.axes;
    let row_len = g2.input * shape.inner;
    let short = row_len * size_of::<T>() <= PREFETCH_ROW_BYTES;
    // Asks for the rows of the output row after `b`
    // ([`PoolShape::next_window_rows`]) that lie in `map`, which starts
    // at global row `start`: not those past the band, nor those above
    // `row0` (the next plane's window may start above this one's where
    // the dilation exceeds the stride and padding hides a first tap).
    let start = shape.row_key((m, row0, 0));
    let ahead = |b: usize| {
        if !short {
            return;
        }
        for row in shape.next_window_rows((m, a, b)) {
            let Some(at) = shape.row_key(row).checked_sub(start) else {
                continue;
            };
            if let Some(row) = map.get(at * row_len..(at + 1) * row_len) {
                super::stream::prefetch(row);
            }
        }
    };
    if sums.carry.is_empty() {
        let acc = &mut sums.acc;
        for (b, out_row) in out.chunks_exact_mut(acc.len()).enumerate() {
            ahead(b);
            acc.fill(0.0);
            fold_output_row(map, row0, acc, (a, g0.taps(a)), b, shape, plan, short, f);
            finish(b, acc, out_row);
        }
        return;
    }
    for (b, out_row) in out.chunks_exact_mut(sums.acc.len()).enumerate() {
        ahead(b);
        // The window's rows (three at most, as one axis takes one tap)
        // and their global indices.
        let mut rows: [&[T]; 3] = [&[]; 3];
        let mut keys = [0usize; 3];
        let mut n = 0;
        for t0 in g0.taps(a) {
            let i = g0.cell(a, t0);
            for t1 in g1.taps(b) {
                let j = g1.cell(b, t1);
                rows[n] = &map[((i - row0) * g1.input + j) * row_len..][..row_len];
                keys[n] = shape.row_key((m, i, j));
                n += 1;
            }
        }
        let carried = n > 1 && sums.carried_row == Some(keys[0]);
        if carried {
            std::mem::swap(&mut sums.acc, &mut sums.carry);
        } else {
            sums.acc.fill(0.0);
        }
        sums.carried_row = None;
        // Every new row in one pass: one row per pass, as
        // [`fold_output_row`] took rows that fit the cache before it
        // took rows asked for ahead several at a time, was slower here
        // (Lp p=2 3x3/2 3.58 against 3.70 without the prefetch).
        if let [before @ .., last] = &rows[usize::from(carried)..n] {
            fold_rows_carry(plan, before, last, (&mut sums.acc, &mut sums.carry), &g2, f);
            sums.carried_row = Some(keys[n - 1]);
        }
        finish(b, &sums.acc, out_row);
    }
}
}

/// Up to four input rows, in window order, into one output row, for the
/// [`RowKind::Window`] and [`RowKind::Direct`] plans (`fold_row` passes
/// one, [`fold_output_row`] one to four): each output folds
/// every tap of the first row, then of the next, keeping its accumulator
/// in registers across rows.
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_rows<T: Element, A: Copy>(
    plan: &RowPlan,
    rows: &[&[T]],
    out_row: &mut [A],
    g: &AxisGeometry,
    f: impl Fn(A, T) -> A + Copy,
) {
    match plan.kind {
        RowKind::Window { stride, kernel, dilation, fused: (lo, hi), at } => {
            // The interior outputs whose chunks lie wholly in the row go
            // through the fused loop; the rest (at most one more) and the
            // edges go one by one.
            debug_assert!(rows.iter().all(|row| row.len() == g.input));
            let fused = lo..hi;
            if !fused.is_empty() {
                let dst = &mut out_row[fused.clone()];
                let mut at_rows: [&[T]; 4] = [&[]; 4];
                for (d, row) in at_rows.iter_mut().zip(rows) {
                    *d = &row[at..];
                }
                let src = &at_rows[..rows.len()];
                macro_rules! go {
                    ($s:literal, $k:literal, $d:literal) => {
                        window_rows::<$s, $k, $d, _, _>(dst, src, f)
                    };
                }
                match (stride, kernel, dilation) {
                    (2, 2, 1) => go!(2, 2, 1),
                    (2, 3, 1) => go!(2, 3, 1),
                    (3, 3, 1) => go!(3, 3, 1),
                    (2, 2, 2) => go!(2, 2, 2),
                    (3, 2, 2) => go!(3, 2, 2),
                    (3, 3, 2) => go!(3, 3, 2),
                    _ => unreachable!("RowPlan::new picks the WINDOWS only"),
                }
            }
            for c in (0..fused.start).chain(fused.end..g.output) {
                for row in rows {
                    for at in edge_cells(plan, g, c) {
                        out_row[c] = f(out_row[c], row[at]);
                    }
                }
            }
        }
        RowKind::Direct => {
            let inner = plan.inner;
            // Interior pixels take every tap, `D·inner` apart, with no
            // per-pixel `taps` (an integer division): it cost more than
            // the fold itself for pixels of a few dozen bytes (int8 NHWC
            // max 3x3/2, 64 channels: 5.3 -> 6.4 GB/s with blocks of 32,
            // 5.2 -> 7.0 with the blocks of 64 of `direct_pixel`).
            let step = g.dilation * inner;
            let taps = 0..g.kernel;
            for (c, dst) in out_row.chunks_exact_mut(inner).enumerate() {
                if plan.interior.contains(&c) {
                    let first = g.cell(c, 0) * inner;
                    direct_pixel(dst, rows, taps.clone().map(|t| first + t * step), f);
                } else {
                    direct_pixel(dst, rows, g.taps(c).map(|t| g.cell(c, t) * inner), f);
                }
            }
        }
        _ => unreachable!("fold_rows is for window and direct plans"),
    }
}

/// The cells of a row that output `c` of a [`RowKind::Window`] plan
/// outside its fused loop takes, in window order.
#[cfg_attr(not(debug_assertions), inline(always))]
fn edge_cells<'a>(
    plan: &'a RowPlan,
    g: &'a AxisGeometry,
    c: usize,
) -> impl Iterator<Item = usize> + 'a {
    plan.taps.iter().filter(move |tap| tap.outs.contains(&c)).map(move |tap| g.cell(c, tap.tap))
}

/// [`fold_rows`] of a [`RowKind::Window`] plan with windows of 3 and
/// stride 2 along the row, for `rows` (none, one or two) and then `last`,
/// which also goes from +0 into `carry`: each output's sum of `last`
/// alone, as the next output row's fold would begin, from the same loads
/// and terms ([`sum_rows`]). `f` adds a term, as there.
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_rows_carry<T: Element>(
    plan: &RowPlan,
    rows: &[&[T]],
    last: &[T],
    (out_row, carry): (&mut [f64], &mut [f64]),
    g: &AxisGeometry,
    f: impl Fn(f64, T) -> f64 + Copy,
) {
    let RowKind::Window { stride: 2, kernel: 3, dilation: 1, fused: (lo, hi), at } = plan.kind
    else {
        unreachable!("RowSums::carries takes windows of 3 with stride 2 only")
    };
    let fused = lo..hi;
    if !fused.is_empty() {
        let mut at_rows: [&[T]; 2] = [&[]; 2];
        for (d, row) in at_rows.iter_mut().zip(rows) {
            *d = &row[at..];
        }
        let dst = (&mut out_row[fused.clone()], &mut carry[fused.clone()]);
        window_rows_carry(dst, &at_rows[..rows.len()], &last[at..], f);
    }
    for c in (0..fused.start).chain(fused.end..g.output) {
        for row in rows {
            for at in edge_cells(plan, g, c) {
                out_row[c] = f(out_row[c], row[at]);
            }
        }
        let mut k = 0.0;
        for at in edge_cells(plan, g, c) {
            out_row[c] = f(out_row[c], last[at]);
            k = f(k, last[at]);
        }
        carry[c] = k;
    }
}

/// [`window_rows`] at 3x3/2 for `rows` (none, one or two) and then
/// `last`, whose window sums from +0 also go to `carry`: one pass, so
/// `last` is loaded, shuffled and mapped once for both.
///
/// With eight float64 lanes (AVX-512) the vector loop always leaves its
/// last one to eight outputs to a scalar loop: it reads only the first
/// half of the chunk after each output's, and the compiler keeps a
/// scalar epilogue for such loads. That took a fifth of the sums' time
/// at rows of 127 (float32 NCHW Lp p=3 3x3/2). So it runs over the most
/// outputs that leave it one, and then over the last `LANES + 1`, from
/// the sums those had before. The same bits on every instruction set
/// (measured only with AVX-512).
///
/// `f` must add a term to a sum, `f(s, x) = s + g(x)`, as the folds of
/// [`sum_rows`] do (see [`window_rows_carry_from`]).
#[cfg_attr(not(debug_assertions), inline(always))]
fn window_rows_carry<T: Copy>(
    (dst, carry): (&mut [f64], &mut [f64]),
    rows: &[&[T]],
    last: &[T],
    f: impl Fn(f64, T) -> f64 + Copy,
) {
    let n = dst.len();
    let first = n - n.saturating_sub(1) % LANES;
    if first == n || n <= LANES {
        window_rows_carry_from((dst, carry), 0, rows, last, f);
        return;
    }
    // A start the compiler cannot see, or it unrolls the second pass
    // into scalar code.
    let from = std::hint::black_box(n - LANES - 1);
    let mut kept = [0f64; LANES];
    let kept = &mut kept[..first - from];
    kept.copy_from_slice(&dst[from..first]);
    window_rows_carry_from((&mut dst[..first], &mut carry[..first]), 0, rows, last, f);
    dst[from..first].copy_from_slice(kept);
    window_rows_carry_from((&mut dst[from..], &mut carry[from..]), from, rows, last, f);
}

/// A multiple of the outputs per pass of [`window_rows_carry`]'s vector
/// loop: eight float64 lanes with AVX-512 (as measured). The AVX2 clones'
/// loops step by four or eight, which also divide it (not measured).
const LANES: usize = 8;

/// [`window_rows_carry`] for outputs `from..` of the rows, into `dst`
/// and `carry` (which start at output `from`).
#[cfg_attr(not(debug_assertions), inline(always))]
fn window_rows_carry_from<T: Copy>(
    (dst, carry): (&mut [f64], &mut [f64]),
    from: usize,
    rows: &[&[T]],
    last: &[T],
    f: impl Fn(f64, T) -> f64 + Copy,
) {
    let n = dst.len();
    let here = |r| window_chunks::<2, T>(r, from, n);
    let after = |r| window_chunks::<2, T>(r, from + 1, n);
    macro_rules! step {
        ($acc:expr, $a:expr, $b:expr) => {
            fold_chunk::<2, 3, 1, T, f64>($acc, $a, $b, f)
        };
    }
    // `last`'s three terms, each mapped once for both sums. `f` adds a
    // term, `f(s, x) = s + g(x)`, so `f(0.0, x)` is `g(x)` but with +0 for
    // -0, and `s + f(0.0, x)` is `f(s, x)` for every `s` but -0, which no
    // sum from +0 becomes: the same bits as folding `last` twice, which
    // the compiler did not see were the same terms (it loaded, shuffled
    // and raised two of them again).
    let terms = |a: &[T; 2], b: &[T; 2]| (f(0.0, a[0]), f(0.0, a[1]), f(0.0, b[0]));
    macro_rules! add_last {
        ($d:expr, $k:expr, $a:expr, $b:expr) => {{
            let (t0, t1, t2) = terms($a, $b);
            *$d = *$d + t0 + t1 + t2;
            *$k = t0 + t1 + t2;
        }};
    }
    let it = dst.iter_mut().zip(carry.iter_mut()).zip(here(last)).zip(after(last));
    match *rows {
        [] => {
            for (((d, k), a), b) in it {
                add_last!(d, k, a, b);
            }
        }
        [x] => {
            for ((((d, k), a), b), (c, e)) in it.zip(here(x).iter().zip(after(x))) {
                *d = step!(*d, c, e);
                add_last!(d, k, a, b);
            }
        }
        [x, y] => {
            let xy = here(x).iter().zip(after(x)).zip(here(y)).zip(after(y));
            for ((((d, k), a), b), (((c, e), g), h)) in it.zip(xy) {
                *d = step!(step!(*d, c, e), g, h);
                add_last!(d, k, a, b);
            }
        }
        _ => unreachable!("windows of three rows"),
    }
}

/// Chunks `from..from + n` of `S` elements of `r`, for [`window_rows`].
#[cfg_attr(not(debug_assertions), inline(always))]
fn window_chunks<const S: usize, T>(r: &[T], from: usize, n: usize) -> &[[T; S]] {
    &r.as_chunks::<S>().0[from..][..n]
}

/// One output's fold of the `K` elements `D` apart from `a[0]` on, where
/// `b` is the chunk after `a`, for [`window_rows`]. A function, not a
/// closure, so it can be inlined always: with a large fold (Lp's `pow`) a
/// closure stayed a call per chunk.
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_chunk<const S: usize, const K: usize, const D: usize, T: Copy, A>(
    mut acc: A,
    a: &[T; S],
    b: &[T; S],
    f: impl Fn(A, T) -> A,
) -> A {
    for u in 0..K {
        let o = u * D;
        acc = f(acc, if o < S { a[o] } else { b[o - S] });
    }
    acc
}

/// `dst[c]` folds the `K` elements `D` apart from `rows[r][c·S]` on,
/// for one to four rows, row after row: pixel `c·S + o` of a row is
/// `chunk[c][o]` for `o < S` and `chunk[c + 1][o − S]` after, indices the
/// compiler knows, so the loop vectorises with shuffles. Each row must
/// hold `dst.len()` chunks of `S`, plus one if the window is wider than
/// `S`; it must be no wider than `2·S`. Written
/// out per row count: zipped slices, so the loop has no bounds checks and
/// vectorises (an indexed loop over an array of rows kept them, and ran
/// scalar).
#[cfg_attr(not(debug_assertions), inline(always))]
fn window_rows<const S: usize, const K: usize, const D: usize, T: Copy, A: Copy>(
    dst: &mut [A],
    rows: &[&[T]],
    f: impl Fn(A, T) -> A + Copy,
) {
    let n = dst.len();
    let next = usize::from((K - 1) * D + 1 > S);
    let here = |r| window_chunks::<S, T>(r, 0, n);
    let after = |r| window_chunks::<S, T>(r, next, n);
    macro_rules! step {
        ($acc:expr, $a:expr, $b:expr) => {
            fold_chunk::<S, K, D, T, A>($acc, $a, $b, f)
        };
    }
    match *rows {
        [x] => {
            for ((d, a), b) in dst.iter_mut().zip(here(x)).zip(after(x)) {
                *d = step!(*d, a, b);
            }
        }
        [x, y] => {
            let it = dst.iter_mut().zip(here(x)).zip(after(x)).zip(here(y)).zip(after(y));
            for ((((d, a), b), c), e) in it {
                *d = step!(step!(*d, a, b), c, e);
            }
        }
        [x, y, z] => {
            let it = dst
                .iter_mut()
                .zip(here(x))
                .zip(after(x))
                .zip(here(y))
                .zip(after(y))
                .zip(here(z))
                .zip(after(z));
            for ((((((d, a), b), c), e), g), h) in it {
                *d = step!(step!(step!(*d, a, b), c, e), g, h);
            }
        }
        [x, y, z, u] => {
            let it = dst
                .iter_mut()
                .zip(here(x))
                .zip(after(x))
                .zip(here(y))
                .zip(after(y))
                .zip(here(z))
                .zip(after(z))
                .zip(here(u))
                .zip(after(u));
            for ((((((((d, a), b), c), e), g), h), i), j) in it {
                *d = step!(step!(step!(step!(*d, a, b), c, e), g, h), i, j);
            }
        }
        _ => unreachable!("groups of one to four rows"),
    }
}

/// One output pixel of `dst.len()` elements folds the pixels at `offsets`
/// (in window order) of each row in turn, a block of channels at a time
/// so the accumulators stay in registers over the whole window.
///
/// Blocks are 32 elements, and first 64 for max and min of 1- and 2-byte
/// types: 32 int8 fill half a 512-bit vector (NHWC max 3x3/2, 64
/// channels, with the interior offsets of [`fold_rows`]: int8 6.4 -> 7.0
/// GB/s, float16 5.9 -> 6.95; float32 8.8-9.4 either way). Sums keep 32:
/// 64 float64 accumulators do not fit the 16 AVX2 registers.
#[cfg_attr(not(debug_assertions), inline(always))]
fn direct_pixel<T: Copy, A: Copy>(
    dst: &mut [A],
    rows: &[&[T]],
    offsets: impl Iterator<Item = usize> + Clone,
    f: impl Fn(A, T) -> A + Copy,
) {
    let narrow = size_of::<T>() <= 2 && size_of::<A>() <= 2;
    let wide = if narrow { direct_blocks::<64, _, _>(dst, rows, offsets.clone(), 0, f) } else { 0 };
    let done = wide + direct_blocks::<32, _, _>(&mut dst[wide..], rows, offsets.clone(), wide, f);
    let tail = &mut dst[done..];
    for row in rows {
        for at in offsets.clone() {
            pass1(tail, &row[at + done..][..tail.len()], f);
        }
    }
}

/// The whole blocks of `B` elements of `dst`, which holds the pixel from
/// element `from` on, for [`direct_pixel`]; returns the elements done.
#[cfg_attr(not(debug_assertions), inline(always))]
fn direct_blocks<const B: usize, T: Copy, A: Copy>(
    dst: &mut [A],
    rows: &[&[T]],
    offsets: impl Iterator<Item = usize> + Clone,
    from: usize,
    f: impl Fn(A, T) -> A + Copy,
) -> usize {
    let (blocks, _) = dst.as_chunks_mut::<B>();
    for (k, block) in blocks.iter_mut().enumerate() {
        let mut acc = *block;
        for row in rows {
            for at in offsets.clone() {
                let src: &[T; B] = row[at + from + k * B..][..B].try_into().unwrap();
                for (a, &x) in acc.iter_mut().zip(src) {
                    *a = f(*a, x);
                }
            }
        }
        *block = acc;
    }
    blocks.len() * B
}

/// Rows already reduced along the last axis, kept while the windows that
/// overlap them are folded: with a 3×3 window and stride 1 over
/// channels-first maps, each input row is reduced once instead of three
/// times, and the vertical step is a few contiguous passes. For max and
/// min of contiguous and phase-split rows: the windows [`FlatRows`] and
/// the [`RowKind::Window`] plan do not take.
///
/// Folding each row first and then the rows in window order keeps the
/// window order of the whole fold (row-major, first tap first), so ties
/// and the NaN rules are those of the direct fold.
///
/// Direct mapped: row `(i, j)` of a map (axis-0 cell `i`, axis-1 cell `j`)
/// lives in slot `(i mod E0)·E1 + j mod E1`, where `E` is the window extent
/// clipped to the axis, so the rows of one window never share a slot.
struct RowCache<A> {
    data: Vec<A>,
    /// Global key of the row each slot holds (`usize::MAX`: none).
    tags: Vec<usize>,
    /// Slots of the window being folded, in window order.
    order: Vec<usize>,
    e0: usize,
    e1: usize,
    seed: A,
}

/// Largest cache, in bytes, before the direct fold is used instead.
const CACHE_BYTES: usize = 8 << 20;

/// Longest row the kernels ask for ahead ([`sum_plane_wide`], the row
/// sums, the fills of the row cache, and the outputs of `lp_roots`):
/// longer rows are streams the hardware prefetcher follows by itself.
const PREFETCH_ROW_BYTES: usize = 4 << 10;

impl<A: Copy> RowCache<A> {
    /// A cache for `shape` folded along the last axis by `plan`, or `None`
    /// where it does not pay: pixels long enough for the direct fold to
    /// vectorise, windows that do not overlap, a cache that would not fit
    /// in [`CACHE_BYTES`], or a [`RowKind::Window`] plan, which folds by
    /// output row instead (its reduce loop here compiled to gathers: NCHW
    /// max 2x2/2 dilation 2 1.8 against 6.6 GB/s without the cache).
    fn for_shape(shape: &PoolShape, plan: &RowPlan, seed: A) -> Option<Self> {
        let (e0, e1, row) = Self::sizes(shape, plan)?;
        Some(RowCache {
            data: vec![seed; e0 * e1 * row],
            tags: vec![usize::MAX; e0 * e1],
            order: Vec::new(),
            e0,
            e1,
            seed,
        })
    }

    /// The window extents and the row length of [`Self::for_shape`]'s
    /// cache, or `None` where it has none; nothing is allocated.
    fn sizes(shape: &PoolShape, plan: &RowPlan) -> Option<(usize, usize, usize)> {
        let [g0, g1, g2] = shape.axes;
        let extent = |g: &AxisGeometry| g.extent().min(g.input);
        let overlaps = |g: &AxisGeometry| g.output > 1 && extent(g) > g.stride;
        let window = matches!(plan.kind, RowKind::Window { .. });
        if shape.inner >= DIRECT_INNER || window || !(overlaps(&g0) || overlaps(&g1)) {
            return None;
        }
        let (e0, e1) = (extent(&g0), extent(&g1));
        let row = g2.output * shape.inner;
        let slots = e0.checked_mul(e1)?;
        if slots.checked_mul(row)?.checked_mul(size_of::<A>())? > CACHE_BYTES {
            return None;
        }
        Some((e0, e1, row))
    }
}

vectorised! {
/// [`fold_plane`] through a [`RowCache`], for max and min: for each
/// output row of plane `p`, reduce the input rows of its window along the
/// last axis (once per row while the cache holds it), then merge them in
/// window order. `f` folds an input value into a reduced row and `merge`
/// one reduced row into another: the same step but for the float16 order
/// keys, whose input is keyed as it is read ([`Folder::fold_keyed`]).
#[allow(clippy::too_many_arguments)]
fn fold_plane_cached<T: Element, A: Copy>(
    rows: &[T],
    base: usize,
    p: usize,
    acc: &mut [A],
    shape: &PoolShape,
    plan: &RowPlan,
    scratch: &mut Vec<T>,
    cache: &mut RowCache<A>,
    (f, merge): (impl Fn(A, T) -> A + Copy, impl Fn(A, A) -> A + Copy),
) {
    let [g0, g1, g2] = shape.axes;
    let (m, a) = (p / g0.output, p % g0.output);
    let row_len = g2.input * shape.inner;
    let out_row_len = g2.output * shape.inner;
    let first = base * g1.input;
    for (b, out_row) in acc.chunks_exact_mut(out_row_len).enumerate() {
        cache.order.clear();
        for t0 in g0.taps(a) {
            let i = g0.cell(a, t0);
            for t1 in g1.taps(b) {
                let j = g1.cell(b, t1);
                let key = (m * g0.input + i) * g1.input + j;
                let slot = (i % cache.e0) * cache.e1 + j % cache.e1;
                if cache.tags[slot] != key {
                    let reduced = &mut cache.data[slot * out_row_len..][..out_row_len];
                    reduced.fill(cache.seed);
                    let in_row = &rows[(key - first) * row_len..][..row_len];
                    fold_row(plan, in_row, reduced, &g2, scratch, f);
                    cache.tags[slot] = key;
                }
                cache.order.push(slot);
            }
        }
        let part = |slot: usize| &cache.data[slot * out_row_len..][..out_row_len];
        for group in cache.order.chunks(3) {
            match *group {
                [x] => pass1(out_row, part(x), merge),
                [x, y] => pass2(out_row, part(x), part(y), merge),
                [x, y, z] => pass3(out_row, part(x), part(y), part(z), merge),
                _ => unreachable!("chunks of at most three"),
            }
        }
    }
}
}

/// Channels-first maps whose rows are cut into windows of `K` cells with
/// stride `S`, `(S, K)` one of `(2, 2)`, `(3, 3)` and `(2, 3)` (2x2/2,
/// 3x3/3 and 3x3/2 pooling; padding allowed), and `(2, 2)` and `(2, 3)`
/// with dilation 2 ([`FLAT_WINDOWS`]; sums take fewer,
/// [`FLAT_SUM_WINDOWS`]).
///
/// Rows are reduced along the last axis many at a time: on a miss, the
/// folder reduces the next `cap` axis-0 slices it has input for (rows of a
/// 2-D map, planes of a 3-D one) in one long loop, where the rows hold
/// whole windows end to end, else row by row with the same loop. Output
/// planes then merge the reduced rows of each window in window order, as
/// [`RowCache`] does, so max and min stay exact. Neither loop starts from
/// the seed: a seeded first step kept the compiler from vectorising the
/// strided reads (int8 10 against 21 GB/s, float16 2.7 against 13), and
/// folded row by row the short rows of 1- and 2-byte types spent more in
/// loop set-up than in the data (int8 NCHW 2x2/2: 1.8 GB/s).
///
/// For `(2, 3)`, `t[j] = f(x[j], x[j + 1])` runs first, one contiguous
/// pass, and the window at `x[2c]` is `f(t[2c], t[2c + 1])`: the fold of
/// `x[2c], x[2c+1], x[2c+1], x[2c+2]`. Max and min keep the first of equal
/// values and the first NaN, so seeing a value again right after itself
/// changes nothing, and the result is the window-order fold bit for bit.
#[derive(Clone)]
struct FlatRows<A> {
    /// Reduced rows: row `r` of the held slices (`r = slice·L1 + j`) at
    /// `r·stride_out`, output `c` of it at `r·stride_out + c`.
    rows: Vec<A>,
    /// Global axis-0 slices held: `lo..hi`.
    lo: usize,
    hi: usize,
    /// Slices the buffer holds.
    cap: usize,
    /// Reduced values per row in `rows`: `W / S` where every row starts a
    /// window chunk (one loop per span), else `O2` (row by row).
    stride_out: usize,
    /// Rows hold whole windows end to end: a fill is one loop.
    whole: bool,
    /// `(stride, kernel, dilation)` along the last axis: one of
    /// [`FLAT_WINDOWS`].
    window: (usize, usize, usize),
    /// Outputs of a row whose windows lie wholly in it.
    interior: Range<usize>,
    /// Accumulator rows widened to whole vectors (see [`fold_plane_flat`]).
    pad: Vec<A>,
    /// Whether a fill that keeps slices asks for the next fill's input
    /// ahead too, not only one that keeps none ([`FlatRows::fill`]).
    ahead_when_kept: bool,
}

/// Target size, in bytes, of the reduced rows one fill produces. Small:
/// the fill's input and output and the merges' reads then stay in L1. In
/// a side-by-side run, 2, 4, 8 and 16 KiB gave float32 NCHW 3x3/2 8.8,
/// 9.5, 6.9 and 7.2 GB/s, and int8 8.3, 8.2, 4.2 and 4.4.
const FLAT_BYTES: usize = 4 << 10;

/// Largest buffer, in bytes, before the row cache is used instead (a
/// window's slices must fit at once).
const MAX_FLAT_BYTES: usize = 1 << 20;

/// `(stride, kernel, dilation)` of the last axis [`FlatRows`] takes for
/// max and min. 3x3/2 with dilation 2 reads only even cells, so
/// [`reduce_run`] splits them out first: NCHW max 3.65 -> 7.65 GB/s for
/// float32, 2.8 -> 8.9 for int8, 3.4 -> 4.9 for float16, against the row
/// loops. 3x3/3 with dilation 2 stays with the row loops: read in place
/// through flat rows, the AVX-512 build gathered its cells
/// (`vgatherqps`), 8.4 -> 3.0 GB/s.
const FLAT_WINDOWS: [(usize, usize, usize); 5] =
    [(2, 2, 1), (3, 3, 1), (2, 3, 1), (2, 2, 2), (2, 3, 2)];

/// The windows [`FlatRows`] sums ([`reduce_sums`]). 3x3/2 splits even and
/// odd cells first (read in place, the cells were gathered and it was
/// slower than the row loops): float16 NCHW Lp p=1 3.1 -> 3.55 GB/s,
/// avg unchanged at 2.9. A fill of 16 KiB rather than [`FLAT_BYTES`] was
/// slower at 2x2/2 (float16 4.3 -> 3.2).
const FLAT_SUM_WINDOWS: [(usize, usize, usize); 2] = [(2, 2, 1), (2, 3, 1)];

/// Elements of the `(2, 3)` pair pass per piece (even, so pieces keep the
/// chunk alignment of the span), small enough to stay in L1.
const PAIR_PIECE: usize = 4096;

impl<A: Copy> FlatRows<A> {
    /// Reduced rows for `shape`, about [`FLAT_BYTES`] of them per fill,
    /// for a last-axis window among `windows`, or `None` where the shape
    /// does not fit.
    fn for_shape(shape: &PoolShape, seed: A, windows: &[(usize, usize, usize)]) -> Option<Self> {
        let (cap, slice_out, stride_out, whole) = Self::sizes(shape, windows)?;
        let g2 = &shape.axes[2];
        Some(FlatRows {
            rows: vec![seed; cap * slice_out + 1],
            lo: 0,
            hi: 0,
            cap,
            stride_out,
            whole,
            window: (g2.stride, g2.kernel, g2.dilation),
            interior: g2.interior(),
            pad: Vec::new(),
            ahead_when_kept: false,
        })
    }

    /// These rows, with fills that keep slices asking for the next fill's
    /// input ahead as well (see [`FlatRows::fill`]): for the sums.
    fn ahead_when_kept(self) -> Self {
        FlatRows { ahead_when_kept: true, ..self }
    }

    /// `(cap, slice_out, stride_out, whole)` of [`Self::for_shape`]'s
    /// buffer, or `None` where the shape does not fit; nothing is
    /// allocated.
    fn sizes(
        shape: &PoolShape,
        windows: &[(usize, usize, usize)],
    ) -> Option<(usize, usize, usize, bool)> {
        let [g0, g1, g2] = shape.axes;
        let (s, window) = (g2.stride, (g2.stride, g2.kernel, g2.dilation));
        let extent = |g: &AxisGeometry| g.extent().min(g.input);
        // Every slice and row is in some window: none is reduced for
        // nothing. (With dilation 2 at stride 2, rows between windows are
        // reduced for nothing; that is half the rows, and the same work as
        // the undilated window.)
        let dense = |g: &AxisGeometry| g.stride <= extent(g);
        let fits = shape.inner == 1
            && windows.contains(&window)
            && !g2.interior().is_empty()
            && dense(&g0)
            && dense(&g1);
        if !fits {
            return None;
        }
        let whole = g2.input.is_multiple_of(s) && g2.output <= g2.input / s;
        let stride_out = if whole { g2.input / s } else { g2.output };
        let slice_out = g1.input.checked_mul(stride_out)?;
        let slice_bytes = slice_out.checked_mul(size_of::<A>())?.max(1);
        let cap = (FLAT_BYTES / slice_bytes).max(extent(&g0));
        if cap.checked_mul(slice_bytes)? > MAX_FLAT_BYTES {
            return None;
        }
        Some((cap, slice_out, stride_out, whole))
    }
}

impl<A: Copy> FlatRows<A> {
    /// Reduces global slices `lo..hi` (read from `rows`, starting at
    /// global slice `base`) into the buffer: `run(src, dst)` reduces as
    /// many whole windows from the start of `src` as `dst` holds; a window
    /// cut short by padding is `start` of its first cell, then `step` of
    /// each next one.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn fill<T: Copy>(
        &mut self,
        rows: &[T],
        base: usize,
        lo: usize,
        hi: usize,
        shape: &PoolShape,
        mut run: impl FnMut(&[T], &mut [A]),
        (start, step): (impl Fn(T) -> A, impl Fn(A, T) -> A),
    ) {
        let g = &shape.axes[2];
        let (w, o2, so) = (g.input, g.output, self.stride_out);
        let int = self.interior.clone();
        // Interior windows of a row start at cell `s0`.
        let s0 = self.window.0 * int.start - g.pad_begin;
        // Slices the buffer already holds at the start of `lo..hi` (those
        // that windows overlapping along axis 0 share: one in three at
        // 3x3/2 over float64 sums, whose fills hold three rows) move to
        // the front rather than being reduced again.
        let slice_out = shape.axes[1].input * so;
        let kept = if (self.lo..self.hi).contains(&lo) { self.hi.min(hi) - lo } else { 0 };
        if kept > 0 {
            let from = (lo - self.lo) * slice_out;
            self.rows.copy_within(from..from + kept * slice_out, 0);
        }
        let src = &rows[(lo + kept - base) * shape.row_len()..(hi - base) * shape.row_len()];
        // Where fills share no slices (windows that do not overlap along
        // axis 0), the next fill's input, as long as this one's, is asked
        // for ahead (past the band, not at all): the hardware prefetcher
        // alone left these fills waiting on memory. Harness, one thread,
        // AVX-512 Xeon VM, NCHW 256x256 maps, 2x2/2: float32 max 5.7-6.1
        // -> 6.7-8.4 GiB/s over four pairs (4.5 -> 5.6 in a noisier run),
        // min 5.8 -> 8.1, float16 max 4.2 -> 4.9, float16 avg 3.3 -> 4.4,
        // float64 max 5.5 -> 5.8. Asked for at 3x3/2 too, where a fill
        // keeps a slice, float32 max lost 9-12% (5.9 -> 5.2-5.4) and
        // float16 max 3%, though float16 avg gained (2.9 -> 3.3) and Lp
        // p=1 (3.2 -> 3.75). So only the sums' rows ask for it there
        // ([`FlatRows::ahead_when_kept`]): float16 NCHW 3x3/2 avg 2.87 ->
        // 3.26 (max 4.5), Lp p=1 3.11 -> 3.82, avg with padding 1 2.59 ->
        // 2.89 (max 3.9), on values with fractions 2.87 -> 3.09.
        let next = (hi - base) * shape.row_len();
        if (kept == 0 || self.ahead_when_kept)
            && let Some(ahead) = rows.get(next..next + src.len())
        {
            super::stream::prefetch(ahead);
        }
        let dst = &mut self.rows[kept * slice_out..];
        let n_rows = src.len() / w;
        if self.whole {
            // Row `r`'s window `c` is chunk `r·W/S + c − int.start` of the
            // span from cell `s0`: stored at `r·so + c`.
            run(&src[s0.min(src.len())..], &mut dst[int.start..]);
        } else {
            for (r, row) in src.chunks_exact(w).enumerate() {
                run(&row[s0..], &mut dst[r * so + int.start..][..int.len()]);
            }
        }
        // Windows cut short by padding, one by one.
        if int.len() < o2 {
            for (r, row) in src.chunks_exact(w).enumerate() {
                for c in (0..int.start).chain(int.end..o2) {
                    let mut v = g.taps(c).map(|t| row[g.cell(c, t)]);
                    let first = v.next().expect("every window touches the row");
                    dst[r * so + c] = v.fold(start(first), &step);
                }
            }
        }
        debug_assert!(n_rows + kept * shape.axes[1].input <= self.cap * shape.axes[1].input);
        self.lo = lo;
        self.hi = hi;
    }
}

/// Reduces windows of `K` cells at stride `S` from `src` into `dst`, as
/// many as `dst` holds or `src` has whole windows for, first cell first.
/// Each cell read is `load`ed first (float16 bits to [`order_key`]s, in
/// registers, where a keyed copy of the run, then the reduction of the
/// copy, ran float16 NCHW max 2x2/2 at 6.0 GiB/s against 9.2, and 3x3/2
/// at 5.0 against 6.0: criterion, one thread); `f` folds loaded values.
#[cfg_attr(not(debug_assertions), inline(always))]
fn reduce_run<T: Copy>(
    src: &[T],
    dst: &mut [T],
    window: (usize, usize, usize),
    pairs: &mut Vec<T>,
    (load, f): (impl Fn(T) -> T + Copy, impl Fn(T, T) -> T + Copy),
) {
    match window {
        (2, 2, 1) => {
            for (d, win) in dst.iter_mut().zip(src.as_chunks::<2>().0) {
                *d = f(load(win[0]), load(win[1]));
            }
        }
        (3, 3, 1) => {
            for (d, win) in dst.iter_mut().zip(src.as_chunks::<3>().0) {
                *d = f(f(load(win[0]), load(win[1])), load(win[2]));
            }
        }
        (2, 3, 1) => {
            // Windows whole in `src`, in pieces that keep `pairs` in L1.
            let n = dst.len().min(src.len().saturating_sub(1) / 2);
            if n == 0 {
                return;
            }
            if pairs.len() < PAIR_PIECE {
                pairs.resize(PAIR_PIECE, src[0]);
            }
            for (q, out) in dst[..n].chunks_mut(PAIR_PIECE / 2).enumerate() {
                let x = &src[q * PAIR_PIECE..][..2 * out.len() + 1];
                let t = &mut pairs[..2 * out.len()];
                for ((d, &u), &v) in t.iter_mut().zip(x).zip(&x[1..]) {
                    *d = f(load(u), load(v));
                }
                for (d, pair) in out.iter_mut().zip(t.as_chunks::<2>().0) {
                    *d = f(pair[0], pair[1]);
                }
            }
        }
        (2, 2, 2) => {
            let step = |a: T, x: T| f(a, load(x));
            reduce_windows::<2, 2, 2, T, T>(src, dst, load, step)
        }
        (2, 3, 2) => {
            // Cells `2c`, `2c + 2`, `2c + 4`: three even cells in a row.
            // Split even and odd cells first (`split_phases` reads whole
            // pairs, so the compiler shuffles rather than gathers), then
            // fold three contiguous evens.
            let n = dst.len().min(src.len().saturating_sub(3) / 2);
            if n == 0 {
                return;
            }
            // Phases of up to `PAIR_PIECE / 2 + 2` cells.
            let phase_len = PAIR_PIECE / 2 + 2;
            if pairs.len() < 2 * phase_len {
                pairs.resize(2 * phase_len, src[0]);
            }
            for (q, out) in dst[..n].chunks_mut(PAIR_PIECE / 2).enumerate() {
                // Evens `0..=m + 1` of the piece: `m + 1` whole pairs, and
                // the last even cell, which may end `src`.
                let m = out.len();
                let x = &src[q * PAIR_PIECE..][..2 * m + 3];
                split_phases(x, pairs, 2, phase_len);
                let evens = &pairs[..m + 2];
                let it = out.iter_mut().zip(evens).zip(&evens[1..]).zip(&evens[2..]);
                for (((d, &a), &b), &c) in it {
                    *d = f(f(load(a), load(b)), load(c));
                }
            }
        }
        _ => unreachable!("FlatRows::for_shape takes these windows only"),
    }
}

/// `dst[c]` reduces the `K` cells `D` apart from `src[c·S]` on, as many
/// windows as `dst` holds or `src` has whole windows for: `start` of the
/// first cell, then `step` of each next, in order. A window reaches at
/// most two chunks of `S` past its own; cells are picked from the chunks
/// at indices the compiler knows, so the loop vectorises with shuffles.
#[cfg_attr(not(debug_assertions), inline(always))]
fn reduce_windows<const S: usize, const K: usize, const D: usize, T: Copy, A>(
    src: &[T],
    dst: &mut [A],
    start: impl Fn(T) -> A,
    step: impl Fn(A, T) -> A,
) {
    let extent = (K - 1) * D + 1;
    let n = if src.len() >= extent { dst.len().min((src.len() - extent) / S + 1) } else { 0 };
    let chunks = src.as_chunks::<S>().0;
    // Chunks past its own a window reads.
    let reach = (extent - 1) / S;
    let n_chunked = n.min(chunks.len().saturating_sub(reach));
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn fold<const S: usize, const K: usize, const D: usize, T: Copy, A>(
        (a, b, c): (&[T; S], &[T; S], &[T; S]),
        start: impl Fn(T) -> A,
        step: impl Fn(A, T) -> A,
    ) -> A {
        let at = |o: usize| {
            if o < S {
                a[o]
            } else if o < 2 * S {
                b[o - S]
            } else {
                c[o - 2 * S]
            }
        };
        let mut acc = start(at(0));
        for u in 1..K {
            acc = step(acc, at(u * D));
        }
        acc
    }
    let dst_chunked = &mut dst[..n_chunked];
    match reach {
        0 => {
            for (d, a) in dst_chunked.iter_mut().zip(chunks) {
                *d = fold::<S, K, D, T, A>((a, a, a), &start, &step);
            }
        }
        1 => {
            for ((d, a), b) in dst_chunked.iter_mut().zip(chunks).zip(&chunks[1..]) {
                *d = fold::<S, K, D, T, A>((a, b, b), &start, &step);
            }
        }
        _ => {
            let it = dst_chunked.iter_mut().zip(chunks).zip(&chunks[1..]).zip(&chunks[2..]);
            for (((d, a), b), c) in it {
                *d = fold::<S, K, D, T, A>((a, b, c), &start, &step);
            }
        }
    }
    // A last window whose chunk `src` ends inside.
    for (c, d) in dst.iter_mut().enumerate().take(n).skip(n_chunked) {
        let mut acc = start(src[c * S]);
        for u in 1..K {
            acc = step(acc, src[c * S + u * D]);
        }
        *d = acc;
    }
}

/// Outputs of [`reduce_sums`] per piece: the piece's float32 terms (up to
/// 12 KiB) and sums (8 KiB) stay in L1.
const SUM_PIECE: usize = 1024;

/// Sums of `term(x)` over windows of `K` cells at stride `S` from `src`
/// into `dst`, as many as [`reduce_run`] reduces. Each piece of `src` is
/// mapped to float32 once, in one contiguous pass into `wide`, then its
/// windows are summed in float64 (the strided reads of float32 are cheap
/// shuffles; those of 1- and 2-byte elements are not, see `RowPlan::new`).
/// Only for terms exact in float32 whose float64 sums are exact in any
/// grouping ([`sums_are_exact`]).
#[cfg_attr(not(debug_assertions), inline(always))]
fn reduce_sums<T: Copy>(
    src: &[T],
    dst: &mut [f64],
    window: (usize, usize, usize),
    wide: &mut Vec<f32>,
    term: impl MapRow<T, f32>,
) {
    let (stride, kernel, dilation) = window;
    let extent = (kernel - 1) * dilation + 1;
    let n = if src.len() >= extent { dst.len().min((src.len() - extent) / stride + 1) } else { 0 };
    // Cells past a piece's last stride that its last window reads.
    let over = extent.saturating_sub(stride);
    // Room for the chunks a piece's last window reaches into.
    if wide.len() < (SUM_PIECE + 2) * stride {
        wide.resize((SUM_PIECE + 2) * stride, 0.0);
    }
    if window == (2, 3, 1) {
        // Cells `2c`, `2c + 1`, `2c + 2`: map even and odd cells apart
        // (whole pairs, shuffled rather than gathered), then add an even,
        // an odd and the next even, all read in order.
        let (evens, odds) = wide.split_at_mut(SUM_PIECE + 2);
        for (q, out) in dst[..n].chunks_mut(SUM_PIECE).enumerate() {
            let m = out.len();
            let x = &src[q * SUM_PIECE * 2..][..2 * m + 1];
            term.map_pairs(&x[..2 * m], &mut evens[..m], &mut odds[..m]);
            evens[m] = term.map(x[2 * m]);
            let it = out.iter_mut().zip(&evens[..m]).zip(&odds[..m]).zip(&evens[1..]);
            for (((d, &a), &b), &c) in it {
                *d = f64::from(a) + f64::from(b) + f64::from(c);
            }
        }
        return;
    }
    for (q, out) in dst[..n].chunks_mut(SUM_PIECE).enumerate() {
        let len = out.len() * stride + over;
        let x = &src[q * SUM_PIECE * stride..][..len];
        term.map_row(x, &mut wide[..len]);
        // Whole chunks, the last one's stale tail never read.
        let terms = &wide[..len.next_multiple_of(stride)];
        let start = |x: f32| f64::from(x);
        let step = |acc: f64, x: f32| acc + f64::from(x);
        match window {
            (2, 2, 1) => reduce_windows::<2, 2, 1, f32, f64>(terms, out, start, step),
            _ => unreachable!("FlatRows::for_shape takes FLAT_SUM_WINDOWS only"),
        }
    }
}

/// Whether float64 sums of windows of `cells` cells of `T` are exact, so
/// any grouping of the additions gives the window-order sum bit for bit:
/// for types under 4 bytes and up to 2^13 cells. float16 values are
/// multiples of 2^-24 below 2^16 (40 bits), and 8- and 16-bit integers are
/// integers below 2^16: sums of up to 2^13 such fit float64's 53 bits.
/// Infinities and NaN give the same result in any order (NaN from both
/// infinities, and NaN stays), up to the NaN's payload.
fn sums_are_exact<T>(cells: usize) -> bool {
    size_of::<T>() < size_of::<f32>() && cells <= 1 << 13
}

vectorised! {
/// [`fold_plane`] through [`FlatRows`]: reduce the slices plane `p` needs
/// (with those after it) if the buffer does not hold them, by
/// `fill(flat, lo, hi)` (see [`FlatRows::fill`]), then merge the reduced
/// rows of each window into `acc` in window order by `f`.
#[allow(clippy::too_many_arguments)]
fn fold_plane_flat<T: Copy, A: Copy>(
    rows: &[T],
    base: usize,
    p: usize,
    acc: &mut [A],
    shape: &PoolShape,
    flat: &mut FlatRows<A>,
    mut fill: impl FnMut(&mut FlatRows<A>, usize, usize),
    f: impl Fn(A, A) -> A + Copy,
) {
    let [g0, g1, g2] = shape.axes;
    let (m, a) = (p / g0.output, p % g0.output);
    let (o2, so, l1) = (g2.output, flat.stride_out, g1.input);
    // Where the reduced rows have room (`stride_out` past `O2`), 2-byte
    // accumulators are merged in rows of whole 256-bit vectors, in `pad`,
    // and copied back: the merge loops' scalar remainder (up to 15
    // float16 per row, each a few compares and branches) cost more than
    // the copies. End to end, NCHW max 3x3/2 over rows of 256 (127
    // outputs), float16 1.015-1.03x faster this way, int8 1.00-1.02x and
    // float32 0.97x (its remainder is at most 7, the copies twice as
    // long), so only 2-byte types take it.
    let lanes = 32 / size_of::<A>().max(1);
    let wide = o2.next_multiple_of(lanes);
    let padded = size_of::<A>() == 2 && wide > o2 && wide <= so && !acc.is_empty();
    let mut pad = std::mem::take(&mut flat.pad);
    let (work, len): (&mut [A], usize) = if padded {
        pad.clear();
        pad.resize(acc.len() / o2 * wide, acc[0]);
        for (w, row) in pad.chunks_exact_mut(wide).zip(acc.chunks_exact(o2)) {
            w[..o2].copy_from_slice(row);
        }
        (&mut pad, wide)
    } else {
        (&mut *acc, o2)
    };
    // The merge of `fold_plane_cached`, three rows per pass, over an
    // iterator of row offsets (one shared helper for both made the cached
    // NCHW 3x3/2 path 17% slower, 7.4 -> 6.2 GB/s; a list of offsets per
    // output row cost 2x2x2 pooling a third).
    macro_rules! merge {
        ($out:expr, $offsets:expr) => {{
            let row = |at: usize| &flat.rows[at..][..len];
            let mut at = $offsets;
            loop {
                match (at.next(), at.next(), at.next()) {
                    (Some(x), Some(y), Some(z)) => pass3($out, row(x), row(y), row(z), f),
                    (Some(x), Some(y), None) => pass2($out, row(x), row(y), f),
                    (Some(x), None, _) => pass1($out, row(x), f),
                    _ => break,
                }
            }
        }};
    }
    if l1 == 1 && g1.output == 1 {
        // 2-D (axis 1 is the unit axis): slices are single rows, and the
        // plane is one output row. Fill as many whole windows of the
        // planes from `p` on as fit, so the next fill starts where this
        // one's last window ends; then merge the one output row.
        let taps = g0.taps(a);
        let first = m * g0.input + g0.cell(a, taps.start);
        let last = m * g0.input + g0.cell(a, taps.end - 1);
        if first < flat.lo || last >= flat.hi {
            let (e0, s0) = (g0.extent(), g0.stride);
            let span = if flat.cap > e0 { (flat.cap - e0) / s0 * s0 + e0 } else { flat.cap };
            let avail = base + rows.len() / shape.row_len();
            fill(flat, first, (first + span).min(avail));
        }
        let lo = flat.lo;
        merge!(work, taps.map(|t0| (m * g0.input + g0.cell(a, t0) - lo) * so));
    } else {
        // 3-D: slices are planes, long enough for one loop each. Reduce
        // and merge them one at a time, which keeps to L1 (filling a
        // window's two slices at once cost 2x2x2/2 a quarter); window
        // order holds, as each output row takes slice after slice.
        for t0 in g0.taps(a) {
            let key = m * g0.input + g0.cell(a, t0);
            if key < flat.lo || key >= flat.hi {
                fill(flat, key, key + 1);
            }
            let first = (key - flat.lo) * l1;
            for (b, out_row) in work.chunks_exact_mut(len).enumerate() {
                merge!(out_row, g1.taps(b).map(|t1| (first + g1.cell(b, t1)) * so));
            }
        }
    }
    if padded {
        for (row, w) in acc.chunks_exact_mut(o2).zip(pad.chunks_exact(wide)) {
            row.copy_from_slice(&w[..o2]);
        }
    }
    flat.pad = pad;
}
}

/// Below this many elements per pixel, strided rows are phase-split
/// (a copy) so taps become long contiguous passes; above it, each output
/// pixel's channel vector is already long enough to vectorise in place.
const DIRECT_INNER: usize = 16;

/// Largest stride whose rows are phase-split.
const MAX_PHASES: usize = 8;

/// (stride, kernel, dilation) of the [`RowKind::Window`] plan: windows
/// no wider than two strides, each with its own loop in [`fold_rows`].
const WINDOWS: [(usize, usize, usize); 6] =
    [(2, 2, 1), (2, 3, 1), (3, 3, 1), (2, 2, 2), (3, 2, 2), (3, 3, 2)];

/// Largest row of accumulators [`fold_output_row`] folds one input row at
/// a time into (unless its rows were asked for ahead): well inside a
/// first-level data cache (32 KiB and up).
const ROW_IN_CACHE: usize = 16 << 10;

/// Largest row of accumulators [`fold_output_row`] folds four input rows
/// at a time into.
const SHORT_ROW: usize = 256;

/// Largest plane of accumulators [`RowPlan::slices_first`] folds into.
const PLANE_IN_CACHE: usize = 16 << 10;

/// How one input row is folded into one output row along the last axis.
/// The same for every row of a shape, so it is worked out once.
///
/// A row is `L` pixels of `inner` elements (channels-last) or of one
/// element (channels-first).
///
/// With stride 1, tap `t` of every output reads one contiguous run of the
/// row, so each tap is one vectorised pass over the output row.
///
/// With stride `S > 1` the pixels tap `t` reads for consecutive outputs
/// are `S` apart, which does not vectorise for small pixels. So the row is
/// first split into `S` phases (`phase_r[c] = pixel[c·S + r]`, one pass the
/// compiler turns into shuffles); then pixel `c·S + d` of tap `t` (`d = t·D
/// − pad_begin`) is `phase_r[c + q]` with `d = q·S + r`, and every tap is a
/// contiguous pass. Pixels of at least [`DIRECT_INNER`] elements are folded
/// in place instead.
///
/// Over the *interior* (the outputs every tap reaches), taps are folded
/// three at a time in one pass, so each output is loaded and stored once
/// per three taps; the few edge outputs that padding cuts windows short
/// for get one pass per tap. Either way each output folds its taps in
/// window order, so ties and the NaN rules hold exactly.
#[derive(Debug)]
struct RowPlan {
    kind: RowKind,
    /// Taps that reach at least one output, in window order.
    taps: Vec<TapRun>,
    /// Outputs whose every tap is a real cell
    /// ([`AxisGeometry::interior`]): none where dilation and padding leave
    /// a tap wholly in the padding, since a window plan folds every tap.
    interior: Range<usize>,
    inner: usize,
}

#[derive(Debug)]
enum RowKind {
    /// One window over the whole row of single elements: a plain
    /// reduction of `len` elements from `from`.
    Whole { from: usize, len: usize },
    /// Taps read the row itself (stride 1).
    Contiguous,
    /// Single elements, stride 2 or 3, a window of taps (dilation 1 or 2)
    /// no wider than two strides: each interior output folds its whole
    /// window straight from the row in one pass (`S`, `K` and `D` are
    /// compile-time constants there, so the compiler turns the strided
    /// reads into shuffles), with no phase split. Outputs `fused` (the
    /// interior ones whose chunks lie wholly in the row) go through that
    /// loop, from cell `at` on; the rest one by one. Worked out once per
    /// shape, not for every row.
    Window { stride: usize, kernel: usize, dilation: usize, fused: (usize, usize), at: usize },
    /// Taps read the phases of the row.
    Phased { stride: usize, phase_len: usize },
    /// Each output pixel folded in place (long pixels, large strides).
    Direct,
}

/// One tap: the outputs it reaches, and where in its source (the row, or
/// the phase buffer) the pixel of output `c` starts: `origin + c·inner`.
#[derive(Debug)]
struct TapRun {
    tap: usize,
    outs: Range<usize>,
    origin: isize,
}

impl TapRun {
    /// The elements of `src` (a row of pixels of `inner` elements) this
    /// tap reads for outputs `outs`, in output order.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn run<'a, T>(&self, src: &'a [T], outs: &Range<usize>, inner: usize) -> &'a [T] {
        let from = (self.origin + (outs.start * inner) as isize) as usize;
        &src[from..][..outs.len() * inner]
    }
}

impl RowPlan {
    /// The plan for axis `g` with pixels of `inner` elements of
    /// `elem_bytes` each. Direct windows are kept to 4- and 8-byte
    /// elements: for 1- and 2-byte ones the compiler's shuffles are slower
    /// than the phase split (float16 NCHW 2x2/2 fell from 4.1 to 1.4 GB/s).
    fn new(g: &AxisGeometry, inner: usize, elem_bytes: usize) -> RowPlan {
        let s = g.stride;
        let kind = if inner == 1 && g.output == 1 && g.dilation == 1 {
            let taps = g.taps(0);
            RowKind::Whole { from: g.cell(0, taps.start), len: taps.len() }
        } else if s == 1 {
            RowKind::Contiguous
        } else if inner == 1 && elem_bytes >= 4 && WINDOWS.contains(&(s, g.kernel, g.dilation)) {
            let int = g.interior();
            let first = (int.start * s) as isize - g.pad_begin as isize;
            let span = if g.extent() > s { 2 * s } else { s };
            let room = (g.input as isize - first).max(0) as usize;
            let fits = if room >= span { (room - span) / s + 1 } else { 0 };
            let fused = (int.start, int.start + int.len().min(fits));
            let at = if fused.0 < fused.1 { first as usize } else { 0 };
            RowKind::Window { stride: s, kernel: g.kernel, dilation: g.dilation, fused, at }
        } else if inner >= DIRECT_INNER || s > MAX_PHASES || s > g.input {
            RowKind::Direct
        } else {
            RowKind::Phased { stride: s, phase_len: g.input.div_ceil(s) * inner }
        };
        let taps: Vec<TapRun> = (0..g.kernel)
            .filter_map(|t| {
                let outs = g.outputs_for_tap(t);
                let d = (t * g.dilation) as isize - g.pad_begin as isize;
                let origin = match kind {
                    RowKind::Phased { stride, phase_len } => {
                        let (q, r) = (d.div_euclid(stride as isize), d.rem_euclid(stride as isize));
                        r * phase_len as isize + q * inner as isize
                    }
                    _ => d * inner as isize,
                };
                (!outs.is_empty()).then_some(TapRun { tap: t, outs, origin })
            })
            .collect();
        RowPlan { kind, taps, interior: g.interior(), inner }
    }

    /// Whether plane `a` of `shape` is one output row of a 2-D map whose
    /// windows take three input rows of three taps each along them, all
    /// of contiguous cells (3x3 windows, stride 1 along the row): the
    /// nine taps [`fold_taps_3rows`] folds in one pass.
    fn three_rows_of_three(&self, shape: &PoolShape, a: usize) -> bool {
        let [g0, g1, _] = &shape.axes;
        g1.input == 1
            && g1.output == 1
            && g1.kernel == 1
            && matches!(self.kind, RowKind::Contiguous)
            && self.taps.len() == 3
            && g0.taps(a).len() == 3
    }

    /// Whether windows fold output row by output row ([`fold_output_row`]).
    fn by_output_row(&self) -> bool {
        matches!(self.kind, RowKind::Window { .. } | RowKind::Direct)
    }

    /// Whether a 3-D window plan folds slice by slice (axis-0 tap by tap)
    /// into a plane of accumulators of `acc_bytes` each, rather than
    /// output row by output row: the input is then read one slice, one
    /// sequential stream, at a time, where output rows would take theirs
    /// from every slice of the window. Window order holds, as every
    /// output takes its slices in order. For planes that stay in L1.
    fn slices_first(&self, shape: &PoolShape, acc_bytes: usize) -> bool {
        matches!(self.kind, RowKind::Window { .. })
            && shape.axes[1].input > 1
            && shape.plane_len() * acc_bytes <= PLANE_IN_CACHE
    }
}

/// One input row into one output row (see [`RowPlan`]).
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_row<T: Element, A: Copy>(
    plan: &RowPlan,
    in_row: &[T],
    out_row: &mut [A],
    g: &AxisGeometry,
    scratch: &mut Vec<T>,
    f: impl Fn(A, T) -> A + Copy,
) {
    let inner = plan.inner;
    match plan.kind {
        RowKind::Whole { from, len } => {
            let mut acc = out_row[0];
            for &x in &in_row[from..from + len] {
                acc = f(acc, x);
            }
            out_row[0] = acc;
        }
        RowKind::Direct | RowKind::Window { .. } => fold_rows(plan, &[in_row], out_row, g, f),
        RowKind::Contiguous => fold_taps(plan, in_row, out_row, f),
        RowKind::Phased { stride: s, phase_len } => {
            // Stale values past a phase's end are never read: taps only
            // reach real pixels.
            if scratch.len() < s * phase_len {
                scratch.resize(s * phase_len, T::ZERO);
            }
            let phases = &mut scratch[..s * phase_len];
            split_row(in_row, phases, inner, s, phase_len);
            fold_taps(plan, phases, out_row, f);
        }
    }
}

/// The tap passes of a contiguous or phased row: interior outputs three
/// taps per pass, edge outputs one tap per pass, each in window order.
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_taps<T: Copy, A: Copy>(
    plan: &RowPlan,
    src: &[T],
    out_row: &mut [A],
    f: impl Fn(A, T) -> A + Copy,
) {
    let inner = plan.inner;
    let run = |tap: &TapRun, outs: &Range<usize>| tap.run(src, outs, inner);
    let int = &plan.interior;
    if !int.is_empty() {
        let dst = &mut out_row[int.start * inner..int.end * inner];
        // Fused passes for 4- and 8-byte elements only: on rows of a few
        // hundred 1- and 2-byte elements the fused loop rarely reaches its
        // vector body (int8 NCHW 2x2/2 fell from 3.7 to 2.0 GB/s).
        let fuse = if size_of::<T>() >= 4 { 3 } else { 1 };
        for group in plan.taps.chunks(fuse) {
            match group {
                [x] => pass1(dst, run(x, int), f),
                [x, y] => pass2(dst, run(x, int), run(y, int), f),
                [x, y, z] => pass3(dst, run(x, int), run(y, int), run(z, int), f),
                _ => unreachable!("chunks of at most three"),
            }
        }
    }
    fold_edge_taps(plan, src, out_row, f);
}

/// The edge outputs' part of [`fold_taps`]: one tap per pass, in window
/// order.
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_edge_taps<T: Copy, A: Copy>(
    plan: &RowPlan,
    src: &[T],
    out_row: &mut [A],
    f: impl Fn(A, T) -> A + Copy,
) {
    let (inner, int) = (plan.inner, &plan.interior);
    for tap in &plan.taps {
        let left = tap.outs.start..tap.outs.end.min(int.start);
        let right = tap.outs.start.max(int.end)..tap.outs.end;
        for outs in [left, right] {
            if !outs.is_empty() {
                let dst = &mut out_row[outs.start * inner..outs.end * inner];
                pass1(dst, tap.run(src, &outs, inner), f);
            }
        }
    }
}

/// [`fold_taps`] of three rows with three taps each, in window order,
/// into `out_row` from `seed`: the interior outputs take all nine taps in
/// one pass (three passes of three read and wrote the sums three times),
/// the edge outputs one tap per pass, row after row. Harness, one thread,
/// float32 NCHW 3x3/1: avg 1.89-2.01 -> 2.04-2.18 GiB/s, dilation 2 2.05
/// -> 2.18, Lp p=2 1.75 -> 1.80; float16 Lp p=2 0.86 -> 0.89.
///
/// The interior sums are written, not read, so only the edges are
/// seeded first (the whole row was set to zero, then read back).
#[cfg_attr(not(debug_assertions), inline(always))]
fn fold_taps_3rows<T: Copy, A: Copy>(
    plan: &RowPlan,
    src: [&[T]; 3],
    out_row: &mut [A],
    seed: A,
    f: impl Fn(A, T) -> A + Copy,
) {
    let (inner, int) = (plan.inner, &plan.interior);
    let (left, rest) = out_row.split_at_mut(int.start * inner);
    left.fill(seed);
    rest[(int.end - int.start) * inner..].fill(seed);
    if !int.is_empty() {
        let dst = &mut rest[..(int.end - int.start) * inner];
        let [x, y, z] = src.map(|row| {
            let [t0, t1, t2] = [0, 1, 2].map(|t| plan.taps[t].run(row, int, inner));
            t0.iter().zip(t1).zip(t2)
        });
        for (d, ((((x0, x1), x2), ((y0, y1), y2)), ((z0, z1), z2))) in
            dst.iter_mut().zip(x.zip(y).zip(z))
        {
            let r0 = f(f(f(seed, *x0), *x1), *x2);
            let r1 = f(f(f(r0, *y0), *y1), *y2);
            *d = f(f(f(r1, *z0), *z1), *z2);
        }
    }
    for src in src {
        fold_edge_taps(plan, src, out_row, f);
    }
}

vectorised! {
/// [`fold_taps_3rows`] from +0 into float64 sums, in a [`vectorised!`]
/// clone ([`Folder::sum`] calls it from code that is not).
fn sum_three_rows<T: Copy>(
    plan: &RowPlan,
    src: [&[T]; 3],
    out_row: &mut [f64],
    f: impl Fn(f64, T) -> f64 + Copy,
) {
    fold_taps_3rows(plan, src, out_row, 0.0, f)
}
}

/// `dst[c] = f(dst[c], a[c])`: one contiguous pass the compiler
/// vectorises (no bounds checks: zipped slices of equal length).
#[cfg_attr(not(debug_assertions), inline(always))]
fn pass1<T: Copy, A: Copy>(dst: &mut [A], a: &[T], f: impl Fn(A, T) -> A) {
    for (d, &x) in dst.iter_mut().zip(a) {
        *d = f(*d, x);
    }
}

/// Two taps in one pass, in order.
#[cfg_attr(not(debug_assertions), inline(always))]
fn pass2<T: Copy, A: Copy>(dst: &mut [A], a: &[T], b: &[T], f: impl Fn(A, T) -> A) {
    for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        *d = f(f(*d, x), y);
    }
}

/// Three taps in one pass, in order.
#[cfg_attr(not(debug_assertions), inline(always))]
fn pass3<T: Copy, A: Copy>(dst: &mut [A], a: &[T], b: &[T], c: &[T], f: impl Fn(A, T) -> A) {
    for (((d, &x), &y), &z) in dst.iter_mut().zip(a).zip(b).zip(c) {
        *d = f(f(f(*d, x), y), z);
    }
}

/// Splits `row`, pixels of `inner` elements, into `s` phases of
/// `phase_len` elements each: `phase_r[c] = pixel[c·s + r]` (see
/// [`RowPlan`]).
#[cfg_attr(not(debug_assertions), inline(always))]
fn split_row<T: Copy>(row: &[T], phases: &mut [T], inner: usize, s: usize, phase_len: usize) {
    match inner {
        1 => split_phases(row, phases, s, phase_len),
        2 => split_pixels::<2, T>(row, phases, s, phase_len),
        3 => split_pixels::<3, T>(row, phases, s, phase_len),
        4 => split_pixels::<4, T>(row, phases, s, phase_len),
        8 => split_pixels::<8, T>(row, phases, s, phase_len),
        _ => {
            for (k, pixel) in row.chunks_exact(inner).enumerate() {
                let at = (k % s) * phase_len + (k / s) * inner;
                phases[at..at + inner].copy_from_slice(pixel);
            }
        }
    }
}

/// [`split_phases`] over pixels of `N` elements: whole pixels move as one
/// array, so the copy vectorises as it does for single elements.
#[cfg_attr(not(debug_assertions), inline(always))]
fn split_pixels<const N: usize, T: Copy>(row: &[T], out: &mut [T], s: usize, phase_len: usize) {
    split_phases(row.as_chunks::<N>().0, out.as_chunks_mut::<N>().0, s, phase_len / N)
}

/// Splits `row` into `s` phases of `phase_len`: `out[r·phase_len + c] =
/// row[c·s + r]`. Strides 2, 3 and 4 get zipped loops without bounds
/// checks, which the compiler vectorises with shuffles.
#[cfg_attr(not(debug_assertions), inline(always))]
fn split_phases<T: Copy>(row: &[T], out: &mut [T], s: usize, phase_len: usize) {
    let whole = row.len() / s;
    let tail = &row[whole * s..];
    match s {
        2 => {
            let (p0, p1) = out.split_at_mut(phase_len);
            for ((a, b), ch) in p0.iter_mut().zip(p1.iter_mut()).zip(row.chunks_exact(2)) {
                *a = ch[0];
                *b = ch[1];
            }
        }
        3 => {
            let (p0, rest) = out.split_at_mut(phase_len);
            let (p1, p2) = rest.split_at_mut(phase_len);
            for (((a, b), c), ch) in
                p0.iter_mut().zip(p1.iter_mut()).zip(p2.iter_mut()).zip(row.chunks_exact(3))
            {
                *a = ch[0];
                *b = ch[1];
                *c = ch[2];
            }
        }
        4 => {
            let (p01, p23) = out.split_at_mut(2 * phase_len);
            let (p0, p1) = p01.split_at_mut(phase_len);
            let (p2, p3) = p23.split_at_mut(phase_len);
            for ((((a, b), c), d), ch) in p0
                .iter_mut()
                .zip(p1.iter_mut())
                .zip(p2.iter_mut())
                .zip(p3.iter_mut())
                .zip(row.chunks_exact(4))
            {
                *a = ch[0];
                *b = ch[1];
                *c = ch[2];
                *d = ch[3];
            }
        }
        _ => {
            for (k, &x) in row[..whole * s].iter().enumerate() {
                out[(k % s) * phase_len + k / s] = x;
            }
        }
    }
    for (r, &x) in tail.iter().enumerate() {
        out[r * phase_len + whole] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    /// Max or min of every window by the definition, written out
    /// separately from the kernels: cells visited in window order (axis 0,
    /// 1, 2), the first NaN wins, and otherwise only a strictly greater
    /// (smaller) value replaces the one held.
    fn naive_minmax<T: Element>(input: &[T], shape: &PoolShape, max: bool) -> Vec<T> {
        let g = shape.axes;
        let cells = |a: &AxisGeometry, o: usize| -> Vec<usize> {
            (0..a.kernel)
                .map(|t| (o * a.stride + t * a.dilation) as isize - a.pad_begin as isize)
                .filter(|&c| c >= 0 && (c as usize) < a.input)
                .map(|c| c as usize)
                .collect()
        };
        let mut out = Vec::new();
        for m in 0..shape.outer {
            for o0 in 0..g[0].output {
                for o1 in 0..g[1].output {
                    for o2 in 0..g[2].output {
                        let mut best: Option<T> = None;
                        for i in cells(&g[0], o0) {
                            for j in cells(&g[1], o1) {
                                for k in cells(&g[2], o2) {
                                    let at =
                                        ((m * g[0].input + i) * g[1].input + j) * g[2].input + k;
                                    let x = input[at];
                                    let take = match best {
                                        None => true,
                                        Some(b) if b.is_nan() => false,
                                        Some(_) if x.is_nan() => true,
                                        Some(b) if max => x.to_f64() > b.to_f64(),
                                        Some(b) => x.to_f64() < b.to_f64(),
                                    };
                                    if take {
                                        best = Some(x);
                                    }
                                }
                            }
                        }
                        out.push(best.expect("every window touches the input"));
                    }
                }
            }
        }
        out
    }

    /// `n` values picked from `values` by a hash of the position and
    /// `salt`: mostly the first two, one time in nine one of the last two.
    fn picks<T: Copy>(n: usize, values: [T; 4], salt: u64) -> Vec<T> {
        (0..n)
            .map(|i| {
                let mut h = (i as u64 + 1 + (salt << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                h ^= h >> 31;
                let h = (h % 4099) as usize;
                if h.is_multiple_of(9) { values[2 + h % 2] } else { values[h % 2] }
            })
            .collect()
    }

    /// `run(rows, base, planes, out)` over the planes of `shape` in three
    /// bands, each given only the input rows it reads, as a stream is
    /// read; the bands' outputs (starting as `zero`) joined.
    fn in_bands<T: Copy, O: Copy>(
        input: &[T],
        shape: &PoolShape,
        zero: O,
        mut run: impl FnMut(&[T], usize, Range<usize>, &mut [O]),
    ) -> Vec<O> {
        let planes = shape.planes();
        let mut joined = Vec::new();
        for band in [0..planes / 3, planes / 3..planes / 2, planes / 2..planes] {
            let r = shape.rows_for_planes(band.clone());
            let rows = &input[r.start * shape.row_len()..r.end * shape.row_len()];
            let mut out = vec![zero; band.len() * shape.plane_len()];
            run(rows, r.start, band, &mut out);
            joined.extend(out);
        }
        joined
    }

    /// `(stride, kernel, dilation, pad, ceil, width)` of a [`flat_shapes`]
    /// shape.
    type FlatCase = (usize, usize, usize, usize, bool, usize);

    /// The shapes the flat-row tests run: channels-first windows of 2 at
    /// stride 2, 3 at 3 and 3 at 2, and the dilated ones of
    /// [`FLAT_WINDOWS`], dilated along every axis; with and without padding
    /// and ceil mode; 2-D and 3-D; rows of whole windows, folded in one pass,
    /// and not, folded row by row; rows wide enough that a fill holds fewer
    /// slices than the map; float16 rows merged in padded vectors. Each
    /// with its [`FlatCase`].
    fn flat_shapes() -> Vec<(PoolShape, FlatCase)> {
        let mut shapes = vec![];
        for (s, k, d) in FLAT_WINDOWS {
            for (pad, ceil) in [(0, false), (1, false), (0, true)] {
                // Sides at least one dilated window long.
                let ax = |l: usize| {
                    let pad = AxisPad::Explicit { begin: pad, end: pad };
                    AxisGeometry::new(l.max((k - 1) * d + 1), k, s, d, pad, ceil).unwrap()
                };
                // 128 windows of stride 2 reduce to rows of 128, of which
                // 126 or 127 are outputs: float16 merges them in padded
                // rows of whole vectors.
                for w in [4 * s, 4 * s + 1, 128 * s, 300 * s, 300 * s + 1] {
                    let rows = if w > 100 { 5 } else { 9 };
                    // Axis 1 one cell long but padded to two windows: 3-D,
                    // though its slices are single rows.
                    let pad1 = AxisPad::Explicit { begin: 1, end: 1 };
                    let one = AxisGeometry::new(1, 2, 1, 1, pad1, false).unwrap();
                    for shape in [
                        PoolShape::new(3, 1, &[ax(rows), ax(w)]),
                        PoolShape::new(2, 1, &[ax(5), ax(4), ax(w)]),
                        PoolShape::new(2, 1, &[ax(5), one, ax(w)]),
                    ] {
                        if !shape.axes[2].interior().is_empty() {
                            shapes.push((shape, (s, k, d, pad, ceil, w)));
                        }
                    }
                }
            }
        }
        shapes
    }

    /// Max and min through [`FlatRows`] ([`flat_shapes`]) agree bit for bit
    /// with [`naive_minmax`], for float32, float16 and int8. The float data
    /// is only ±0 and two NaN payloads, where any other order of the cells
    /// picks a different zero or NaN. The planes are also run in three bands
    /// of rows, as a stream is.
    #[test]
    fn flat_rows_keep_window_order() {
        fn check<T: Element>(values: [T; 4], name: &str) {
            for (shape, (s, k, d, pad, ceil, w)) in flat_shapes() {
                let flat = FlatRows::for_shape(&shape, T::ZERO, &FLAT_WINDOWS);
                assert!(flat.is_some(), "{name} {s}/{k} d{d} pad {pad} w {w} takes the flat path");
                if (s, k, pad, ceil, w) == (2, 3, 0, false, 256) {
                    let o2 = shape.axes[2].output;
                    let so = flat.as_ref().map_or(0, |f| f.stride_out);
                    assert!((o2, so) == (127 - d + 1, 128), "{o2} outputs of {so}");
                }
                for salt in 0..6u64 {
                    let input = picks(shape.input_len(), values, salt);
                    let what =
                        format!("{name} {s}/{k} d{d} pad {pad} ceil {ceil} w {w} salt {salt}");
                    check_minmax(&input, &shape, &what);
                }
            }
        }
        let nan32 = |b: u32| f32::from_bits(b);
        check([0.0f32, -0.0, nan32(0x7FC0_0001), nan32(0xFFC0_0002)], "float32");
        let h = half::f16::from_bits;
        check([h(0), h(0x8000), h(0x7E01), h(0xFE02)], "float16");
        check([3i8, -7, 127, -128], "int8");
    }

    /// float16 inputs of `n` values in maps of `map` for the order-key
    /// tests: values spread over every float16 but NaN and -0.0
    /// (infinities, subnormals and +0.0 included); values next to each
    /// other in the order (bits one apart, both signs), so windows hold
    /// values a wrong key would order the other way; the spread values
    /// with the second map ±0 only (its planes exact, the maps around it
    /// keyed, so each folder keeps rows across the other's planes); and
    /// with one NaN in the first map.
    fn float16_inputs(n: usize, map: usize) -> [(Vec<f16>, &'static str); 4] {
        let hashed = |i: usize, salt: u64, shift: u32| {
            (i as u64 + salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift
        };
        let plain: Vec<f16> = (0..n)
            .map(|i| {
                let h = hashed(i, 7, 48) as u16;
                let odd = h & 0x7FFF > 0x7C00 || h == 0x8000;
                f16::from_bits(if odd { h & 0x7BFF } else { h })
            })
            .collect();
        assert!(plain_f16(bytemuck::cast_slice(&plain)));
        const CLOSE: [u16; 11] =
            [0xBC00, 0xBC01, 0xBC02, 0xBC03, 0x3C00, 0x3C01, 0x8001, 0x0001, 0, 0xFC00, 0x7C00];
        let close = (0..n).map(|i| f16::from_bits(CLOSE[hashed(i, 3, 40) as usize % 11])).collect();
        let mut zeros = plain.clone();
        let signs = picks(map, [f16::ZERO, f16::NEG_ZERO, f16::ZERO, f16::NEG_ZERO], 1);
        zeros[map..2 * map].copy_from_slice(&signs);
        assert!(!plain_f16(bytemuck::cast_slice(&zeros)));
        let mut nan = plain.clone();
        nan[map / 2] = f16::from_bits(0xFE03);
        [(plain, "plain"), (close, "close"), (zeros, "±0 map"), (nan, "NaN")]
    }

    /// [`plain_f16`] finds every NaN and `-0.0`, and nothing else: each
    /// float16 bit pattern in turn among plain values (+inf, the largest
    /// and smallest finite values, ±subnormals, +0.0), at each end of a
    /// block and past the first block.
    #[test]
    fn plain_f16_finds_nan_and_negative_zero() {
        let plain = [0x7C00u16, 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0, 0xFC00, 0x3C00];
        let base: Vec<i16> = (0..1100).map(|i| plain[i % plain.len()] as i16).collect();
        assert!(plain_f16(&base));
        for bits in 0..=u16::MAX {
            let odd = f16::from_bits(bits).is_nan() || bits == 0x8000;
            for at in [0, 511, 512, 1099] {
                let mut block = base.clone();
                block[at] = bits as i16;
                assert_eq!(plain_f16(&block), !odd, "{bits:#06x} at {at}");
            }
        }
    }

    /// [`ScannedRows`] answers as [`plain_f16`] of the asked rows alone,
    /// for windows of one to three rows at strides 1 to 3 asked in order
    /// (and over again from row 0, as a worker's next planes may be), with
    /// no odd value, a NaN or a -0.0 in one row, at rows of 1 to 5000
    /// values (spans of thousands of rows down to one).
    #[test]
    fn scanned_rows_answer_as_a_scan_of_the_rows() {
        for row_len in [1, 7, 362, 2048, 5000] {
            let n_rows = 3 * SCAN_SPAN / row_len + 9;
            for odd in
                [None, Some((0, 0x8000u16)), Some((n_rows / 2, 0xFE03)), Some((n_rows - 1, 0x7C01))]
            {
                let mut bits = vec![0x3C00i16; n_rows * row_len];
                if let Some((row, v)) = odd {
                    bits[row * row_len + row_len / 2] = v as i16;
                }
                for (kernel, stride) in [(1, 1), (2, 2), (3, 2), (3, 3), (2, 1)] {
                    let mut scanned = ScannedRows::default();
                    let starts = (0..=n_rows - kernel).step_by(stride);
                    for first in starts.clone().chain(starts) {
                        let rows = first..first + kernel;
                        let want = plain_f16(&bits[rows.start * row_len..rows.end * row_len]);
                        let got = scanned.plain(&bits, row_len, rows.clone());
                        assert_eq!(got, want, "rows {rows:?} of {row_len}, odd {odd:?}");
                    }
                }
            }
        }
    }

    /// float16 planes whose rows hold no NaN and no -0.0 are folded over
    /// order keys as int16 ([`minmax_planes_f16`]), the others by the exact
    /// step. Through the flat rows ([`flat_shapes`]), [`float16_inputs`]
    /// agree bit for bit with [`naive_minmax`], whole and in bands.
    #[test]
    fn float16_plain_planes_fold_order_keys() {
        for (shape, (s, k, d, pad, ceil, w)) in flat_shapes() {
            for (input, kind) in float16_inputs(shape.input_len(), shape.map_len()) {
                let what = format!("float16 {kind} {s}/{k} d{d} pad {pad} ceil {ceil} w {w}");
                check_minmax(&input, &shape, &what);
            }
        }
    }

    /// [`float16_inputs`] through the row cache, which keys the rows it
    /// reduces and merges keys, and the plans that read rows in place (the
    /// exact step): channels-last pixels of 1 to 70 channels (rows
    /// split into phases, folded by tap, folded in place a block of
    /// channels at a time), 2-D and 3-D, with windows the flat rows do not
    /// take, padding, dilation and ceil mode; against [`naive_minmax`] run
    /// on each channel alone.
    #[test]
    fn float16_in_place_plans_keep_window_order() {
        let windows =
            [(1, 3, 1, 1, false), (2, 3, 1, 1, true), (3, 2, 2, 0, true), (2, 2, 1, 0, false)];
        let (mut in_place, mut cached, mut direct) = (0, 0, 0);
        for window in windows {
            let ax = |l| window_axis(l, window);
            for (inner, sides) in [(1, &[9, 11][..]), (3, &[7, 9]), (16, &[5, 4, 7]), (70, &[5, 7])]
            {
                let axes: Vec<AxisGeometry> = sides.iter().map(|&l| ax(l)).collect();
                let shape = PoolShape::new(3, inner, &axes);
                if FlatRows::<i16>::sizes(&shape, &FLAT_WINDOWS).is_some() {
                    continue; // the test above's
                }
                in_place += usize::from(inner == 1);
                let plan = RowPlan::new(&shape.axes[2], inner, 2);
                cached += usize::from(RowCache::<i16>::sizes(&shape, &plan).is_some());
                direct += usize::from(matches!(plan.kind, RowKind::Direct));
                for (input, kind) in float16_inputs(shape.input_len(), shape.map_len()) {
                    let what = format!("float16 {kind} {window:?} inner {inner}");
                    check_minmax(&input, &shape, &what);
                }
            }
        }
        assert!(in_place > 0, "a one-channel map read in place");
        assert!(cached > 0 && direct > 0, "{cached} shapes cached, {direct} direct");
    }

    /// Max and min of `input` over `shape`, whole and in three bands as a
    /// stream is read, against [`naive_minmax`] run on each channel alone,
    /// bit for bit.
    fn check_minmax<T: Element>(input: &[T], shape: &PoolShape, what: &str) {
        let bits = |v: &[T]| bytemuck::cast_slice::<T, u8>(v).to_vec();
        let inner = shape.inner;
        let one = PoolShape { inner: 1, ..shape.clone() };
        let channel =
            |ch: usize| -> Vec<T> { input.iter().skip(ch).step_by(inner).copied().collect() };
        for max in [true, false] {
            let mut want = vec![T::ZERO; shape.output_len()];
            for ch in 0..inner {
                for (k, v) in naive_minmax(&channel(ch), &one, max).into_iter().enumerate() {
                    want[k * inner + ch] = v;
                }
            }
            let mut got = vec![T::ZERO; shape.output_len()];
            pool_minmax(input, shape, max, &mut got);
            let what = format!("{what} max {max} {:?}", shape.axes.map(|g| g.input));
            assert!(bits(&got) == bits(&want), "{what}");
            let banded = in_bands(input, shape, T::ZERO, |rows, base, band, out| {
                minmax_planes(rows, base, shape, band, max, out)
            });
            assert!(bits(&banded) == bits(&want), "banded {what}");
        }
    }

    /// Max and min of channels-last pixels of 16 channels and more (2-D
    /// and 3-D maps, in turn), folded a block of channels at a time in
    /// place ([`RowKind::Direct`]): blocks of 64 for 1- and 2-byte types,
    /// then of 32, then single channels, so pixels of 16, 32, 64, 70, 100
    /// and 130 channels take every mix of them. They agree bit for bit
    /// with [`naive_minmax`] run on each channel alone, for float32,
    /// float16, int8, uint8 and int16; the float data is only ±0 and two
    /// NaN payloads, where any other order of the cells picks a different
    /// zero or NaN.
    #[test]
    fn channel_blocks_keep_window_order() {
        fn check<T: Element>(values: [T; 4], name: &str) {
            // (stride, kernel, dilation, pad, ceil)
            let windows = [
                (2, 3, 1, 0, false),
                (2, 3, 1, 1, true),
                (2, 2, 1, 0, false),
                (2, 3, 2, 1, false),
                (3, 2, 2, 0, true),
                (1, 3, 2, 1, false),
            ];
            for window in windows {
                let ax = |l| window_axis(l, window);
                // 2-D (NHWC) and 3-D (NDHWC) maps.
                let sides: [&[usize]; 2] = [&[5, 7], &[5, 4, 7]];
                for (inner, sides) in
                    [16, 32, 64, 70, 100, 130].into_iter().zip(sides.iter().cycle())
                {
                    let axes: Vec<AxisGeometry> = sides.iter().map(|&l| ax(l)).collect();
                    let shape = PoolShape::new(2, inner, &axes);
                    let plan = RowPlan::new(&shape.axes[2], inner, size_of::<T>());
                    assert!(matches!(plan.kind, RowKind::Direct | RowKind::Contiguous));
                    let input = picks(shape.input_len(), values, 0);
                    check_minmax(&input, &shape, &format!("{name} {window:?} inner {inner}"));
                }
            }
        }
        let nan32 = |b: u32| f32::from_bits(b);
        check([0.0f32, -0.0, nan32(0x7FC0_0001), nan32(0xFFC0_0002)], "float32");
        let h = f16::from_bits;
        check([h(0), h(0x8000), h(0x7E01), h(0xFE02)], "float16");
        check([3i8, -7, 127, -128], "int8");
        check([0u8, 255, 7, 128], "uint8");
        check([3i16, -7, i16::MAX, i16::MIN], "int16");
    }

    /// Average and Lp of every window by the definition, written out
    /// separately from the kernels: one f64 sum per output and channel,
    /// seeded with 0 and added to in window order (axis 0, 1, 2), divided
    /// by the real cells (or, with `include_pad`, the taps inside the
    /// padded input), or rooted.
    fn naive_mean<T: Element>(input: &[T], shape: &PoolShape, mode: Mode) -> Vec<f64> {
        naive_mean_with(input, shape, mode, f64::powf)
    }

    /// [`naive_mean`] raising to a power with `raise(x, p)`.
    fn naive_mean_with<T: Element>(
        input: &[T],
        shape: &PoolShape,
        mode: Mode,
        raise: impl Fn(f64, f64) -> f64,
    ) -> Vec<f64> {
        let g = shape.axes;
        let inner = shape.inner;
        // Per axis and output: the real cells, and the taps in the padding
        // of either end that `count_include_pad` counts.
        let cells = |a: &AxisGeometry, o: usize| -> (Vec<usize>, usize) {
            let all: Vec<isize> = (0..a.kernel)
                .map(|t| (o * a.stride + t * a.dilation) as isize - a.pad_begin as isize)
                .collect();
            let padded_end = (a.input + a.pad_end) as isize;
            let in_pad = all.iter().filter(|&&c| c >= -(a.pad_begin as isize) && c < padded_end);
            let real = all.iter().filter(|&&c| c >= 0 && (c as usize) < a.input);
            (real.map(|&c| c as usize).collect(), in_pad.count())
        };
        let term = |x: f64| match mode {
            Mode::Avg { .. } => x,
            Mode::Lp { p } => raise(x.abs(), p),
            _ => unreachable!(),
        };
        let mut out = Vec::new();
        for m in 0..shape.outer {
            for o0 in 0..g[0].output {
                for o1 in 0..g[1].output {
                    for o2 in 0..g[2].output {
                        let (c0, c1, c2) = (cells(&g[0], o0), cells(&g[1], o1), cells(&g[2], o2));
                        for ch in 0..inner {
                            let mut s = 0.0f64;
                            for &i in &c0.0 {
                                for &j in &c1.0 {
                                    for &k in &c2.0 {
                                        let at = ((m * g[0].input + i) * g[1].input + j)
                                            * g[2].input
                                            + k;
                                        s += term(input[at * inner + ch].to_f64());
                                    }
                                }
                            }
                            out.push(match mode {
                                Mode::Avg { count_include_pad: false } => {
                                    s / (c0.0.len() * c1.0.len() * c2.0.len()) as f64
                                }
                                Mode::Avg { count_include_pad: true } => {
                                    s / (c0.1 * c1.1 * c2.1) as f64
                                }
                                Mode::Lp { p } => raise(s, 1.0 / p),
                                _ => unreachable!(),
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// An axis of length `l` with window `(stride, kernel, dilation, pad,
    /// ceil)`, padding on both ends.
    fn window_axis(
        l: usize,
        (s, k, d, pad, ceil): (usize, usize, usize, usize, bool),
    ) -> AxisGeometry {
        AxisGeometry::new(l, k, s, d, AxisPad::Explicit { begin: pad, end: pad }, ceil).unwrap()
    }

    /// `n` values picked from `values` by a hash of the position, with a
    /// NaN, inf or -inf one time in 97.
    fn mixed(n: usize, values: &[f32]) -> Vec<f32> {
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        (0..n)
            .map(|i| {
                let mut h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                h ^= h >> 29;
                let h = (h % 10007) as usize;
                if h.is_multiple_of(97) { specials[h % 3] } else { values[h % values.len()] }
            })
            .collect()
    }

    /// The bound of [`sums_are_exact`], from its own argument: float16
    /// terms are multiples of 2^-24 below 2^16, so sums of 2^13 of them are
    /// multiples of 2^-24 below 2^53 · 2^-24, exact in float64. Past the
    /// bound exactness fails: at 2^14 copies of 65504, a 2^-24 is lost.
    #[test]
    fn exact_sums_stop_at_two_to_the_thirteen_cells() {
        let (max, tiny) = (f64::from(f16::MAX), 2f64.powi(-24));
        let at_bound = max * f64::from(1 << 13);
        assert_eq!((at_bound + tiny) - at_bound, tiny, "kept at 2^13 cells");
        let past = max * f64::from(1 << 14);
        assert_eq!((past + tiny) - past, 0.0, "lost at 2^14 cells");
        assert!(sums_are_exact::<f16>(1 << 13));
        assert!(!sums_are_exact::<f16>((1 << 13) + 1));
        assert!(sums_are_exact::<i16>(27) && sums_are_exact::<u8>(27));
        assert!(!sums_are_exact::<f32>(4));
    }

    /// [`sum_rows`] asks for the next output row's input rows ahead,
    /// which for the next plane of a 2-D map may start above this plane's
    /// first row (dilation above the stride, a first tap in the padding)
    /// or lie past the input: those are skipped, and the sums are those
    /// of the float64 definition.
    #[test]
    fn sums_ask_only_for_rows_in_the_input() {
        let rows_axis = window_axis(9, (1, 3, 2, 1, false));
        for width in [9, 40] {
            let row = window_axis(width, (2, 3, 1, 1, true));
            let shape = PoolShape::new(3, 1, &[rows_axis, row]);
            let plan = RowPlan::new(&shape.axes[2], 1, size_of::<f32>());
            assert!(plan.by_output_row() && !RowSums::carries(&shape, &plan));
            // Planes whose first row lies below the next plane's.
            let g = shape.axes[0];
            assert!(
                (0..g.output - 1)
                    .any(|a| { g.cell(a, g.taps(a).start) > g.cell(a + 1, g.taps(a + 1).start) })
            );
            let input = mixed(shape.input_len(), &[1e30, -1e30, 1.0, -0.0, 7.0, -2.25]);
            for mode in SUM_MODES {
                let want = naive_mean_with(&input, &shape, mode, raise_by_products);
                let mut got = vec![0f32; shape.output_len()];
                pool_mean(&input, &shape, mode, &mut got);
                for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let w = w as f32;
                    let same = (g.is_nan() && w.is_nan())
                        || g.to_bits() == w.to_bits()
                        || (mode == Mode::Lp { p: 3.0 } && (g - w).abs() <= 1e-6 * w.abs());
                    assert!(same, "width {width} {mode:?} at {at}: {g} vs {w}");
                }
            }
        }
    }

    /// 2-, 3- and 4-norms of 4- and 8-byte types over 2-D maps at stride 1
    /// with windows of 9 cells or more, whose input rows are raised to
    /// the power once ([`mean_planes`]), and for float64 and int32 the
    /// averages and 1-norms too (nine taps a pass, [`Folder::sum`], where
    /// 3x3) and a fractional norm (rows raised once by the [`Power`]
    /// tables): float32, float64 and int32, one
    /// and several channels, with padding and dilation, in window order
    /// and bit for bit against [`naive_mean_with`] raising by the same
    /// products (the cube roots, the kernels' own, within two float64
    /// ulps of the root, within 1e-6 for float32 outputs and 1e-15 for float64
    /// ones; p = 2.5, raised and rooted by [`Power`] tables, within 3e-15
    /// of libm's `powf`), and the same bits in three bands of rows, as a
    /// stream is.
    #[test]
    fn norms_raise_rows_once_at_stride_1() {
        // (stride, kernel, dilation, pad, ceil) of the row axis, then of
        // the column axis.
        let windows = [
            ((1, 3, 1, 0, false), (1, 3, 1, 0, false)),
            ((1, 3, 1, 1, false), (1, 3, 1, 1, false)),
            ((1, 3, 2, 1, false), (1, 3, 1, 0, false)),
            ((1, 3, 1, 1, false), (1, 3, 2, 2, false)),
            ((2, 3, 1, 1, true), (1, 5, 1, 2, false)),
            ((1, 2, 1, 0, false), (1, 5, 1, 0, false)),
        ];
        let values = [1e30f32, -1e30, 1.0, -0.0, 3.5e-20, 7.0, -2.25, 0.5];
        let close = |g: f64, w: f64, tol: f64| {
            (g.is_nan() && w.is_nan())
                || g.to_bits() == w.to_bits()
                || (g - w).abs() <= tol * w.abs()
        };
        for (rows, columns) in windows {
            for (inner, width) in [(1, 40), (3, 13), (16, 9)] {
                let shape =
                    PoolShape::new(2, inner, &[window_axis(8, rows), window_axis(width, columns)]);
                let plan = RowPlan::new(&shape.axes[2], inner, size_of::<f32>());
                assert!(matches!(plan.kind, RowKind::Contiguous));
                assert!(WideRows::<f64>::for_shape(&shape).is_some());
                let input = mixed(shape.input_len(), &values);
                let wide: Vec<f64> = input.iter().map(|&x| f64::from(x) * 1e-50).collect();
                let ints: Vec<i32> = (0..shape.input_len() as i32)
                    .map(|i| if i % 7 == 0 { i32::MIN + i } else { (i * 7919) % 4001 - 2000 })
                    .collect();
                for p in [2.0, 3.0, 4.0] {
                    let mode = Mode::Lp { p };
                    let what = format!("{rows:?} {columns:?} inner {inner} p={p}");
                    let tol = if p == 3.0 { 1e-6 } else { 0.0 };
                    let want = naive_mean_with(&input, &shape, mode, raise_by_products);
                    let mut got = vec![0f32; shape.output_len()];
                    pool_mean(&input, &shape, mode, &mut got);
                    for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                        let w = w as f32;
                        assert!(
                            close(g.into(), w.into(), tol),
                            "float32 {what} at {at}: {g} vs {w}"
                        );
                    }
                    let banded = in_bands(&input, &shape, 0.0, |rows, base, band, out| {
                        mean_planes(rows, base, &shape, band, mode, out)
                    });
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert!(bits(&banded) == bits(&got), "banded {what}");
                }
                // float64 and int32: the 2- to 4-norms as above, and the
                // averages and 1-norms, which fold nine taps a pass from
                // the input where the rows are not widened (`Folder::sum`).
                let modes = [SUM_MODES.as_slice(), &[Mode::Lp { p: 2.5 }]].concat();
                for mode in modes {
                    let what = format!("{rows:?} {columns:?} inner {inner} {mode:?}");
                    let tol = match mode {
                        Mode::Lp { p: 3.0 } => 1e-15,
                        Mode::Lp { p: 2.5 } => 3e-15,
                        _ => 0.0,
                    };
                    for (name, want, got) in [
                        ("float64", naive_mean_with(&wide, &shape, mode, raise_by_products), {
                            let mut got = vec![0f64; shape.output_len()];
                            pool_mean(&wide, &shape, mode, &mut got);
                            got
                        }),
                        ("int32", naive_mean_with(&ints, &shape, mode, raise_by_products), {
                            let mut got = vec![0f64; shape.output_len()];
                            pool_mean(&ints, &shape, mode, &mut got);
                            got
                        }),
                    ] {
                        for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                            assert!(close(g, w, tol), "{name} {what} at {at}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }

    /// Channels-first windows of 3 rows with stride 2 ([`RowSums::carries`]),
    /// whose next window starts from the sums of the row they share
    /// ([`sum_rows`]): 2-D maps, where that row is carried from one plane
    /// to the next (one output row each), and 3-D maps with windows one
    /// slice deep. Several maps, so a carry must not cross into the next
    /// map; padding and ceil mode, so edge windows take fewer rows and
    /// edge outputs fewer cells; rows of outputs of each width
    /// [`fold_output_row`] treats apart, some beyond
    /// [`PREFETCH_ROW_BYTES`], and fused rows of 5, 9, 10, 14 and 16
    /// outputs (one pass of [`window_rows_carry`]'s vector loop, or two
    /// that share eight outputs, four or two). On one thread (every
    /// plane after the one before) and on the default pool, for float32
    /// and float64 values that give other bits in any other order of the
    /// additions, and for int32. Bit for bit against the float64 definition
    /// ([`raise_by_products`]), but for the cube roots (the kernels' own,
    /// within five float64 ulps of libm's: see the test).
    #[test]
    fn sums_carry_the_shared_row() {
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let unit = (1, 1, 1, 0, false);
        for window in
            [(2, 3, 1, 0, false), (2, 3, 1, 1, false), (2, 3, 1, 1, true), (2, 3, 1, 0, true)]
        {
            let ax = |l| window_axis(l, window);
            let short = ROW_IN_CACHE / 8;
            for w in [13, 21, 23, 31, 35, 2 * short - 1, 2 * short + 4, 8 * short + 3] {
                let rows = if w > short { 6 } else { 9 };
                for shape in [
                    PoolShape::new(3, 1, &[ax(rows), ax(w)]),
                    PoolShape::new(2, 1, &[window_axis(3, unit), ax(rows), ax(w)]),
                ] {
                    let plan = RowPlan::new(&shape.axes[2], 1, size_of::<f32>());
                    assert!(RowSums::carries(&shape, &plan), "{}", what_shape(&shape, window));
                    let what = what_shape(&shape, window);
                    let values = [1e30f32, -1e30, 1.0, -0.0, 3.5e-20, 7.0, -2.25, 0.5];
                    let input = mixed(shape.input_len(), &values);
                    let wide: Vec<f64> = input
                        .iter()
                        .map(|&x| f64::from(x) * if x.abs() > 1.0 { 1e270 } else { 1.0 })
                        .collect();
                    let ints: Vec<i32> = (0..shape.input_len())
                        .map(|i| ((i * 2_654_435_761) >> 7) as i32 % 100_000 - 50_000)
                        .collect();
                    for mode in SUM_MODES {
                        // The kernels' cube roots are within two ulps of
                        // the root. `f64::cbrt` is the toolchain's libm,
                        // not glibc's, which is within about three (at
                        // 7.827e257 Rust 1.95's was 0.31 ulp off, glibc's
                        // 2.69): five between them, whichever the
                        // reference. An infinite root must be infinite.
                        let exact = !matches!(mode, Mode::Lp { p: 3.0 });
                        let near = |w: f64| {
                            if exact || !w.is_finite() { 0.0 } else { 5.0 * f64::EPSILON * w.abs() }
                        };
                        let same = |g: f64, w: f64| {
                            (g.is_nan() && w.is_nan())
                                || g.to_bits() == w.to_bits()
                                || (g - w).abs() <= near(w)
                        };
                        // A float32 output is the rounding of such a root.
                        let same32 = |g: f32, w: f64| {
                            let d = near(w);
                            (g.is_nan() && w.is_nan())
                                || [w - d, w, w + d]
                                    .iter()
                                    .any(|&w| g.to_bits() == (w as f32).to_bits())
                        };
                        let want = naive_mean_with(&input, &shape, mode, raise_by_products);
                        let want_wide = naive_mean_with(&wide, &shape, mode, raise_by_products);
                        let want_ints = naive_mean_with(&ints, &shape, mode, raise_by_products);
                        for pool in [Some(&one_thread), None] {
                            let run = |job: &mut (dyn FnMut() + Send)| match pool {
                                Some(pool) => pool.install(job),
                                None => job(),
                            };
                            let mut got = vec![0f32; shape.output_len()];
                            run(&mut || pool_mean(&input, &shape, mode, &mut got));
                            for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                                assert!(
                                    same32(g, w),
                                    "float32 {what} {mode:?} at {at}: {g} vs {w}"
                                );
                            }
                            let mut got = vec![0f64; shape.output_len()];
                            run(&mut || pool_mean(&wide, &shape, mode, &mut got));
                            for (at, (&g, &w)) in got.iter().zip(&want_wide).enumerate() {
                                assert!(same(g, w), "float64 {what} {mode:?} at {at}: {g} vs {w}");
                            }
                            let mut got = vec![0f64; shape.output_len()];
                            run(&mut || pool_mean(&ints, &shape, mode, &mut got));
                            for (at, (&g, &w)) in got.iter().zip(&want_ints).enumerate() {
                                assert!(same(g, w), "int32 {what} {mode:?} at {at}: {g} vs {w}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Average and Lp pooling through the row-group kernels (channels-first
    /// windows of 2 at stride 2, 3 at 2 and 3 at 3 folded straight from one
    /// to three rows at once; channels-last pixels of 16 to 70 channels
    /// folded a block of channels at a time; stride 1 from rows mapped to
    /// float64 once) and the other plans, 2-D and
    /// 3-D (three and more rows per window: several groups of rows), with
    /// padding, ceil mode and dilation, against [`naive_mean`]. The data
    /// mixes ±1e30 with small values, so any other order of the additions
    /// gives a different sum, and holds NaN, ±inf and −0. Averages and the
    /// 1- and 2-norms must match bit for bit (the same additions in the same
    /// order, then one division or square root); other norms to 1e-6, since
    /// the kernel raises to the powers 3 and 4 by multiplication and to
    /// others with its own vectorised `pow`. The planes are also run in
    /// three bands of rows, as a stream is, to the same bits.
    #[test]
    fn sums_keep_window_order() {
        let values = [1e30f32, -1e30, 1.0, -0.0, 3.5e-20, 7.0, -2.25, 0.5];
        let modes = [SUM_MODES.as_slice(), &[Mode::Lp { p: 1.5 }, Mode::Lp { p: 0.5 }]].concat();
        // (stride, kernel, dilation, pad, ceil)
        let windows = [
            (2, 2, 1, 0, false),
            (2, 3, 1, 0, false),
            (3, 3, 1, 0, false),
            (2, 3, 1, 1, false),
            (2, 2, 1, 0, true),
            (2, 3, 1, 1, true),
            (3, 3, 1, 1, true),
            (2, 3, 2, 1, false),
            (2, 3, 2, 0, false),
            (2, 3, 2, 0, true),
            (2, 2, 2, 0, false),
            (3, 3, 2, 1, false),
            (3, 2, 2, 1, true),
            (1, 3, 1, 1, false),
            (1, 3, 1, 0, false),
            (1, 3, 2, 1, true),
        ];
        for window in windows {
            let (s, k, d, pad, ceil) = window;
            let ax = |l| window_axis(l, window);
            // The shortest axis one window fits in.
            let short = ((k - 1) * d + 1).saturating_sub(2 * pad);
            // Rows of outputs that fit `ROW_IN_CACHE`: short ones, whose
            // input rows the sums ask for ahead (up to three input rows
            // per pass; 97), and longer ones (one per pass; 2000), and
            // wider rows (up to three per pass).
            // Pixels of 3: phase split (widened to float32 first for
            // float16 and small integers).
            let small = [1, 3, 16, 45, 70].into_iter().flat_map(|i| [12, 13, 31].map(|w| (i, w)));
            let small = small.chain([(1, 97), (2, 40)]);
            let wide =
                [(1, 2000), (1, 4 * ROW_IN_CACHE / 8), (1, 6 * ROW_IN_CACHE / 8 + 1), (70, 100)];
            for (inner, w) in small.chain(wide) {
                for shape in [
                    PoolShape::new(2, inner, &[ax(7), ax(w)]),
                    PoolShape::new(2, inner, &[ax(5), ax(4.max(short)), ax(w)]),
                ] {
                    // Stride 1 sums rows mapped to float64 once.
                    assert!(s > 1 || WideRows::<f64>::for_shape(&shape).is_some());
                    // float32 pixels of several channels are not widened:
                    // 2-D maps at 3x3/1 sum nine taps a pass from the input
                    // (`Folder::sum`).
                    if (s, k) == (1, 3) && shape.axes[1].input == 1 {
                        let plan = RowPlan::new(&shape.axes[2], inner, size_of::<f32>());
                        assert!(plan.three_rows_of_three(&shape, 1), "{window:?}");
                    }
                    // Channels-first rows of these windows fold straight
                    // from the row, as float32 and as float16 and small
                    // integers widened to float32.
                    if inner == 1 && WINDOWS.contains(&(s, k, d)) {
                        let plan = RowPlan::new(&shape.axes[2], 1, size_of::<f32>());
                        assert!(matches!(plan.kind, RowKind::Window { .. }), "{window:?}");
                    }
                    let input = mixed(shape.input_len(), &values);
                    for &mode in &modes {
                        let want = naive_mean(&input, &shape, mode);
                        let mut got = vec![0f32; shape.output_len()];
                        pool_mean(&input, &shape, mode, &mut got);
                        let exact = !matches!(mode, Mode::Lp { p } if p != 1.0 && p != 2.0);
                        let what = format!(
                            "{s}/{k} d{d} pad {pad} ceil {ceil} inner {inner} {:?} {mode:?}",
                            shape.axes.map(|g| g.input)
                        );
                        for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                            let w = w as f32;
                            let same = (g.is_nan() && w.is_nan())
                                || g.to_bits() == w.to_bits()
                                || (!exact && (g - w).abs() <= 1e-6 * w.abs());
                            assert!(same, "{what} at {at}: {g} vs {w}");
                        }
                        // Rows prefetched ahead may lie past a band.
                        let banded = in_bands(&input, &shape, 0.0, |rows, base, band, out| {
                            mean_planes(rows, base, &shape, band, mode, out)
                        });
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert!(bits(&banded) == bits(&got), "banded {what}");
                    }
                    // int8 through the same shapes: sums into float64.
                    let small: Vec<i8> =
                        input.iter().enumerate().map(|(i, _)| (i % 251) as i8).collect();
                    let mode = Mode::Avg { count_include_pad: false };
                    let want = naive_mean(&small, &shape, mode);
                    let mut got = vec![0f64; shape.output_len()];
                    pool_mean(&small, &shape, mode, &mut got);
                    assert!(got == want, "int8 {s}/{k} inner {inner}");
                    if shape.input_len() < 20_000 {
                        narrow_types_widen_exactly(&shape, &what_shape(&shape, window), true);
                    }
                }
            }
        }
        // Rows too large to widen in the cache: summed straight from the input.
        let shape = too_large_to_cache();
        assert!(WideRows::<f32>::for_shape(&shape).is_none());
        narrow_types_widen_exactly(&shape, "uncached", false);
        // Channels-last float16 output rows longer than `PIXEL_SUMS`,
        // summed and finished a part at a time, edge windows in the last.
        for window in [(2, 3, 1, 1, true), (2, 2, 2, 1, false)] {
            let ax = |l| window_axis(l, window);
            let shape = PoolShape::new(1, 16, &[ax(5), ax(301)]);
            assert!(shape.axes[2].output * shape.inner > 2 * PIXEL_SUMS);
            narrow_types_widen_exactly(&shape, &what_shape(&shape, window), false);
        }
    }

    /// 2x2/2 over 2x1100x1000: rows of one window past [`CACHE_BYTES`]
    /// even as float32 (2·1100·1000·4 bytes).
    fn too_large_to_cache() -> PoolShape {
        let ax = |l| AxisGeometry::new(l, 2, 2, 1, AxisPad::Valid, false).unwrap();
        PoolShape::new(1, 1, &[ax(2), ax(1100), ax(1000)])
    }

    /// What a failing sum test names: window and shape.
    fn what_shape(
        shape: &PoolShape,
        (s, k, d, pad, ceil): (usize, usize, usize, usize, bool),
    ) -> String {
        let sides = shape.axes.map(|g| g.input);
        format!("{s}/{k} d{d} pad {pad} ceil {ceil} inner {} {sides:?}", shape.inner)
    }

    /// Average and the norms the kernels raise by multiplication.
    /// [`quotient`] against the division, bit for bit: every divisor up to
    /// 3000 and some larger ones, over random float64 sums of every
    /// magnitude the kernels see, integer sums, exact multiples of the
    /// divisor (where a product by the reciprocal alone misrounds), float16
    /// midpoints times the divisor, and ±0, ±inf and NaN. (A test build
    /// may compute `mul_add` in software: this checks the arithmetic; the
    /// kernels' tests check the hardware path.)
    #[test]
    fn quotient_rounds_as_division() {
        let mut next = crate::ops::xorshift(0x2545_F491_4F6C_DD1D);
        let divisors = (1..=3000u64).chain([4095, 6561, 8191, 59_049, 1 << 20, 999_983]);
        let mut misrounded_by_product = 0;
        for n in divisors {
            let (nf, y) = (n as f64, 1.0 / n as f64);
            let mut sums = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
            for _ in 0..40 {
                let r = next();
                // Any sign and mantissa, exponents 2^-150 to 2^150.
                let exp = 1023 - 150 + (r >> 52) % 301;
                sums.push(f64::from_bits((r & 0x800F_FFFF_FFFF_FFFF) | exp << 52));
                sums.push((next() >> 11) as f64 - (1u64 << 52) as f64);
                // An exact multiple, and a float16 midpoint's multiple.
                let m = (next() % (1 << 30)) as f64 * 2f64.powi(-24);
                sums.push(m * nf);
                let mid = (2 * (next() % 2048) + 1) as f64 * 2f64.powi(-25 + (next() % 26) as i32);
                sums.push(-mid * nf);
            }
            for s in sums {
                let (got, want) = (quotient(s, nf, y), s / nf);
                let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
                assert!(same, "{s:e} / {n}: {got:e} vs {want:e}");
                misrounded_by_product += usize::from((s * y).to_bits() != want.to_bits());
            }
        }
        // The sums do reach the cases the correction is for.
        assert!(misrounded_by_product > 10_000, "{misrounded_by_product}");
    }

    /// float16 averages of random finite values (every exponent) through
    /// the reduced-row plan: bit for bit against the definition, over
    /// windows 2x2/2 and 3x3/2 with and without padding (divisors 4, 9, 6,
    /// 3, 2, 1), on rows long enough that a fill holds three rows and the
    /// next keeps the one they share.
    #[test]
    fn float16_averages_round_once() {
        let mut next = crate::ops::xorshift(0x9E37_79B9_7F4A_7C15);
        for window in
            [(2, 2, 1, 0, false), (2, 3, 1, 0, false), (2, 3, 1, 1, false), (2, 3, 1, 1, true)]
        {
            for w in [13, 64, 2 * SUM_PIECE + 9] {
                let ax = |l| window_axis(l, window);
                let shape = PoolShape::new(3, 1, &[ax(9), ax(w)]);
                let flat = FlatRows::<f64>::for_shape(&shape, 0.0, &FLAT_SUM_WINDOWS);
                let cap = flat.expect("flat sums").cap;
                // The longest rows fill a few at a time, and a fill keeps
                // the rows the windows before it share with it.
                assert!(w < SUM_PIECE || cap < 9, "{w}: {cap} rows per fill");
                let input: Vec<f16> = (0..shape.input_len())
                    .map(|_| f16::from_bits(crate::ops::finite_f16((next() >> 40) as u16)))
                    .collect();
                for mode in [
                    Mode::Avg { count_include_pad: false },
                    Mode::Avg { count_include_pad: true },
                    Mode::Lp { p: 1.0 },
                ] {
                    let want = naive_mean(&input, &shape, mode);
                    let mut got = vec![f16::ZERO; shape.output_len()];
                    pool_mean(&input, &shape, mode, &mut got);
                    for (at, (&g, &v)) in got.iter().zip(&want).enumerate() {
                        let v = <f16 as Element>::from_f64(v);
                        assert_eq!(
                            g.to_bits(),
                            v.to_bits(),
                            "{window:?} {w} {mode:?} at {at}: {g} vs {v}"
                        );
                    }
                }
            }
        }
    }

    /// Channels-last float16 sums of windows three wide with stride two
    /// ([`float16::sum_windows_3s2`]), where a job on one thread folds its
    /// planes in turn and carries the row two windows share, as
    /// [`float16_sums_match_naive`] checks: 2-D maps and 3-D ones whose
    /// first axis has windows of one, with padding and ceil mode (edge
    /// windows of fewer rows between carried ones), and rows longer than
    /// [`PIXEL_SUMS`] sums.
    ///
    /// [`float16::sum_windows_3s2`]: super::super::float16::sum_windows_3s2
    #[test]
    fn float16_sums_3s2_carry_the_shared_row() {
        let unit = AxisGeometry::new(3, 1, 1, 1, AxisPad::Valid, false).unwrap();
        for window in
            [(2, 3, 1, 0, false), (2, 3, 1, 1, false), (2, 3, 1, 0, true), (2, 3, 1, 1, true)]
        {
            let ax = |l| window_axis(l, window);
            for (inner, w) in [(16, 13), (45, 9), (64, 20), (16, 151)] {
                for shape in [
                    PoolShape::new(2, inner, &[ax(11), ax(w)]),
                    PoolShape::new(1, inner, &[unit, ax(9), ax(w)]),
                ] {
                    float16_sums_match_naive(&shape, &what_shape(&shape, window));
                }
            }
        }
    }

    /// float16 windows with stride 1 along the row, summed from the
    /// window rows' column sums ([`PixelSums::Columns`]) in channels-first
    /// and channels-last layouts, as [`float16_sums_match_naive`] checks:
    /// windows of 2, 3 and 5, dilation, padding and ceil mode (edge windows
    /// folded), 2-D maps and 3-D ones with 2x2/2 and 3x3/1 along the first
    /// axes, output rows of one part and of several ([`PIXEL_SUMS`]).
    #[test]
    fn float16_stride_1_sums_by_columns() {
        let windows = [
            (1, 2, 1, 0, false),
            (1, 3, 1, 0, false),
            (1, 3, 1, 1, false),
            (1, 3, 2, 1, false),
            (1, 5, 1, 2, true),
            (1, 2, 3, 1, true),
        ];
        for window in windows {
            let ax = |l| window_axis(l, window);
            let first = |l, w| window_axis(l, w);
            for (inner, w) in
                [(1, 11), (1, 2 * PIXEL_SUMS + 7), (3, 40), (16, 13), (45, 9), (16, 151)]
            {
                for shape in [
                    PoolShape::new(2, inner, &[ax(7), ax(w)]),
                    PoolShape::new(1, inner, &[first(5, (2, 2, 1, 0, false)), ax(6), ax(w)]),
                    PoolShape::new(1, inner, &[first(4, (1, 3, 1, 1, false)), ax(5), ax(w)]),
                ] {
                    if !shape.axes[2].interior().is_empty() {
                        float16_sums_match_naive(&shape, &what_shape(&shape, window));
                    }
                }
            }
        }
    }

    /// The float64 definition of the norms' powers and roots as the
    /// kernels take them: whole powers by products (exact for float16),
    /// square roots (correctly rounded, where `powf(s, 0.5)` may not be),
    /// libm's cube root.
    fn raise_by_products(x: f64, p: f64) -> f64 {
        match p {
            2.0 => x * x,
            3.0 => x * x * x,
            4.0 => (x * x) * (x * x),
            0.5 => x.sqrt(),
            0.25 => x.sqrt().sqrt(),
            p if p == 1.0 / 3.0 => x.cbrt(),
            _ => x.powf(p),
        }
    }

    /// float16 averages (without and with the padding counted) and 1- to
    /// 4-norms of data holding ±65504, 2^-24, 2^-11, −0, NaN and ±inf, on
    /// one thread (where a job pools its planes in turn): bit for bit
    /// against [`naive_mean`] (NaN as NaN), and the same bits in three
    /// bands of planes, as a stream is.
    fn float16_sums_match_naive(shape: &PoolShape, what: &str) {
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let values =
            [65504.0, -65504.0, 1.0, -0.0, 2f32.powi(-24), 7.0, -2.25, 0.5, 2f32.powi(-11)];
        let input: Vec<f16> =
            mixed(shape.input_len(), &values).into_iter().map(f16::from_f32).collect();
        let modes = [
            Mode::Avg { count_include_pad: false },
            Mode::Avg { count_include_pad: true },
            Mode::Lp { p: 1.0 },
            Mode::Lp { p: 2.0 },
            Mode::Lp { p: 3.0 },
            Mode::Lp { p: 4.0 },
        ];
        let raise = raise_by_products;
        for mode in modes {
            let want = naive_mean_with(&input, shape, mode, raise);
            let mut got = vec![f16::ZERO; shape.output_len()];
            one_thread.install(|| pool_mean(&input, shape, mode, &mut got));
            for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                let w = <f16 as Element>::from_f64(w);
                let same = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
                assert!(same, "{what} {mode:?} at {at}: {g} vs {w}");
            }
            let banded = one_thread.install(|| {
                in_bands(&input, shape, f16::ZERO, |rows, base, band, out| {
                    mean_planes(rows, base, shape, band, mode, out)
                })
            });
            let bits = |v: &[f16]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(bits(&banded) == bits(&got), "{what} {mode:?} banded");
        }
    }

    /// Channels-first float16 2- to 4-norms of windows of more than 32
    /// cells, on small integers, whose sums often land near float16
    /// midpoints: the chunks [`float16::norm_row`] leaves to the float64
    /// fold gather their cells 32 taps at a time, and must keep window
    /// order across the gathers. Bit for bit against the float64
    /// definition.
    ///
    /// [`float16::norm_row`]: super::super::float16::norm_row
    #[test]
    fn float16_norms_of_wide_windows_match_naive() {
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let raise = raise_by_products;
        for window in [(2, 6, 1, 0, false), (1, 7, 1, 0, false), (2, 6, 2, 1, true)] {
            let ax = |l| window_axis(l, window);
            let shape = PoolShape::new(3, 1, &[ax(19), ax(45)]);
            let input: Vec<f16> = (0..shape.input_len())
                .map(|i| f16::from_f64((((i * 2_654_435_761) >> 9) % 200) as f64 - 100.0))
                .collect();
            for p in [2.0, 3.0, 4.0] {
                let mode = Mode::Lp { p };
                let want = naive_mean_with(&input, &shape, mode, raise);
                let mut got = vec![f16::ZERO; shape.output_len()];
                one_thread.install(|| pool_mean(&input, &shape, mode, &mut got));
                for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let w = <f16 as Element>::from_f64(w);
                    assert_eq!(
                        g.to_bits(),
                        w.to_bits(),
                        "{} p={p} at {at}",
                        what_shape(&shape, window)
                    );
                }
            }
        }
    }

    const SUM_MODES: [Mode; 6] = [
        Mode::Avg { count_include_pad: false },
        Mode::Avg { count_include_pad: true },
        Mode::Lp { p: 1.0 },
        Mode::Lp { p: 2.0 },
        Mode::Lp { p: 3.0 },
        Mode::Lp { p: 4.0 },
    ];

    /// float16 (and with `integers` 16- and 8-bit integers), whose
    /// channels-first rows are widened to float32 once ([`WideRows`]),
    /// against [`naive_mean`] in [`SUM_MODES`]: bit for bit, but for the
    /// last bit of float64 outputs of powers above 1 (see below). Their
    /// float64 sums are exact (a float16 is a multiple of 2^-24 below
    /// 2^16), so the data can hold the extremes: ±65504, 2^-24, ±inf, NaN;
    /// and 2^-11, whose square is half a float64 unit of 65504², so sums of
    /// squares added in another order differ in float64 (rarely once
    /// rounded to float16: `fold_pixels_keeps_window_order` checks the
    /// order of the channels-last sums itself).
    fn narrow_types_widen_exactly(shape: &PoolShape, what: &str, integers: bool) {
        fn check<T: Element>(input: &[T], shape: &PoolShape, what: &str) {
            for mode in SUM_MODES {
                let want = naive_mean(input, shape, mode);
                let mut got = vec![<T::Mean as Element>::ZERO; shape.output_len()];
                pool_mean(input, shape, mode, &mut got);
                // The kernel multiplies and takes `sqrt` or `cube_roots`
                // where the reference calls `powf`, which can differ in
                // the last bits of a float64 output (a fourth power of a
                // 16-bit integer is inexact, `powf(s, 1/3)` raises by a
                // rounded third).
                let exact = matches!(mode, Mode::Avg { .. } | Mode::Lp { p: 1.0 });
                for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let w = <T::Mean as Element>::from_f64(w);
                    let (gf, wf) = (g.to_f64(), w.to_f64());
                    let same = (g.is_nan() && w.is_nan())
                        || bytemuck::bytes_of(&g) == bytemuck::bytes_of(&w)
                        || (!exact && (gf - wf).abs() <= 1e-12 * wf.abs());
                    assert!(same, "{} {what} {mode:?} at {at}: {g:?} vs {w:?}", T::DTYPE);
                }
                // Planes in bands of rows, as a stream is pooled: the same bits.
                let zero = <T::Mean as Element>::ZERO;
                let banded = in_bands(input, shape, zero, |rows, base, band, out| {
                    mean_planes(rows, base, shape, band, mode, out)
                });
                let bytes = |v: &[T::Mean]| bytemuck::cast_slice::<_, u8>(v).to_vec();
                assert!(bytes(&banded) == bytes(&got), "{} {what} {mode:?} banded", T::DTYPE);
            }
        }
        let values =
            [65504.0, -65504.0, 1.0, -0.0, 2f32.powi(-24), 7.0, -2.25, 0.5, 2f32.powi(-11)];
        let halves: Vec<f16> =
            mixed(shape.input_len(), &values).into_iter().map(f16::from_f32).collect();
        check(&halves, shape, what);
        // Sums seeded with +0, as in window order: −0 windows average to +0.
        check(&vec![f16::NEG_ZERO; shape.input_len()], shape, what);
        if !integers {
            return;
        }
        let n = shape.input_len();
        let words: Vec<u16> = (0..n).map(|i| (i * 40_503 % 65_536) as u16).collect();
        check(&words, shape, what);
        let signed: Vec<i16> = words.iter().map(|&w| w as i16).collect();
        check(&signed, shape, what);
        let bytes: Vec<u8> = words.iter().map(|&w| w as u8).collect();
        check(&bytes, shape, what);
    }

    /// Lp pooling of `input` with power `p`, bit for bit against
    /// [`naive_mean_with`] raising each tap by [`Power::of`] (or `powf` where
    /// cnnops uses it: `p` out of [`POWERS`]), NaN for NaN. The roots are
    /// taken as the kernels take them, a row at a time by
    /// [`super::pow::roots`] (whose multiply-adds may be fused), which the
    /// tests of `pow` hold within three ulps of libm.
    fn check_lp<T: Element>(input: &[T], shape: &PoolShape, p: f64, what: &str) {
        let mut got = vec![<T::Mean as Element>::ZERO; shape.output_len()];
        pool_mean(input, shape, Mode::Lp { p }, &mut got);
        let tables = POWERS.contains(&p).then(|| (Power::shared(p), Power::shared(1.0 / p)));
        let raise = |x: f64, q: f64| match &tables {
            Some((power, _)) if q == p => power.of(x),
            Some((_, root)) => {
                let mut out = [0f64];
                crate::ops::pow::roots(&[x], &mut out, root);
                out[0]
            }
            None => x.powf(q),
        };
        let want = naive_mean_with(input, shape, Mode::Lp { p }, raise);
        for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let w = <T::Mean as Element>::from_f64(w);
            let same =
                (g.is_nan() && w.is_nan()) || bytemuck::bytes_of(&g) == bytemuck::bytes_of(&w);
            assert!(same, "{what} p {p} at {at}: {g:?} vs {w:?}");
        }
    }

    /// Norms other than 1 to 4 raise each input row once into [`WideRows`]
    /// and sum the powered rows. Against [`naive_mean_with`] raising every
    /// tap where it is summed, with the same [`Power`] tables (libm's
    /// `powf` for p = 100, out of [`POWERS`]): bit for bit, since the
    /// powered values and the order of the additions are the same (the
    /// float64 values spread by a factor near 1, so fused and unfused
    /// powers would differ). Every row plan (window, phase split,
    /// contiguous, whole row, direct pixels), 2-D and 3-D, with padding,
    /// dilation and ceil mode; and a shape whose rows do not fit the
    /// cache, which raises every tap instead.
    #[test]
    fn powered_rows_match_raising_every_tap() {
        let values = [1e30f32, -1e30, 1.0, -0.0, 3.5e-20, 7.0, -2.25, 0.5, 1e-40];
        let data = |n: usize| mixed(n, &values);
        // (stride, kernel, dilation, pad, ceil)
        let windows = [
            (2, 2, 1, 0, false),
            (2, 3, 1, 1, true),
            (3, 3, 2, 1, false),
            (1, 3, 1, 1, false),
            (4, 3, 1, 0, true),
        ];
        for window in windows {
            let ax = |l| window_axis(l, window);
            let whole = AxisGeometry::new(9, 9, 1, 1, AxisPad::Valid, false).unwrap();
            for inner in [1, 3, 20] {
                for shape in [
                    PoolShape::new(2, inner, &[ax(7), ax(13)]),
                    PoolShape::new(2, inner, &[ax(5), ax(6), ax(12)]),
                    PoolShape::new(3, inner, &[ax(6), whole]),
                ] {
                    assert!(WideRows::<f64>::for_shape(&shape).is_some());
                    let what = what_shape(&shape, window);
                    let input = data(shape.input_len());
                    let halves: Vec<f16> = input.iter().map(|&x| f16::from_f32(x)).collect();
                    let wide: Vec<f64> = (input.iter().enumerate())
                        .map(|(i, &x)| f64::from(x) * (1.0 + (i % 997) as f64 * 1.3e-4))
                        .collect();
                    let ints: Vec<i16> =
                        (0..shape.input_len()).map(|i| (i % 601) as i16 - 300).collect();
                    for p in [0.5, 1.5, 2.5, 7.0, 100.0] {
                        check_lp(&input, &shape, p, &what);
                        check_lp(&halves, &shape, p, &what);
                        check_lp(&wide, &shape, p, &what);
                        check_lp(&ints, &shape, p, &what);
                    }
                }
            }
        }
        // Rows too large to cache: each tap is raised where it is summed.
        let shape = too_large_to_cache();
        assert!(WideRows::<f64>::for_shape(&shape).is_none());
        check_lp(&data(shape.input_len()), &shape, 1.5, "uncached");
    }

    /// [`ToF64`] widens float16 rows (by F16C where the CPU has it, in
    /// pieces) to what `half` gives cell by cell, bit for bit: rows
    /// shorter and longer than a piece, every class of value.
    #[test]
    fn float16_rows_widen_to_f64_exactly() {
        let special = [0x7e01u16, 0xfc00, 0x7c00, 0x8000, 0x0001, 0x83ff, 0x7bff, 0x3c00];
        for len in [0, 1, 7, 255, 256, 257, 1000] {
            let row: Vec<f16> = (0..len)
                .map(|i| match i % 11 {
                    0..8 => f16::from_bits(special[i % 11]),
                    _ => f16::from_bits((i as u16).wrapping_mul(40503)),
                })
                .collect();
            let mut got = vec![f64::NAN; len];
            ToF64.map_row(&row, &mut got);
            for (i, (&x, &y)) in row.iter().zip(&got).enumerate() {
                let want = x.to_f64();
                assert!(
                    want.to_bits() == y.to_bits() || (want.is_nan() && y.is_nan()),
                    "len {len}, cell {i}: {x:?} widened to {y:e}, not {want:e}"
                );
            }
        }
    }

    /// Lp with a fractional power over enough cells of a 1- or 2-byte type
    /// ([`table_pays`]) raises through a [`Table`]: every entry is the
    /// power of its value (float16 within two f64 ulps of [`Power::of`],
    /// whose row form may fuse multiply-adds; exactly [`Power::of`] for the
    /// integers, whose outputs are float64; libm's `powf`, exactly, where
    /// `p` is out of [`POWERS`]), and pooling gives what raising each tap
    /// gives, bit for bit.
    #[test]
    fn small_types_raise_through_a_table() {
        fn entries<T: Element>(p: f64) {
            let power = POWERS.contains(&p).then(|| Power::new(p));
            // float64 outputs raise rows without fused multiply-adds, as
            // `Power::of` does.
            let unfused = <T::Mean as Element>::DTYPE == DType::F64;
            let table = match &power {
                Some(power) => power_table::<T>(Powers(power)),
                None => power_table::<T>(Each(|x: T| x.to_f64().abs().powf(p))),
            };
            assert_eq!(table.len(), 1 << (8 * size_of::<T>()));
            for (bits, &got) in table.iter().enumerate() {
                let x: T = match size_of::<T>() {
                    1 => bytemuck::pod_read_unaligned(&[bits as u8]),
                    _ => bytemuck::pod_read_unaligned(&(bits as u16).to_ne_bytes()),
                };
                let x = x.to_f64().abs();
                let want = power.as_ref().map_or(x.powf(p), |power| power.of(x));
                let close = if power.is_some() && !unfused {
                    got == want || (got - want).abs() <= 2.0 * f64::EPSILON * want
                } else {
                    got.to_bits() == want.to_bits()
                };
                assert!(close || (got.is_nan() && want.is_nan()), "{x}^{p}: {got} vs {want}");
            }
        }
        fn pooled<T: Element>(input: &[T], shape: &PoolShape, p: f64, what: &str) {
            assert!(table_pays::<T>(input.len()), "{what} takes the table");
            check_lp(input, shape, p, what);
        }
        for p in [0.5, 1.5, 100.0] {
            entries::<f16>(p);
            entries::<i16>(p);
            entries::<u16>(p);
            entries::<i8>(p);
            entries::<u8>(p);
        }
        let hashed = |i: usize| ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as u16;
        for window in [(2, 2, 1, 0, false), (2, 3, 1, 1, true)] {
            let ax = |l| window_axis(l, window);
            // Channels-first and -last; float16 and int16 over every bit
            // pattern (NaN, infinities, subnormals, -0.0 among them).
            for shape in [
                PoolShape::new(2, 1, &[ax(365), ax(365)]),
                PoolShape::new(1, 20, &[ax(115), ax(115)]),
            ] {
                let what = what_shape(&shape, window);
                let n = shape.input_len();
                let halves: Vec<f16> = (0..n).map(|i| f16::from_bits(hashed(i))).collect();
                let ints: Vec<i16> = (0..n).map(|i| hashed(i) as i16).collect();
                for p in [0.5, 1.5, 100.0] {
                    pooled(&halves, &shape, p, &what);
                    pooled(&ints, &shape, p, &what);
                }
            }
            let shape = PoolShape::new(2, 3, &[ax(17), ax(19)]);
            let what = what_shape(&shape, window);
            let n = shape.input_len();
            let bytes: Vec<u8> = (0..n).map(|i| hashed(i) as u8).collect();
            let signed: Vec<i8> = bytes.iter().map(|&b| b as i8).collect();
            for p in [0.5, 1.5, 100.0] {
                pooled(&bytes, &shape, p, &what);
                pooled(&signed, &shape, p, &what);
            }
        }
    }

    /// The vectorised max kernel against the per-output argmax kernel (a
    /// direct loop over each window), over every pixel size up to 17 and
    /// strides 1 to 5, so each branch of `fold_row` (contiguous, phase
    /// split for 1, 2, 3, 4, 8 and other pixel sizes, direct, flat rows) is
    /// compared with the plain definition.
    #[test]
    fn vector_paths_agree_with_direct_windows() {
        let specials = [f32::NAN, -0.0, 0.0, f32::NEG_INFINITY, 1.0, 1.0, -1.0];
        for inner in 1..=17 {
            for stride in 1..=5 {
                for (kernel, dilation, pad) in [
                    (2, 1, 0),
                    (3, 1, 0),
                    (3, 1, 1),
                    (3, 2, 2),
                    (5, 1, 0),
                    (2, 2, 0),
                    (2, 2, 1),
                    (3, 2, 1),
                ] {
                    let ax = |l| {
                        AxisGeometry::new(
                            l,
                            kernel,
                            stride,
                            dilation,
                            AxisPad::Explicit { begin: pad, end: pad },
                            true,
                        )
                    };
                    // Width 12 tiles into windows of 2 and 3 (`FlatRows`);
                    // widths 2 and 3 leave a dilated tap wholly in the
                    // padding (the window plan must then have no interior).
                    // Width 130: more than one vector of outputs per row
                    // through the window plan.
                    let long = if inner == 1 { &[130][..] } else { &[] };
                    for &width in [13, 12, 3, 2].iter().chain(long) {
                        // Some windows are wider than these inputs: skip those.
                        let Ok(across) = ax(width) else { continue };
                        let shape = PoolShape::new(2, inner, &[ax(7).unwrap(), across]);
                        let input: Vec<f32> = (0..shape.input_len())
                            .map(|i| {
                                let h = (i * 2_654_435_761) % 1009;
                                if h % 5 == 0 { specials[h % 7] } else { (h % 13) as f32 - 6.0 }
                            })
                            .collect();
                        let n = shape.output_len();
                        let (mut fast, mut slow, mut idx) =
                            (vec![0.0; n], vec![0.0; n], vec![0; n]);
                        pool_minmax(&input, &shape, true, &mut fast);
                        pool_argmax(&input, &shape, IndexScope::Map, &mut slow, &mut idx);
                        for k in 0..n {
                            let same = (fast[k].is_nan() && slow[k].is_nan())
                                || fast[k].to_bits() == slow[k].to_bits();
                            assert!(
                                same,
                                "inner {inner} stride {stride} kernel {kernel} at {k}: {} vs {}",
                                fast[k], slow[k]
                            );
                        }
                    }
                }
            }
        }
    }
}
