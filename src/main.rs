//! The `cnnops` binary: parse, run, exit. Everything else is in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cnnops::cli::Cli::parse();
    ExitCode::from(cnnops::run(cli).code())
}
