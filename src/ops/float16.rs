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

/// True where [`leaky_hw`] runs: x86-64 with AVX2 and F16C.
pub fn has_hw() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("f16c");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
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
        let plain = |input: &[u16], out: &mut [u16]| {
            let (whole, tail) = input.as_chunks::<8>();
            let (out_whole, out_tail) = out.as_chunks_mut::<8>();
            for (o, &x) in out_whole.iter_mut().zip(whole) {
                *o = lane(x);
            }
            if !tail.is_empty() {
                let mut x = [0u16; 8];
                x[..tail.len()].copy_from_slice(tail);
                out_tail.copy_from_slice(&lane(x)[..tail.len()]);
            }
        };
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

    #[test]
    fn round_trip_is_the_identity_off_nan() {
        for h in 0..=u16::MAX {
            if !f16::from_bits(h).is_nan() {
                assert_eq!(narrow(widen(h)), h, "{h:#06x}");
            }
        }
    }
}
