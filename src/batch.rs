//! Running a subcommand over its inputs: the single `INPUT OUTPUT` form, or
//! many inputs with `--out-dir`, in parallel, with a progress bar.
//!
//! Per-file errors never abort a batch: each is printed with its path, the
//! others go on, and the exit status is the worst of all (see
//! [`Exit::merge`]). The list of inputs is fixed before any output is
//! written, so outputs written inside a walked directory are never picked
//! up as inputs.

use crate::cli::CommonArgs;
use crate::cmd::Job;
use crate::exit::{Exit, UsageError};
use crate::npy;
use crate::report::{Report, display_path, emit};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// What a subcommand does with one job.
pub type Op<'a> = &'a (dyn Fn(&Job) -> Result<Vec<Report>> + Sync);

/// Runs `op` over the inputs named by `common` and returns the exit status.
pub fn run(common: &CommonArgs, op: Op<'_>) -> Exit {
    match &common.out_dir {
        None => match single_job(common) {
            Ok(job) => finish_one(common, &job, op(&job)),
            Err(e) => report_error(&e),
        },
        Some(dir) => match plan_batch(common, dir) {
            Ok(jobs) => run_batch(common, &jobs, op),
            Err(e) => report_error(&e),
        },
    }
}

fn report_error(e: &anyhow::Error) -> Exit {
    if crate::is_broken_pipe(e) {
        return Exit::Ok;
    }
    if Exit::of_error(e) == Exit::Interrupted {
        // Said once, at the end, not once per job in flight.
        return Exit::Interrupted;
    }
    crate::print_error(e);
    Exit::of_error(e)
}

fn single_job(common: &CommonArgs) -> Result<Job> {
    if common.shard.is_some() {
        return Err(
            UsageError("--shard splits the inputs of --out-dir; give --out-dir".into()).into()
        );
    }
    match common.paths.as_slice() {
        [input, output] => Ok(Job { input: input.clone(), output: Some(output.clone()) }),
        [input] if common.dry_run => Ok(Job { input: input.clone(), output: None }),
        [_] => Err(UsageError("expected INPUT OUTPUT (or --dry-run INPUT)".into()).into()),
        _ => Err(UsageError(format!(
            "expected INPUT OUTPUT, got {} paths; to process several inputs give --out-dir DIR",
            common.paths.len()
        ))
        .into()),
    }
}

fn finish_one(common: &CommonArgs, job: &Job, result: Result<Vec<Report>>) -> Exit {
    let emitted = result.and_then(|reports| {
        if common.json || common.dry_run {
            for report in &reports {
                emit(report, job.output_is_stdout()).context("cannot write the JSON report")?;
            }
        }
        Ok(())
    });
    match emitted {
        Ok(()) => Exit::Ok,
        Err(e) => report_error(&e),
    }
}

/// One input found for a batch, with the output path relative to the
/// output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The input file.
    pub input: PathBuf,
    /// Where its output goes, relative to `--out-dir`.
    pub relative: PathBuf,
}

/// Expands the positional paths into input files: files as given,
/// directories walked (recursively, symlinked directories not followed) for
/// `.npy` and `.npz` files. Files under `skip` (the output directory) are
/// left out.
///
/// A file argument keeps its relative path under the output directory
/// (`a/b.npy` → `OUT/a/b.npy`), or only its name if the path is absolute
/// or climbs with `..`; a file found in a directory keeps its path relative
/// to that directory (`acts/` holding `l1/x.npy` → `OUT/l1/x.npy`).
///
/// # Errors
/// A usage error for `-` (standard input has no name to keep); a failure
/// for a path that does not exist or a directory that cannot be read.
pub fn find_inputs(paths: &[PathBuf], skip: Option<&Path>) -> Result<Vec<Found>> {
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let mut found = Vec::new();
    for path in paths {
        if npy::is_stdio(path) {
            return Err(
                UsageError("standard input (-) cannot be used with --out-dir".into()).into()
            );
        }
        let meta = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot open", display_path(path)))?;
        if !meta.is_dir() {
            found.push(Found { input: path.clone(), relative: keep_relative(path) });
            continue;
        }
        // Outputs must not be read back as inputs: leave out the output
        // directory's subtree, but only when it lies strictly inside the
        // walked directory. An output directory that is the walked one (an
        // in-place batch) or one of its ancestors contains every input.
        let walked = path.canonicalize().ok();
        let skip =
            skip.as_ref().filter(|s| walked.as_ref().is_some_and(|w| s.starts_with(w) && *s != w));
        let walker = walkdir::WalkDir::new(path).follow_links(false).sort_by_file_name();
        for entry in walker {
            let entry = entry.with_context(|| format!("{}: cannot walk", display_path(path)))?;
            let p = entry.path();
            if let Some(skip) = skip
                && p.canonicalize().is_ok_and(|c| c.starts_with(skip))
            {
                continue;
            }
            let is_array = p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("npy") || e.eq_ignore_ascii_case("npz"));
            // Symlinks to files count; symlinks to directories are not
            // followed (no cycles, no walking out of the tree).
            if is_array && std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
                let relative = p.strip_prefix(path).unwrap_or(p).to_path_buf();
                found.push(Found { input: p.to_path_buf(), relative });
            }
        }
    }
    Ok(found)
}

fn keep_relative(path: &Path) -> PathBuf {
    let plain = path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if plain {
        path.components().filter(|c| matches!(c, Component::Normal(_))).collect()
    } else {
        PathBuf::from(path.file_name().unwrap_or(path.as_os_str()))
    }
}

/// Keeps part `index` of `count` of the inputs: every `count`-th input in
/// the order of their output paths, starting at `index`. The order of the
/// command line or of the walk does not matter, the parts are disjoint,
/// together they cover every input, and their sizes differ by at most one.
pub fn shard(mut found: Vec<Found>, index: usize, count: usize) -> Vec<Found> {
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    found.into_iter().enumerate().filter(|(i, _)| i % count == index).map(|(_, f)| f).collect()
}

fn plan_batch(common: &CommonArgs, out_dir: &Path) -> Result<Vec<Job>> {
    let found = find_inputs(&common.paths, Some(out_dir))?;
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for f in &found {
        if let Some(first) = seen.insert(&f.relative, &f.input) {
            return Err(UsageError(format!(
                "{} and {} would both be written to {}",
                display_path(first),
                display_path(&f.input),
                display_path(&out_dir.join(&f.relative))
            ))
            .into());
        }
    }
    let found = match common.shard {
        Some(s) => shard(found, s.index, s.count),
        None => found,
    };
    Ok(found
        .into_iter()
        .map(|f| Job { output: Some(out_dir.join(&f.relative)), input: f.input })
        .collect())
}

fn progress_bar(common: &CommonArgs, total_bytes: u64) -> ProgressBar {
    if common.quiet || common.json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn run_batch(common: &CommonArgs, jobs: &[Job], op: Op<'_>) -> Exit {
    let started = Instant::now();
    let sizes: Vec<u64> =
        jobs.iter().map(|j| std::fs::metadata(&j.input).map(|m| m.len()).unwrap_or(0)).collect();
    let bar = progress_bar(common, sizes.iter().sum());
    let done = Mutex::new((0usize, 0usize)); // (finished, failed)
    let total = jobs.len();
    bar.set_message(format!("0/{total} files"));
    let status = jobs
        .par_iter()
        .zip(&sizes)
        .map(|(job, &size)| {
            let result = crate::exit::check_interrupt()
                .map_err(anyhow::Error::new)
                .and_then(|()| prepare(job, common.dry_run))
                .and_then(|()| op(job));
            let ok = result.is_ok();
            let status = bar.suspend(|| finish_one(common, job, result));
            let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
            d.0 += 1;
            d.1 += usize::from(!ok);
            bar.set_message(format!("{}/{total} files", d.0));
            bar.inc(size);
            status
        })
        .reduce(|| Exit::Ok, Exit::merge);
    bar.finish_and_clear();
    let (finished, failed) = *done.lock().unwrap_or_else(|p| p.into_inner());
    if !common.quiet {
        let verb = if common.dry_run { "checked" } else { "written" };
        eprintln!(
            "cnnops: {finished} file{}, {} {verb}, {failed} failed, in {:.1} s",
            if finished == 1 { "" } else { "s" },
            finished - failed,
            started.elapsed().as_secs_f64()
        );
    }
    status
}

/// Creates the output's directory.
fn prepare(job: &Job, dry_run: bool) -> Result<()> {
    if dry_run {
        return Ok(());
    }
    if let Some(dir) = job.output.as_deref().and_then(Path::parent) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create directory", display_path(dir)))?;
    }
    Ok(())
}
