//! End-to-end tests of the `cnnops` binary: one integration-test binary
//! (one link step), one module per area.

mod batch;
mod common;
mod completions;
mod errors;
mod fixtures;
mod memory;
mod numpy;
mod props;
mod regressions;
mod relu_pool;
mod safety;
