//! `cnnops pool`: max, average, Lp and min pooling with padding, dilation,
//! ceil mode, global pooling and argmax indices.

use super::Job;
use crate::cli::{ModeArg, PadArg, PoolArgs, ScopeArg};
use crate::dispatch_dtype;
use crate::geometry::{AxisGeometry, AxisPad};
use crate::layout::Layout;
use crate::npy::{DType, Input, NpyHeader, Output};
use crate::ops::Element;
use crate::ops::pool::{IndexScope, Mode, PoolShape, argmax_planes, mean_planes, minmax_planes};
use crate::pipeline::{Pipe, pipelined};
use crate::report::{ArrayReport, Report, WindowReport, display_path};
use crate::usage_bail;
use anyhow::{Context, Result};

/// A checked pooling of one array.
#[derive(Clone, Debug)]
pub struct PoolPlan {
    /// The layout used.
    pub layout: Layout,
    /// Spatial axes in layout order.
    pub axes: Vec<AxisGeometry>,
    /// The kernels' view of the input.
    pub shape: PoolShape,
    /// Reduction.
    pub mode: Mode,
    /// Input element type.
    pub in_dtype: DType,
    /// Output element type (float64 for avg/lp of integer or bool data).
    pub out_dtype: DType,
    /// Input shape.
    pub in_shape: Vec<usize>,
    /// Output shape.
    pub out_shape: Vec<usize>,
    /// Argmax scope when `--indices` is given.
    pub indices: Option<IndexScope>,
    /// Ceil mode, for the report.
    pub ceil: bool,
    /// Global pooling, for the report.
    pub global: bool,
}

/// Expands a per-axis flag value (`3` or `3x2`) to one value per spatial
/// axis.
fn per_axis(values: &[usize], n: usize, flag: &str, layout: &Layout) -> Result<Vec<usize>> {
    match values.len() {
        1 => Ok(vec![values[0]; n]),
        k if k == n => Ok(values.to_vec()),
        k => usage_bail!(
            "{flag} has {k} values but layout {layout} has {n} spatial axes \
             (give one value, or {n} joined by x)"
        ),
    }
}

/// Checks the arguments against the input's header and resolves the
/// geometry of every spatial axis.
///
/// # Errors
/// Usage errors (exit 2) for: no layout for this rank, a layout that does
/// not match the rank or has no spatial axis, per-axis values of the wrong
/// count, a window larger than the (padded) input or lying wholly in
/// padding, ceil with same/valid padding, `--p` without lp, a non-positive
/// `--p`, `--count-include-pad` without avg, `--indices` without max, an
/// `--indices` path equal to the output.
pub fn plan(args: &PoolArgs, header: &NpyHeader) -> Result<PoolPlan> {
    let rank = header.shape.len();
    let layout = match &args.common.layout {
        Some(l) => l.clone(),
        None => match Layout::default_for_rank(rank) {
            Some(l) => l,
            None if rank == 0 => usage_bail!("cannot pool a 0-d (scalar) array"),
            None => usage_bail!("no default layout for a {rank}-d array; give --layout"),
        },
    };
    let split = layout.split(&header.shape)?;
    let n = split.spatial.len();
    if n == 0 {
        usage_bail!("layout {layout} has no spatial axis (D, H or W) to pool over");
    }
    let mode = match args.mode {
        ModeArg::Max => Mode::Max,
        ModeArg::Min => Mode::Min,
        ModeArg::Avg => Mode::Avg { count_include_pad: args.count_include_pad },
        ModeArg::Lp => {
            let p = args.p.unwrap_or(2.0);
            if !(p.is_finite() && p > 0.0) {
                usage_bail!("--p must be a finite number > 0, not {p}");
            }
            Mode::Lp { p }
        }
    };
    if args.p.is_some() && args.mode != ModeArg::Lp {
        usage_bail!("--p only applies to --mode lp");
    }
    if args.count_include_pad && args.mode != ModeArg::Avg {
        usage_bail!("--count-include-pad only applies to --mode avg");
    }
    if args.indices.is_some() && args.mode != ModeArg::Max {
        usage_bail!("--indices only applies to --mode max");
    }
    if let (Some(i), Some(o)) = (&args.indices, &args.common.paths.get(1))
        && crate::npy::write::same_destination(i, o)
    {
        usage_bail!("--indices and the output are the same file");
    }

    let (size, stride, dilation, pads): (Vec<usize>, Vec<usize>, Vec<usize>, Vec<AxisPad>) = if args
        .global
    {
        let pads = vec![AxisPad::Valid; n];
        (split.spatial.clone(), vec![1; n], vec![1; n], pads)
    } else {
        let size = args.size.as_ref().map(|w| w.0.clone()).unwrap_or_default();
        let size = per_axis(&size, n, "--size", &layout)?;
        let stride = match &args.stride {
            Some(s) => per_axis(&s.0, n, "--stride", &layout)?,
            None => size.clone(),
        };
        let dilation = match &args.dilation {
            Some(d) => per_axis(&d.0, n, "--dilation", &layout)?,
            None => vec![1; n],
        };
        let pads = match (&args.pad, &args.pad_begin, &args.pad_end) {
            (Some(PadArg::Same), _, _) => vec![AxisPad::SameUpper; n],
            (Some(PadArg::SameLower), _, _) => vec![AxisPad::SameLower; n],
            (Some(PadArg::Valid), _, _) => vec![AxisPad::Valid; n],
            (Some(PadArg::Explicit(p)), _, _) => per_axis(p, n, "--pad", &layout)?
                .into_iter()
                .map(|p| AxisPad::Explicit { begin: p, end: p })
                .collect(),
            (None, Some(b), Some(e)) => {
                let b = per_axis(&b.0, n, "--pad-begin", &layout)?;
                let e = per_axis(&e.0, n, "--pad-end", &layout)?;
                b.into_iter().zip(e).map(|(b, e)| AxisPad::Explicit { begin: b, end: e }).collect()
            }
            _ => vec![AxisPad::Explicit { begin: 0, end: 0 }; n],
        };
        (size, stride, dilation, pads)
    };

    let spatial_letters: Vec<char> =
        layout.as_str().chars().filter(|c| matches!(c, 'D' | 'H' | 'W')).collect();
    let mut axes = Vec::with_capacity(n);
    for i in 0..n {
        let g = AxisGeometry::new(
            split.spatial[i],
            size[i],
            stride[i],
            dilation[i],
            pads[i],
            args.ceil,
        )
        .map_err(|e| {
            anyhow::Error::new(crate::exit::UsageError(format!(
                "axis {} (length {}): {}",
                spatial_letters[i], split.spatial[i], e.0
            )))
        })?;
        axes.push(g);
    }
    let mut out_shape = header.shape.clone();
    for (i, g) in axes.iter().enumerate() {
        out_shape[split.first_spatial + i] = g.output;
    }
    // Padding can make the output larger than the input (a 3-D window with
    // full padding gives up to 8x), but never by much more unless windows
    // are far larger than the data: refuse what would otherwise be an
    // attempt to write terabytes.
    let out_len = out_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let limit = header.len.saturating_mul(8).saturating_add(1 << 24);
    match out_len {
        Some(n) if n <= limit => {}
        _ => usage_bail!(
            "the output would have {} elements from an input of {}: the window or padding is \
             far larger than the data",
            out_len.map_or("more than 2^64".to_string(), |n| n.to_string()),
            header.len
        ),
    }
    let in_dtype = header.descr.dtype;
    let out_dtype = match mode {
        Mode::Avg { .. } | Mode::Lp { .. } if !in_dtype.is_float() => DType::F64,
        _ => in_dtype,
    };
    let indices = args.indices.as_ref().map(|_| match args.indices_scope {
        ScopeArg::Map => IndexScope::Map,
        ScopeArg::Tensor => IndexScope::Tensor,
    });
    Ok(PoolPlan {
        shape: PoolShape::new(split.outer, split.inner, &axes),
        layout,
        axes,
        mode,
        in_dtype,
        out_dtype,
        in_shape: header.shape.clone(),
        out_shape,
        indices,
        ceil: args.ceil,
        global: args.global,
    })
}

/// Runs `pool` on one job (one array, or every array of an `.npz`).
///
/// # Errors
/// Usage errors from [`plan`]; read and write failures naming the file.
pub fn run(args: &PoolArgs, job: &Job) -> Result<Vec<Report>> {
    super::run_job(job, args.common.dry_run, &|input, out| one(args, input, job, out))
}

/// Plans, reports and (given an output) computes one array.
fn one(args: &PoolArgs, input: &mut Input, job: &Job, out: Option<&mut Output>) -> Result<Report> {
    let name = display_path(&input.path);
    let plan = plan(args, &input.header).map_err(|e| e.context(name.clone()))?;
    let mut report = report(&plan, job, &input.header, args);
    report.dry_run = args.common.dry_run;
    if let Some(out) = out {
        let idx = match &args.indices {
            Some(_) if input.path != job.input => {
                // An .npz member: one --indices file cannot hold them all.
                return Err(crate::exit::UsageError(format!(
                    "{name}: --indices writes one .npy file, so it cannot be used with an .npz input"
                ))
                .into());
            }
            Some(p) => Some(super::create_output(p)?),
            None => None,
        };
        dispatch_dtype!(plan.in_dtype, T => execute::<T>(input, &plan, out, idx))?;
    }
    Ok(report)
}

/// Output elements per batch, and input elements a batch may need: the
/// batch is as many output planes as fit both.
const OUT_BATCH: usize = 1 << 19;
const IN_BATCH: usize = 2 << 20;

/// The end of the batch of planes starting at `p`: at least one plane,
/// doubling while the batch stays within the limits.
fn batch_end(shape: &PoolShape, p: usize) -> usize {
    let planes = shape.planes();
    let (out_batch, in_batch) = match super::test_batch_elems() {
        Some(n) => (n, n),
        None => (OUT_BATCH, IN_BATCH),
    };
    let fits = |end: usize| {
        (end - p) * shape.plane_len() <= out_batch
            && shape.rows_for_planes(p..end).len() * shape.row_len() <= in_batch
    };
    let mut k = 1;
    while p + 2 * k <= planes && fits(p + 2 * k) {
        k *= 2;
    }
    (p + k).min(planes)
}

fn execute<T: Element>(
    input: &mut Input,
    plan: &PoolPlan,
    out: &mut Output,
    idx: Option<Output>,
) -> Result<()> {
    let shape = &plan.shape;
    let in_name = display_path(&input.path);
    let out_name = display_path(out.path());
    let header = NpyHeader::for_output(plan.out_dtype, &plan.out_shape)?;
    let mut rows =
        input.rows::<T>(shape.row_len(), shape.rows()).with_context(|| in_name.clone())?;
    out.write_header(&header).with_context(|| out_name.clone())?;
    let planes = shape.planes();
    let plane_len = shape.plane_len();
    // Walks the batches: `kernel(band, band_start_row, planes, spare)`
    // fills a batch and the pipe writes it.
    macro_rules! drive {
        ($pipe:expr, |$band:ident, $base:ident, $range:ident, $buf:ident| $kernel:expr) => {{
            let mut p = 0;
            while p < planes {
                crate::exit::check_interrupt()?;
                let end = batch_end(shape, p);
                let $range = p..end;
                let band_rows = shape.rows_for_planes($range.clone());
                let $base = band_rows.start;
                let $band =
                    rows.window(band_rows.start, band_rows.end).with_context(|| in_name.clone())?;
                let mut $buf = $pipe.spare().unwrap_or_default();
                $kernel;
                $pipe.send($buf)?;
                p = end;
            }
            rows.finish().with_context(|| in_name.clone())
        }};
    }
    match (plan.mode, plan.indices, idx) {
        (Mode::Max, Some(scope), Some(mut idx_out)) => {
            let idx_name = display_path(idx_out.path());
            let idx_header = NpyHeader::for_output(DType::I64, &plan.out_shape)?;
            idx_out.write_header(&idx_header).with_context(|| idx_name.clone())?;
            pipelined(
                |pipe: &Pipe<(Vec<T>, Vec<i64>)>| {
                    drive!(pipe, |band, base, range, buf| {
                        let (values, indices): &mut (Vec<T>, Vec<i64>) = &mut buf;
                        values.resize(range.len() * plane_len, T::ZERO);
                        indices.resize(range.len() * plane_len, 0);
                        argmax_planes(band, base, shape, range, scope, values, indices);
                    })
                },
                |(values, indices): (Vec<T>, Vec<i64>)| {
                    out.write_elements(&values).with_context(|| out_name.clone())?;
                    idx_out.write_elements(&indices).with_context(|| idx_name.clone())?;
                    Ok((values, indices))
                },
            )?;
            idx_out.commit().with_context(|| idx_name.clone())
        }
        (Mode::Max | Mode::Min, _, _) => {
            let max = plan.mode == Mode::Max;
            pipelined(
                |pipe: &Pipe<Vec<T>>| {
                    drive!(pipe, |band, base, range, buf| {
                        buf.resize(range.len() * plane_len, T::ZERO);
                        minmax_planes(band, base, shape, range, max, &mut buf);
                    })
                },
                |buf: Vec<T>| {
                    out.write_elements(&buf).with_context(|| out_name.clone())?;
                    Ok(buf)
                },
            )
        }
        (Mode::Avg { .. } | Mode::Lp { .. }, _, _) => pipelined(
            |pipe: &Pipe<Vec<T::Mean>>| {
                drive!(pipe, |band, base, range, buf| {
                    buf.resize(range.len() * plane_len, <T::Mean as Element>::ZERO);
                    mean_planes::<T>(band, base, shape, range, plan.mode, &mut buf);
                })
            },
            |buf: Vec<T::Mean>| {
                out.write_elements(&buf).with_context(|| out_name.clone())?;
                Ok(buf)
            },
        ),
    }
}

fn report(plan: &PoolPlan, job: &Job, header: &NpyHeader, args: &PoolArgs) -> Report {
    let mode = match plan.mode {
        Mode::Max => "max",
        Mode::Min => "min",
        Mode::Avg { .. } => "avg",
        Mode::Lp { .. } => "lp",
    };
    let mut window = WindowReport::from_axes(mode, &plan.axes, plan.ceil, plan.global);
    if let Mode::Avg { count_include_pad } = plan.mode {
        window.count_include_pad = Some(count_include_pad);
    }
    if let Mode::Lp { p } = plan.mode {
        window.p = Some(p);
    }
    window.indices_scope = plan.indices.map(|s| match s {
        IndexScope::Map => "map",
        IndexScope::Tensor => "tensor",
    });
    Report {
        op: "pool",
        input: ArrayReport {
            path: Some(job.input_name()),
            shape: plan.in_shape.clone(),
            dtype: plan.in_dtype.name(),
            layout: Some(plan.layout.to_string()),
            order: Some(if header.fortran { "F" } else { "C" }),
            array: None,
        },
        output: ArrayReport {
            path: job.output.as_deref().map(display_path),
            shape: plan.out_shape.clone(),
            dtype: plan.out_dtype.name(),
            layout: None,
            order: None,
            array: None,
        },
        indices: args.indices.as_deref().map(|p| ArrayReport {
            path: Some(display_path(p)),
            shape: plan.out_shape.clone(),
            dtype: "int64",
            layout: None,
            order: None,
            array: None,
        }),
        window: Some(window),
        relu: None,
        dry_run: false,
    }
}
