//! Error handling and data safety, end to end (design: "Errors and data
//! safety").
//!
//! - Every file of the hostile corpus in `fixtures/bad/` (written by
//!   `fixtures/bad/gen_bad.py`, described by its `manifest.json`) is
//!   refused by `relu`, `pool` and `info`, from a path and from standard
//!   input, with exit status 1 or 2 and exactly one `cnnops: ` line on
//!   stderr naming the file and the problem; no panic, no output file, no
//!   stray temporary file.
//! - A failed run leaves an existing output byte-for-byte untouched; the
//!   same file as input and output works.
//! - Unreadable inputs, unwritable outputs, usage errors (exit 2, one
//!   line), and a closed output pipe (exit 0, silent).
//!
//! The corpus tests collect every problem before failing, so one run lists
//! every misbehaving file and command.

use crate::common::{cnnops, fixture, make_npy, npy_f32, read_npy, same_bits_f64};
use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Longest a run may take; a hang is a failure, never a stuck test.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The corpus must stay at least this large.
const MIN_ENTRIES: usize = 55;
/// Corpus files are small: lies about size live in the header.
const MAX_FILE_BYTES: u64 = 4096;
/// "One clear line": an error line longer than this is not clear (a parser
/// echoing a 3 KB header back is not a message).
const MAX_LINE_CHARS: usize = 1000;

// ---------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Entry {
    file: String,
    expect: String,
    why: String,
    pool_only: bool,
}

fn bad_dir() -> PathBuf {
    fixture("bad")
}

/// The path of a corpus file as passed on the command line (relative to
/// the package root, which is the working directory of every run).
fn bad_arg(file: &str) -> String {
    format!("fixtures/bad/{file}")
}

fn manifest() -> Vec<Entry> {
    let path = bad_dir().join("manifest.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (run `python3 fixtures/bad/gen_bad.py`)", path.display())
    });
    let value: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let list = value.as_array().expect("manifest.json is a list");
    list.iter()
        .map(|e| {
            let field = |k: &str| {
                e.get(k)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_else(|| panic!("manifest entry without string {k:?}: {e}"))
                    .to_string()
            };
            Entry {
                file: field("file"),
                expect: field("expect"),
                why: field("why"),
                pool_only: e.get("pool_only").and_then(serde_json::Value::as_bool).unwrap_or(false),
            }
        })
        .collect()
}

#[test]
fn manifest_covers_the_corpus() {
    let entries = manifest();
    assert!(
        entries.len() >= MIN_ENTRIES,
        "manifest has {} entries, at least {MIN_ENTRIES} expected",
        entries.len()
    );
    let mut listed = BTreeSet::new();
    for e in &entries {
        assert!(listed.insert(e.file.as_str()), "{} listed twice", e.file);
        assert!(!e.expect.is_empty(), "{}: empty expect", e.file);
        assert!(!e.why.is_empty() && !e.why.contains('\n'), "{}: why must be one line", e.file);
        let meta =
            fs::metadata(bad_dir().join(&e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert!(meta.is_file(), "{} is not a regular file", e.file);
        assert!(meta.len() < MAX_FILE_BYTES, "{} is {} bytes", e.file, meta.len());
    }
    let mut unlisted = Vec::new();
    for dirent in fs::read_dir(bad_dir()).expect("fixtures/bad exists") {
        let name = dirent.unwrap().file_name().to_string_lossy().into_owned();
        if name == "manifest.json" || name == "gen_bad.py" {
            continue;
        }
        if !listed.contains(name.as_str()) {
            unlisted.push(name);
        }
    }
    assert!(unlisted.is_empty(), "files in fixtures/bad/ not in the manifest: {unlisted:?}");
    assert!(entries.iter().any(|e| e.pool_only), "no pool_only entry (a 0-d array)");
    assert!(entries.iter().filter(|e| !e.pool_only).count() >= MIN_ENTRIES);
}

// ---------------------------------------------------------------------------
// Running cnnops and judging the outcome
// ---------------------------------------------------------------------------

/// One finished run, with the command line for reports.
struct Run {
    cmd: String,
    out: Output,
}

/// Runs `cnnops ARGS` in the package root, with `stdin` piped in when
/// given (an empty pipe otherwise).
fn run(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut c = cnnops();
    c.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).timeout(TIMEOUT);
    if let Some(bytes) = stdin {
        c.write_stdin(bytes.to_vec());
    }
    let out = c.output().expect("cnnops can be started");
    let mut cmd = format!("cnnops {}", args.join(" "));
    if stdin.is_some() {
        cmd.push_str(" < FILE");
    }
    Run { cmd, out }
}

/// stderr quoted for a report: escaped, shortened.
fn quote(s: &str) -> String {
    let q = format!("{s:?}");
    if q.chars().count() > 300 {
        format!("{}...\"", q.chars().take(300).collect::<String>())
    } else {
        q
    }
}

fn status_problem(out: &Output, codes: &[i32]) -> Option<String> {
    match out.status.code() {
        Some(c) if codes.contains(&c) => None,
        Some(101) => Some("exit status 101 (a Rust panic)".into()),
        Some(c) => Some(format!("exit status {c}, expected one of {codes:?}")),
        None => Some(format!("no exit status: killed by a signal or timed out ({})", out.status)),
    }
}

/// Everything wrong with a run that should fail with exactly one
/// `cnnops: ` line on stderr. `names`: the message must contain at least
/// one of them (the file as given). `expect`: it must contain every one
/// of them, case-insensitively.
fn failure_problems(out: &Output, codes: &[i32], names: &[&str], expect: &[&str]) -> Vec<String> {
    let mut p = Vec::new();
    p.extend(status_problem(out, codes));
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("panicked") {
        p.push(format!("stderr reports a panic: {}", quote(&err)));
    }
    let lines = err.split_terminator('\n').count();
    if lines != 1 || !err.ends_with('\n') {
        p.push(format!("stderr is not exactly one line ({lines} lines): {}", quote(&err)));
    }
    let line = err.strip_suffix('\n').unwrap_or(&err);
    if !line.starts_with("cnnops: ") {
        p.push(format!("stderr does not start with `cnnops: `: {}", quote(&err)));
    }
    if !names.iter().any(|n| line.contains(n)) {
        p.push(format!("message does not name {:?}: {}", names[0], quote(&err)));
    }
    let lower = line.to_lowercase();
    for word in expect {
        if !lower.contains(&word.to_lowercase()) {
            p.push(format!("message lacks {word:?}: {}", quote(&err)));
        }
    }
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        p.push(format!(
            "message carries the raw control character {c:?} (from the input) to the terminal: {}",
            quote(&err)
        ));
    }
    let n = line.chars().count();
    if n > MAX_LINE_CHARS {
        p.push(format!(
            "message is {n} characters long (more than {MAX_LINE_CHARS}): {}",
            quote(&err)
        ));
    }
    if !out.stdout.is_empty() {
        p.push(format!("{} bytes on stdout from a failed run", out.stdout.len()));
    }
    p
}

fn success_problems(out: &Output) -> Vec<String> {
    let mut p = Vec::new();
    p.extend(status_problem(out, &[0]));
    if !out.stderr.is_empty() {
        p.push(format!("stderr is not empty: {}", quote(&String::from_utf8_lossy(&out.stderr))));
    }
    p
}

/// Names in `dir` other than `allowed` (a temporary file left behind, a
/// partial output).
fn stray_files(dir: &Path, allowed: &[&str]) -> Vec<String> {
    let mut p = Vec::new();
    for dirent in fs::read_dir(dir).unwrap() {
        let name = dirent.unwrap().file_name().to_string_lossy().into_owned();
        if !allowed.contains(&name.as_str()) {
            let what = if name.ends_with(".cnnops-tmp") { "temporary file" } else { "file" };
            p.push(format!("{what} {name:?} left in the output directory"));
        }
    }
    p
}

/// Collected problems, reported all at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, context: &str, cmd: &str, found: Vec<String>) {
        for f in found {
            self.0.push(format!("{context}\n    `{cmd}`\n    {f}"));
        }
    }

    fn check(self) {
        assert!(self.0.is_empty(), "{} problem(s):\n{}", self.0.len(), self.0.join("\n"));
    }
}

/// Names that show a message is about standard input.
const STDIN_NAMES: &[&str] = &["cnnops: -:", "cnnops: -", "standard input", "stdin"];

// ---------------------------------------------------------------------------
// The corpus, through each command
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Relu,
    Pool,
    Info,
    Stdin,
}

fn corpus(via: Via) {
    let mut problems = Problems::default();
    for e in manifest() {
        let arg = bad_arg(&e.file);
        let tmp = tempfile::tempdir().unwrap();
        let out_path = tmp.path().join("out.npy");
        let out = out_path.to_str().unwrap();
        let bytes = fs::read(bad_dir().join(&e.file)).unwrap();
        // pool_only files are valid .npy: relu and info accept them, pool
        // (also through stdin) refuses them.
        let (r, should_fail, names): (Run, bool, Vec<&str>) = match via {
            Via::Relu => (run(&["relu", &arg, out], None), !e.pool_only, vec![&arg]),
            Via::Pool => (run(&["pool", "--size", "1", &arg, out], None), true, vec![&arg]),
            Via::Info => (run(&["info", &arg], None), !e.pool_only, vec![&arg]),
            Via::Stdin if e.pool_only => {
                (run(&["pool", "--size", "1", "-", out], Some(&bytes)), true, STDIN_NAMES.to_vec())
            }
            Via::Stdin => (run(&["relu", "-", out], Some(&bytes)), true, STDIN_NAMES.to_vec()),
        };
        let context = format!("{} ({})", e.file, e.why);
        let mut found = if should_fail {
            failure_problems(&r.out, &[1, 2], &names, &[&e.expect])
        } else {
            success_problems(&r.out)
        };
        let writes = via != Via::Info;
        let produced = writes && !should_fail;
        if produced && !out_path.is_file() {
            found.push("succeeded but wrote no output".into());
        }
        found.extend(stray_files(tmp.path(), if produced { &["out.npy"] } else { &[] }));
        problems.add(&context, &r.cmd, found);
    }
    problems.check();
}

#[test]
fn corpus_relu_refuses_every_bad_file() {
    corpus(Via::Relu);
}

#[test]
fn corpus_pool_refuses_every_bad_file() {
    corpus(Via::Pool);
}

#[test]
fn corpus_info_refuses_every_bad_file() {
    corpus(Via::Info);
}

#[test]
fn corpus_through_stdin_is_refused() {
    corpus(Via::Stdin);
}

#[test]
fn huge_shape_is_refused_fast() {
    // (1000000, 1000000) float32 is 4 TB; the file holds 16 bytes. The
    // file size check must refuse it before any allocation, so it is fast.
    let arg = bad_arg("shape_huge_plausible.npy");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.npy");
    let start = Instant::now();
    let r = run(&["relu", &arg, out.to_str().unwrap()], None);
    let took = start.elapsed();
    let mut problems = Problems::default();
    problems.add("huge shape", &r.cmd, failure_problems(&r.out, &[1], &[&arg], &["truncated"]));
    if took > Duration::from_secs(5) {
        problems.add("huge shape", &r.cmd, vec![format!("took {took:?}")]);
    }
    problems.check();
}

// ---------------------------------------------------------------------------
// Existing outputs are never damaged
// ---------------------------------------------------------------------------

/// A valid, recognisable output that a failed run must leave alone.
fn precious() -> Vec<u8> {
    npy_f32(&[3], &[7.0, 8.0, 9.0])
}

#[test]
fn failed_runs_leave_an_existing_output_untouched() {
    let mut problems = Problems::default();
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("out.npy");
    let out = out_path.to_str().unwrap();
    let keep = precious();

    let mut check = |context: &str, r: Run, extra_allowed: &[&str]| {
        let mut found = Vec::new();
        found.extend(status_problem(&r.out, &[1, 2]));
        match fs::read(&out_path) {
            Ok(b) if b == keep => {}
            Ok(b) => found.push(format!("out.npy changed ({} bytes now)", b.len())),
            Err(e) => found.push(format!("out.npy gone: {e}")),
        }
        let mut allowed = vec!["out.npy"];
        allowed.extend_from_slice(extra_allowed);
        found.extend(stray_files(tmp.path(), &allowed));
        problems.add(context, &r.cmd, found);
        fs::write(&out_path, &keep).unwrap();
    };

    fs::write(&out_path, &keep).unwrap();
    for e in manifest() {
        let arg = bad_arg(&e.file);
        if !e.pool_only {
            check(&e.file, run(&["relu", &arg, out], None), &[]);
            let bytes = fs::read(bad_dir().join(&e.file)).unwrap();
            check(&e.file, run(&["relu", "-", out], Some(&bytes)), &[]);
        }
        check(&e.file, run(&["pool", "--size", "1", &arg, out], None), &[]);
    }

    // Usage errors found once the header is read.
    let x2 = tmp.path().join("x2.npy");
    fs::write(&x2, npy_f32(&[4, 4], &[1.0; 16])).unwrap();
    let x3 = tmp.path().join("x3.npy");
    fs::write(&x3, npy_f32(&[4, 4, 2], &[1.0; 32])).unwrap();
    let i32_path = tmp.path().join("i32.npy");
    fs::write(&i32_path, make_npy("<i4", &[4], &[0; 16])).unwrap();
    let (x2, x3, i32s) = (x2.to_str().unwrap(), x3.to_str().unwrap(), i32_path.to_str().unwrap());
    let idx_path = tmp.path().join("idx.npy");
    let idx = idx_path.to_str().unwrap();
    let inputs = ["x2.npy", "x3.npy", "i32.npy"];
    let usage: Vec<Vec<&str>> = vec![
        vec!["pool", "--size", "5", x2, out],
        vec!["pool", "--size", "2", "--stride", "1", "--pad", "2", x2, out],
        vec!["pool", "--size", "2", "--layout", "NCHW", x3, out],
        vec!["relu", "--layout", "NCHW", x3, out],
        vec!["relu", "--alpha", "0.5", i32s, out],
        vec!["relu", "--max", "1.5", i32s, out],
        vec!["pool", "--size", "2", "--mode", "avg", "--indices", idx, x2, out],
        vec!["pool", "--size", "2", "--stride", "0", x2, out],
        vec!["pool", "--size", "2", x2, x3, out],
    ];
    for args in usage {
        check("usage error", run(&args, None), &inputs);
    }
    problems.check();
}

#[test]
fn failed_run_in_place_leaves_the_input_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x.npy");
    let bytes = npy_f32(&[4, 4], &[1.0; 16]);
    let ints = make_npy("<i4", &[4], &[1; 16]);
    let mut problems = Problems::default();
    for (data, args) in [
        (&bytes, vec!["pool", "--size", "5"]),
        (&bytes, vec!["pool", "--size", "2", "--layout", "NCHW"]),
        (&ints, vec!["relu", "--alpha", "0.5"]),
    ] {
        fs::write(&x, data).unwrap();
        let xs = x.to_str().unwrap();
        let mut full = args.clone();
        full.extend([xs, xs]);
        let r = run(&full, None);
        let mut found = failure_problems(&r.out, &[2], &[xs], &[]);
        if fs::read(&x).unwrap() != *data {
            found.push("the input (also the output) was changed".into());
        }
        found.extend(stray_files(tmp.path(), &["x.npy"]));
        problems.add("in place", &r.cmd, found);
    }
    problems.check();
}

// ---------------------------------------------------------------------------
// Same file as input and output
// ---------------------------------------------------------------------------

#[test]
fn relu_in_place_works() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x.npy");
    let values = [-1.5f32, 2.0, -0.0, 0.0, 3.25, -4.0, f32::NAN, f32::NEG_INFINITY];
    fs::write(&x, npy_f32(&[2, 4], &values)).unwrap();
    let xs = x.to_str().unwrap();
    let r = run(&["relu", xs, xs], None);
    assert!(success_problems(&r.out).is_empty(), "{}: {:?}", r.cmd, success_problems(&r.out));
    let got = read_npy(&x);
    assert_eq!((got.descr.as_str(), got.shape.as_slice()), ("<f4", &[2, 4][..]));
    let want = [0.0, 2.0, -0.0, 0.0, 3.25, 0.0, f64::NAN, 0.0];
    assert!(same_bits_f64(&got.to_f64(), &want), "{:?}", got.to_f64());
    assert!(stray_files(tmp.path(), &["x.npy"]).is_empty());

    // Big-endian input (converted, not mapped) in place, with --max.
    let be: Vec<u8> = [-1.0f32, 5.0, 9.0].iter().flat_map(|v| v.to_be_bytes()).collect();
    fs::write(&x, make_npy(">f4", &[3], &be)).unwrap();
    let r = run(&["relu", "--max", "6", xs, xs], None);
    assert!(success_problems(&r.out).is_empty(), "{}: {:?}", r.cmd, success_problems(&r.out));
    let got = read_npy(&x);
    assert_eq!(got.descr, "<f4");
    assert_eq!(got.to_f64(), vec![0.0, 5.0, 6.0]);
    assert!(stray_files(tmp.path(), &["x.npy"]).is_empty());
}

#[test]
fn pool_in_place_works() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x.npy");
    let values: Vec<f32> = (0..16).map(|i| ((i * 7) % 16) as f32 - 8.0).collect();
    fs::write(&x, npy_f32(&[4, 4], &values)).unwrap();
    let xs = x.to_str().unwrap();
    let r = run(&["pool", "--size", "2", xs, xs], None);
    assert!(success_problems(&r.out).is_empty(), "{}: {:?}", r.cmd, success_problems(&r.out));
    let got = read_npy(&x);
    assert_eq!(got.shape, vec![2, 2]);
    let at = |r: usize, c: usize| values[r * 4 + c] as f64;
    let want: Vec<f64> = [(0, 0), (0, 2), (2, 0), (2, 2)]
        .iter()
        .map(|&(r, c)| at(r, c).max(at(r, c + 1)).max(at(r + 1, c)).max(at(r + 1, c + 1)))
        .collect();
    assert_eq!(got.to_f64(), want);
    assert!(stray_files(tmp.path(), &["x.npy"]).is_empty());
}

// ---------------------------------------------------------------------------
// Unreadable inputs, unwritable outputs
// ---------------------------------------------------------------------------

#[test]
fn missing_input_and_directory_input_fail_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir_input = tmp.path().join("x.npy");
    fs::create_dir(&dir_input).unwrap();
    let missing = tmp.path().join("missing.npy");
    let out_path = tmp.path().join("out.npy");
    let (d, m, out) =
        (dir_input.to_str().unwrap(), missing.to_str().unwrap(), out_path.to_str().unwrap());
    let mut problems = Problems::default();
    for (input, expect) in [(m, vec![]), (d, vec!["directory"])] {
        for args in [
            vec!["relu", input, out],
            vec!["pool", "--size", "1", input, out],
            vec!["relu", "--dry-run", input],
            vec!["info", input],
        ] {
            let r = run(&args, None);
            let mut found = failure_problems(&r.out, &[1], &[input], &expect);
            found.extend(stray_files(tmp.path(), &["x.npy"]));
            if fs::read_dir(&dir_input).unwrap().next().is_some() {
                found.push("something was written inside the input directory".into());
            }
            problems.add("unreadable input", &r.cmd, found);
        }
    }
    problems.check();
}

#[test]
fn unwritable_output_fails_with_exit_1_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let input_path = tmp.path().join("in.npy");
    fs::write(&input_path, npy_f32(&[4, 4], &[1.0; 16])).unwrap();
    let input = input_path.to_str().unwrap();
    let nodir_out = tmp.path().join("nodir").join("out.npy");
    let nodir_out = nodir_out.to_str().unwrap();
    let nodir = tmp.path().join("nodir");
    let nodir_s = nodir.to_str().unwrap();
    let out_dir = tmp.path().join("outdir.npy");
    fs::create_dir(&out_dir).unwrap();
    let out_dir_s = out_dir.to_str().unwrap();
    let out_path = tmp.path().join("out.npy");
    let out = out_path.to_str().unwrap();
    let nodir_idx = tmp.path().join("nodir").join("idx.npy");
    let nodir_idx = nodir_idx.to_str().unwrap();

    let mut problems = Problems::default();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["relu", input, nodir_out], nodir_s),
        (vec!["pool", "--size", "2", input, nodir_out], nodir_s),
        (vec!["relu", input, out_dir_s], out_dir_s),
        (vec!["pool", "--size", "2", input, out_dir_s], out_dir_s),
        (vec!["pool", "--size", "2", "--indices", nodir_idx, input, out], nodir_s),
    ];
    for (args, name) in cases {
        let r = run(&args, None);
        let mut found = failure_problems(&r.out, &[1], &[name], &[]);
        found.extend(stray_files(tmp.path(), &["in.npy", "outdir.npy"]));
        if nodir.exists() {
            found.push("the missing output directory was created".into());
        }
        if fs::read_dir(&out_dir).unwrap().next().is_some() {
            found.push("something was written inside the directory named as output".into());
        }
        problems.add("unwritable output", &r.cmd, found);
    }

    // The values output is fine but the indices output is not: an existing
    // values file is left untouched.
    fs::write(&out_path, precious()).unwrap();
    let r = run(&["pool", "--size", "2", "--indices", nodir_idx, input, out], None);
    let mut found = failure_problems(&r.out, &[1], &[nodir_s], &[]);
    if fs::read(&out_path).unwrap() != precious() {
        found.push("out.npy was replaced although the run failed".into());
    }
    found.extend(stray_files(tmp.path(), &["in.npy", "outdir.npy", "out.npy"]));
    problems.add("unwritable indices output", &r.cmd, found);
    problems.check();
}

#[test]
fn full_standard_output_fails_with_exit_1() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full on this system
    };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.npy");
    fs::write(&input, npy_f32(&[64, 64], &[1.0; 4096])).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cnnops"))
        .args(["relu", input.to_str().unwrap(), "-"])
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let found = failure_problems(&out, &[1], STDIN_NAMES, &[]);
    assert!(found.is_empty(), "cnnops relu in.npy - > /dev/full: {found:#?}");
}

// ---------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------

/// Everything wrong with a usage error: exit 2, no panic, one substantive
/// line (clap's blank line and "For more information, try '--help'."
/// footer are tolerated), starting `cnnops: ` or clap's `error: `, holding
/// every word of `expect`.
fn usage_problems(out: &Output, expect: &[&str]) -> Vec<String> {
    let mut p = Vec::new();
    p.extend(status_problem(out, &[2]));
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("panicked") {
        p.push(format!("stderr reports a panic: {}", quote(&err)));
    }
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("For more information"))
        .collect();
    if lines.len() != 1 {
        p.push(format!("{} lines of error, expected one: {}", lines.len(), quote(&err)));
    }
    let first = lines.first().copied().unwrap_or("");
    if !(first.starts_with("cnnops: ") || first.starts_with("error: ")) {
        p.push(format!("first line is not an error line: {}", quote(&err)));
    }
    for word in expect {
        if !first.to_lowercase().contains(&word.to_lowercase()) {
            p.push(format!("error line lacks {word:?}: {}", quote(&err)));
        }
    }
    if !out.stdout.is_empty() {
        p.push(format!("{} bytes on stdout", out.stdout.len()));
    }
    p
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (x2, x3, i32s, x0, out, idx) =
        (p("x2.npy"), p("x3.npy"), p("i32.npy"), p("x0.npy"), p("out.npy"), p("idx.npy"));
    fs::write(&x2, npy_f32(&[4, 4], &[1.0; 16])).unwrap();
    fs::write(&x3, npy_f32(&[4, 4, 2], &[1.0; 32])).unwrap();
    fs::write(&i32s, make_npy("<i4", &[4, 4], &[0; 64])).unwrap();
    fs::write(&x0, npy_f32(&[], &[1.0])).unwrap();
    let (x2, x3, i32s, x0, out, idx) =
        (x2.as_str(), x3.as_str(), i32s.as_str(), x0.as_str(), out.as_str(), idx.as_str());

    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["pool", "--size", "2", "--stride", "0", x2, out], vec!["stride"]),
        (vec!["pool", "--size", "3x0", x2, out], vec!["size"]),
        (vec!["pool", "--size", "0", x2, out], vec!["size"]),
        (vec!["pool", "--size", "2", "--dilation", "0", x2, out], vec!["dilation"]),
        (vec!["pool", "--size", "5", x2, out], vec![x2, "axis H"]),
        (vec!["pool", "--size", "2x5", x2, out], vec![x2, "axis W"]),
        (vec!["pool", "--size", "5", "--stride", "1", x3, out], vec![x3, "larger"]),
        (vec!["pool", "--size", "2", "--layout", "NCHW", x3, out], vec![x3, "NCHW"]),
        (vec!["relu", "--layout", "NCHW", x3, out], vec![x3, "NCHW"]),
        (vec!["pool", "--size", "2", "--layout", "NHXC", x3, out], vec!["'X'"]),
        (vec!["relu", "--alpha", "0.1", i32s, out], vec![i32s, "--alpha"]),
        (vec!["relu", "--max", "-1", x2, out], vec!["--max"]),
        (vec!["relu", "--max=-1", x2, out], vec![x2, "--max"]),
        (
            vec!["pool", "--size", "2", "--indices", idx, "--mode", "avg", x2, out],
            vec!["--indices"],
        ),
        (
            vec!["pool", "--size", "2", "--count-include-pad", "--mode", "max", x2, out],
            vec!["--count-include-pad"],
        ),
        (vec!["pool", "--size", "2", "--p", "3", "--mode", "max", x2, out], vec!["--p"]),
        (vec!["pool", "--size", "2", "--stride", "1", "--pad", "2", x2, out], vec![x2, "padding"]),
        (
            vec!["pool", "--size", "2", "--pad-begin", "3", "--pad-end", "0", x2, out],
            vec![x2, "padding"],
        ),
        (vec!["pool", "--size", "2", "--ceil", "--pad", "same", x2, out], vec!["--ceil"]),
        (vec!["pool", "--size", "2", "--indices", out, x2, out], vec!["--indices"]),
        (vec!["pool", "--size", "1", x0, out], vec![x0]),
        (vec!["pool", "--size", "2", x2, x3, out], vec!["--out-dir"]),
        (vec!["relu", x2, x3, out], vec!["--out-dir"]),
        (vec!["relu", x2], vec!["OUTPUT"]),
    ];
    let mut problems = Problems::default();
    for (args, expect) in cases {
        let r = run(&args, None);
        let mut found = usage_problems(&r.out, &expect);
        found.extend(stray_files(tmp.path(), &["x2.npy", "x3.npy", "i32.npy", "x0.npy"]));
        problems.add("usage error", &r.cmd, found);
    }
    problems.check();
}

// ---------------------------------------------------------------------------
// A closed output pipe is not an error
// ---------------------------------------------------------------------------

/// Runs cnnops with stdout to a pipe, reads `keep` bytes, closes the pipe,
/// and returns the exit status and stderr. `stdin` is fed from a thread.
fn run_into_closed_pipe(args: &[&str], stdin: Option<Vec<u8>>, keep: usize) -> (Output, Vec<u8>) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cnnops"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        // The child stops reading once its output is gone: ignore EPIPE.
        std::thread::spawn(move || drop(pipe.write_all(&bytes)))
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let mut stdout = child.stdout.take().unwrap();
    // Read up to `keep` bytes (fewer if cnnops fails before writing), then
    // close the read end.
    let mut head = Vec::with_capacity(keep);
    let _ = (&mut stdout).take(keep as u64).read_to_end(&mut head);
    drop(stdout);
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    let stderr = err_reader.join().unwrap();
    (Output { status, stdout: Vec::new(), stderr }, head)
}

#[test]
fn closed_output_pipe_exits_0_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.npy");
    // 1 Mi float32 values: 4 MiB, far more than a pipe buffer.
    let values: Vec<f32> = (0..1 << 20).map(|i| (i % 97) as f32 - 48.0).collect();
    let bytes = npy_f32(&[1024, 1024], &values);
    fs::write(&big, &bytes).unwrap();
    let b = big.to_str().unwrap();
    let mut problems = Problems::default();
    for (args, stdin) in [
        (vec!["relu", b, "-"], None),
        (vec!["pool", "--size", "1", b, "-"], None),
        (vec!["relu", "-", "-"], Some(bytes.clone())),
    ] {
        let cmd = format!("cnnops {} | head -c 10", args.join(" "));
        let (out, head) = run_into_closed_pipe(&args, stdin, 10);
        let mut found = success_problems(&out);
        if !head.starts_with(b"\x93NUMPY") {
            found.push(format!("output does not start with the .npy magic: {head:?}"));
        }
        problems.add("closed pipe", &cmd, found);
    }
    problems.check();
}
