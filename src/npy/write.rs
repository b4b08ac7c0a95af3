//! Writing `.npy` outputs safely.
//!
//! A file output is written to a temporary file in the destination's own
//! directory and renamed over the destination only once it is complete, so
//! a failure (or a kill) never leaves a partial file and never damages an
//! existing one, and `cnnops relu x.npy x.npy` works. Standard output is
//! written directly; there the header is only sent once the whole plan has
//! been checked.

use super::header::NpyHeader;
use crate::ops::Element;
use anyhow::{Context, Result};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

enum Target {
    Stdout(BufWriter<io::Stdout>),
    /// An existing FIFO or device (`/dev/null`, a named pipe): written in
    /// place, since renaming a file over it would replace it.
    Direct(BufWriter<fs::File>),
    File {
        writer: BufWriter<tempfile::NamedTempFile>,
        dest: PathBuf,
    },
    /// An `.npz` archive; each array becomes a member when its header is
    /// written (`pending` names it).
    Npz {
        zip: Box<ZipWriter<BufWriter<tempfile::NamedTempFile>>>,
        dest: PathBuf,
        pending: Option<(String, bool)>,
    },
}

/// An output being written: standard output or a temporary file that
/// becomes `dest` on [`Output::commit`]. Dropping it uncommitted removes
/// the temporary file.
pub struct Output {
    target: Target,
    path: PathBuf,
}

const BUF_BYTES: usize = 1 << 20;

impl Output {
    /// Starts writing to `path`, or to standard output for `-`.
    ///
    /// # Errors
    /// If the temporary file cannot be created in the destination directory
    /// (missing directory, no permission, read-only filesystem).
    pub fn create(path: &Path) -> Result<Output> {
        if path.as_os_str() == "-" {
            super::pipe::grow_stdout();
            let w = BufWriter::with_capacity(BUF_BYTES, io::stdout());
            return Ok(Output { target: Target::Stdout(w), path: path.into() });
        }
        if let Ok(meta) = fs::metadata(path) {
            if meta.is_dir() {
                anyhow::bail!("is a directory");
            }
            if !meta.is_file() {
                let file = fs::OpenOptions::new().write(true).open(path).context("cannot open")?;
                let writer = BufWriter::with_capacity(BUF_BYTES, file);
                return Ok(Output { target: Target::Direct(writer), path: path.into() });
            }
        }
        let dest = resolve_symlink(path);
        let writer = BufWriter::with_capacity(BUF_BYTES, temp_beside(&dest)?);
        Ok(Output { target: Target::File { writer, dest }, path: path.into() })
    }

    /// Starts writing an `.npz` archive to `path` (a file). Arrays are
    /// added with [`Output::next_member`] followed by the usual header and
    /// data writes.
    ///
    /// # Errors
    /// As [`Output::create`].
    pub fn create_npz(path: &Path) -> Result<Output> {
        let zip = Box::new(ZipWriter::new(BufWriter::with_capacity(BUF_BYTES, temp_beside(path)?)));
        Ok(Output {
            target: Target::Npz { zip, dest: path.to_path_buf(), pending: None },
            path: path.into(),
        })
    }

    /// Names the next array of an `.npz` output (`name.npy` in the
    /// archive), deflate-compressed when `compressed`. No effect on other
    /// outputs.
    pub fn next_member(&mut self, name: &str, compressed: bool) {
        if let Target::Npz { pending, .. } = &mut self.target {
            *pending = Some((name.to_string(), compressed));
        }
    }

    /// The destination path (`-` for standard output).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// True when `a` and `b` name the same file, however spelled (`o.npy`,
/// `./o.npy`, a symlink to it), whether or not it exists yet.
pub fn same_destination(a: &Path, b: &Path) -> bool {
    fn resolve(p: &Path) -> Option<PathBuf> {
        if let Ok(c) = fs::canonicalize(p) {
            return Some(c);
        }
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(fs::canonicalize(parent).ok()?.join(p.file_name()?))
    }
    a == b || matches!((resolve(a), resolve(b)), (Some(x), Some(y)) if x == y)
}

/// Where a symlinked output really goes: the output replaces the link's
/// final target (as `cp` and `numpy.save` write through a link), and the
/// link itself stays. A dangling link is replaced by the new file.
fn resolve_symlink(path: &Path) -> PathBuf {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        path.into()
    }
}

/// Creates the temporary file that will become `path`, in its directory.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".cnnops-tmp")
            .permissions(default_permissions())
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        Ok(tmp)
    }
}

impl Output {
    /// The byte sink.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.target {
            Target::Stdout(w) => w,
            Target::Direct(w) => w,
            Target::File { writer, .. } => writer,
            Target::Npz { zip, .. } => &mut **zip,
        }
    }

    /// Writes the header.
    ///
    /// # Errors
    /// On a write error.
    pub fn write_header(&mut self, header: &NpyHeader) -> Result<()> {
        let bytes = header.to_bytes()?;
        if let Target::Npz { zip, pending, .. } = &mut self.target {
            let (name, compressed) = pending.take().unwrap_or_else(|| ("arr_0".into(), false));
            let method =
                if compressed { CompressionMethod::Deflated } else { CompressionMethod::Stored };
            let total = (bytes.len() + header.data_bytes) as u64;
            let options = SimpleFileOptions::default()
                .compression_method(method)
                .large_file(total >= u32::MAX as u64);
            zip.start_file(format!("{name}.npy"), options).context("cannot write the archive")?;
        }
        self.writer().write_all(&bytes).context("cannot write")
    }

    /// Writes elements little-endian.
    ///
    /// # Errors
    /// On a write error.
    pub fn write_elements<T: Element>(&mut self, data: &[T]) -> Result<()> {
        write_le(self.writer(), data).context("cannot write")
    }

    /// Finishes the output: flushes it and, for a file, renames the
    /// temporary file over the destination.
    ///
    /// # Errors
    /// On a flush or rename error; the temporary file is removed then.
    pub fn commit(self) -> Result<()> {
        match self.target {
            Target::Stdout(mut w) => w.flush().context("cannot write"),
            Target::Direct(mut w) => w.flush().context("cannot write"),
            Target::File { writer, dest } => {
                let tmp =
                    writer.into_inner().map_err(|e| e.into_error()).context("cannot write")?;
                keep_permissions(&tmp, &dest);
                tmp.persist(&dest).map_err(|e| e.error).context("cannot rename into place")?;
                Ok(())
            }
            Target::Npz { zip, dest, .. } => {
                let writer = zip.finish().context("cannot write the archive")?;
                let tmp =
                    writer.into_inner().map_err(|e| e.into_error()).context("cannot write")?;
                keep_permissions(&tmp, &dest);
                tmp.persist(&dest).map_err(|e| e.error).context("cannot rename into place")?;
                Ok(())
            }
        }
    }
}

/// An output that replaces an existing file keeps that file's permission
/// bits (as `cp` onto an existing file does); a new one gets 0666 less the
/// umask. Best effort: a failure here only means default permissions.
fn keep_permissions(tmp: &tempfile::NamedTempFile, dest: &Path) {
    if let Ok(meta) = fs::metadata(dest) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
}

/// Writes `data` as little-endian bytes.
///
/// # Errors
/// On a write error.
pub fn write_le<T: Element>(w: &mut dyn Write, data: &[T]) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        w.write_all(bytemuck::cast_slice(data))
    } else {
        for chunk in data.chunks(8192) {
            let swapped: Vec<T> = chunk.iter().map(|x| x.swap_bytes()).collect();
            w.write_all(bytemuck::cast_slice(&swapped))?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn default_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    // 0666 filtered by the umask, as for any file a shell command creates;
    // tempfile's own default is 0600.
    fs::Permissions::from_mode(0o666)
}

#[cfg(not(unix))]
fn default_permissions() -> fs::Permissions {
    tempfile::tempfile().and_then(|f| f.metadata()).map(|m| m.permissions()).unwrap()
}
