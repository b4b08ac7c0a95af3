//! Exit status, decided in one place.
//!
//! Two kinds of failure reach the user: a *usage* error (the command line
//! asks for something that cannot be done with this input, exit 2) and any
//! other failure (unreadable or malformed input, unwritable output, exit 1).
//! Code anywhere in the crate marks an error as a usage error by wrapping it
//! in [`UsageError`]; [`Exit::of_error`] finds that mark anywhere in the
//! `anyhow` chain. Batch runs merge the status of every file with
//! [`Exit::merge`].

use std::fmt;

/// The process exit status of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// Something failed: bad input data, I/O error.
    Failure = 1,
    /// The command line cannot be applied (bad flag value, window too large).
    Usage = 2,
    /// Stopped by SIGINT or SIGTERM (128 + 2, as shells report Ctrl-C).
    Interrupted = 130,
}

impl Exit {
    /// The status for an error: [`Exit::Usage`] if any error in its chain is
    /// a [`UsageError`], [`Exit::Failure`] otherwise.
    pub fn of_error(err: &anyhow::Error) -> Exit {
        if err.chain().any(|e| e.is::<Interrupted>()) {
            Exit::Interrupted
        } else if err.chain().any(|e| e.is::<UsageError>()) {
            Exit::Usage
        } else {
            Exit::Failure
        }
    }

    /// Combines the status of two independent jobs: the worse one wins
    /// (interrupted over usage over failure over success), so a batch with
    /// one bad file still exits non-zero.
    pub fn merge(self, other: Exit) -> Exit {
        self.max(other)
    }

    /// The numeric code for [`std::process::ExitCode`].
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error in what the user asked for, as opposed to a failure while doing
/// it. Exits with status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The run was stopped by a signal; work in flight was abandoned and its
/// temporary files removed.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs the SIGINT/SIGTERM handler: the first signal asks every job to
/// stop at its next batch (so temporary files are removed and finished
/// outputs stay); a second one exits at once with status 130.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(Exit::Interrupted as i32);
        }
    });
}

/// Fails with [`Interrupted`] once a stop was asked for. Long loops call
/// it between batches.
///
/// # Errors
/// After SIGINT or SIGTERM.
pub fn check_interrupt() -> Result<(), Interrupted> {
    if INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) { Err(Interrupted) } else { Ok(()) }
}

/// Returns early with a [`UsageError`] built from a format string.
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::exit::UsageError(format!($($arg)*))))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn merge_keeps_the_worst() {
        assert_eq!(Exit::Ok.merge(Exit::Ok), Exit::Ok);
        assert_eq!(Exit::Ok.merge(Exit::Failure), Exit::Failure);
        assert_eq!(Exit::Failure.merge(Exit::Ok), Exit::Failure);
        assert_eq!(Exit::Usage.merge(Exit::Failure), Exit::Usage);
        assert_eq!(Exit::Ok.merge(Exit::Usage).code(), 2);
    }

    #[test]
    fn usage_mark_survives_context() {
        let err = anyhow::Error::new(UsageError("stride 0".into())).context("in.npy");
        assert_eq!(Exit::of_error(&err), Exit::Usage);
        let io: anyhow::Result<()> = Err(std::io::Error::other("disk full")).context("out.npy");
        assert_eq!(Exit::of_error(&io.unwrap_err()), Exit::Failure);
    }
}
