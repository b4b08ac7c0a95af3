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

use crate::npy::{self, Input, NpyHeader, Output};
use crate::ops::Element;
use crate::report::display_path;
use anyhow::{Context, Result};
use ndarray::{ArrayView, IxDyn, ShapeBuilder};
use std::borrow::Cow;
use std::path::PathBuf;

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
pub fn open_input(job: &Job) -> Result<Input> {
    npy::open(&job.input).with_context(|| job.input_name())
}

/// Starts the job's output, naming it in any error.
///
/// # Errors
/// As [`Output::create`].
pub fn create_output(path: &std::path::Path) -> Result<Output> {
    Output::create(path).with_context(|| display_path(path))
}

/// The input's elements in C order: borrowed when they already are,
/// reordered into a new buffer for Fortran-order input.
///
/// # Errors
/// If reading the data fails; the message names the input.
pub fn c_order_elements<T: Element>(input: &mut Input) -> Result<Cow<'_, [T]>> {
    let header: NpyHeader = input.header.clone();
    let name = display_path(&input.path);
    let data = input.elements::<T>().with_context(|| name.clone())?;
    if !header.fortran || header.shape.len() < 2 {
        return Ok(data);
    }
    let view = ArrayView::from_shape(IxDyn(&header.shape).f(), &data[..])
        .with_context(|| format!("{name}: data does not match its shape"))?;
    Ok(Cow::Owned(view.iter().copied().collect()))
}

/// Writes a whole C-order output and commits it.
///
/// # Errors
/// On any write error; the message names the output.
pub fn write_all<T: Element>(
    mut out: Output,
    path: &std::path::Path,
    header: &NpyHeader,
    data: &[T],
) -> Result<()> {
    let name = || display_path(path);
    out.write_header(header).with_context(name)?;
    out.write_elements(data).with_context(name)?;
    out.commit().with_context(name)
}
