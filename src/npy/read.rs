//! Getting the data of an `.npy` input: a memory map for regular files, a
//! plain read for everything else (standard input, pipes, FIFOs, devices).
//!
//! Memory mapping means a file larger than RAM is paged in on demand, and
//! the data is never copied when it is native-endian and aligned, which is
//! what NumPy writes. Big-endian or misaligned data is converted into an
//! owned buffer. If mapping fails the file is read instead.

use super::header::{NpyHeader, read_header};
use super::rows::{RowSource, SliceRows, StreamRows};
use crate::ops::Element;
use anyhow::{Context, Result, bail};
use ndarray::ShapeBuilder;
use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where an input's bytes come from.
enum Source<'a> {
    /// A read-only map of the whole file.
    Mapped(memmap2::Mmap),
    /// A reader positioned at the first data byte.
    Stream(Box<dyn Read + Send + 'a>),
}

/// An opened `.npy` input whose header has been read and checked.
pub struct Input<'a> {
    /// The path as the user gave it (`-` for standard input).
    pub path: PathBuf,
    /// The parsed header.
    pub header: NpyHeader,
    source: Source<'a>,
}

/// True when `path` means standard input or output.
pub fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` (or standard input for `-`) and reads its header.
///
/// For a regular file the declared data size is checked against the file
/// size before anything is allocated, so a header claiming a huge shape is
/// rejected at once. The header is read without buffering, so for a pipe or
/// FIFO the reader is left exactly at the first data byte.
///
/// # Errors
/// If the file cannot be opened, its header is invalid, or it is shorter
/// than its header says.
pub fn open(path: &Path) -> Result<Input<'static>> {
    if is_stdio(path) {
        super::pipe::grow_stdin();
        let mut stdin = io::stdin().lock();
        let header = read_header(&mut stdin)?;
        let source = Source::Stream(Box::new(io::BufReader::with_capacity(1 << 20, io::stdin())));
        return Ok(Input { path: path.into(), header, source });
    }
    let mut file = File::open(path).context("cannot open")?;
    let meta = file.metadata().context("cannot read file metadata")?;
    if meta.is_dir() {
        bail!("is a directory, not a .npy file");
    }
    let header = read_header(&mut file)?;
    if !meta.is_file() {
        let source = Source::Stream(Box::new(io::BufReader::with_capacity(1 << 20, file)));
        return Ok(Input { path: path.into(), header, source });
    }
    let need = header.header_bytes as u64 + header.data_bytes as u64;
    if meta.len() < need {
        bail!(
            "truncated data: the header says {} bytes of data, the file holds {}",
            header.data_bytes,
            meta.len().saturating_sub(header.header_bytes as u64)
        );
    }
    let mapped =
        if std::env::var_os("CNNOPS_NO_MMAP").is_some() { None } else { map_file(&file).ok() };
    let source = match mapped {
        Some(map) if map.len() as u64 >= need => Source::Mapped(map),
        // Mapping is an optimisation: if it is not possible (some network
        // filesystems, zero-length files), read the file instead.
        _ => {
            file.seek(SeekFrom::Start(header.header_bytes as u64)).context("cannot seek")?;
            Source::Stream(Box::new(io::BufReader::with_capacity(1 << 20, file)))
        }
    };
    Ok(Input { path: path.into(), header, source })
}

/// Reads the header from `reader` (an `.npz` member, a test buffer) and
/// leaves the data to be streamed from it. `path` is only for messages.
///
/// # Errors
/// If the header is invalid.
pub fn from_reader<'a>(mut reader: Box<dyn Read + Send + 'a>, path: &Path) -> Result<Input<'a>> {
    let header = read_header(&mut reader)?;
    Ok(Input { path: path.into(), header, source: Source::Stream(reader) })
}

/// Makes a shrinking input a clean failure instead of a crash.
///
/// Reading a page of a mapped file that has been truncated raises SIGBUS,
/// which would kill the process with no message. The handler prints one
/// line and exits with status 1. The output is never affected: it is still
/// a temporary file, which keeps its clear name (`.NAME.XXXXXX.cnnops-tmp`)
/// since a signal handler cannot safely remove it.
#[cfg(unix)]
#[allow(unsafe_code)]
fn guard_against_truncation() {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let action = || {
            const MSG: &[u8] =
                b"cnnops: an input file shrank while it was being read; no output was replaced\n";
            // SAFETY: fd 2 is open for the life of the process; ManuallyDrop
            // keeps it from being closed. `File::write` is a bare write(2)
            // and signal_hook's `exit` is _exit(2): both async-signal-safe.
            let mut stderr = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(2) });
            let _ = stderr.write_all(MSG);
            signal_hook::low_level::exit(1);
        };
        // SAFETY: the action only makes async-signal-safe calls (above).
        let _ = unsafe { signal_hook_registry::register(signal_hook::consts::SIGBUS, action) };
    });
}

/// Maps `file` read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> io::Result<memmap2::Mmap> {
    #[cfg(unix)]
    guard_against_truncation();
    // SAFETY: the map is read-only and lives no longer than the `Input` that
    // owns it. The one hazard is another process truncating or rewriting
    // the file while it is mapped, which no safe API can rule out for a
    // file; cnnops never writes to its inputs (outputs go to a new
    // temporary file that is renamed into place, so even `cnnops relu x.npy
    // x.npy` leaves the mapped inode alone). A truncation by someone else
    // ends the run through `guard_against_truncation`, a rewrite in place
    // can give mixed old and new values, as with any reader. This is the
    // same trade-off ripgrep makes for its mmap searcher.
    let map = unsafe { memmap2::Mmap::map(file)? };
    #[cfg(unix)]
    {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(map)
}

impl Input<'_> {
    /// The data as rows of `row_len` elements (`total_rows` of them), in C
    /// order and native byte order: a slice of the memory map when the
    /// file allows it, a forward-only band reader otherwise. Fortran-order
    /// data is reordered in memory first (the one case that needs the
    /// whole array).
    ///
    /// # Errors
    /// If reading fails while reordering Fortran-order data.
    pub fn rows<T: Element>(
        &mut self,
        row_len: usize,
        total_rows: usize,
    ) -> Result<Box<dyn RowSource<T> + Send + '_>> {
        if T::DTYPE.size() != self.header.descr.dtype.size() {
            bail!("internal error: element type does not match {}", self.header.descr.dtype);
        }
        if self.header.fortran && self.header.shape.len() >= 2 {
            // The whole array as one storage-order row, then reordered.
            let shape = self.header.shape.clone();
            let mut storage = self.storage_rows::<T>(self.header.len, 1);
            let data = storage.window(0, 1)?;
            let view = ndarray::ArrayView::from_shape(ndarray::IxDyn(&shape).f(), data)
                .context("data does not match its shape")?;
            let c_order: Vec<T> = view.iter().copied().collect();
            return Ok(Box::new(SliceRows::new(Cow::Owned(c_order), row_len)));
        }
        Ok(self.storage_rows(row_len, total_rows))
    }

    /// Rows in storage order, native-endian, without reordering.
    fn storage_rows<T: Element>(
        &mut self,
        row_len: usize,
        total_rows: usize,
    ) -> Box<dyn RowSource<T> + Send + '_> {
        let swap = !self.header.descr.is_native();
        let data_bytes = self.header.data_bytes;
        match &mut self.source {
            Source::Mapped(map) => {
                let start = self.header.header_bytes;
                let bytes = &map[start..start + data_bytes];
                match bytemuck::try_cast_slice::<u8, T>(bytes) {
                    Ok(slice) if !swap => Box::new(SliceRows::new(Cow::Borrowed(slice), row_len)),
                    _ => Box::new(StreamRows::new(
                        Box::new(io::Cursor::new(bytes)),
                        row_len,
                        total_rows,
                        swap,
                        data_bytes,
                    )),
                }
            }
            Source::Stream(reader) => {
                Box::new(StreamRows::new(Box::new(reader), row_len, total_rows, swap, data_bytes))
            }
        }
    }
}
