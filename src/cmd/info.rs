//! `cnnops info`: what is in `.npy` and `.npz` files, as JSON lines.

use crate::cli::InfoArgs;
use crate::exit::Exit;
use crate::npy::{self, NpyHeader, npz};
use crate::report::{InfoReport, display_path, emit};
use anyhow::{Context, Result};
use std::path::Path;

/// Prints one JSON line per array; a bad file gets one error line and the
/// others are still listed.
pub fn run(args: &InfoArgs) -> Exit {
    let mut status = Exit::Ok;
    for path in &args.paths {
        let result = reports(path).and_then(|lines| {
            for line in lines {
                emit(&line, false).context("cannot write to standard output")?;
            }
            Ok(())
        });
        if let Err(e) = result {
            if crate::is_broken_pipe(&e) {
                return status;
            }
            crate::print_error(&e);
            status = status.merge(Exit::of_error(&e));
        }
    }
    status
}

/// The reports for one file (one per array; several for an `.npz`).
///
/// # Errors
/// If the file cannot be read or is not a valid `.npy`/`.npz`; the message
/// names the file.
pub fn reports(path: &Path) -> Result<Vec<InfoReport>> {
    let name = display_path(path);
    let file_bytes = if npy::is_stdio(path) {
        None
    } else {
        Some(std::fs::metadata(path).with_context(|| format!("{name}: cannot open"))?.len())
    };
    if npz::is_npz(path) && !npy::is_stdio(path) {
        let members = npz::list(path).with_context(|| name.clone())?;
        return Ok(members
            .into_iter()
            .map(|m| {
                let mut r = one(&name, &m.header, file_bytes);
                r.array = Some(m.name);
                r.compressed = Some(m.compressed);
                r
            })
            .collect());
    }
    let input = npy::open(path).with_context(|| name.clone())?;
    Ok(vec![one(&name, &input.header, file_bytes)])
}

fn one(name: &str, h: &NpyHeader, file_bytes: Option<u64>) -> InfoReport {
    InfoReport {
        path: name.to_string(),
        array: None,
        shape: h.shape.clone(),
        dtype: h.descr.dtype.name(),
        descr: h.descr.to_string(),
        order: if h.fortran { "F" } else { "C" },
        version: format!("{}.{}", h.version.0, h.version.1),
        elements: h.len,
        header_bytes: h.header_bytes,
        data_bytes: h.data_bytes,
        file_bytes,
        compressed: None,
    }
}
