//! The element kernels and the element trait they are generic over.
//!
//! Each kernel is written once, generic over [`Element`]; the one `match`
//! on the dtype that picks `T` lives in [`crate::dispatch_dtype`].
//! Kernels never compute shapes: they receive a [`pool::PoolShape`] built
//! from [`crate::geometry`].

/// Compiles a function for several instruction sets (AVX-512, AVX2,
/// SSE4.1, NEON, and the baseline) and picks one at run time, so its
/// auto-vectorised loops use the widest vectors the CPU has without
/// per-CPU build flags. The one list of targets for every kernel.
macro_rules! vectorised {
    ($item:item) => {
        #[::multiversion::multiversion(targets(
            "x86_64+avx512f+avx512bw+avx2+fma",
            "x86_64+avx2+fma",
            "x86_64+sse4.1",
            "aarch64+neon"
        ))]
        $item
    };
}

/// Whether the instruction set the [`vectorised!`] clone this is
/// expanded in is compiled for fuses multiply and add, so `mul_add` is
/// one instruction, not a call into libm's software `fma`. Only inside a
/// `vectorised!` function.
macro_rules! fused {
    () => {
        ::multiversion::target::target_cfg_f!(any(target_arch = "aarch64", target_feature = "fma"))
    };
}

pub mod float16;
pub mod pool;
pub mod pow;
pub mod relu;
pub mod stream;

use crate::npy::DType;
use half::f16;
use std::fmt::Debug;

/// Whether `n`'s mantissa bits are zero: ± a normal power of two, whose
/// reciprocal is exact (so `x · (1/n)` is `x / n` bit for bit), or ±0 or
/// ±inf, for which the product by the reciprocal also gives the quotient.
#[cfg_attr(not(debug_assertions), inline(always))]
fn power_of_two(n: f64) -> bool {
    n.to_bits() & ((1u64 << 52) - 1) == 0
}

/// A numeric element cnnops can process.
///
/// The constants and methods are exactly what the kernels need: the seeds
/// of a max or min fold (`-inf`/`+inf` for floats, so a window of all
/// `-inf` pools to `-inf`, never to the type's smallest finite value), a
/// NaN test (constant `false` for integers, so it compiles away), and
/// conversions for the average and Lp modes.
pub trait Element: bytemuck::Pod + PartialOrd + Debug + Send + Sync + 'static {
    /// The dtype this type stores (bool is processed as `u8`).
    const DTYPE: DType;
    /// Additive zero.
    const ZERO: Self;
    /// Seed of a max fold: `-inf` for floats, `MIN` for integers.
    const LOWEST: Self;
    /// Seed of a min fold: `+inf` for floats, `MAX` for integers.
    const HIGHEST: Self;
    /// Output element of the average and Lp modes: the type itself for
    /// floats, `f64` for integers (as `numpy.mean` does).
    type Mean: Element;

    /// True for a NaN; always false for integers.
    fn is_nan(self) -> bool;
    /// Reverses the bytes (for big-endian input).
    fn swap_bytes(self) -> Self;
    /// Widens to `f64` (exact for every type but 64-bit integers).
    fn to_f64(self) -> f64;
    /// Narrows from `f64`: rounding to nearest for floats, saturating and
    /// truncating toward zero for integers.
    fn from_f64(x: f64) -> Self;
    /// Multiplies by `alpha` in the precision frameworks use for this type
    /// (float16 in float32, as PyTorch's opmath does).
    fn scale(self, alpha: f64) -> Self;

    /// `self < 0`: false for NaN and for −0.0, so ReLU keeps both.
    #[inline(always)]
    fn is_negative(self) -> bool {
        self < Self::ZERO
    }

    /// `self > other` (false if either is NaN).
    #[inline(always)]
    fn gt(self, other: Self) -> bool {
        self > other
    }

    /// One step of a max fold: takes `x` if it is larger, or if it is the
    /// first NaN; keeps `acc` on ties (so −0.0 before 0.0 stays −0.0) and
    /// once it is NaN. Written as `!(x <= acc) && acc == acc`, which is one
    /// unordered compare, one ordered compare and a blend per vector.
    #[inline(always)]
    fn max_step(acc: Self, x: Self) -> Self {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let take = !(x <= acc) && !acc.is_nan();
        if take { x } else { acc }
    }

    /// One step of a min fold, the mirror of [`Element::max_step`].
    #[inline(always)]
    fn min_step(acc: Self, x: Self) -> Self {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let take = !(x >= acc) && !acc.is_nan();
        if take { x } else { acc }
    }
}

macro_rules! int_element {
    ($t:ty, $dt:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dt;
            const ZERO: Self = 0;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            type Mean = f64;
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
            #[inline(always)]
            fn swap_bytes(self) -> Self {
                <$t>::swap_bytes(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn scale(self, alpha: f64) -> Self {
                (self as f64 * alpha) as $t
            }
        }
    };
}

int_element!(u8, DType::U8);
int_element!(i8, DType::I8);
int_element!(i16, DType::I16);
int_element!(u16, DType::U16);
int_element!(i32, DType::I32);
int_element!(u32, DType::U32);
int_element!(i64, DType::I64);
int_element!(u64, DType::U64);

macro_rules! float_element {
    ($t:ty, $bits:ty, $dt:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dt;
            const ZERO: Self = 0.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            type Mean = $t;
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn swap_bytes(self) -> Self {
                <$t>::from_bits(self.to_bits().swap_bytes())
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn scale(self, alpha: f64) -> Self {
                self * alpha as $t
            }
        }
    };
}

float_element!(f32, u32, DType::F32);
float_element!(f64, u64, DType::F64);

/// float16 compared through its bits, with integer operations that
/// vectorise (`half`'s `PartialOrd` is a branchy software routine): the
/// sign-magnitude bits map to an `i16` key that orders every non-NaN value
/// and gives −0.0 and 0.0 the same key, so ties behave as in float32.
#[inline(always)]
fn f16_key(bits: u16) -> i16 {
    let magnitude = (bits & 0x7FFF) as i16;
    if bits & 0x8000 != 0 { -magnitude } else { magnitude }
}

#[inline(always)]
fn f16_is_nan(bits: u16) -> bool {
    bits & 0x7FFF > 0x7C00
}

impl Element for f16 {
    const DTYPE: DType = DType::F16;
    const ZERO: Self = f16::ZERO;
    const LOWEST: Self = f16::NEG_INFINITY;
    const HIGHEST: Self = f16::INFINITY;
    type Mean = f16;
    #[inline(always)]
    fn is_nan(self) -> bool {
        f16_is_nan(self.to_bits())
    }
    #[inline(always)]
    fn swap_bytes(self) -> Self {
        f16::from_bits(self.to_bits().swap_bytes())
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        // Branch-free, so sums over float16 vectorise (exact either way).
        f64::from(float16::widen(self.to_bits()))
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        // Rounded once, and vectorised (`half` rounds twice, per call).
        f16::from_bits(float16::narrow_f64(x))
    }
    #[inline(always)]
    fn scale(self, alpha: f64) -> Self {
        f16::from_f32(self.to_f32() * alpha as f32)
    }
    #[inline(always)]
    fn is_negative(self) -> bool {
        // Sign set, not −0.0 (0x8000), not NaN (above 0xFC00 = −inf).
        let b = self.to_bits();
        b > 0x8000 && b <= 0xFC00
    }
    #[inline(always)]
    fn gt(self, other: Self) -> bool {
        let (a, b) = (self.to_bits(), other.to_bits());
        !f16_is_nan(a) && !f16_is_nan(b) && f16_key(a) > f16_key(b)
    }
    #[inline(always)]
    fn max_step(acc: Self, x: Self) -> Self {
        let (a, b) = (acc.to_bits(), x.to_bits());
        let take = !f16_is_nan(a) && (f16_is_nan(b) || f16_key(b) > f16_key(a));
        if take { x } else { acc }
    }
    #[inline(always)]
    fn min_step(acc: Self, x: Self) -> Self {
        let (a, b) = (acc.to_bits(), x.to_bits());
        let take = !f16_is_nan(a) && (f16_is_nan(b) || f16_key(b) < f16_key(a));
        if take { x } else { acc }
    }
}

/// Finite float16 bits from random ones, for the tests: any sign,
/// exponent and mantissa, but the exponent of infinity and NaN becomes a
/// smaller one.
#[cfg(test)]
pub(crate) fn finite_f16(h: u16) -> u16 {
    if h & 0x7C00 == 0x7C00 { h & 0xBFFF } else { h }
}

/// A xorshift64 generator started from `seed` (not zero), for the tests'
/// random data.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
