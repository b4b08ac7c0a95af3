//! Input data as a sequence of fixed-length rows, consumed in order.
//!
//! The kernels ask for a band of rows `[lo, hi)`; bands only move forward.
//! A memory-mapped native-endian file answers with a slice of the map (no
//! copy, no anonymous memory); a pipe, or data that needs byte swapping,
//! answers from a buffer that keeps only the band, so standard input is
//! processed in bounded memory.

use crate::ops::Element;
use anyhow::{Context, Result};
use std::borrow::Cow;
use std::io::{self, Read};

/// A forward-only supply of rows of `row_len` elements.
pub trait RowSource<T> {
    /// Makes rows `[lo, hi)` available and returns a slice holding exactly
    /// them, with `lo`. Calls must not move `lo` backwards.
    ///
    /// # Errors
    /// If the input ends early or cannot be read.
    fn window(&mut self, lo: usize, hi: usize) -> Result<&[T]>;

    /// Reads and checks whatever data is left after the last band, so a
    /// stream that is shorter than its header says is an error even when
    /// its tail is never needed.
    ///
    /// # Errors
    /// If the input ends early.
    fn finish(&mut self) -> Result<()>;
}

/// All rows already in memory (a memory map or an owned buffer).
pub struct SliceRows<'a, T: Clone> {
    data: Cow<'a, [T]>,
    row_len: usize,
}

impl<'a, T: Clone> SliceRows<'a, T> {
    /// Wraps `data`, cut into rows of `row_len`.
    pub fn new(data: Cow<'a, [T]>, row_len: usize) -> Self {
        SliceRows { data, row_len }
    }
}

impl<T: Element> RowSource<T> for SliceRows<'_, T> {
    fn window(&mut self, lo: usize, hi: usize) -> Result<&[T]> {
        Ok(&self.data[lo * self.row_len..hi * self.row_len])
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Rows read from a byte stream on demand, keeping only the current band.
pub struct StreamRows<'a, T> {
    reader: Box<dyn Read + Send + 'a>,
    row_len: usize,
    total_rows: usize,
    swap: bool,
    data_bytes: usize,
    /// Rows `[buf_lo, next)` are in `buf`.
    buf: Vec<T>,
    buf_lo: usize,
    next: usize,
}

impl<'a, T: Element> StreamRows<'a, T> {
    /// Reads `total_rows` rows of `row_len` elements from `reader`,
    /// swapping bytes when `swap`. `data_bytes` is only for messages.
    pub fn new(
        reader: Box<dyn Read + Send + 'a>,
        row_len: usize,
        total_rows: usize,
        swap: bool,
        data_bytes: usize,
    ) -> Self {
        StreamRows {
            reader,
            row_len,
            total_rows,
            swap,
            data_bytes,
            buf: Vec::new(),
            buf_lo: 0,
            next: 0,
        }
    }

    fn bytes_before(&self, row: usize) -> usize {
        row * self.row_len * size_of::<T>()
    }

    fn truncated(&self, got: usize) -> anyhow::Error {
        anyhow::anyhow!(
            "truncated data: the header says {} bytes of data, only {got} follow",
            self.data_bytes
        )
    }

    /// Reads and drops rows `[next, to)`.
    fn skip_to(&mut self, to: usize) -> Result<()> {
        let mut left = (to - self.next) * self.row_len * size_of::<T>();
        let mut scratch = vec![0u8; left.min(1 << 20)];
        while left > 0 {
            let n = left.min(scratch.len());
            let got = read_full(&mut self.reader, &mut scratch[..n])?;
            if got < n {
                let before = self.bytes_before(to) - left + got;
                return Err(self.truncated(before));
            }
            left -= n;
        }
        self.next = to;
        Ok(())
    }
}

impl<T: Element> RowSource<T> for StreamRows<'_, T> {
    fn window(&mut self, lo: usize, hi: usize) -> Result<&[T]> {
        assert!(lo >= self.buf_lo && lo <= hi && hi <= self.total_rows, "bands move forward");
        // Drop the rows before the band.
        let keep_from = lo.min(self.next);
        if keep_from > self.buf_lo {
            self.buf.drain(..(keep_from - self.buf_lo) * self.row_len);
            self.buf_lo = keep_from;
        }
        if lo > self.next {
            self.skip_to(lo)?;
            self.buf_lo = lo;
        }
        if hi > self.next {
            // Grow the buffer as data arrives, a chunk at a time, so a
            // header that lies about its shape costs only the bytes that
            // are really there.
            const CHUNK_BYTES: usize = 16 << 20;
            let per_chunk = (CHUNK_BYTES / size_of::<T>()).max(1);
            let want = (hi - lo) * self.row_len + (lo - self.buf_lo) * self.row_len;
            while self.buf.len() < want {
                let old = self.buf.len();
                let add = per_chunk.min(want - old);
                self.buf.resize(old + add, T::zeroed());
                let bytes = bytemuck::cast_slice_mut::<T, u8>(&mut self.buf[old..]);
                let got = read_full(&mut self.reader, bytes)?;
                if got < bytes.len() {
                    let before = self.bytes_before(self.buf_lo) + old * size_of::<T>() + got;
                    return Err(self.truncated(before));
                }
                if self.swap {
                    self.buf[old..].iter_mut().for_each(|x| *x = x.swap_bytes());
                }
            }
            self.next = hi;
        }
        let from = (lo - self.buf_lo) * self.row_len;
        Ok(&self.buf[from..from + (hi - lo) * self.row_len])
    }

    fn finish(&mut self) -> Result<()> {
        self.buf = Vec::new();
        self.buf_lo = self.next;
        let total = self.total_rows;
        if self.next < total {
            self.skip_to(total)?;
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
///
/// # Errors
/// On a read error other than an interruption.
pub fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("cannot read the data"),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn bands_move_forward_keep_overlap_and_skip_gaps() {
        let data: Vec<u32> = (0..40).collect();
        let bytes = stream(&data);
        let mut rows = StreamRows::<u32>::new(Box::new(io::Cursor::new(bytes)), 4, 10, false, 160);
        assert_eq!(rows.window(0, 2).unwrap(), &data[0..8]);
        assert_eq!(rows.window(1, 3).unwrap(), &data[4..12]);
        assert_eq!(rows.window(6, 7).unwrap(), &data[24..28]); // skips rows 3..6
        assert_eq!(rows.window(6, 10).unwrap(), &data[24..40]);
        rows.finish().unwrap();
    }

    #[test]
    fn short_stream_is_truncated_even_in_an_unread_tail() {
        let bytes = stream(&(0..30).collect::<Vec<u32>>()); // 30 of 40 values
        let mut rows = StreamRows::<u32>::new(Box::new(io::Cursor::new(bytes)), 4, 10, false, 160);
        rows.window(0, 2).unwrap();
        let err = rows.finish().unwrap_err().to_string();
        assert!(err.contains("truncated data") && err.contains("only 120"), "{err}");
    }

    #[test]
    fn big_endian_rows_are_swapped() {
        let bytes: Vec<u8> = [1u16, 2, 3, 4].iter().flat_map(|v| v.to_be_bytes()).collect();
        let mut rows = StreamRows::<u16>::new(Box::new(io::Cursor::new(bytes)), 2, 2, true, 8);
        assert_eq!(rows.window(0, 2).unwrap(), &[1, 2, 3, 4]);
    }
}
