//! NumPy dtype descriptors (`'<f4'`, `'>i8'`, `'|u1'`, `'<f2'`, `'|b1'`).
//!
//! Only the real numeric dtypes and bool are supported. Everything else a
//! `.npy` file can hold (object, complex, strings, datetimes, structured
//! records, long double) is recognised well enough to be named in a clear
//! error message, never guessed at.

use anyhow::{Result, bail};
use std::fmt;

/// The element types cnnops can process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// `bool`, one byte, 0 or 1.
    Bool,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `float16` (IEEE binary16).
    F16,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
}

impl DType {
    /// Every supported dtype, for tests and help text.
    pub const ALL: [DType; 12] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F16,
        DType::F32,
        DType::F64,
    ];

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 | DType::F16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// The NumPy name (`numpy.dtype(...).name`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// True for float16, float32 and float64.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::F32 | DType::F64)
    }

    /// The little-endian descriptor cnnops writes (`'<f4'`, `'|u1'`).
    pub fn descr_le(self) -> String {
        let (kind, size) = self.kind_and_size();
        if size == 1 { format!("|{kind}{size}") } else { format!("<{kind}{size}") }
    }

    fn kind_and_size(self) -> (char, usize) {
        let kind = match self {
            DType::Bool => 'b',
            DType::I8 | DType::I16 | DType::I32 | DType::I64 => 'i',
            DType::U8 | DType::U16 | DType::U32 | DType::U64 => 'u',
            DType::F16 | DType::F32 | DType::F64 => 'f',
        };
        (kind, self.size())
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte order of the stored data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first (`<`, and `=` on little-endian hosts).
    Little,
    /// Most significant byte first (`>`).
    Big,
}

/// A parsed descriptor: element type and byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descr {
    /// Element type.
    pub dtype: DType,
    /// Byte order of the stored data (always `Little` for one-byte types).
    pub endian: Endian,
}

impl Descr {
    /// True when the data can be used without swapping bytes on this host.
    pub fn is_native(&self) -> bool {
        self.dtype.size() == 1 || (self.endian == Endian::Little) == cfg!(target_endian = "little")
    }

    /// Parses a NumPy type string such as `<f4`, `>i2`, `|b1`, `=u8`.
    ///
    /// # Errors
    /// An unsupported or malformed descriptor gives an error naming it and,
    /// where it is a known NumPy kind, what it is (complex, object, ...).
    pub fn parse(descr: &str) -> Result<Descr> {
        let (order, rest) = match descr.chars().next() {
            Some(c @ ('<' | '>' | '|' | '=')) => (c, &descr[1..]),
            _ => ('=', descr),
        };
        let mut chars = rest.chars();
        let kind = chars.next();
        let size: Option<usize> = chars.as_str().parse().ok();
        let shown = super::header::quote(descr);
        let dtype = match (kind, size) {
            (Some('b'), Some(1)) | (Some('?'), None) => DType::Bool,
            (Some('i'), Some(1)) => DType::I8,
            (Some('i'), Some(2)) => DType::I16,
            (Some('i'), Some(4)) => DType::I32,
            (Some('i'), Some(8)) => DType::I64,
            (Some('u'), Some(1)) => DType::U8,
            (Some('u'), Some(2)) => DType::U16,
            (Some('u'), Some(4)) => DType::U32,
            (Some('u'), Some(8)) => DType::U64,
            (Some('f'), Some(2)) => DType::F16,
            (Some('f'), Some(4)) => DType::F32,
            (Some('f'), Some(8)) => DType::F64,
            (Some('f'), Some(_)) => bail!("unsupported dtype '{shown}' (extended-precision float)"),
            (Some('c'), _) => bail!("unsupported dtype '{shown}' (complex)"),
            (Some('O'), _) => bail!("unsupported dtype '{shown}' (Python objects)"),
            (Some('U' | 'S' | 'a'), _) => bail!("unsupported dtype '{shown}' (strings)"),
            (Some('V'), _) => bail!("unsupported dtype '{shown}' (raw bytes / void)"),
            (Some('M' | 'm'), _) => bail!("unsupported dtype '{shown}' (datetime)"),
            _ => bail!("unsupported dtype '{shown}'"),
        };
        let endian = match order {
            '>' => Endian::Big,
            '<' => Endian::Little,
            // '|' (not applicable) and '=' (native): native order of the
            // writer, which is all we can assume.
            _ if cfg!(target_endian = "big") => Endian::Big,
            _ => Endian::Little,
        };
        let endian = if dtype.size() == 1 { Endian::Little } else { endian };
        Ok(Descr { dtype, endian })
    }
}

impl fmt::Display for Descr {
    /// The descriptor as NumPy writes it: `<f4`, `>i2`, `|u1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, size) = self.dtype.kind_and_size();
        let order = match (size, self.endian) {
            (1, _) => '|',
            (_, Endian::Little) => '<',
            (_, Endian::Big) => '>',
        };
        write!(f, "{order}{kind}{size}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_numeric_descr() {
        let cases = [
            ("|b1", DType::Bool),
            ("|i1", DType::I8),
            ("<i2", DType::I16),
            ("<i4", DType::I32),
            ("<i8", DType::I64),
            ("|u1", DType::U8),
            ("<u2", DType::U16),
            ("<u4", DType::U32),
            ("<u8", DType::U64),
            ("<f2", DType::F16),
            ("<f4", DType::F32),
            ("<f8", DType::F64),
        ];
        for (s, dt) in cases {
            let d = Descr::parse(s).unwrap();
            assert_eq!(d.dtype, dt, "{s}");
            assert_eq!(d.endian, Endian::Little);
            assert_eq!(dt.descr_le(), s, "round trip of {s}");
        }
    }

    #[test]
    fn big_endian_and_native_marks() {
        assert_eq!(Descr::parse(">f4").unwrap().endian, Endian::Big);
        assert!(!Descr::parse(">f4").unwrap().is_native());
        assert!(Descr::parse("<f4").unwrap().is_native());
        assert!(Descr::parse(">u1").unwrap().is_native(), "one byte has no order");
        assert_eq!(Descr::parse("=i8").unwrap().dtype, DType::I64);
        assert_eq!(Descr::parse("?").unwrap().dtype, DType::Bool);
    }

    #[test]
    fn unsupported_kinds_are_named() {
        for (s, word) in [
            ("<c8", "complex"),
            ("<c16", "complex"),
            ("|O", "object"),
            ("<U10", "strings"),
            ("|S3", "strings"),
            ("|V8", "void"),
            ("<M8[ns]", "datetime"),
            ("<f16", "extended"),
            ("<i3", "unsupported"),
            ("", "unsupported"),
            ("<x4", "unsupported"),
        ] {
            let err = Descr::parse(s).unwrap_err().to_string();
            assert!(err.contains(word), "{s}: {err}");
        }
    }
}
