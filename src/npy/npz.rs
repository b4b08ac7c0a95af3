//! Listing the arrays of an `.npz` archive (a zip of `.npy` files).
//!
//! Only headers are read: each member is opened and its first bytes parsed,
//! so `cnnops info` on a large archive is fast and never inflates a whole
//! member.

use super::header::{NpyHeader, read_header};
use anyhow::{Context, Result};
use std::fs::File;
use std::path::Path;

/// One array in an `.npz` archive.
#[derive(Clone, Debug)]
pub struct NpzMember {
    /// Array name (the member name without `.npy`).
    pub name: String,
    /// Its header.
    pub header: NpyHeader,
    /// True when the member is deflate-compressed (`numpy.savez_compressed`).
    pub compressed: bool,
}

/// True when `path` ends in `.npz` (any case).
pub fn is_npz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// Reads the header of every array in the archive at `path`.
///
/// # Errors
/// If the file is not a zip archive, or any member is not a valid `.npy`
/// (the message names the member).
pub fn list(path: &Path) -> Result<Vec<NpzMember>> {
    let file = File::open(path).context("cannot open")?;
    let mut zip = zip::ZipArchive::new(file).context("not a valid .npz (zip) archive")?;
    let mut members = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).context("cannot read the archive")?;
        if entry.is_dir() {
            continue;
        }
        let full = entry.name().to_string();
        let name = full.strip_suffix(".npy").unwrap_or(&full).to_string();
        let compressed = entry.compression() != zip::CompressionMethod::Stored;
        let header = read_header(&mut entry).with_context(|| format!("member {full}"))?;
        members.push(NpzMember { name, header, compressed });
    }
    Ok(members)
}
