//! `.npz` listing: any bytes saved as `x.npz` → `npz::list` returns, never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One temporary directory for the whole run; `x.npz` is rewritten for
/// every input (libFuzzer runs inputs one at a time in this process).
fn path() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let p = dir.path().join("x.npz");
        (dir, p)
    });
    p
}

fuzz_target!(|data: &[u8]| {
    let p = path();
    std::fs::write(p, data).expect("write x.npz");
    let _ = cnnops::npy::npz::list(p);
});
