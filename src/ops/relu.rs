//! The ReLU family: plain, leaky (`--alpha`) and clipped (`--max`).
//!
//! Semantics (PyTorch, TensorFlow and ONNX Runtime agree): NaN stays NaN,
//! −0.0 stays −0.0, because the test is `x < 0`, never `max(x, 0)`
//! (`f32::max(NaN, 0.0)` is 0, the trap candle fell into). Each variant is
//! a branch-free select the compiler vectorises.

use super::Element;
use multiversion::multiversion;
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
        (None, None) => run(input, out, |x| if x.is_negative() { T::ZERO } else { x }),
        (None, Some(m)) => run(input, out, |x| {
            let y = if x.is_negative() { T::ZERO } else { x };
            if y.gt(m) { m } else { y }
        }),
        (Some(a), None) => run(input, out, |x| if x.is_negative() { x.scale(a) } else { x }),
        (Some(_), Some(_)) => run(input, out, |x| f.apply(x)),
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

#[inline(always)]
fn run<T: Element>(input: &[T], out: &mut [T], op: impl Fn(T) -> T + Sync + Copy) {
    out.par_chunks_mut(CHUNK).zip(input.par_chunks(CHUNK)).for_each(|(o, i)| map(i, o, op));
}

/// The element loop, compiled for several instruction sets and picked at
/// run time (see `ops::pool::fold_plane`).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx2+fma",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
    "aarch64+neon"
))]
fn map<T: Element>(input: &[T], out: &mut [T], op: impl Fn(T) -> T + Copy) {
    for (o, &x) in out.iter_mut().zip(input) {
        *o = op(x);
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
