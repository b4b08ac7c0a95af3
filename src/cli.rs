//! The command line: clap derive types for the contract in the design.
//!
//! Syntax is checked here, with typed value parsers, so that `--stride 0`,
//! `--size 3x0` or `--shard 5/3` are rejected by clap with exit status 2
//! before any file is opened. Whether the values fit a given array (window
//! against input size, layout against rank) is checked later, once the
//! header is known, by each subcommand's plan.

use crate::layout::Layout;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;

const EXAMPLES: &str = "\
Examples:
  cnnops pool --size 2 in.npy out.npy              2x2 max pooling, stride 2
  cnnops pool --size 3 --stride 2 --pad 1 in.npy out.npy
  cnnops pool --size 2 --layout NCHW --mode avg in.npy out.npy
  cnnops relu --max 6 acts.npy acts6.npy           ReLU6
  cnnops relu - - < acts.npy | cnnops pool --size 2 --json - out.npy
  cnnops pool --size 2 --dry-run --json in.npy     output shape only
  cnnops info a.npy b.npz";

/// Apply the ReLU and pooling layers of a CNN to NumPy .npy activations.
#[derive(Debug, Parser)]
#[command(name = "cnnops", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply ReLU (or leaky ReLU, or clipped ReLU such as ReLU6) to every value
    #[command(
        override_usage = "cnnops relu [OPTIONS] INPUT OUTPUT\n       \
                          cnnops relu [OPTIONS] --out-dir DIR INPUT...",
        after_help = "Examples:\n  cnnops relu in.npy out.npy\n  \
                      cnnops relu --alpha 0.01 in.npy out.npy      leaky ReLU\n  \
                      cnnops relu --max 6 in.npy out.npy           ReLU6\n  \
                      python -c 'import numpy as np, sys; np.save(sys.stdout.buffer, np.ones(3))' \
                      | cnnops relu - out.npy"
    )]
    Relu(ReluArgs),
    /// Pool each activation map with a sliding window (max, avg, lp or min)
    #[command(
        override_usage = "cnnops pool --size K [OPTIONS] INPUT OUTPUT\n       \
                          cnnops pool --size K [OPTIONS] --out-dir DIR INPUT...",
        after_help = "Examples:\n  cnnops pool --size 2 in.npy out.npy             2x2 max, stride 2\n  \
                      cnnops pool --size 3 --stride 1 in.npy out.npy  (L-P+1) x (B-P+1) x d\n  \
                      cnnops pool --size 3x2 --stride 2x1 --layout NCHW in.npy out.npy\n  \
                      cnnops pool --size 3 --stride 2 --pad same --mode avg in.npy out.npy\n  \
                      cnnops pool --global --mode avg in.npy out.npy\n  \
                      cnnops pool --size 2 --indices idx.npy in.npy out.npy"
    )]
    Pool(PoolArgs),
    /// Print shape, dtype, order and sizes of .npy / .npz files as JSON lines
    Info(InfoArgs),
    /// Print the man page of cnnops or of one subcommand (roff)
    #[command(hide = true)]
    Man(ManArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  cnnops completions bash > ~/.local/share/bash-completion/completions/cnnops"
    )]
    Completions(CompletionsArgs),
}

/// Options shared by `relu` and `pool`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Axis letters, outermost first: N batch, C channels, D H W spatial
    /// (NHWC, NCHW, HWC, CHW, NCW, NCDHW, ...). Default by rank: W, HW, HWC,
    /// NHWC, NDHWC.
    #[arg(long, value_name = "LETTERS")]
    pub layout: Option<Layout>,

    /// Print one JSON object per array: input and output shape, dtype,
    /// parameters (on stderr when OUTPUT is -)
    #[arg(long)]
    pub json: bool,

    /// Read only the header, write nothing, print the JSON object
    #[arg(long)]
    pub dry_run: bool,

    /// Write outputs into DIR (same relative paths); every path is an input
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Worker threads [default: all cores]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Keep a deterministic 1/N of the inputs: part K of N (0 <= K < N)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,

    /// No progress bar and no summary
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// INPUT OUTPUT (- is standard input / output); with --out-dir, any
    /// number of inputs, files or directories
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
}

/// `cnnops relu`.
#[derive(Debug, Args)]
pub struct ReluArgs {
    /// Leaky ReLU: negative x maps to ALPHA·x (floating-point input only)
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    pub alpha: Option<f64>,

    /// Clipped ReLU: values above M map to M (ReLU6 is --max 6)
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub max: Option<f64>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// The reduction of `cnnops pool --mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Maximum of the window (NaN wins)
    Max,
    /// Mean of the window (float output for integer input)
    Avg,
    /// Lp norm (Σ|x|^p)^(1/p) of the window
    Lp,
    /// Minimum of the window (NaN wins)
    Min,
}

/// `--indices-scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Flat position within each spatial map (PyTorch return_indices)
    Map,
    /// Flat position within the whole input tensor (ONNX MaxPool)
    Tensor,
}

/// `cnnops pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    /// Window size: one number for every spatial axis, or one per axis
    /// joined by x in layout order (3, 3x2)
    #[arg(long, short = 'k', value_name = "K", required_unless_present = "global")]
    pub size: Option<Window>,

    /// Stride, as --size [default: the window size]
    #[arg(long, short = 's', value_name = "S")]
    pub stride: Option<Window>,

    /// Symmetric padding (1, 1x0), or same (extra cell at the end, as
    /// TensorFlow SAME / ONNX SAME_UPPER), same-lower, valid
    #[arg(long, value_name = "P", conflicts_with_all = ["pad_begin", "pad_end"])]
    pub pad: Option<PadArg>,

    /// Padding before each spatial axis (asymmetric; needs --pad-end)
    #[arg(long, value_name = "B", requires = "pad_end")]
    pub pad_begin: Option<Dims>,

    /// Padding after each spatial axis (asymmetric; needs --pad-begin)
    #[arg(long, value_name = "E", requires = "pad_begin")]
    pub pad_end: Option<Dims>,

    /// Distance between window taps, as --size [default: 1]
    #[arg(long, short = 'd', value_name = "D")]
    pub dilation: Option<Window>,

    /// Round the output size up (a last partial window that starts inside
    /// the input or the begin padding is kept)
    #[arg(long)]
    pub ceil: bool,

    /// Reduction applied to each window
    #[arg(long, short = 'm', value_enum, default_value_t = ModeArg::Max)]
    pub mode: ModeArg,

    /// Norm order for --mode lp
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub p: Option<f64>,

    /// With --mode avg, divide by every window cell inside the padded
    /// input, padding included
    #[arg(long)]
    pub count_include_pad: bool,

    /// Pool each whole map to 1 (spatial axes kept with length 1)
    #[arg(long, conflicts_with_all = ["size", "stride", "pad", "pad_begin", "pad_end", "dilation", "ceil"])]
    pub global: bool,

    /// Also write the int64 argmax positions to IDX.npy (max mode)
    #[arg(long, value_name = "IDX.npy")]
    pub indices: Option<PathBuf>,

    /// What the --indices positions count
    #[arg(long, value_enum, value_name = "SCOPE", requires = "indices", default_value_t = ScopeArg::Map)]
    pub indices_scope: ScopeArg,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// `cnnops info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// .npy or .npz files (- for standard input)
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
}

/// `cnnops man` (hidden: it maintains `man/`).
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Subcommand whose page to print (relu, pool, info, completions);
    /// none for the main page
    pub subcommand: Option<String>,
}

/// `cnnops completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Target shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Per-axis positive numbers: `3` or `3x2` or `2x2x2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window(pub Vec<usize>);

/// Per-axis non-negative numbers (padding): `0`, `1x0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dims(pub Vec<usize>);

/// `--pad`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PadArg {
    /// Symmetric explicit padding per axis.
    Explicit(Vec<usize>),
    /// SAME_UPPER.
    Same,
    /// SAME_LOWER.
    SameLower,
    /// No padding.
    Valid,
}

fn parse_dims(s: &str, allow_zero: bool) -> Result<Vec<usize>, String> {
    let parts: Vec<&str> = s.split(['x', 'X']).collect();
    if parts.len() > 3 {
        return Err(format!("{s}: at most 3 values (one per spatial axis)"));
    }
    parts
        .iter()
        .map(|p| {
            let v: usize = p.trim().parse().map_err(|_| {
                format!("'{s}' is not a number or numbers joined by x (such as 3 or 3x2)")
            })?;
            if v == 0 && !allow_zero {
                return Err(format!("'{s}': must be at least 1"));
            }
            Ok(v)
        })
        .collect()
}

impl FromStr for Window {
    type Err = String;
    fn from_str(s: &str) -> Result<Window, String> {
        parse_dims(s, false).map(Window)
    }
}

impl FromStr for Dims {
    type Err = String;
    fn from_str(s: &str) -> Result<Dims, String> {
        parse_dims(s, true).map(Dims)
    }
}

impl FromStr for PadArg {
    type Err = String;
    fn from_str(s: &str) -> Result<PadArg, String> {
        match s.to_ascii_lowercase().as_str() {
            "same" | "same-upper" | "same_upper" => Ok(PadArg::Same),
            "same-lower" | "same_lower" => Ok(PadArg::SameLower),
            "valid" => Ok(PadArg::Valid),
            _ => parse_dims(s, true).map(PadArg::Explicit).map_err(|_| {
                format!("'{s}' is not a padding (a number, 1x0, same, same-lower or valid)")
            }),
        }
    }
}

/// `--shard K/N`: part `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// K, from 0.
    pub index: usize,
    /// N, at least 1.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not K/N with 0 <= K < N (such as 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cnnops").chain(args.iter().copied()))
    }

    #[test]
    fn window_syntax() {
        let Command::Pool(p) =
            parse(&["pool", "--size", "3x2", "--stride", "2x1", "a", "b"]).unwrap().command
        else {
            panic!("not pool")
        };
        assert_eq!(p.size, Some(Window(vec![3, 2])));
        assert_eq!(p.stride, Some(Window(vec![2, 1])));
        assert_eq!(p.mode, ModeArg::Max);
        assert_eq!(p.common.paths, vec![PathBuf::from("a"), PathBuf::from("b")]);
    }

    #[test]
    fn zero_and_junk_are_usage_errors() {
        for args in [
            &["pool", "--size", "0", "a", "b"][..],
            &["pool", "--size", "3x0", "a", "b"],
            &["pool", "--size", "2", "--stride", "0", "a", "b"],
            &["pool", "--size", "2", "--dilation", "0", "a", "b"],
            &["pool", "--size", "2x2x2x2", "a", "b"],
            &["pool", "--size", "two", "a", "b"],
            &["pool", "a", "b"],
            &["pool", "--size", "2", "--pad", "1", "--pad-begin", "1", "--pad-end", "1", "a", "b"],
            &["pool", "--size", "2", "--pad-begin", "1", "a", "b"],
            &["pool", "--global", "--size", "2", "a", "b"],
            &["pool", "--size", "2", "--mode", "median", "a", "b"],
            &["pool", "--size", "2", "--indices-scope", "tensor", "a", "b"],
            &["relu", "--shard", "3/3", "a", "b"],
            &["relu", "--layout", "NHXC", "a", "b"],
            &["relu", "--jobs", "0", "a", "b"],
            &["relu"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn pad_forms() {
        assert_eq!("same".parse::<PadArg>().unwrap(), PadArg::Same);
        assert_eq!("same-lower".parse::<PadArg>().unwrap(), PadArg::SameLower);
        assert_eq!("VALID".parse::<PadArg>().unwrap(), PadArg::Valid);
        assert_eq!("1x0".parse::<PadArg>().unwrap(), PadArg::Explicit(vec![1, 0]));
        assert!("-1".parse::<PadArg>().is_err());
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard { index: 2, count: 5 });
        assert!("5/5".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
    }

    #[test]
    fn negative_alpha_parses() {
        let Command::Relu(r) = parse(&["relu", "--alpha", "-0.5", "a", "b"]).unwrap().command
        else {
            panic!("not relu")
        };
        assert_eq!(r.alpha, Some(-0.5));
    }
}
