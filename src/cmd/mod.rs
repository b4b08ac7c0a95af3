//! One module per subcommand: arguments → plan → run.
//!
//! A plan is built from the arguments and the input's header alone, so
//! every semantic check (layout against rank, window against input,
//! parameter against dtype) happens before any data is read or any output
//! created, and `--dry-run` is the plan without the run.

pub mod completions;
pub mod info;
pub mod pool;
pub mod relu;

use crate::exit::UsageError;
use crate::npy::{self, Input, Output, npz};
use crate::report::Report;
use crate::report::display_path;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// One input to process and where its result goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Input path, or `-`.
    pub input: PathBuf,
    /// Output path, or `-`; `None` only for a dry run without one.
    pub output: Option<PathBuf>,
}

impl Job {
    /// The input as shown in messages.
    pub fn input_name(&self) -> String {
        display_path(&self.input)
    }

    /// True when the output is standard output, so reports go to stderr.
    pub fn output_is_stdout(&self) -> bool {
        self.output.as_deref().is_some_and(npy::is_stdio)
    }
}

/// Opens the job's input, naming it in any error.
///
/// # Errors
/// As [`npy::open`].
pub fn open_input(job: &Job) -> Result<Input<'static>> {
    npy::open(&job.input).with_context(|| job.input_name())
}

/// Starts the job's output, naming it in any error.
///
/// # Errors
/// As [`Output::create`].
pub fn create_output(path: &std::path::Path) -> Result<Output> {
    Output::create(path).with_context(|| display_path(path))
}

/// What a subcommand does with one array: plan it, report it and, given an
/// output positioned for it, compute and write it (without committing).
pub type ArrayFn<'a> = dyn Fn(&mut Input, Option<&mut Output>) -> Result<Report> + 'a;

/// Runs one job: a single `.npy` array, or every array of an `.npz`
/// archive into an `.npz` output. The output is committed only when every
/// array has been written.
///
/// # Errors
/// The first failure; nothing is left behind then.
pub fn run_job(job: &Job, dry_run: bool, each: &ArrayFn<'_>) -> Result<Vec<Report>> {
    if npz::is_npz(&job.input) && !npy::is_stdio(&job.input) {
        return run_npz(job, dry_run, each);
    }
    let mut input = open_input(job)?;
    let out_path = match job.output.as_deref() {
        Some(p) if !dry_run => p,
        _ => return Ok(vec![each(&mut input, None)?]),
    };
    if npz::is_npz(out_path) {
        return Err(UsageError(format!(
            "{}: the output is named .npz but the input is one .npy array; name it *.npy",
            display_path(out_path)
        ))
        .into());
    }
    let mut out = create_output(out_path)?;
    let report = each(&mut input, Some(&mut out))?;
    out.commit().with_context(|| display_path(out_path))?;
    Ok(vec![report])
}

fn run_npz(job: &Job, dry_run: bool, each: &ArrayFn<'_>) -> Result<Vec<Report>> {
    let name = job.input_name();
    let file = std::fs::File::open(&job.input).with_context(|| format!("{name}: cannot open"))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{name}: not a valid .npz (zip) archive"))?;
    let mut out = match job.output.as_deref() {
        Some(p) if !dry_run => {
            if npy::is_stdio(p) {
                return Err(UsageError(format!(
                    "{name}: an .npz input needs an .npz output file, not standard output"
                ))
                .into());
            }
            if !npz::is_npz(p) {
                return Err(UsageError(format!(
                    "{name}: an .npz input gives an .npz output; name the output *.npz, not {}",
                    display_path(p)
                ))
                .into());
            }
            Some(Output::create_npz(p).with_context(|| display_path(p))?)
        }
        _ => None,
    };
    let mut reports = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip.by_index(i).with_context(|| format!("{name}: cannot read the archive"))?;
        if entry.is_dir() {
            continue;
        }
        let member = entry.name().to_string();
        let array = member.strip_suffix(".npy").unwrap_or(&member).to_string();
        let compressed = entry.compression() != zip::CompressionMethod::Stored;
        let path = job.input.join(&member);
        let mut input =
            npy::from_reader(Box::new(entry), &path).with_context(|| display_path(&path))?;
        if let Some(out) = out.as_mut() {
            out.next_member(&array, compressed);
        }
        let mut report = each(&mut input, out.as_mut())?;
        report.input.array = Some(array.clone());
        report.output.array = Some(array);
        reports.push(report);
    }
    if let Some(out) = out {
        let out_path = job.output.as_deref().unwrap_or(Path::new("-"));
        out.commit().with_context(|| display_path(out_path))?;
    }
    Ok(reports)
}

/// A batch size for tests, from the hidden `CNNOPS_TEST_BATCH` variable:
/// tiny batches make small test inputs cross many band and batch
/// boundaries, the code paths a large file takes.
pub fn test_batch_elems() -> Option<usize> {
    static BATCH: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *BATCH.get_or_init(|| std::env::var("CNNOPS_TEST_BATCH").ok().and_then(|v| v.parse().ok()))
}
