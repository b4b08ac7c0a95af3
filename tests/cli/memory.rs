//! Memory bounds: a file is processed through its memory map and a pipe as
//! a stream, both with peak memory far below the input's size, and both
//! give the same bytes as each other and as a reference computed here.
//!
//! Peak memory is sampled from `/proc/<pid>/status` while the process runs
//! (Linux only): `RssAnon`, the memory cnnops allocates. Mapped file pages
//! are not anonymous, and neither are the binary's own pages: the resident
//! set (`VmHWM`) of a debug build holds about 20 MiB of them, which grows
//! with the code, and it put the pipe case at 32.0-33.3 MiB against its
//! 32 MiB bound with 13 MiB allocated.

use super::common::{cnnops, make_npy};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// 256 MiB of float32: (1, 2048, 8192, 4) NHWC.
const SHAPE: [usize; 4] = [1, 2048, 8192, 4];
const BYTES: usize = 2048 * 8192 * 4 * 4;
/// The bound: an eighth of the input. cnnops' own working set is a band of
/// at most 2 Mi input elements plus three output batches, about 16 MiB for
/// float32 whatever the input size, plus the binary itself.
const LIMIT_KB: u64 = (BYTES / 8 / 1024) as u64;

fn value(i: usize) -> f32 {
    ((i.wrapping_mul(2_654_435_761) >> 7) % 2001) as f32 - 1000.0
}

fn data_bytes(range: std::ops::Range<usize>) -> Vec<u8> {
    range.flat_map(|i| value(i).to_le_bytes()).collect()
}

fn header() -> Vec<u8> {
    make_npy("<f4", &SHAPE, &[])
}

/// Samples `field` (kB) of the child's /proc status until it exits and
/// returns the largest value seen.
fn peak_kb(child: &mut Child, field: &str) -> u64 {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            for line in text.lines() {
                if let Some(v) = line.strip_prefix(field) {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kb);
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn write_input(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&header()).unwrap();
    let n = BYTES / 4;
    for start in (0..n).step_by(1 << 20) {
        f.write_all(&data_bytes(start..(start + (1 << 20)).min(n))).unwrap();
    }
    f.flush().unwrap();
}

/// Checks a 2x2/2 max pooling of the input, at a sample of positions,
/// against a direct computation.
fn check_pooled(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let y = super::common::parse_npy(&bytes);
    assert_eq!(y.shape, vec![1, 1024, 4096, 4]);
    let (w, c) = (SHAPE[2], SHAPE[3]);
    for k in (0..1024 * 4096 * 4).step_by(9973) {
        let (i, j, ch) = (k / (4096 * 4), (k / 4) % 4096, k % 4);
        let mut m = f32::NEG_INFINITY;
        for di in 0..2 {
            for dj in 0..2 {
                m = m.max(value(((2 * i + di) * w + 2 * j + dj) * c + ch));
            }
        }
        let got = f32::from_le_bytes(y.data[k * 4..k * 4 + 4].try_into().unwrap());
        assert_eq!(got, m, "output element {k}");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn file_input_is_mapped_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.npy");
    write_input(&input);
    for (args, out) in [(&["relu"][..], "relu.npy"), (&["pool", "--size", "2"][..], "pool.npy")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cnnops"))
            .args(args)
            .arg(&input)
            .arg(dir.path().join(out))
            .spawn()
            .unwrap();
        let peak = peak_kb(&mut child, "RssAnon:");
        assert!(child.wait().unwrap().success());
        assert!(peak > 0, "no samples of RssAnon");
        assert!(peak < LIMIT_KB, "{args:?}: peak RssAnon {peak} kB, limit {LIMIT_KB} kB");
    }
    check_pooled(&dir.path().join("pool.npy"));
    let relu = std::fs::read(dir.path().join("relu.npy")).unwrap();
    let start = relu.len() - BYTES;
    for k in (0..BYTES / 4).step_by(7919) {
        let got = f32::from_le_bytes(relu[start + 4 * k..start + 4 * k + 4].try_into().unwrap());
        assert_eq!(got, value(k).max(0.0), "relu element {k}");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn pipe_input_is_streamed_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file_in = dir.path().join("big.npy");
    write_input(&file_in);
    let via_file = dir.path().join("file.npy");
    cnnops().args(["pool", "--size", "2"]).arg(&file_in).arg(&via_file).assert().success();

    let via_pipe = dir.path().join("pipe.npy");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cnnops"))
        .args(["pool", "--size", "2", "-"])
        .arg(&via_pipe)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed the stream from a thread, generated on the fly: the test itself
    // never holds the input either.
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(&header()).unwrap();
        let n = BYTES / 4;
        for start in (0..n).step_by(1 << 18) {
            stdin.write_all(&data_bytes(start..(start + (1 << 18)).min(n))).unwrap();
        }
    });
    let peak = peak_kb(&mut child, "RssAnon:");
    feeder.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(peak > 0, "no samples of RssAnon");
    assert!(peak < LIMIT_KB, "peak RssAnon {peak} kB, limit {LIMIT_KB} kB");
    assert!(
        std::fs::read(&via_pipe).unwrap() == std::fs::read(&via_file).unwrap(),
        "pipe and file outputs differ"
    );
    check_pooled(&via_pipe);
}
