//! Only sets `cfg(numpy_tests)` when `CNNOPS_NUMPY_TESTS=1`, so the NumPy
//! interop tests show as *ignored* (not as passed) when they are not asked
//! for, and run (failing if NumPy is missing) when they are.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(numpy_tests)");
    println!("cargo::rerun-if-env-changed=CNNOPS_NUMPY_TESTS");
    if std::env::var("CNNOPS_NUMPY_TESTS").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=numpy_tests");
    }
}
