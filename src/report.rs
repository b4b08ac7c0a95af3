//! The JSON printed by `--json`, `--dry-run` and `info`, as types.
//!
//! Keeping the shape in `Serialize` structs (never hand-built strings)
//! means the README's schema, the tests' deserialisation and the output
//! cannot drift apart.

use crate::geometry::AxisGeometry;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// One processed (or, with `--dry-run`, planned) array.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `"relu"` or `"pool"`.
    pub op: &'static str,
    /// What was read.
    pub input: ArrayReport,
    /// What was (or would be) written.
    pub output: ArrayReport,
    /// The argmax output of `pool --indices`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices: Option<ArrayReport>,
    /// Pooling parameters as actually used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowReport>,
    /// ReLU parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relu: Option<ReluReport>,
    /// True when nothing was written.
    pub dry_run: bool,
}

/// An array: where, what shape, what type.
#[derive(Clone, Debug, Serialize)]
pub struct ArrayReport {
    /// The path as given (`-` for standard input/output); `null` for a
    /// dry run without an output path.
    pub path: Option<String>,
    /// Shape, outermost axis first.
    pub shape: Vec<usize>,
    /// NumPy dtype name.
    pub dtype: &'static str,
    /// Axis letters (input only; absent for `relu` on arrays with no
    /// default layout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Storage order of the input, `"C"` or `"F"` (outputs are always C).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<&'static str>,
    /// For `.npz` members: the array's name in the archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array: Option<String>,
}

/// Pooling parameters, one entry per spatial axis in layout order.
#[derive(Clone, Debug, Serialize)]
pub struct WindowReport {
    /// `max`, `avg`, `lp` or `min`.
    pub mode: &'static str,
    /// Window size.
    pub size: Vec<usize>,
    /// Stride.
    pub stride: Vec<usize>,
    /// Dilation.
    pub dilation: Vec<usize>,
    /// Padding before, as used (after resolving `same`).
    pub pad_begin: Vec<usize>,
    /// Padding after, as used.
    pub pad_end: Vec<usize>,
    /// Ceil mode.
    pub ceil: bool,
    /// Global pooling.
    pub global: bool,
    /// For `avg`: whether padding counts in the divisor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_include_pad: Option<bool>,
    /// For `lp`: the norm order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// For `--indices`: `map` or `tensor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices_scope: Option<&'static str>,
}

impl WindowReport {
    /// Fills the per-axis lists from resolved geometries.
    pub fn from_axes(mode: &'static str, axes: &[AxisGeometry], ceil: bool, global: bool) -> Self {
        WindowReport {
            mode,
            size: axes.iter().map(|a| a.kernel).collect(),
            stride: axes.iter().map(|a| a.stride).collect(),
            dilation: axes.iter().map(|a| a.dilation).collect(),
            pad_begin: axes.iter().map(|a| a.pad_begin).collect(),
            pad_end: axes.iter().map(|a| a.pad_end).collect(),
            ceil,
            global,
            count_include_pad: None,
            p: None,
            indices_scope: None,
        }
    }
}

/// ReLU parameters.
#[derive(Clone, Debug, Serialize)]
pub struct ReluReport {
    /// Leaky slope, if any.
    pub alpha: Option<f64>,
    /// Upper clip, if any.
    pub max: Option<f64>,
}

/// One array of `cnnops info`.
#[derive(Clone, Debug, Serialize)]
pub struct InfoReport {
    /// The file.
    pub path: String,
    /// For `.npz` members, the array name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array: Option<String>,
    /// Shape.
    pub shape: Vec<usize>,
    /// NumPy dtype name.
    pub dtype: &'static str,
    /// The descriptor as stored (`<f4`, `>i2`, `|u1`).
    pub descr: String,
    /// `"C"` or `"F"`.
    pub order: &'static str,
    /// `.npy` format version, `"1.0"`, `"2.0"` or `"3.0"`.
    pub version: String,
    /// Number of elements.
    pub elements: usize,
    /// Bytes of header (magic, version, dictionary).
    pub header_bytes: usize,
    /// Bytes of data.
    pub data_bytes: usize,
    /// Size of the file on disk (absent for standard input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_bytes: Option<u64>,
    /// For `.npz` members: whether the member is deflate-compressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed: Option<bool>,
}

/// The path as the user wrote it, for messages and JSON.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Prints `value` as one JSON line, on standard error when `to_stderr`
/// (because standard output carries array data).
///
/// # Errors
/// If the stream cannot be written (a closed pipe).
pub fn emit<T: Serialize>(value: &T, to_stderr: bool) -> io::Result<()> {
    let mut line = serde_json::to_string(value).map_err(io::Error::other)?;
    line.push('\n');
    if to_stderr {
        io::stderr().lock().write_all(line.as_bytes())
    } else {
        let mut out = io::stdout().lock();
        out.write_all(line.as_bytes())?;
        out.flush()
    }
}
