//! The whole reading path of one `.npy` stream: header, relu and pool
//! plans, every data row through the band reader, and (for small arrays)
//! the pooling kernels on what was read.
#![no_main]

use clap::Parser;
use cnnops::cli::{Cli, Command, PoolArgs, ReluArgs};
use cnnops::cmd::pool::PoolPlan;
use cnnops::npy::{Input, NpyHeader};
use cnnops::ops::Element;
use cnnops::ops::pool::{Mode, pool_mean, pool_minmax};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

/// Arrays up to this many elements are kept in memory and pooled.
const SMALL: usize = 1 << 20;
/// Elements per band asked of the row reader (at least one row), as the
/// CLI reads in bounded batches.
const BAND: usize = 1 << 16;

fn args() -> &'static (PoolArgs, ReluArgs) {
    static ARGS: OnceLock<(PoolArgs, ReluArgs)> = OnceLock::new();
    ARGS.get_or_init(|| {
        let parse = |line: &[&str]| Cli::try_parse_from(line).expect("fixed command line").command;
        let Command::Pool(pool) = parse(&["cnnops", "pool", "--size", "2", "x", "y"]) else {
            unreachable!()
        };
        let Command::Relu(relu) = parse(&["cnnops", "relu", "x", "y"]) else { unreachable!() };
        (pool, relu)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut input) = cnnops::npy::from_reader(Box::new(Cursor::new(data)), Path::new("fuzz"))
    else {
        return;
    };
    let header = input.header.clone();
    let (pool_args, relu_args) = args();
    let _ = cnnops::cmd::relu::plan(relu_args, &header);
    let plan = cnnops::cmd::pool::plan(pool_args, &header).ok();
    cnnops::dispatch_dtype!(header.descr.dtype, T => read_and_pool::<T>(&mut input, &header, plan));
});

fn read_and_pool<T: Element>(input: &mut Input, header: &NpyHeader, plan: Option<PoolPlan>) {
    let row_len = header.shape.last().copied().unwrap_or(1);
    let total_rows = if row_len == 0 { 0 } else { header.len / row_len };
    let keep = header.len <= SMALL;
    let mut all: Vec<T> = Vec::new();
    let Ok(mut rows) = input.rows::<T>(row_len, total_rows) else { return };
    let per_band = (BAND / row_len.max(1)).max(1);
    let mut lo = 0;
    while lo < total_rows {
        let hi = (lo + per_band).min(total_rows);
        let Ok(band) = rows.window(lo, hi) else { return };
        assert_eq!(band.len(), (hi - lo) * row_len);
        if keep {
            all.extend_from_slice(band);
        }
        lo = hi;
    }
    if rows.finish().is_err() {
        return;
    }
    drop(rows);
    if !keep {
        return;
    }
    assert_eq!(all.len(), header.len);
    let Some(plan) = plan else { return };
    let out_len = plan.shape.output_len();
    if out_len > SMALL {
        return;
    }
    let mut out = vec![T::ZERO; out_len];
    pool_minmax(&all, &plan.shape, true, &mut out);
    pool_minmax(&all, &plan.shape, false, &mut out);
    let mut mean = vec![<T::Mean as Element>::ZERO; out_len];
    pool_mean::<T>(&all, &plan.shape, Mode::Avg { count_include_pad: false }, &mut mean);
}
