//! The committed completion scripts match what the binary generates.

use super::common::cnnops;
use std::path::Path;

const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "cnnops.bash"),
    ("zsh", "_cnnops"),
    ("fish", "cnnops.fish"),
    ("elvish", "cnnops.elv"),
    ("powershell", "_cnnops.ps1"),
];

#[test]
fn committed_completions_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let out = cnnops().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "completions {shell} failed");
        assert!(out.stdout.len() > 500, "completions {shell} is suspiciously short");
        let committed = std::fs::read(dir.join(file)).unwrap_or_default();
        if committed != out.stdout {
            stale.push(format!("cnnops completions {shell} > completions/{file}"));
        }
    }
    assert!(stale.is_empty(), "stale completions; refresh with:\n{}", stale.join("\n"));
}

#[test]
fn completions_know_the_flags() {
    let out = cnnops().args(["completions", "bash"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in ["--size", "--stride", "--layout", "--count-include-pad", "--indices-scope"] {
        assert!(text.contains(flag), "bash completion lacks {flag}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    cnnops().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn committed_man_pages_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut stale = Vec::new();
    for sub in [None, Some("relu"), Some("pool"), Some("info"), Some("completions")] {
        let mut cmd = cnnops();
        cmd.arg("man");
        let file = match sub {
            Some(s) => {
                cmd.arg(s);
                format!("cnnops-{s}.1")
            }
            None => "cnnops.1".to_string(),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "cnnops man {sub:?} failed");
        let page = String::from_utf8(out.stdout).unwrap();
        assert!(page.contains(".TH"), "not a man page: {file}");
        if std::fs::read_to_string(dir.join(&file)).unwrap_or_default() != page {
            stale.push(format!("cnnops man {} > man/{file}", sub.unwrap_or("")));
        }
    }
    assert!(stale.is_empty(), "stale man pages; refresh with:\n{}", stale.join("\n"));
}

#[test]
fn help_shows_examples() {
    for sub in ["relu", "pool"] {
        let out = cnnops().args([sub, "--help"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Examples:") && text.contains(&format!("cnnops {sub} ")), "{sub}");
    }
}
