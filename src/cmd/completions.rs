//! `cnnops completions SHELL`: print a completion script.
//!
//! The scripts under `completions/` in the repository are this command's
//! output, committed; a test fails when they are stale.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cnnops", &mut buf);
    buf
}

/// Writes the script for `shell` to standard output.
///
/// # Errors
/// If standard output cannot be written.
pub fn run(shell: Shell) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(&script(shell))?;
    out.flush()
}
