//! `cnnops relu`: ReLU, leaky ReLU (`--alpha`) and clipped ReLU (`--max`).

use super::Job;
use crate::cli::ReluArgs;
use crate::dispatch_dtype;
use crate::layout::Layout;
use crate::npy::{DType, Input, NpyHeader, Output};
use crate::ops::Element;
use crate::ops::relu::{Relu, relu};
use crate::pipeline::pipelined;
use crate::report::{ArrayReport, ReluReport, Report, display_path};
use crate::usage_bail;
use anyhow::{Context, Result};

/// A checked ReLU of one array.
#[derive(Clone, Debug)]
pub struct ReluPlan {
    /// Element type, kept by the output.
    pub dtype: DType,
    /// Shape, kept by the output.
    pub shape: Vec<usize>,
    /// Slope for negative values.
    pub alpha: Option<f64>,
    /// Upper clip.
    pub max: Option<f64>,
    /// Layout, for the report: the given one or the rank default.
    pub layout: Option<Layout>,
}

/// Checks the arguments against the input's header.
///
/// # Errors
/// Usage errors: `--alpha` on integer or bool data, a non-finite `--alpha`,
/// a negative, non-finite or (for integer data) fractional `--max`, a
/// `--layout` whose length differs from the rank.
pub fn plan(args: &ReluArgs, header: &NpyHeader) -> Result<ReluPlan> {
    let dtype = header.descr.dtype;
    if let Some(a) = args.alpha {
        if !a.is_finite() {
            usage_bail!("--alpha must be a finite number, not {a}");
        }
        if !dtype.is_float() {
            usage_bail!("--alpha needs floating-point data; this array is {dtype}");
        }
    }
    if let Some(m) = args.max {
        if !m.is_finite() || m < 0.0 {
            usage_bail!("--max must be a finite number >= 0, not {m}");
        }
        if !dtype.is_float() && m.fract() != 0.0 {
            usage_bail!("--max {m} is not a whole number; this array is {dtype}");
        }
    }
    let layout = match &args.common.layout {
        Some(l) => {
            l.split(&header.shape)?;
            Some(l.clone())
        }
        None => Layout::default_for_rank(header.shape.len()),
    };
    Ok(ReluPlan { dtype, shape: header.shape.clone(), alpha: args.alpha, max: args.max, layout })
}

/// Runs `relu` on one job (one array, or every array of an `.npz`).
///
/// # Errors
/// Usage errors from [`plan`]; read and write failures naming the file.
pub fn run(args: &ReluArgs, job: &Job) -> Result<Vec<Report>> {
    super::run_job(job, args.common.dry_run, &|input, out| one(args, input, job, out))
}

/// Plans, reports and (given an output) computes one array.
fn one(args: &ReluArgs, input: &mut Input, job: &Job, out: Option<&mut Output>) -> Result<Report> {
    let name = display_path(&input.path);
    let plan = plan(args, &input.header).map_err(|e| e.context(name))?;
    let mut report = report(&plan, job, &input.header);
    report.dry_run = args.common.dry_run;
    if let Some(out) = out {
        dispatch_dtype!(plan.dtype, T => execute::<T>(input, &plan, out))?;
    }
    Ok(report)
}

fn execute<T: Element>(input: &mut Input, plan: &ReluPlan, out: &mut Output) -> Result<()> {
    let f = Relu { alpha: plan.alpha, max: plan.max.map(T::from_f64) };
    let header = NpyHeader::for_output(plan.dtype, &plan.shape)?;
    let in_name = display_path(&input.path);
    let out_name = display_path(out.path());
    let n = input.header.len;
    // Element-wise: "rows" of one element, read and written in batches.
    let batch = super::test_batch_elems().unwrap_or(BATCH_BYTES / size_of::<T>()).max(1);
    let mut rows = input.rows::<T>(1, n).with_context(|| in_name.clone())?;
    out.write_header(&header).with_context(|| out_name.clone())?;
    pipelined(
        |pipe| {
            let mut lo = 0;
            while lo < n {
                crate::exit::check_interrupt()?;
                let hi = (lo + batch).min(n);
                let src = rows.window(lo, hi).with_context(|| in_name.clone())?;
                let mut buf: Vec<T> = pipe.spare().unwrap_or_default();
                buf.resize(hi - lo, T::ZERO);
                relu(src, &mut buf, f);
                pipe.send(buf)?;
                lo = hi;
            }
            rows.finish().with_context(|| in_name.clone())
        },
        |buf: Vec<T>| {
            out.write_elements(&buf).with_context(|| out_name.clone())?;
            Ok(buf)
        },
    )
}

/// Bytes of output computed per batch: large enough that per-batch costs
/// vanish, small enough to stay in cache-friendly, bounded memory.
const BATCH_BYTES: usize = 2 << 20;

fn report(plan: &ReluPlan, job: &Job, header: &NpyHeader) -> Report {
    Report {
        op: "relu",
        input: ArrayReport {
            path: Some(job.input_name()),
            shape: plan.shape.clone(),
            dtype: plan.dtype.name(),
            layout: plan.layout.as_ref().map(|l| l.to_string()),
            order: Some(if header.fortran { "F" } else { "C" }),
            array: None,
        },
        output: ArrayReport {
            path: job.output.as_deref().map(display_path),
            shape: plan.shape.clone(),
            dtype: plan.dtype.name(),
            layout: None,
            order: None,
            array: None,
        },
        indices: None,
        window: None,
        relu: Some(ReluReport { alpha: plan.alpha, max: plan.max }),
        dry_run: false,
    }
}
