//! cnnops: the ReLU and pooling layers of a convolutional network, applied
//! to activation volumes stored as NumPy `.npy` files.
//!
//! The binary is a thin shell over [`run`]. The pieces, in the order data
//! flows through them:
//!
//! - [`cli`]: the command line (clap derive), syntax checks only;
//! - [`npy`]: header parsing, the one dtype dispatch, memory-mapped and
//!   streamed input, atomic output;
//! - [`layout`] and [`geometry`]: which axes are spatial, and the pure
//!   pooling arithmetic;
//! - [`cmd`]: one module per subcommand, arguments → checked plan → run;
//! - [`ops`]: the kernels, generic over the element type;
//! - [`batch`]: many inputs, parallel, with progress;
//! - [`report`](mod@report) and [`exit`]: what is printed and the exit status.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod batch;
pub mod cli;
pub mod cmd;
pub mod exit;
pub mod geometry;
pub mod layout;
pub mod npy;
pub mod ops;
pub mod pipeline;
pub mod report;

use cli::{Cli, Command};
use exit::Exit;
use std::io::{self, Write};

/// Runs a parsed command line and returns the exit status. Errors have
/// been printed by then.
pub fn run(cli: Cli) -> Exit {
    exit::install_interrupt_handler();
    let status = dispatch(cli);
    if status == Exit::Interrupted {
        let _ = writeln!(io::stderr().lock(), "cnnops: interrupted");
    }
    status
}

fn dispatch(cli: Cli) -> Exit {
    match cli.command {
        Command::Relu(args) => {
            init_threads(args.common.jobs);
            batch::run(&args.common, &|job| cmd::relu::run(&args, job))
        }
        Command::Pool(args) => {
            init_threads(args.common.jobs);
            if args.indices.is_some() && args.common.out_dir.is_some() {
                print_error(&anyhow::Error::new(exit::UsageError(
                    "--indices names one file, so it cannot be used with --out-dir".into(),
                )));
                return Exit::Usage;
            }
            batch::run(&args.common, &|job| cmd::pool::run(&args, job))
        }
        Command::Info(args) => cmd::info::run(&args),
        Command::Man(args) => {
            let page = cmd::completions::man_page(args.subcommand.as_deref());
            let written = page.and_then(|p| {
                let mut out = io::stdout().lock();
                out.write_all(&p)?;
                out.flush()?;
                Ok(())
            });
            match written {
                Ok(()) => Exit::Ok,
                Err(e) => report(&e),
            }
        }
        Command::Completions(args) => match cmd::completions::run(args.shell) {
            Ok(()) => Exit::Ok,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
            Err(e) => {
                print_error(&anyhow::Error::new(e).context("cannot write to standard output"));
                Exit::Failure
            }
        },
    }
}

fn init_threads(jobs: Option<std::num::NonZeroUsize>) {
    if let Some(n) = jobs {
        // Fails only if the pool was already built, which run() never does
        // twice; the default pool is then used.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.get()).build_global();
    }
}

fn report(e: &anyhow::Error) -> Exit {
    if is_broken_pipe(e) {
        return Exit::Ok;
    }
    print_error(e);
    Exit::of_error(e)
}

/// Prints an error as one line: `cnnops: <file>: <problem>: <cause>`.
///
/// Control characters (which a hostile file name or header could use to
/// rewrite the terminal) are escaped, and the line is capped in length.
pub fn print_error(err: &anyhow::Error) {
    const MAX_CHARS: usize = 1000;
    let mut msg = String::new();
    for (i, c) in format!("{err:#}").chars().enumerate() {
        if i == MAX_CHARS {
            msg.push('…');
            break;
        }
        match c {
            '\n' => msg.push(' '),
            c if c.is_control() => msg.extend(c.escape_default()),
            c => msg.push(c),
        }
    }
    let _ = writeln!(io::stderr().lock(), "cnnops: {msg}");
}

/// True when the error is a closed pipe on output (`cnnops ... | head`),
/// which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
