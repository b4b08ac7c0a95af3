//! Reference fixtures: every case of `fixtures/cases.json` run through the
//! binary and compared with the output of an independent NumPy reference
//! (`fixtures/gen_fixtures.py`, which writes `fixtures/cases/<name>/`).
//!
//! Each case holds `input.npy`, `expected.npy` and, for `--indices` cases,
//! `expected_indices.npy`. The test runs `cnnops ARGS [--indices IDX]
//! input.npy OUT` in a temporary directory and checks the output's descr
//! and shape, then the values: `exact` cases bit for bit (NaN matches NaN,
//! -0.0 differs from 0.0; integer and bool data byte for byte, so 64-bit
//! integers beyond 2^53 count), `close` cases (avg, lp) to a relative
//! 1e-6. Indices must match exactly. All failures are collected and
//! reported together, by case name.
//!
//! A second test checks that the manifest keeps covering every dtype, every
//! mode and the input storage variants, so coverage cannot shrink silently.

use crate::common::{self, Npy};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The manifest must keep at least this many cases.
const MIN_CASES: usize = 100;

/// Every dtype, as the descr without its byte-order character.
const DTYPES: [&str; 12] = ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"];
const FLOATS: [&str; 3] = ["f2", "f4", "f8"];
const MODES: [&str; 4] = ["max", "avg", "lp", "min"];
/// Layouts the cases must exercise (rank defaults included).
const LAYOUTS: [&str; 10] =
    ["W", "HW", "HWC", "NHWC", "NDHWC", "CHW", "NCHW", "NCW", "NCDHW", "HWCN"];

/// One entry of `fixtures/cases.json`.
#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    args: Vec<String>,
    compare: String,
    indices: bool,
}

fn manifest() -> Vec<Case> {
    let path = common::fixture("cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (run python3 fixtures/gen_fixtures.py)", path.display())
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn case_dir(case: &Case) -> PathBuf {
    common::fixture(&format!("cases/{}", case.name))
}

/// The value of `--flag` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn has(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// The descr without its byte-order character: `>f4` -> `f4`.
fn bare_descr(descr: &str) -> &str {
    descr.trim_start_matches(['<', '>', '|', '='])
}

fn is_float_descr(descr: &str) -> bool {
    FLOATS.contains(&bare_descr(descr))
}

/// Reads an `.npy` file, turning a panic of the parser into an error.
fn read(path: &Path) -> Result<Npy, String> {
    std::panic::catch_unwind(|| common::read_npy(path)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("cannot read {}: {msg}", path.display())
    })
}

/// The first few positions where `got` and `want` differ.
fn first_differences(want: &[f64], got: &[f64], same: impl Fn(f64, f64) -> bool) -> String {
    let diffs: Vec<String> = want
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (w, g))| !same(**w, **g))
        .take(6)
        .map(|(i, (w, g))| format!("[{i}] expected {w:?} got {g:?}"))
        .collect();
    let total = want.iter().zip(got).filter(|(w, g)| !same(**w, **g)).count();
    format!("{total} of {} values differ: {}", want.len(), diffs.join(", "))
}

fn compare_values(what: &str, compare: &str, want: &Npy, got: &Npy) -> Result<(), String> {
    if got.descr != want.descr {
        return Err(format!("{what}: descr {} (expected {})", got.descr, want.descr));
    }
    if got.shape != want.shape {
        return Err(format!("{what}: shape {:?} (expected {:?})", got.shape, want.shape));
    }
    if got.fortran {
        return Err(format!("{what}: written in Fortran order"));
    }
    let (w, g) = (want.to_f64(), got.to_f64());
    match compare {
        "exact" => {
            if !common::same_bits_f64(&w, &g) {
                let same =
                    |a: f64, b: f64| (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits();
                return Err(format!("{what}: {}", first_differences(&w, &g, same)));
            }
            // Integers (and bools) byte for byte: to_f64 rounds beyond 2^53.
            if !is_float_descr(&want.descr) && got.data != want.data {
                let n = want.data.len().min(got.data.len());
                let at = (0..n).find(|&i| want.data[i] != got.data[i]).unwrap_or(n);
                return Err(format!("{what}: data bytes differ from byte {at}"));
            }
            Ok(())
        }
        "close" => {
            if !common::close(&w, &g, 1e-6) {
                let same = |a: f64, b: f64| common::close(&[a], &[b], 1e-6);
                return Err(format!("{what}: {}", first_differences(&w, &g, same)));
            }
            Ok(())
        }
        other => Err(format!("unknown compare mode {other:?} in the manifest")),
    }
}

/// How a case's input reaches the binary.
#[derive(Clone, Copy, PartialEq)]
enum Feed {
    /// As a file: the memory-mapped path, whole-array batches.
    File,
    /// Through standard input with batches of a few elements
    /// (`CNNOPS_TEST_BATCH`), so every case crosses many band and batch
    /// boundaries, as a large input does.
    StdinTinyBatches,
}

fn run_case(case: &Case, tmp: &Path, feed: Feed, no_f16c: bool) -> Result<(), String> {
    let dir = case_dir(case);
    let input = dir.join("input.npy");
    let out = tmp.join(format!("{}.out.npy", case.name));
    let idx = tmp.join(format!("{}.idx.npy", case.name));
    let mut cmd = common::cnnops();
    cmd.args(&case.args);
    if no_f16c {
        cmd.env("CNNOPS_TEST_NO_F16C", "1");
    }
    if case.indices {
        cmd.arg("--indices").arg(&idx);
    }
    match feed {
        Feed::File => {
            cmd.arg(&input).arg(&out);
        }
        Feed::StdinTinyBatches => {
            let bytes = std::fs::read(&input).map_err(|e| format!("{e}"))?;
            cmd.env("CNNOPS_TEST_BATCH", "3").write_stdin(bytes).arg("-").arg(&out);
        }
    }
    let output = cmd.output().map_err(|e| format!("cannot run cnnops: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let want = read(&dir.join("expected.npy"))?;
    let got = read(&out)?;
    let mut problems = vec![];
    if let Err(e) = compare_values("output", &case.compare, &want, &got) {
        problems.push(e);
    }
    if case.indices {
        let want = read(&dir.join("expected_indices.npy"))?;
        let got = read(&idx)?;
        if want.descr != "<i8" {
            problems.push(format!("expected_indices.npy has descr {}", want.descr));
        }
        if let Err(e) = compare_values("indices", "exact", &want, &got) {
            problems.push(e);
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[test]
fn fixtures_match_numpy_reference() {
    check_all(Feed::File, false);
}

#[test]
fn fixtures_match_numpy_reference_streamed_in_tiny_batches() {
    check_all(Feed::StdinTinyBatches, false);
}

/// The float16 cases with the software conversions (`CNNOPS_TEST_NO_F16C`),
/// the paths CPUs without F16C take, whole and in tiny batches.
#[test]
fn float16_fixtures_match_numpy_reference_without_f16c() {
    check_all(Feed::File, true);
    check_all(Feed::StdinTinyBatches, true);
}

/// Runs every case (only the float16 ones if `no_f16c`, with the software
/// conversions) and reports every failure.
fn check_all(feed: Feed, no_f16c: bool) {
    let mut cases = manifest();
    assert!(cases.len() > MIN_CASES, "only {} cases in fixtures/cases.json", cases.len());
    if no_f16c {
        cases.retain(|c| covers(c).dtype == "f2");
        assert!(cases.len() >= 15, "only {} float16 cases", cases.len());
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    let mut ran = 0;
    for case in &cases {
        let result = run_case(case, tmp.path(), feed, no_f16c);
        ran += 1;
        if let Err(e) = result {
            failures.push(format!("{} (cnnops {}): {e}", case.name, case.args.join(" ")));
        }
    }
    assert_eq!(ran, cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} reference cases failed:\n{}",
        failures.len(),
        ran,
        failures.join("\n")
    );
}

/// What one case exercises, as read from its arguments and input file.
#[derive(Debug)]
struct Covers {
    dtype: String,
    rank: usize,
    fortran: bool,
    big_endian: bool,
    version: u8,
}

fn covers(case: &Case) -> Covers {
    let path = case_dir(case).join("input.npy");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = common::parse_npy(&bytes);
    Covers {
        dtype: bare_descr(&npy.descr).to_string(),
        rank: npy.shape.len(),
        fortran: npy.fortran,
        big_endian: npy.descr.starts_with('>'),
        version: bytes[6],
    }
}

#[test]
fn fixtures_manifest_covers_every_dtype_and_mode() {
    let cases = manifest();
    assert!(cases.len() > MIN_CASES, "only {} cases in fixtures/cases.json", cases.len());
    let mut names = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for case in &cases {
        assert!(names.insert(case.name.clone()), "duplicate case {}", case.name);
        assert!(
            ["exact", "close"].contains(&case.compare.as_str()),
            "{}: compare {:?}",
            case.name,
            case.compare
        );
        let dir = case_dir(case);
        assert!(dir.join("expected.npy").is_file(), "{}: no expected.npy", case.name);
        assert_eq!(
            dir.join("expected_indices.npy").is_file(),
            case.indices,
            "{}: expected_indices.npy present iff indices",
            case.name
        );
        assert!(!has(&case.args, "--indices"), "{}: the test adds --indices itself", case.name);
        let c = covers(case);
        let a = &case.args;
        match a.first().map(String::as_str) {
            Some("relu") => {
                let variant = match (has(a, "--alpha"), has(a, "--max")) {
                    (false, false) => "relu",
                    (true, false) => "leaky",
                    (false, true) => "clipped",
                    (true, true) => "leaky+clipped",
                };
                seen.insert(format!("relu {variant} {}", c.dtype));
            }
            Some("pool") => {
                let mode = flag(a, "--mode").unwrap_or("max");
                seen.insert(format!("pool {mode} {}", c.dtype));
                seen.insert(format!("pool {mode}"));
                if has(a, "--global") {
                    seen.insert(format!("global {mode}"));
                }
                if case.indices {
                    seen.insert(format!("indices {}", flag(a, "--indices-scope").unwrap_or("map")));
                }
                let layout = flag(a, "--layout")
                    .map(str::to_string)
                    .unwrap_or_else(|| ["W", "HW", "HWC", "NHWC", "NDHWC"][c.rank - 1].to_string());
                seen.insert(format!("layout {layout}"));
                for f in
                    ["--pad", "--pad-begin", "--dilation", "--ceil", "--count-include-pad", "--p"]
                {
                    if has(a, f) {
                        seen.insert(format!("flag {f}"));
                    }
                }
                if let Some(p) = flag(a, "--pad")
                    && ["same", "same-lower", "valid"].contains(&p)
                {
                    seen.insert(format!("pad {p}"));
                }
            }
            other => panic!("{}: unknown subcommand {other:?}", case.name),
        }
        if c.fortran {
            seen.insert("input fortran".into());
        }
        if c.big_endian {
            seen.insert("input big-endian".into());
        }
        seen.insert(format!("input version {}", c.version));
    }

    let mut required: Vec<String> = vec![];
    for d in DTYPES {
        required.push(format!("pool max {d}"));
        required.push(format!("relu relu {d}"));
        required.push(format!("relu clipped {d}"));
        if d != "b1" && !FLOATS.contains(&d) {
            required.push(format!("pool avg {d}"));
        }
    }
    for d in FLOATS {
        required.push(format!("relu leaky {d}"));
        required.push(format!("pool min {d}"));
        required.push(format!("pool avg {d}"));
        required.push(format!("pool lp {d}"));
    }
    for m in MODES {
        required.push(format!("pool {m}"));
        required.push(format!("global {m}"));
    }
    for l in LAYOUTS {
        required.push(format!("layout {l}"));
    }
    for s in [
        "indices map",
        "indices tensor",
        "flag --pad",
        "flag --pad-begin",
        "flag --dilation",
        "flag --ceil",
        "flag --count-include-pad",
        "flag --p",
        "pad same",
        "pad same-lower",
        "pad valid",
        "input fortran",
        "input big-endian",
        "input version 1",
        "input version 2",
        "input version 3",
    ] {
        required.push(s.to_string());
    }
    let missing: Vec<&String> = required.iter().filter(|r| !seen.contains(*r)).collect();
    assert!(missing.is_empty(), "fixtures/cases.json no longer covers: {missing:?}");
}
