//! Kernel throughput (input bytes per second), data in memory.
//!
//! `cargo bench --bench kernels` runs everything; filter with a substring,
//! e.g. `cargo bench --bench kernels -- 'pool/max'`. Each benchmark runs
//! on one thread and on two (`/t1`, `/t2`), with a 64 MiB input.

use cnnops::geometry::{AxisGeometry, AxisPad};
use cnnops::ops::Element;
use cnnops::ops::pool::{Mode, PoolShape, pool_mean, pool_minmax};
use cnnops::ops::relu::{Relu, relu};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use half::f16;
use std::time::Duration;

const BYTES: usize = 64 << 20;

/// Integers in -100..100, scattered. The remainder is taken on integers:
/// a float64 `%` is a libm call, and made up half of a filtered run.
fn data<T: Element>(n: usize) -> Vec<T> {
    (0..n).map(|i| T::from_f64((((i * 2_654_435_761) >> 9) % 200) as f64 - 100.0)).collect()
}

/// [`data`] after ReLU: half the values 0, as pooling layers see them.
/// Zeros took a slow path of the CPU in the powers of Lp and in float16
/// cube roots, which the scattered integers alone did not show.
fn relued<T: Element>(n: usize) -> Vec<T> {
    let mut v = data::<T>(n);
    for x in &mut v {
        if x.is_negative() {
            *x = T::ZERO;
        }
    }
    v
}

/// Values of two decimals in -100..100, scattered: activations are rarely
/// small integers, and sums of fourth powers of small integers land near
/// float16 midpoints four times as often, which the float16 norms then
/// sum again in float64.
fn fractions<T: Element>(n: usize) -> Vec<T> {
    (0..n)
        .map(|i| T::from_f64((((i * 2_654_435_761) >> 9) % 20_000) as f64 / 100.0 - 100.0))
        .collect()
}

fn pools() -> Vec<(usize, rayon::ThreadPool)> {
    [1, 2]
        .into_iter()
        .map(|t| (t, rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap()))
        .collect()
}

fn bench_relu<T: Element>(c: &mut Criterion, name: &str) {
    let n = BYTES / size_of::<T>();
    let input = data::<T>(n);
    let mut out = vec![T::ZERO; n];
    let mut g = c.benchmark_group("relu");
    g.throughput(Throughput::Bytes(BYTES as u64));
    for (t, pool) in pools() {
        for (variant, f) in [
            ("plain", Relu { alpha: None, max: None }),
            ("relu6", Relu { alpha: None, max: Some(T::from_f64(6.0)) }),
            ("leaky", Relu { alpha: Some(0.01), max: None }),
        ] {
            if variant == "leaky" && !T::DTYPE.is_float() {
                continue;
            }
            g.bench_function(BenchmarkId::new(format!("{name}/{variant}"), format!("t{t}")), |b| {
                b.iter(|| pool.install(|| relu(&input, &mut out, f)))
            });
        }
    }
    g.finish();
}

/// A pooling case: layout, window, stride, padding, dilation, ceil.
struct Case {
    name: &'static str,
    layout: &'static str,
    k: usize,
    s: usize,
    pad: usize,
    dil: usize,
    ceil: bool,
}

const CASES: [Case; 14] = [
    Case { name: "2x2s2", layout: "HWC", k: 2, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "2x2s2", layout: "NHWC", k: 2, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "2x2s2", layout: "NCHW", k: 2, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s2", layout: "HWC", k: 3, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s2", layout: "NHWC", k: 3, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s2", layout: "NCHW", k: 3, s: 2, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s2p1ceil", layout: "NHWC", k: 3, s: 2, pad: 1, dil: 1, ceil: true },
    Case { name: "3x3s2p1ceil", layout: "NCHW", k: 3, s: 2, pad: 1, dil: 1, ceil: true },
    Case { name: "3x3s1d2", layout: "NCHW", k: 3, s: 1, pad: 0, dil: 2, ceil: false },
    Case { name: "2x2s2d2", layout: "NCHW", k: 2, s: 2, pad: 0, dil: 2, ceil: false },
    // Sums over rows split into phases, read a row ahead (see `WideRows`).
    Case { name: "3x3s2d2", layout: "NCHW", k: 3, s: 2, pad: 0, dil: 2, ceil: false },
    // Stride 1: outputs as many as inputs.
    Case { name: "3x3s1", layout: "HWC", k: 3, s: 1, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s1", layout: "NHWC", k: 3, s: 1, pad: 0, dil: 1, ceil: false },
    Case { name: "3x3s1", layout: "NCHW", k: 3, s: 1, pad: 0, dil: 1, ceil: false },
];

/// 64 MiB in the given layout: N=4, 64 channels, square maps.
fn shape_for<T>(layout: &str, c: &Case) -> PoolShape {
    let n = 4;
    let ch = 64;
    let side = ((BYTES / size_of::<T>() / n / ch) as f64).sqrt() as usize;
    let axis = AxisGeometry::new(
        side,
        c.k,
        c.s,
        c.dil,
        AxisPad::Explicit { begin: c.pad, end: c.pad },
        c.ceil,
    )
    .unwrap();
    match layout {
        "HWC" => PoolShape::new(
            1,
            ch,
            &[
                AxisGeometry::new(
                    side * n,
                    c.k,
                    c.s,
                    c.dil,
                    AxisPad::Explicit { begin: c.pad, end: c.pad },
                    c.ceil,
                )
                .unwrap(),
                axis,
            ],
        ),
        "NHWC" => PoolShape::new(n, ch, &[axis, axis]),
        "NCHW" => PoolShape::new(n * ch, 1, &[axis, axis]),
        _ => unreachable!(),
    }
}

fn bench_pool<T: Element>(c: &mut Criterion, dtype: &str, cases: &[&Case], modes: &[&str]) {
    bench_pool_on(c, dtype, cases, modes, (data::<T>, ""));
}

/// [`bench_pool`] on the input `make` gives, named with `tag` after the
/// case's name.
fn bench_pool_on<T: Element>(
    c: &mut Criterion,
    dtype: &str,
    cases: &[&Case],
    modes: &[&str],
    (make, tag): (fn(usize) -> Vec<T>, &str),
) {
    let mut g = c.benchmark_group("pool");
    for case in cases {
        let shape = shape_for::<T>(case.layout, case);
        // Made when a benchmark of the case first runs, not for the cases
        // a filter leaves out.
        let mut input = None;
        let input = &mut input;
        g.throughput(Throughput::Bytes((shape.input_len() * size_of::<T>()) as u64));
        for (t, pool) in pools() {
            for &mode in modes {
                let id = BenchmarkId::new(
                    format!("{mode}/{dtype}/{}/{}{tag}", case.layout, case.name),
                    format!("t{t}"),
                );
                match mode {
                    "max" | "min" => {
                        let mut out = vec![T::ZERO; shape.output_len()];
                        g.bench_function(id, |b| {
                            let input = input.get_or_insert_with(|| make(shape.input_len()));
                            b.iter(|| {
                                pool.install(|| pool_minmax(input, &shape, mode == "max", &mut out))
                            })
                        });
                    }
                    _ => {
                        // "lp" is p = 2; "lp3", "lp1.5" name their p.
                        let m = match mode {
                            "avg" => Mode::Avg { count_include_pad: false },
                            "lp" => Mode::Lp { p: 2.0 },
                            lp => Mode::Lp { p: lp[2..].parse().expect("lpP names its p") },
                        };
                        let mut out = vec![<T::Mean as Element>::ZERO; shape.output_len()];
                        g.bench_function(id, |b| {
                            let input = input.get_or_insert_with(|| make(shape.input_len()));
                            b.iter(|| pool.install(|| pool_mean(input, &shape, m, &mut out)))
                        });
                    }
                }
            }
        }
    }
    g.finish();
}

fn kernels(c: &mut Criterion) {
    bench_relu::<f32>(c, "f32");
    bench_relu::<f64>(c, "f64");
    bench_relu::<f16>(c, "f16");
    bench_relu::<i8>(c, "i8");
    bench_relu::<u8>(c, "u8");
    bench_relu::<i32>(c, "i32");
    let all: Vec<&Case> = CASES.iter().collect();
    bench_pool::<f32>(c, "f32", &all, &["max"]);
    bench_pool::<f32>(c, "f32", &all[..6], &["min", "avg", "lp"]);
    bench_pool::<f32>(c, "f32", &all[..3], &["lp3"]);
    bench_pool::<f32>(c, "f32", &all[..6], &["lp1.5"]);
    let basic: Vec<&Case> = CASES[..3].iter().collect();
    bench_pool::<f64>(c, "f64", &basic, &["max"]);
    // 3x3/2 too: the dtype targets are at both windows in every layout.
    bench_pool::<f16>(c, "f16", &all[..6], &["max"]);
    // Widened to float32 rows once (channels-first) or folded in place.
    bench_pool::<f16>(c, "f16", &all[..6], &["avg"]);
    // Powers read from a table of every float16's (or int8's).
    bench_pool::<f16>(c, "f16", &all[..6], &["lp1.5"]);
    // 2-, 3- and 4-norms summed in float32 where that settles the float16
    // (channels-last, `PixelSums::Norms`); rows widened to float32 once
    // (channels-first; p=2 and p=3 summed in float32 there too).
    bench_pool::<f16>(c, "f16", &all[..6], &["lp", "lp3", "lp4"]);
    bench_pool::<i8>(c, "i8", &basic, &["lp1.5"]);
    // Half zeros, as after ReLU.
    bench_pool_on::<f32>(c, "f32", &basic, &["lp1.5"], (relued, "/relu'd"));
    bench_pool_on::<f16>(c, "f16", &basic, &["lp3"], (relued, "/relu'd"));
    bench_pool_on::<f16>(c, "f16", &all[..6], &["lp4"], (fractions, "/fractions"));
    // Through the row cache (rows reduced once, then merged).
    bench_pool::<f16>(c, "f16", &[&CASES[8]], &["max"]);
    let dilated = [&CASES[10]];
    bench_pool::<f32>(c, "f32", &dilated, &["avg", "lp", "lp1.5"]);
    bench_pool::<f16>(c, "f16", &dilated, &["avg"]);
    // float16 averages and 1-norms from column sums (see `PixelSums`), and
    // float16 2-norms summed in float32 (channels-last) or from rows
    // widened once (channels-first, `widen_once`).
    let stride1: Vec<&Case> = CASES[11..].iter().collect();
    bench_pool::<f32>(c, "f32", &stride1, &["max", "avg", "lp"]);
    bench_pool::<f16>(c, "f16", &stride1, &["max", "avg", "lp1", "lp", "lp3"]);
    bench_pool::<i8>(c, "i8", &all[..6], &["max"]);
    bench_pool::<u8>(c, "u8", &basic, &["max"]);
    bench_pool::<i16>(c, "i16", &basic, &["max"]);
    bench_pool::<i32>(c, "i32", &basic, &["max"]);
    bench_pool::<i64>(c, "i64", &basic, &["max"]);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = kernels
}
criterion_main!(benches);
