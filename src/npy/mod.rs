//! The `.npy` format: header parsing, dtype dispatch, input and output.
//!
//! Reading is two-step: [`open`] reads and checks only the header, then
//! [`dispatch_dtype!`](crate::dispatch_dtype) picks the element type once
//! and the typed code asks the [`Input`] for its elements. That is the only
//! `match` on the dtype in the program.

pub mod dtype;
pub mod header;
pub mod npz;
pub mod pipe;
pub mod read;
pub mod rows;
pub mod write;

pub use dtype::{DType, Descr, Endian};
pub use header::{NpyHeader, fmt_shape, read_header};
pub use read::{Input, from_reader, is_stdio, open};
pub use write::Output;

/// Runs `$body` with `$T` bound to the Rust element type of `$dtype`.
///
/// Bool is processed as `u8` (0 and 1; max is `any`, min is `all`).
///
/// ```
/// use cnnops::dispatch_dtype;
/// use cnnops::npy::DType;
/// let size = dispatch_dtype!(DType::F16, T => std::mem::size_of::<T>());
/// assert_eq!(size, 2);
/// ```
#[macro_export]
macro_rules! dispatch_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::npy::DType as __D;
        match $dtype {
            __D::Bool | __D::U8 => {
                type $T = u8;
                $body
            }
            __D::I8 => {
                type $T = i8;
                $body
            }
            __D::I16 => {
                type $T = i16;
                $body
            }
            __D::U16 => {
                type $T = u16;
                $body
            }
            __D::I32 => {
                type $T = i32;
                $body
            }
            __D::U32 => {
                type $T = u32;
                $body
            }
            __D::I64 => {
                type $T = i64;
                $body
            }
            __D::U64 => {
                type $T = u64;
                $body
            }
            __D::F16 => {
                type $T = ::half::f16;
                $body
            }
            __D::F32 => {
                type $T = f32;
                $body
            }
            __D::F64 => {
                type $T = f64;
                $body
            }
        }
    }};
}
