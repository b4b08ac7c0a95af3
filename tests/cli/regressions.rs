//! Regression tests for defects found in review, one per finding.

use super::common::{cnnops, make_npy, npy_f32, read_npy};
use std::path::Path;

fn temps_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".cnnops-tmp"))
        .count()
}

fn one_line_usage_error(args: &[&str], dir: &Path, needle: &str) {
    let run = cnnops().current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

/// An output directory that contains the walked directory (or is it) used
/// to skip every input and report success.
#[test]
fn out_dir_containing_the_inputs_processes_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("acts/sub")).unwrap();
    std::fs::write(dir.path().join("acts/sub/x.npy"), npy_f32(&[2, 2], &[1.0, -2.0, 3.0, -4.0]))
        .unwrap();
    let run = cnnops()
        .current_dir(dir.path())
        .args(["pool", "--size", "2", "--out-dir", ".", "acts"])
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("1 file, 1 written"));
    assert_eq!(read_npy(&dir.path().join("sub/x.npy")).to_f64(), vec![3.0]);
    // In place: the output directory is the walked one.
    cnnops().current_dir(dir.path()).args(["relu", "--out-dir", "acts", "acts"]).assert().success();
    assert_eq!(read_npy(&dir.path().join("acts/sub/x.npy")).to_f64(), vec![1.0, 0.0, 3.0, 0.0]);
}

/// A header claiming 2^35 elements followed by 1000 bytes: through a pipe
/// the band buffer was sized from the header (abort, rc 134, stray temp).
#[test]
fn lying_header_on_stdin_is_truncated_data_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let lie = make_npy("<f4", &[2, 1 << 34], &[0u8; 1000]);
    for args in [&["pool", "--size", "2", "-"][..], &["relu", "-"]] {
        let out = dir.path().join("o.npy");
        let run = cnnops().args(args).arg(&out).write_stdin(lie.clone()).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("truncated data"), "{stderr}");
        assert!(!out.exists());
        assert_eq!(temps_in(dir.path()), 0);
    }
    // The same inside an .npz.
    let npz = dir.path().join("lie.npz");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
        zip.start_file("a.npy", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(&lie).unwrap();
        zip.finish().unwrap();
    }
    let run = cnnops()
        .args(["pool", "--size", "2"])
        .arg(&npz)
        .arg(dir.path().join("o.npz"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(temps_in(dir.path()), 0);
}

/// Huge strides and paddings overflowed (panic) or allocated memory in
/// proportion to the stride.
#[test]
fn huge_stride_and_padding() {
    let dir = tempfile::tempdir().unwrap();
    let vals: Vec<f32> = (0..8 * 8 * 3).map(|v| v as f32).collect();
    std::fs::write(dir.path().join("a.npy"), npy_f32(&[8, 8, 3], &vals)).unwrap();
    one_line_usage_error(
        &["pool", "--size", "2", "--stride", "18446744073709551615", "a.npy", "o.npy"],
        dir.path(),
        "too large",
    );
    one_line_usage_error(
        &[
            "pool",
            "--size",
            "3",
            "--pad-begin",
            "9223372036854775808",
            "--pad-end",
            "0",
            "a.npy",
            "o.npy",
        ],
        dir.path(),
        "too large",
    );
    cnnops()
        .current_dir(dir.path())
        .args(["pool", "--size", "2", "--stride", "100000000", "a.npy", "o.npy"])
        .assert()
        .success();
    let y = read_npy(&dir.path().join("o.npy"));
    assert_eq!(y.shape, vec![1, 1, 3]);
    // max of the top-left 2x2 window, per channel: cell (1, 1)
    assert_eq!(y.to_f64(), vec![27.0, 28.0, 29.0]);
}

/// --indices with an .npz kept only the last member's indices; --indices
/// spelled differently from the output overwrote it; .npz-named outputs
/// of a .npy input held a plain .npy.
#[test]
fn indices_and_npz_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.npy"), npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0])).unwrap();
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(dir.path().join("z.npz")).unwrap());
        for name in ["a.npy", "b.npy"] {
            zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(&npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0])).unwrap();
        }
        zip.finish().unwrap();
    }
    one_line_usage_error(
        &["pool", "--size", "2", "--indices", "idx.npy", "z.npz", "o.npz"],
        dir.path(),
        "--indices",
    );
    assert!(!dir.path().join("idx.npy").exists() && !dir.path().join("o.npz").exists());
    one_line_usage_error(
        &["pool", "--size", "2", "--indices", "./o.npy", "a.npy", "o.npy"],
        dir.path(),
        "same file",
    );
    one_line_usage_error(&["pool", "--size", "2", "a.npy", "o.npz"], dir.path(), "named .npz");
}

#[test]
fn negative_p_and_stray_shard_are_clear_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.npy"), npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0])).unwrap();
    one_line_usage_error(
        &["pool", "--size", "2", "--mode", "lp", "--p", "-1", "a.npy", "o.npy"],
        dir.path(),
        "--p",
    );
    one_line_usage_error(&["relu", "--shard", "0/2", "a.npy", "o.npy"], dir.path(), "--out-dir");
}
