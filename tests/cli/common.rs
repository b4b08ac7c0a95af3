//! Helpers shared by the CLI tests.
//!
//! `read_npy` parses outputs with `ndarray-npy`'s header parser (a crate
//! independent of cnnops' own reader) and decodes the data by hand, so an
//! error in cnnops' reader or writer cannot hide itself.
#![allow(dead_code)]

use assert_cmd::Command;
use ndarray_npy::npy::header::Header;
use py_literal::Value;
use std::path::{Path, PathBuf};

/// The binary under test.
pub fn cnnops() -> Command {
    Command::cargo_bin("cnnops").expect("binary built")
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// An `.npy` file as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Npy {
    /// Descriptor such as `<f4`.
    pub descr: String,
    /// Fortran order flag.
    pub fortran: bool,
    /// Shape.
    pub shape: Vec<usize>,
    /// Raw data bytes, exactly as many as the shape needs.
    pub data: Vec<u8>,
}

/// Parses `bytes` as an `.npy` file.
pub fn parse_npy(bytes: &[u8]) -> Npy {
    let mut cursor = std::io::Cursor::new(bytes);
    let header = Header::from_reader(&mut cursor).expect("valid .npy header");
    let descr = match header.type_descriptor {
        Value::String(s) => s,
        other => panic!("descr {other:?}"),
    };
    let start = cursor.position() as usize;
    let n: usize = header.shape.iter().product();
    let size: usize = descr[2..].parse().expect("descr size");
    let data = bytes[start..].to_vec();
    assert_eq!(data.len(), n * size, "data length matches the shape exactly");
    Npy { descr, fortran: header.layout.is_fortran(), shape: header.shape, data }
}

/// Reads an `.npy` file.
pub fn read_npy(path: &Path) -> Npy {
    parse_npy(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

impl Npy {
    /// The values as `f64` (exact for everything but 64-bit integers
    /// beyond 2^53). Only little-endian C-order data, which is what
    /// cnnops writes.
    pub fn to_f64(&self) -> Vec<f64> {
        assert!(!self.fortran, "cnnops writes C order");
        let d = &self.data;
        macro_rules! le {
            ($t:ty) => {
                d.chunks_exact(size_of::<$t>())
                    .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect()
            };
        }
        match self.descr.as_str() {
            "|b1" | "|u1" => d.iter().map(|&b| b as f64).collect(),
            "|i1" => d.iter().map(|&b| b as i8 as f64).collect(),
            "<i2" => le!(i16),
            "<u2" => le!(u16),
            "<i4" => le!(i32),
            "<u4" => le!(u32),
            "<i8" => le!(i64),
            "<u8" => le!(u64),
            "<f4" => le!(f32),
            "<f8" => le!(f64),
            "<f2" => {
                d.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64()).collect()
            }
            other => panic!("unexpected descr {other}"),
        }
    }
}

/// Builds an `.npy` file by hand (format 1.0, C order), independent of
/// cnnops' writer.
pub fn make_npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_str = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_str}, }}");
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend(data);
    out
}

/// `make_npy` for `f32` values.
pub fn npy_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    make_npy("<f4", shape, &data)
}

/// Element-wise equality treating NaN as equal to NaN and distinguishing
/// -0.0 from 0.0.
pub fn same_bits_f64(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits())
}

/// Relative closeness for avg/lp outputs: NaN matches NaN, infinities
/// match exactly.
pub fn close(a: &[f64], b: &[f64], rel: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= rel * x.abs().max(y.abs()).max(f64::MIN_POSITIVE)
        })
}
