//! Element loops with non-temporal stores, for outputs too large to stay
//! in the cache, and a prefetch hint for reads the hardware does not
//! foresee.
//!
//! A kernel writing a large output with ordinary stores first reads every
//! destination cache line from memory (read for ownership), then evicts
//! it: three memory transfers per byte of ReLU instead of two. Streaming
//! stores skip that read, as `memcpy` does above a size threshold. The
//! command line never reaches the threshold (it works in batches of a few
//! MiB that its writer thread reads back at once, from the cache); the
//! library functions do, on arrays in memory.
//!
//! Rust has no stable way to ask the compiler for streaming stores, so each
//! 64-byte line is computed by the ordinary vectorised loop into an aligned
//! buffer the compiler keeps in a register, then stored with the intrinsic.

// `unsafe` here, in the float16 conversions and in the reader only: the
// intrinsics take raw pointers and need CPU features checked at run time.
// Each block below states why it is sound.
#![allow(unsafe_code)]

/// Outputs of at least this many bytes are written with [`stream_map`]:
/// larger than any per-core cache and a good part of a shared one.
pub const STREAM_BYTES: usize = 8 << 20;

/// One cache line, aligned so that its bytes can be viewed as any element
/// type and loaded as one vector.
#[repr(C, align(64))]
struct Line([u8; 64]);

/// Writes `op(input[k])` into `out[k]` for every `k`, with non-temporal
/// stores. Returns `false`, having written nothing, where the CPU has no
/// 32-byte streaming store (before AVX2, or not x86-64): the caller then
/// runs its ordinary loop.
///
/// # Panics
/// If the lengths differ, or an element is larger than 32 bytes.
pub fn stream_map<T: bytemuck::Pod>(input: &[T], out: &mut [T], op: impl Fn(T) -> T) -> bool {
    assert_eq!(input.len(), out.len(), "stream_map needs equal lengths");
    assert!(size_of::<T>() <= 32 && size_of::<T>().is_power_of_two());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            unsafe { map_avx512(input, out, op) };
            return true;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { map_avx2(input, out, op) };
            return true;
        }
    }
    let _ = (input, out, op);
    false
}

/// Generates one streaming loop: `$width` bytes per store.
macro_rules! streaming_loop {
    ($name:ident, $feature:literal, $width:literal, $store:ident, $load:ident, $vec:ty) => {
        /// See [`stream_map`].
        ///
        /// # Safety
        /// The CPU must have the target feature.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        unsafe fn $name<T: bytemuck::Pod>(input: &[T], out: &mut [T], op: impl Fn(T) -> T) {
            use std::arch::x86_64::*;
            let lanes = $width / size_of::<T>();
            let head = out.as_ptr().align_offset($width).min(out.len());
            let (out_head, out_rest) = out.split_at_mut(head);
            let (in_head, in_rest) = input.split_at(head);
            for (o, &x) in out_head.iter_mut().zip(in_head) {
                *o = op(x);
            }
            let body = out_rest.len() / lanes * lanes;
            let mut line = Line([0; 64]);
            for (o, i) in
                out_rest[..body].chunks_exact_mut(lanes).zip(in_rest[..body].chunks_exact(lanes))
            {
                let v: &mut [T] = bytemuck::cast_slice_mut(&mut line.0[..$width]);
                for (d, &x) in v.iter_mut().zip(i) {
                    *d = op(x);
                }
                // SAFETY: `line` is 64-byte aligned and holds `$width`
                // initialised bytes; `o` is `$width` writable bytes, aligned
                // to `$width` because `head` aligned the first chunk and
                // every chunk is `$width` bytes long.
                unsafe { $store(o.as_mut_ptr().cast::<$vec>(), $load(line.0.as_ptr().cast())) };
            }
            for (o, &x) in out_rest[body..].iter_mut().zip(&in_rest[body..]) {
                *o = op(x);
            }
            // Orders the streamed stores before any later store, so a
            // thread handed the output sees all of it.
            _mm_sfence();
        }
    };
}

streaming_loop!(map_avx512, "avx512f", 64, _mm512_stream_si512, _mm512_load_si512, __m512i);
streaming_loop!(map_avx2, "avx2", 32, _mm256_stream_si256, _mm256_load_si256, __m256i);

/// Asks the CPU to bring `data` into the first-level cache ahead of its
/// use, one hint per 64-byte line: no effect on any result (and none at
/// all off x86-64).
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = data.as_ptr().cast::<i8>();
        for off in (0..size_of_val(data)).step_by(64) {
            // SAFETY: SSE is part of x86-64, and a prefetch reads nothing
            // and cannot fault; `p + off` stays inside `data` anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    fn check<T: bytemuck::Pod + PartialEq + std::fmt::Debug>(
        make: impl Fn(usize) -> T,
        op: impl Fn(T) -> T + Copy,
    ) {
        let src: Vec<T> = (0..700).map(&make).collect();
        for start in 0..9 {
            for len in [0, 1, 7, 8, 9, 63, 64, 65, 300, 690 - start] {
                let mut out: Vec<T> = (0..700).map(|_| make(9999)).collect();
                let streamed = stream_map(&src[..len], &mut out[start..start + len], op);
                #[cfg(target_arch = "x86_64")]
                assert_eq!(streamed, std::arch::is_x86_feature_detected!("avx2"));
                if !streamed {
                    continue; // no streaming store on this CPU: the caller's loop runs
                }
                let want: Vec<T> = src[..len].iter().map(|&x| op(x)).collect();
                assert_eq!(&out[start..start + len], &want[..], "start {start} len {len}");
                let untouched = make(9999);
                assert!(out[..start].iter().chain(&out[start + len..]).all(|&x| x == untouched));
            }
        }
    }

    #[test]
    fn every_alignment_and_length_matches_the_plain_loop() {
        check(|i| i as f32 - 300.0, |x| if x < 0.0 { 0.0 } else { x });
        check(|i| i as f64 * -0.5, |x| x * 2.0);
        check(|i| f16::from_f32(i as f32 - 50.0), |x| if x < f16::ZERO { f16::ZERO } else { x });
        check(|i| (i % 251) as u8, |x| x.saturating_add(3));
        check(|i| i as i64 - 5, |x| x.max(0));
    }
}
