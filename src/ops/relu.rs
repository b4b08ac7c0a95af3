//! The ReLU family: plain, leaky (`--alpha`) and clipped (`--max`).
//!
//! Semantics (PyTorch, TensorFlow and ONNX Runtime agree): NaN stays NaN,
//! −0.0 stays −0.0, because the test is `x < 0`, never `max(x, 0)`
//! (`f32::max(NaN, 0.0)` is 0, the trap candle fell into). Each variant is
//! a branch-free select the compiler vectorises.

use super::Element;
use super::float16;
use super::stream::{STREAM_BYTES, stream_map};
use crate::npy::DType;
use half::f16;
use rayon::prelude::*;

/// A ReLU variant with its parameters already converted to the element
/// type, so the inner loop does no conversion.
#[derive(Clone, Copy, Debug)]
pub struct Relu<T> {
    /// Slope for negative inputs (leaky ReLU); `None` maps them to zero.
    pub alpha: Option<f64>,
    /// Upper clip (ReLU6 is `Some(6)`).
    pub max: Option<T>,
}

impl<T: Element> Relu<T> {
    /// Applies the function to one element.
    #[inline(always)]
    pub fn apply(&self, x: T) -> T {
        let y = match self.alpha {
            None => {
                if x.is_negative() {
                    T::ZERO
                } else {
                    x
                }
            }
            Some(a) => {
                if x.is_negative() {
                    x.scale(a)
                } else {
                    x
                }
            }
        };
        match self.max {
            Some(m) if y.gt(m) => m,
            _ => y,
        }
    }
}

/// Elements per parallel task: large enough to amortise scheduling, small
/// enough to keep both cores busy on a 100 MB input.
const CHUNK: usize = 1 << 16;

/// Writes `relu(input)` into `out`, in parallel on the current rayon pool.
///
/// # Panics
/// If the slices differ in length.
pub fn relu<T: Element>(input: &[T], out: &mut [T], f: Relu<T>) {
    assert_eq!(input.len(), out.len());
    // One monomorphised loop per variant, so the `match` on the variant is
    // outside the loop and each loop is a plain vectorisable select.
    match (f.alpha, f.max) {
        (Some(a), max) if T::DTYPE == DType::F16 => {
            let max = max.map(|m| bytemuck::cast::<T, f16>(m));
            leaky_f16(bytemuck::cast_slice(input), bytemuck::cast_slice_mut(out), a as f32, max)
        }
        (None, None) => elementwise(input, out, |x| if x.is_negative() { T::ZERO } else { x }),
        (None, Some(m)) => elementwise(input, out, move |x| {
            let y = if x.is_negative() { T::ZERO } else { x };
            if y.gt(m) { m } else { y }
        }),
        (Some(a), None) => {
            elementwise(input, out, move |x| if x.is_negative() { x.scale(a) } else { x })
        }
        (Some(_), Some(_)) => elementwise(input, out, move |x| f.apply(x)),
    }
}

/// Applies ReLU in place.
pub fn relu_in_place<T: Element>(data: &mut [T], f: Relu<T>) {
    data.par_chunks_mut(CHUNK).for_each(|chunk| {
        for x in chunk {
            *x = f.apply(*x);
        }
    });
}

/// Runs `block` over matching pieces of `input` and `out` in parallel.
fn run<T: Element>(input: &[T], out: &mut [T], block: impl Fn(&[T], &mut [T]) + Sync) {
    out.par_chunks_mut(CHUNK).zip(input.par_chunks(CHUNK)).for_each(|(o, i)| block(i, o));
}

/// `out[k] = op(input[k])` in parallel. An output of [`STREAM_BYTES`] or
/// more is written around the cache (see [`super::stream`]).
fn elementwise<T: Element>(input: &[T], out: &mut [T], op: impl Fn(T) -> T + Sync + Copy) {
    let streamed = size_of_val(out) >= STREAM_BYTES;
    run(input, out, |i, o| {
        if !(streamed && stream_map(i, o, op)) {
            map(i, o, op)
        }
    });
}

vectorised! {
/// The element loop, compiled for several instruction sets and picked at
/// run time (see `vectorised!` in `ops`).
fn map<T: Element>(input: &[T], out: &mut [T], op: impl Fn(T) -> T + Copy) {
    for (o, &x) in out.iter_mut().zip(input) {
        *o = op(x);
    }
}
}

/// Leaky (and clipped) ReLU of float16, computed in float32 as
/// [`Element::scale`] defines it (the product rounded once to float16):
/// with the CPU's conversion instructions where it has them, else with the
/// branch-free conversions of [`super::float16`], which vectorise too.
/// Non-negative values and NaN pass through untouched.
fn leaky_f16(input: &[f16], out: &mut [f16], alpha: f32, max: Option<f16>) {
    if float16::has_hw() {
        let stream = size_of_val(out) >= STREAM_BYTES;
        run(input, out, |i, o| {
            let (i, o) = (bytemuck::cast_slice(i), bytemuck::cast_slice_mut(o));
            float16::leaky_hw(i, o, alpha, max.map(f16::to_bits), stream)
        })
    } else {
        leaky_f16_portable(input, out, alpha, max)
    }
}

fn leaky_f16_portable(input: &[f16], out: &mut [f16], alpha: f32, max: Option<f16>) {
    let leak = move |x: f16| {
        if x.is_negative() {
            f16::from_bits(float16::narrow(float16::widen(x.to_bits()) * alpha))
        } else {
            x
        }
    };
    match max {
        None => elementwise(input, out, leak),
        Some(m) => elementwise(input, out, move |x| {
            let y = leak(x);
            if y.gt(m) { m } else { y }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    fn plain<T: Element>() -> Relu<T> {
        Relu { alpha: None, max: None }
    }

    #[test]
    fn nan_and_negative_zero_survive() {
        let input = [f32::NAN, -0.0, 0.0, -1.5, 2.0, f32::NEG_INFINITY, f32::INFINITY];
        let mut out = [0.0f32; 7];
        relu(&input, &mut out, plain());
        assert!(out[0].is_nan());
        assert_eq!(out[1].to_bits(), (-0.0f32).to_bits(), "ReLU(-0.0) is -0.0");
        assert_eq!(&out[2..], &[0.0, 0.0, 2.0, 0.0, f32::INFINITY]);
    }

    #[test]
    fn leaky_and_clipped() {
        let input = [-2.0f64, -0.0, 1.0, 7.0, f64::NAN];
        let mut out = [0.0f64; 5];
        relu(&input, &mut out, Relu { alpha: Some(0.5), max: Some(6.0) });
        assert_eq!(&out[..4], &[-1.0, -0.0, 1.0, 6.0]);
        assert_eq!(out[1].to_bits(), (-0.0f64).to_bits());
        assert!(out[4].is_nan(), "NaN is not clipped");
    }

    /// Outputs above `STREAM_BYTES` take the streaming-store loop; NaN,
    /// −0.0 and the clip must come through it unchanged, at an unaligned
    /// start and length.
    #[test]
    fn streamed_outputs_keep_the_element_rules() {
        let n = STREAM_BYTES / 4 + 1001;
        let specials = [f32::NAN, -0.0, 0.0, -1.5, 7.0, f32::NEG_INFINITY, f32::INFINITY, 3.0];
        let input: Vec<f32> = (0..n).map(|i| specials[(i * 7 + i / 5) % 8]).collect();
        let mut out = vec![1.0f32; n + 1];
        relu(&input[1..], &mut out[1..n], Relu { alpha: None, max: Some(6.0) });
        for (k, (&x, &y)) in input[1..].iter().zip(&out[1..n]).enumerate() {
            #[allow(clippy::manual_clamp)] // the rule spelled out, NaN passing through
            let want = if x < 0.0 {
                0.0
            } else if x > 6.0 {
                6.0
            } else {
                x
            };
            assert!(
                (want.is_nan() && y.is_nan()) || want.to_bits() == y.to_bits(),
                "element {k}: relu6({x}) gave {y}"
            );
        }
        assert_eq!((out[0], out[n]), (1.0, 1.0), "nothing written outside the output");
    }

    /// Both float16 leaky ReLU paths (the CPU's conversions where it has
    /// them, and the portable one) against the one-element
    /// definition (`Element::scale`, through `half`'s conversions), over
    /// every float16 bit pattern, several slopes and with and without a
    /// clip; the largest case repeats the patterns past `STREAM_BYTES` so
    /// the streaming loop is covered too.
    #[test]
    fn float16_leaky_matches_the_definition_for_every_value() {
        let all: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
        let cases = [
            (0.01, None, 1),
            (0.2, Some(6.0), 1),
            (1.0 / 3.0, None, 1),
            (-1.5, Some(1000.0), 1),
            (0.0, None, 1),
            (1e-7, None, 1),
            (3e4, None, 1),
            (0.1, None, STREAM_BYTES / (2 << 16) + 1),
        ];
        for (alpha, max, copies) in cases {
            let f = Relu { alpha: Some(alpha), max: max.map(f16::from_f32) };
            // Odd start and length (from the second element on), so the
            // streamed output starts off a vector boundary.
            let input: Vec<f16> =
                all.iter().copied().cycle().skip(1).take(all.len() * copies - 2).collect();
            let mut out = vec![f16::ZERO; input.len() + 1];
            let out = &mut out[1..];
            let mut portable = vec![f16::ZERO; input.len()];
            relu(&input, out, f);
            leaky_f16_portable(&input, &mut portable, alpha as f32, f.max);
            for ((&x, &y), &z) in input.iter().zip(out.iter()).zip(&portable) {
                assert_eq!(
                    y.to_bits(),
                    z.to_bits(),
                    "the two paths differ at {:#06x}",
                    x.to_bits()
                );
                let want = f.apply(x);
                assert!(
                    (want.is_nan() && y.is_nan()) || want.to_bits() == y.to_bits(),
                    "alpha {alpha} max {max:?}: {:#06x} gave {:#06x}, want {:#06x}",
                    x.to_bits(),
                    y.to_bits(),
                    want.to_bits()
                );
            }
        }
    }

    #[test]
    fn float16_and_integers() {
        let input = [f16::from_f32(-3.0), f16::NAN, f16::from_f32(8.0)];
        let mut out = [f16::ZERO; 3];
        relu(&input, &mut out, Relu { alpha: Some(0.25), max: Some(f16::from_f32(6.0)) });
        assert_eq!(out[0], f16::from_f32(-0.75));
        assert!(out[1].is_nan());
        assert_eq!(out[2], f16::from_f32(6.0));

        let mut ints = [i8::MIN, -1, 0, 5, i8::MAX];
        relu_in_place(&mut ints, Relu { alpha: None, max: Some(6) });
        assert_eq!(ints, [0, 0, 0, 5, 6]);
    }
}
