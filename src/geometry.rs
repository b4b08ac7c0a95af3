//! Pooling arithmetic for one spatial axis: output length, padding before
//! and after, and which window taps fall on real data.
//!
//! Pure functions, no I/O, no element types. Every other module asks this
//! one; no other module computes an output size. The formula is the one
//! of the ONNX pooling operators and PyTorch:
//!
//! ```text
//! effective window  K' = D·(K − 1) + 1
//! out = floor_or_ceil((L + pad_begin + pad_end − K') / S) + 1
//! ```
//!
//! In ceil mode the last window must start inside the input or the begin
//! padding (`(out − 1)·S < L + pad_begin`), otherwise it is dropped: the
//! rule PyTorch (`pooling_output_shape`) and ONNX Runtime use. `same`
//! padding gives `out = ceil(L / S)` and splits the total padding with the
//! odd cell at the end (SAME_UPPER, TensorFlow) or at the beginning
//! (SAME_LOWER). Every window must hold at least one real cell.
//!
//! Edge cases covered by the tests below: window equal to the input, stride
//! larger than the window, padding above half the window (ONNX allows it),
//! dilation that jumps over the input, ceil mode dropping a window that
//! would start in the end padding, input of length 0 and 1.

use crate::exit::UsageError;
use std::ops::Range;

/// How an axis is padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisPad {
    /// Explicit cells before and after.
    Explicit {
        /// Cells before the first input cell.
        begin: usize,
        /// Cells after the last input cell.
        end: usize,
    },
    /// `out = ceil(L/S)`, the odd padding cell at the end (TensorFlow SAME,
    /// ONNX SAME_UPPER).
    SameUpper,
    /// As `SameUpper` with the odd cell at the beginning (ONNX SAME_LOWER).
    SameLower,
    /// No padding (TensorFlow VALID).
    Valid,
}

/// The resolved geometry of one spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisGeometry {
    /// Input length `L`.
    pub input: usize,
    /// Window length `K` (in taps).
    pub kernel: usize,
    /// Stride `S`.
    pub stride: usize,
    /// Dilation `D`: distance between taps.
    pub dilation: usize,
    /// Padding before the input, as actually used.
    pub pad_begin: usize,
    /// Padding after the input, as actually used.
    pub pad_end: usize,
    /// Output length.
    pub output: usize,
}

/// Why an axis geometry is impossible. Always a usage error (exit 2).
pub type GeometryError = UsageError;

fn err(msg: String) -> GeometryError {
    UsageError(msg)
}

impl AxisGeometry {
    /// Resolves one axis.
    ///
    /// # Errors
    /// A zero window, stride or dilation; an empty axis; a window wider than
    /// the padded input; a window lying wholly in padding; an effective
    /// window or padded length that overflows.
    ///
    /// # Example
    /// ```
    /// use cnnops::geometry::{AxisGeometry, AxisPad};
    /// // 7 cells, window 3, stride 2, no padding: windows start at 0, 2, 4.
    /// let g = AxisGeometry::new(7, 3, 2, 1, AxisPad::Explicit { begin: 0, end: 0 }, false)?;
    /// assert_eq!(g.output, 3);
    /// # Ok::<(), cnnops::exit::UsageError>(())
    /// ```
    pub fn new(
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad: AxisPad,
        ceil: bool,
    ) -> Result<AxisGeometry, GeometryError> {
        if kernel == 0 || stride == 0 || dilation == 0 {
            return Err(err("window size, stride and dilation must be at least 1".into()));
        }
        if input == 0 {
            return Err(err("cannot pool an axis of length 0".into()));
        }
        // Far beyond any real array; keeps every later product and the
        // signed window arithmetic well inside 64 bits.
        const MAX_VALUE: usize = 1 << 40;
        for (name, v) in [("window size", kernel), ("stride", stride), ("dilation", dilation)]
            .into_iter()
            .chain(match pad {
                AxisPad::Explicit { begin, end } => vec![("padding", begin), ("padding", end)],
                _ => vec![],
            })
        {
            if v > MAX_VALUE {
                return Err(err(format!("{name} {v} is too large (at most 2^40)")));
            }
        }
        let effective = (kernel - 1)
            .checked_mul(dilation)
            .and_then(|x| x.checked_add(1))
            .ok_or_else(|| err("window times dilation overflows".into()))?;
        let (pad_begin, pad_end) = match pad {
            AxisPad::Explicit { begin, end } => (begin, end),
            AxisPad::Valid => (0, 0),
            AxisPad::SameUpper | AxisPad::SameLower => {
                if ceil {
                    return Err(err("--ceil has no meaning with --pad same/same-lower".into()));
                }
                let out = input.div_ceil(stride);
                let needed = (out - 1).saturating_mul(stride).saturating_add(effective);
                let total = needed.saturating_sub(input);
                if pad == AxisPad::SameUpper {
                    (total / 2, total - total / 2)
                } else {
                    (total - total / 2, total / 2)
                }
            }
        };
        if ceil && pad == AxisPad::Valid {
            return Err(err("--ceil has no meaning with --pad valid".into()));
        }
        let padded = input
            .checked_add(pad_begin)
            .and_then(|x| x.checked_add(pad_end))
            .ok_or_else(|| err("padding overflows".into()))?;
        if padded < effective {
            let what = if pad_begin + pad_end == 0 { "input" } else { "padded input" };
            return Err(err(format!(
                "window of {effective} cells is larger than the {what} of {padded} cells"
            )));
        }
        let span = padded - effective;
        let mut output = if ceil { span.div_ceil(stride) } else { span / stride } + 1;
        if ceil && (output - 1) * stride >= input + pad_begin {
            output -= 1;
        }
        let g = AxisGeometry { input, kernel, stride, dilation, pad_begin, pad_end, output };
        let in_padding = |o: usize| {
            err(format!(
                "window {o} (cells {} to {} of the padded input) lies wholly in padding",
                o * stride,
                o * stride + effective - 1
            ))
        };
        // Window starts only grow, so a window lying before or after the
        // input can only be the first or the last one. When the input is at
        // least as long as the dilation, a window overlapping the input
        // always has a tap on it (taps are D apart), so those two checks
        // are all there is: O(1) whatever the output length.
        for o in [0, output - 1] {
            if g.taps(o).is_empty() {
                return Err(in_padding(o));
            }
        }
        if input < dilation {
            // Taps can jump over the whole input: check every window, up to
            // a bound that no practical geometry comes near.
            const MAX_CHECKED: usize = 1 << 24;
            if output > MAX_CHECKED {
                return Err(err(format!(
                    "{output} windows with a dilation of {dilation} over {input} cells: too many \
                     to check that each touches real data"
                )));
            }
            if let Some(o) = (0..output).find(|&o| g.taps(o).is_empty()) {
                return Err(in_padding(o));
            }
        }
        Ok(g)
    }

    /// Window start of output `o`, in input coordinates (negative inside
    /// the begin padding).
    #[inline]
    pub fn start(&self, o: usize) -> isize {
        (o * self.stride) as isize - self.pad_begin as isize
    }

    /// Cells one window spans, from its first tap to its last:
    /// `(K − 1)·D + 1` (checked not to overflow by [`AxisGeometry::new`]).
    #[inline]
    pub fn extent(&self) -> usize {
        (self.kernel - 1) * self.dilation + 1
    }

    /// The taps `t` of window `o` that fall on real cells: exactly those
    /// with `0 <= start(o) + t·D < L`. They form one contiguous range.
    #[inline]
    pub fn taps(&self, o: usize) -> Range<usize> {
        let start = self.start(o);
        let lo = if start < 0 { self.taps_in(-start) } else { 0 };
        let room = self.input as isize - start;
        let hi = if room <= 0 { 0 } else { self.taps_in(room) };
        let hi = (hi as usize).min(self.kernel);
        let lo = (lo as usize).min(hi);
        lo..hi
    }

    /// The input cell of tap `t` of window `o` (only for `t` in `taps(o)`).
    #[inline]
    pub fn cell(&self, o: usize, t: usize) -> usize {
        (self.start(o) + (t * self.dilation) as isize) as usize
    }

    /// The outputs whose window has tap `t` on a real cell: those `o` with
    /// `0 <= o·S − pad_begin + t·D < L`. A contiguous range.
    #[inline]
    pub fn outputs_for_tap(&self, t: usize) -> Range<usize> {
        let s = self.stride as isize;
        let shift = (t * self.dilation) as isize - self.pad_begin as isize;
        // o·S + shift >= 0  <=>  o >= ceil(-shift / S)
        let lo = if shift < 0 { ((-shift) + s - 1) / s } else { 0 };
        // o·S + shift < L  <=>  o < ceil((L - shift) / S)
        let room = self.input as isize - shift;
        let hi = if room <= 0 { 0 } else { (room + s - 1) / s };
        let hi = (hi as usize).min(self.output);
        let lo = (lo as usize).min(hi);
        lo..hi
    }

    /// The outputs whose every tap falls on a real cell (windows wholly
    /// inside the input): a contiguous range, empty if there are none.
    pub fn interior(&self) -> Range<usize> {
        let (lo, hi) = (0..self.kernel)
            .map(|t| self.outputs_for_tap(t))
            .fold((0, self.output), |(lo, hi), r| (lo.max(r.start), hi.min(r.end)));
        if lo < hi { lo..hi } else { 0..0 }
    }

    /// Cells window `o` counts for an average: its real cells, or with
    /// `include_pad` every tap inside the padded input (PyTorch's
    /// `count_include_pad`: taps past the end padding, which only ceil mode
    /// creates, are not counted).
    pub fn count(&self, o: usize, include_pad: bool) -> usize {
        if !include_pad {
            return self.taps(o).len();
        }
        let start = self.start(o) + self.pad_begin as isize; // >= 0
        let end = (self.input + self.pad_begin + self.pad_end) as isize;
        let room = end - start;
        let n = if room <= 0 { 0 } else { self.taps_in(room) };
        (n as usize).min(self.kernel)
    }

    /// Taps `D` apart that fit in `n > 0` cells from the first: `⌈n / D⌉`,
    /// without a division for the usual `D = 1` (the kernels ask for the
    /// taps of every output row: float32 NCHW avg 3x3/1 pad 1 went from
    /// 1.6-1.7 to 1.9-2.0 GB/s).
    #[inline]
    fn taps_in(&self, n: isize) -> isize {
        let d = self.dilation as isize;
        if d == 1 { n } else { (n + d - 1) / d }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explicit(b: usize, e: usize) -> AxisPad {
        AxisPad::Explicit { begin: b, end: e }
    }

    /// Brute force: walk window starts along the padded line. Floor mode
    /// keeps windows that fit; ceil mode also keeps one that overhangs the
    /// end by less than a stride, then drops the last window if it starts
    /// in the end padding (the PyTorch/ONNX rule).
    fn brute(l: usize, k: usize, s: usize, d: usize, b: usize, e: usize, ceil: bool) -> usize {
        let eff = d * (k - 1) + 1;
        let padded = l + b + e;
        let mut starts = vec![];
        let mut start = 0;
        while start + eff <= padded || (ceil && start + eff < padded + s) {
            starts.push(start);
            start += s;
        }
        if ceil && starts.last().is_some_and(|&st| st >= l + b) {
            starts.pop();
        }
        starts.len()
    }

    #[test]
    fn table() {
        // (L, K, S, D, begin, end, ceil) -> out
        let rows = [
            ((4, 2, 2, 1, 0, 0, false), 2),
            ((5, 2, 2, 1, 0, 0, false), 2),
            ((5, 2, 2, 1, 0, 0, true), 3),
            ((5, 3, 1, 1, 0, 0, false), 3), // the seed's L - P + 1
            ((5, 5, 1, 1, 0, 0, false), 1), // window equal to the input
            ((7, 2, 5, 1, 0, 0, false), 2), // stride larger than the window
            ((6, 3, 2, 1, 1, 1, false), 3),
            ((6, 3, 2, 1, 1, 1, true), 4),
            ((5, 3, 2, 2, 0, 0, false), 1),
            ((3, 3, 1, 1, 2, 2, false), 5), // ONNX: pad 2 on a 3 window
            // ceil would add a window starting in the end padding: dropped
            ((4, 2, 3, 1, 0, 1, true), 2),
        ];
        for ((l, k, s, d, b, e, c), out) in rows {
            let g = AxisGeometry::new(l, k, s, d, explicit(b, e), c).unwrap();
            assert_eq!(g.output, out, "{:?}", (l, k, s, d, b, e, c));
            assert_eq!(brute(l, k, s, d, b, e, c), out);
        }
    }

    #[test]
    fn same_padding() {
        // TensorFlow: out = ceil(L/S); pad total = (out-1)S + K - L.
        let g = AxisGeometry::new(5, 2, 2, 1, AxisPad::SameUpper, false).unwrap();
        assert_eq!((g.output, g.pad_begin, g.pad_end), (3, 0, 1));
        let g = AxisGeometry::new(5, 4, 1, 1, AxisPad::SameUpper, false).unwrap();
        assert_eq!((g.output, g.pad_begin, g.pad_end), (5, 1, 2));
        let g = AxisGeometry::new(5, 4, 1, 1, AxisPad::SameLower, false).unwrap();
        assert_eq!((g.output, g.pad_begin, g.pad_end), (5, 2, 1));
        let g = AxisGeometry::new(6, 3, 3, 1, AxisPad::SameUpper, false).unwrap();
        assert_eq!((g.output, g.pad_begin, g.pad_end), (2, 0, 0));
        let g = AxisGeometry::new(5, 3, 2, 2, AxisPad::Valid, false).unwrap();
        assert_eq!((g.output, g.pad_begin, g.pad_end), (1, 0, 0));
    }

    #[test]
    fn errors() {
        assert!(AxisGeometry::new(2, 3, 1, 1, explicit(0, 0), false).is_err());
        assert!(AxisGeometry::new(4, 3, 1, 2, explicit(0, 0), false).is_err());
        assert!(AxisGeometry::new(0, 1, 1, 1, explicit(0, 0), false).is_err());
        assert!(AxisGeometry::new(4, 0, 1, 1, explicit(0, 0), false).is_err());
        assert!(AxisGeometry::new(4, 2, 0, 1, explicit(0, 0), false).is_err());
        // pad 3 before a 3 window: the first window is all padding
        let e = AxisGeometry::new(3, 3, 1, 1, explicit(3, 0), false).unwrap_err();
        assert!(e.0.contains("wholly in padding"), "{}", e.0);
        // dilation 3 over one cell with pad 1: taps at -1 and 2
        assert!(AxisGeometry::new(1, 2, 1, 3, explicit(1, 2), false).is_err());
        assert!(AxisGeometry::new(5, 2, 2, 1, AxisPad::SameUpper, true).is_err());
        assert!(AxisGeometry::new(5, 2, 2, 1, AxisPad::Valid, true).is_err());
        assert!(AxisGeometry::new(usize::MAX, 2, 1, usize::MAX, explicit(0, 0), false).is_err());
        // A huge window and padding: answered at once, not by visiting
        // 10^12 windows.
        let big = 1_000_000_000_000;
        let g = AxisGeometry::new(5, big, 1, 1, explicit(big - 1, big - 1), false).unwrap();
        assert_eq!(g.output, big + 4);
        assert!(AxisGeometry::new(1, big, 1, 2, explicit(0, 2 * big), false).is_err());
    }

    #[test]
    fn taps_and_counts() {
        let g = AxisGeometry::new(5, 3, 2, 1, explicit(1, 1), false).unwrap();
        assert_eq!(g.output, 3);
        assert_eq!((g.taps(0), g.taps(1), g.taps(2)), (1..3, 0..3, 0..2));
        assert_eq!((g.count(0, false), g.count(0, true)), (2, 3));
        assert_eq!(g.outputs_for_tap(0), 1..3);
        assert_eq!(g.outputs_for_tap(2), 0..2);
        // ceil mode: the extra window sticks out past the end padding
        let g = AxisGeometry::new(5, 3, 2, 1, explicit(0, 0), true).unwrap();
        assert_eq!(g.output, 2);
        let g = AxisGeometry::new(6, 3, 2, 1, explicit(0, 0), true).unwrap();
        assert_eq!((g.output, g.taps(2), g.count(2, true)), (3, 0..2, 2));
    }

    /// Every geometry the constructor accepts agrees with brute force on
    /// the output length, and `taps` agrees with a cell-by-cell check.
    #[test]
    fn exhaustive_small() {
        for l in 1..9 {
            for k in 1..5 {
                for s in 1..4 {
                    for d in 1..4 {
                        for b in 0..4 {
                            for e in 0..4 {
                                for c in [false, true] {
                                    check_one(l, k, s, d, b, e, c);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn check_one(l: usize, k: usize, s: usize, d: usize, b: usize, e: usize, c: bool) {
        let r = AxisGeometry::new(l, k, s, d, explicit(b, e), c);
        let eff = d * (k - 1) + 1;
        if l + b + e < eff {
            assert!(r.is_err());
            return;
        }
        let n = brute(l, k, s, d, b, e, c);
        let all_touch = (0..n).all(|o| {
            (0..k).any(|t| {
                let cell = (o * s + t * d) as isize - b as isize;
                cell >= 0 && cell < l as isize
            })
        });
        let Ok(g) = r else {
            assert!(!all_touch, "rejected a valid geometry {:?}", (l, k, s, d, b, e, c));
            return;
        };
        assert!(all_touch, "{:?} n={n} out={}", (l, k, s, d, b, e, c), g.output);
        assert_eq!(g.output, n);
        for o in 0..n {
            let real: Vec<usize> = (0..k)
                .filter(|&t| {
                    let cell = (o * s + t * d) as isize - b as isize;
                    cell >= 0 && cell < l as isize
                })
                .collect();
            let taps: Vec<usize> = g.taps(o).collect();
            assert_eq!(taps, real);
            for t in 0..k {
                assert_eq!(g.outputs_for_tap(t).contains(&o), real.contains(&t));
            }
            assert_eq!(g.interior().contains(&o), real.len() == k, "interior, output {o}");
            if real.len() == k {
                // A whole window spans its extent, first tap to last.
                assert_eq!(g.extent(), g.cell(o, k - 1) - g.cell(o, 0) + 1);
            }
        }
    }
}
