//! Header parsing alone: any bytes → `read_header` returns, never panics,
//! and what it accepts is self-consistent.
#![no_main]

use cnnops::npy::{NpyHeader, read_header};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let mut cursor = Cursor::new(data);
    let Ok(h) = read_header(&mut cursor) else { return };
    // The reader is left exactly at the first data byte.
    assert_eq!(cursor.position() as usize, h.header_bytes);
    assert_eq!(h.len, h.shape.iter().product::<usize>());
    assert_eq!(h.data_bytes, h.len * h.descr.dtype.size());
    // What cnnops would write for this array reads back the same.
    if let Ok(out) = NpyHeader::for_output(h.descr.dtype, &h.shape) {
        let bytes = out.to_bytes().expect("for_output already formatted it");
        let back = read_header(&mut Cursor::new(&bytes)).expect("own output header");
        assert_eq!(back, out);
    }
});
