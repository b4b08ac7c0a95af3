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

/// The man page of `cnnops` (`sub` = `None`) or of one subcommand, as roff.
///
/// # Errors
/// If `sub` is not a subcommand.
pub fn man_page(sub: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match sub {
        None => cmd,
        Some(name) => {
            let found = cmd.find_subcommand(name).cloned().ok_or_else(|| {
                anyhow::Error::new(crate::exit::UsageError(format!("no subcommand {name}")))
            })?;
            found.display_name(format!("cnnops-{name}")).bin_name(format!("cnnops {name}"))
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    Ok(buf)
}
