//! Reading and writing the `.npy` header.
//!
//! The dictionary itself is parsed by `ndarray-npy` (`Header::from_reader`,
//! which uses `py_literal`). Around it cnnops adds what a tool pointed at
//! untrusted files needs and the crate does not do: the header length is
//! bounded before any buffer is allocated, bracket nesting is bounded before
//! the recursive parser sees it, the dtype is mapped to [`Descr`] (including
//! float16 and bool, which `ndarray-npy` cannot read), and the element count
//! and byte size are computed with overflow checks.

use super::dtype::{DType, Descr};
use super::rows::read_full;
use anyhow::{Context, Result, bail};
use ndarray_npy::npy::header::{Header, Layout, ParseHeaderError, ReadHeaderError};
use py_literal::Value as PyValue;
use std::io::{self, Read};

/// The magic string that opens every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header dictionary accepted. NumPy itself refuses headers over
/// 10 000 bytes unless told otherwise; this leaves room for very high ranks.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// Deepest bracket nesting accepted in the header dictionary. A real header
/// nests two levels (`{ ... ( ... ) }`); the limit keeps a hostile one from
/// exhausting the stack of the recursive parser.
const MAX_NESTING: usize = 16;

/// What the header of one `.npy` array says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type and byte order.
    pub descr: Descr,
    /// True when the data is stored in Fortran (column-major) order.
    pub fortran: bool,
    /// Logical shape, outermost axis first.
    pub shape: Vec<usize>,
    /// Format version, `(1, 0)`, `(2, 0)` or `(3, 0)`.
    pub version: (u8, u8),
    /// Bytes before the data: magic, version, length field and dictionary.
    pub header_bytes: usize,
    /// Number of elements (product of the shape).
    pub len: usize,
    /// Number of data bytes (`len` times the element size).
    pub data_bytes: usize,
}

impl NpyHeader {
    /// Builds the header cnnops writes for an output array: little-endian,
    /// C order.
    ///
    /// # Errors
    /// If the shape's byte size overflows `usize`.
    pub fn for_output(dtype: DType, shape: &[usize]) -> Result<NpyHeader> {
        let (len, data_bytes) = sizes(shape, dtype)?;
        let descr = Descr { dtype, endian: super::dtype::Endian::Little };
        let mut h = NpyHeader {
            descr,
            fortran: false,
            shape: shape.to_vec(),
            version: (1, 0),
            header_bytes: 0,
            len,
            data_bytes,
        };
        let bytes = h.to_bytes()?;
        h.header_bytes = bytes.len();
        h.version = (bytes[6], bytes[7]);
        Ok(h)
    }

    /// Serialises the header of a little-endian C-order array: format 1.0
    /// when the dictionary fits, 2.0 otherwise, padded so the data starts on
    /// a 64-byte boundary (as NumPy does).
    ///
    /// # Errors
    /// Only if the dictionary is too long for format 2.0.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = Header {
            type_descriptor: PyValue::String(self.descr.dtype.descr_le()),
            layout: Layout::Standard,
            shape: self.shape.clone(),
        };
        header.to_bytes().context("cannot format the .npy header")
    }
}

/// Element count and byte size of an array of `shape` and `dtype`, checked.
///
/// # Errors
/// If either overflows `usize`.
pub fn sizes(shape: &[usize], dtype: DType) -> Result<(usize, usize)> {
    let len = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let bytes = len.and_then(|n| n.checked_mul(dtype.size()));
    match (len, bytes) {
        (Some(len), Some(bytes)) if bytes <= isize::MAX as usize => Ok((len, bytes)),
        _ => bail!("shape {} is too large: its size overflows", fmt_shape(shape)),
    }
}

/// Formats a shape as NumPy prints it: `(2, 3)`, `(5,)`, `()`.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [d] => format!("({d},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// Reads and validates an `.npy` header, leaving `reader` at the first data
/// byte. Reads exactly the header's bytes, never more, so it works on a
/// pipe without seeking.
///
/// # Errors
/// A clear message for: an empty or short file, a wrong magic string, an
/// unknown format version, a header length above [`MAX_HEADER_LEN`], a
/// malformed dictionary, an unsupported dtype, a negative or overflowing
/// shape.
pub fn read_header<R: Read>(reader: &mut R) -> Result<NpyHeader> {
    let mut pre = [0u8; 8];
    let got = read_full(reader, &mut pre)?;
    if got == 0 {
        bail!("empty input, not a .npy file");
    }
    if got < 6 || &pre[..6] != MAGIC {
        bail!("not a .npy file (no \\x93NUMPY magic string at the start)");
    }
    if got < 8 {
        bail!("truncated .npy header (ends inside the version field)");
    }
    let version = (pre[6], pre[7]);
    let len_field = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => bail!("unsupported .npy format version {major}.{minor}"),
    };
    let mut len_bytes = [0u8; 4];
    if read_full(reader, &mut len_bytes[..len_field])? < len_field {
        bail!("truncated .npy header (ends inside the header length field)");
    }
    let dict_len = u32::from_le_bytes(len_bytes) as usize;
    if dict_len > MAX_HEADER_LEN {
        bail!("implausible .npy header length {dict_len} bytes (the limit is {MAX_HEADER_LEN})");
    }
    let mut dict = Vec::with_capacity(dict_len);
    reader.take(dict_len as u64).read_to_end(&mut dict).context("cannot read the .npy header")?;
    if dict.len() < dict_len {
        bail!("truncated .npy header: it says {dict_len} bytes, only {} follow", dict.len());
    }
    if version.0 < 3 && !dict.is_ascii() {
        bail!("malformed .npy header: non-ASCII bytes in a format {}.0 header", version.0);
    }
    check_nesting(&dict)?;

    let mut whole = Vec::with_capacity(8 + len_field + dict_len);
    whole.extend_from_slice(&pre);
    whole.extend_from_slice(&len_bytes[..len_field]);
    whole.extend_from_slice(&dict);
    let parsed = Header::from_reader(&mut io::Cursor::new(&whole)).map_err(explain)?;
    let descr = match &parsed.type_descriptor {
        PyValue::String(s) => Descr::parse(s)?,
        PyValue::List(_) => bail!("unsupported dtype: structured (record) arrays"),
        other => bail!("malformed .npy header: descr is {other}, not a type string"),
    };
    let (len, data_bytes) = sizes(&parsed.shape, descr.dtype)?;
    Ok(NpyHeader {
        descr,
        fortran: parsed.layout.is_fortran(),
        shape: parsed.shape,
        version,
        header_bytes: whole.len(),
        len,
        data_bytes,
    })
}

/// Turns the parser's error into one short line. The parser's own message
/// for a syntax error quotes the whole header over several lines, and
/// values are echoed as written: both are shortened and escaped, since the
/// header comes from an untrusted file.
fn explain(e: ReadHeaderError) -> anyhow::Error {
    let what = match e {
        ReadHeaderError::Io(e) => return anyhow::Error::new(e).context("cannot read the header"),
        ReadHeaderError::Parse(p) => match p {
            ParseHeaderError::DictParse(_) => {
                "the header is not a valid Python dictionary literal".to_string()
            }
            ParseHeaderError::MetaNotDict(v) => {
                format!("the header is {}, not a dictionary", quote(&v.to_string()))
            }
            ParseHeaderError::MissingKey(k) => {
                // ndarray-npy spells the missing shape key "shaper".
                let k = if k == "shaper" { "shape".to_string() } else { k };
                format!("the header has no '{k}' key")
            }
            ParseHeaderError::UnknownKey(k) => {
                format!("unknown key {} in the header", quote(&k.to_string()))
            }
            ParseHeaderError::IllegalValue { key, value } => {
                let hint = match key.as_str() {
                    "shape" => " (a tuple of non-negative integers is needed)",
                    "fortran_order" => " (True or False is needed)",
                    _ => "",
                };
                format!("'{key}' is {}{hint}", quote(&value.to_string()))
            }
            ParseHeaderError::MissingNewline => "the header does not end with a newline".into(),
            other => other.to_string(),
        },
    };
    anyhow::anyhow!("malformed .npy header: {what}")
}

/// Escapes control characters and cuts `text` to a readable length, for
/// quoting untrusted header text in a message.
pub fn quote(text: &str) -> String {
    const MAX: usize = 60;
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn check_nesting(dict: &[u8]) -> Result<()> {
    let mut depth = 0usize;
    for &b in dict {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    bail!("malformed .npy header: brackets nested deeper than {MAX_NESTING}");
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::dtype::Endian;

    /// Builds a header the way NumPy's `write_array_header_*` does, by hand,
    /// so the parser is checked against the format and not against itself.
    fn raw(version: (u8, u8), dict: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([version.0, version.1]);
        let len_field = if version.0 == 1 { 2 } else { 4 };
        let unpadded = 6 + 2 + len_field + dict.len() + 1;
        let pad = (64 - unpadded % 64) % 64;
        let total_dict = dict.len() + pad + 1;
        if len_field == 2 {
            out.extend((total_dict as u16).to_le_bytes());
        } else {
            out.extend((total_dict as u32).to_le_bytes());
        }
        out.extend(dict.as_bytes());
        out.extend(std::iter::repeat_n(b' ', pad));
        out.push(b'\n');
        out
    }

    #[test]
    fn every_version_and_order() {
        for version in [(1, 0), (2, 0), (3, 0)] {
            for (fortran, word) in [(false, "False"), (true, "True")] {
                let dict =
                    format!("{{'descr': '>i2', 'fortran_order': {word}, 'shape': (3, 4, 5), }}");
                let bytes = raw(version, &dict);
                let mut r = io::Cursor::new(&bytes);
                let h = read_header(&mut r).unwrap();
                assert_eq!(h.version, version);
                assert_eq!(h.fortran, fortran);
                assert_eq!(h.shape, vec![3, 4, 5]);
                assert_eq!(h.descr, Descr { dtype: DType::I16, endian: Endian::Big });
                assert_eq!(h.len, 60);
                assert_eq!(h.data_bytes, 120);
                assert_eq!(h.header_bytes, bytes.len());
                assert_eq!(r.position() as usize, bytes.len(), "reader left at the data");
            }
        }
    }

    #[test]
    fn every_dtype_parses() {
        for dt in DType::ALL {
            let dict = format!(
                "{{'descr': '{}', 'fortran_order': False, 'shape': (2,), }}",
                dt.descr_le()
            );
            let h = read_header(&mut io::Cursor::new(raw((1, 0), &dict))).unwrap();
            assert_eq!(h.descr.dtype, dt);
            assert_eq!(h.data_bytes, 2 * dt.size());
        }
    }

    #[test]
    fn scalar_and_empty_shapes() {
        let d = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
        let h = read_header(&mut io::Cursor::new(raw((1, 0), d))).unwrap();
        assert_eq!((h.shape.len(), h.len), (0, 1));
        let d = "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 7), }";
        let h = read_header(&mut io::Cursor::new(raw((1, 0), d))).unwrap();
        assert_eq!((h.len, h.data_bytes), (0, 0));
    }

    #[test]
    fn utf8_only_in_version_3() {
        let d = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } #\u{e9}";
        let err = read_header(&mut io::Cursor::new(raw((1, 0), d))).unwrap_err();
        assert!(err.to_string().contains("non-ASCII"), "{err}");
    }

    #[test]
    fn output_header_round_trips() {
        for shape in [vec![], vec![5], vec![2, 3, 4]] {
            let h = NpyHeader::for_output(DType::F16, &shape).unwrap();
            let bytes = h.to_bytes().unwrap();
            assert_eq!(bytes.len() % 64, 0);
            let back = read_header(&mut io::Cursor::new(&bytes)).unwrap();
            assert_eq!(back, h);
        }
    }

    #[test]
    fn hostile_headers_are_errors() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "empty"),
            (b"PK\x03\x04".to_vec(), "not a .npy"),
            (b"\x93NUMPY".to_vec(), "truncated"),
            (b"\x93NUMPY\x04\x00\x10\x00".to_vec(), "version 4.0"),
            (b"\x93NUMPY\x02\x00\xff\xff\xff\x7f".to_vec(), "implausible"),
            (b"\x93NUMPY\x01\x00\x40\x00{'descr'".to_vec(), "truncated"),
            (raw((1, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"), "header"),
            (
                raw(
                    (1, 0),
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                ),
                "overflow",
            ),
            (raw((1, 0), "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), "object"),
            (
                raw((1, 0), "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"),
                "structured",
            ),
            (raw((1, 0), &format!("{}{}", "[".repeat(5000), "]".repeat(5000))), "nested"),
            (raw((1, 0), "{'descr': '<f4', 'shape': (1,), }"), "fortran_order"),
        ];
        for (bytes, word) in cases {
            let err = read_header(&mut io::Cursor::new(&bytes)).unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains(word), "expected {word:?} in {msg:?}");
        }
    }
}
