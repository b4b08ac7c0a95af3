//! Interop with real NumPy (`tests/numpy/interop.py`).
//!
//! Runs only when asked for with `CNNOPS_NUMPY_TESTS=1` (see build.rs):
//! otherwise it is reported as *ignored*, never as passed. When asked for,
//! a missing `python3` or NumPy is a failure, not a skip.

use std::path::Path;
use std::process::Command;

#[test]
#[cfg_attr(not(numpy_tests), ignore = "set CNNOPS_NUMPY_TESTS=1 to run the NumPy interop tests")]
fn numpy_round_trips_every_dtype() {
    let check = Command::new("python3").args(["-c", "import numpy"]).output();
    match check {
        Ok(out) if out.status.success() => {}
        _ => panic!("CNNOPS_NUMPY_TESTS=1 but python3 with NumPy is not available"),
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/numpy/interop.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cnnops"))
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "interop failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" checks, 0 failed"), "{stdout}");
}
