//! Many inputs with `--out-dir`: walking, relative paths, failures that do
//! not stop the batch, JSON lines, and `--shard` partitions.

use super::common::{cnnops, npy_f32, read_npy};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn put(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

fn array(seed: usize) -> Vec<u8> {
    let vals: Vec<f32> = (0..16).map(|i| ((i * 7 + seed * 3) % 11) as f32 - 5.0).collect();
    npy_f32(&[4, 4], &vals)
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A tree of 7 arrays (one nested two deep), a text file and an .npz.
fn tree(root: &Path) -> Vec<&'static str> {
    let rels = ["a.npy", "b.npy", "sub/c.npy", "sub/d.npy", "sub/deeper/e.npy", "f.npy", "g.npy"];
    for (i, rel) in rels.iter().enumerate() {
        put(root, &format!("acts/{rel}"), &array(i));
    }
    put(root, "acts/notes.txt", b"not an array");
    rels.to_vec()
}

#[test]
fn directories_are_walked_and_relative_paths_kept() {
    let dir = tempfile::tempdir().unwrap();
    let rels = tree(dir.path());
    let single = put(dir.path(), "loose/x.npy", &array(9));
    let out = dir.path().join("out");
    let run = cnnops()
        .current_dir(dir.path())
        .args(["relu", "--out-dir", "out", "acts", "loose/x.npy"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for rel in &rels {
        let got = read_npy(&out.join(rel));
        let want: Vec<f64> = read_npy(&dir.path().join("acts").join(rel))
            .to_f64()
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        assert_eq!(got.to_f64(), want, "{rel}");
    }
    assert!(out.join("loose/x.npy").exists(), "a file argument keeps its relative path");
    assert!(single.exists());
    assert!(!out.join("notes.txt").exists());
    // Not a TTY: no progress bar, one summary line.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("8 files, 8 written, 0 failed"), "{stderr}");
}

#[test]
fn a_bad_file_is_reported_and_the_others_written() {
    let dir = tempfile::tempdir().unwrap();
    let rels = tree(dir.path());
    put(dir.path(), "acts/sub/bad.npy", b"\x93NUMPY\x01\x00garbage");
    let out = dir.path().join("out");
    let run = cnnops()
        .args(["pool", "--size", "2", "--json", "--out-dir"])
        .arg(&out)
        .arg(dir.path().join("acts"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("bad.npy")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(stderr.contains("8 files, 7 written, 1 failed"), "{stderr}");
    for rel in &rels {
        assert_eq!(read_npy(&out.join(rel)).shape, vec![2, 2], "{rel}");
    }
    assert!(!out.join("sub/bad.npy").exists());
    let lines = json_lines(&run.stdout);
    assert_eq!(lines.len(), 7, "one JSON line per written file");
    assert!(lines.iter().all(|l| l["output"]["shape"] == serde_json::json!([2, 2])));
}

#[test]
fn output_dir_inside_the_input_dir_is_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let rels = tree(dir.path());
    let acts = dir.path().join("acts");
    for _ in 0..2 {
        let run = cnnops()
            .args(["relu", "--quiet", "--out-dir"])
            .arg(acts.join("relu"))
            .arg(&acts)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert!(run.stderr.is_empty(), "--quiet prints nothing");
    }
    assert!(!acts.join("relu/relu").exists(), "outputs were taken as inputs");
    assert_eq!(std::fs::read_dir(acts.join("relu")).unwrap().count(), 5); // a b f g sub
    assert!(acts.join("relu/sub/deeper/e.npy").exists());
    assert_eq!(rels.len(), 7);
}

#[test]
fn colliding_outputs_and_stdin_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "one/x.npy", &array(1));
    put(dir.path(), "two/x.npy", &array(2));
    let out = dir.path().join("out");
    cnnops()
        .args(["relu", "--out-dir"])
        .arg(&out)
        .arg(dir.path().join("one"))
        .arg(dir.path().join("two"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("would both be written"));
    assert!(!out.exists());
    cnnops().args(["relu", "--out-dir"]).arg(&out).arg("-").assert().code(2);
    cnnops()
        .args(["pool", "--size", "2", "--indices", "i.npy", "--out-dir"])
        .arg(&out)
        .arg(dir.path().join("one"))
        .assert()
        .code(2);
}

fn shard_inputs(root: &Path, shard: &str, reversed: bool) -> BTreeSet<String> {
    let mut files: Vec<PathBuf> = (0..23).map(|i| root.join(format!("in/f{i:02}.npy"))).collect();
    if reversed {
        files.reverse();
    }
    let run = cnnops()
        .args(["relu", "--dry-run", "--quiet", "--shard", shard, "--out-dir"])
        .arg(root.join("out"))
        .args(&files)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    json_lines(&run.stdout)
        .iter()
        .map(|l| l["input"]["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

#[test]
fn shards_cover_every_input_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..23 {
        put(dir.path(), &format!("in/f{i:02}.npy"), &array(i));
    }
    let all: BTreeSet<String> = (0..23).map(|i| format!("f{i:02}.npy")).collect();
    for n in 1..=5 {
        let mut union = BTreeSet::new();
        let mut total = 0;
        for k in 0..n {
            let part = shard_inputs(dir.path(), &format!("{k}/{n}"), false);
            assert_eq!(part, shard_inputs(dir.path(), &format!("{k}/{n}"), true), "order matters");
            let (lo, hi) = (23 / n, 23_usize.div_ceil(n));
            assert!((lo..=hi).contains(&part.len()), "shard {k}/{n} has {}", part.len());
            total += part.len();
            union.extend(part);
        }
        assert_eq!(total, 23, "shards of {n} overlap");
        assert_eq!(union, all, "shards of {n} miss inputs");
    }
}

/// Builds an `.npz` by hand with the zip crate (independent of cnnops'
/// writer): one stored member and one deflated member.
fn make_npz(path: &Path) {
    use std::io::Write;
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("conv1.npy", stored).unwrap();
    zip.write_all(&npy_f32(&[2, 4], &[1.0, -2.0, 3.0, -4.0, -5.0, 6.0, -7.0, 8.0])).unwrap();
    zip.start_file("conv2.npy", deflated).unwrap();
    let vals: Vec<f32> = (0..36).map(|v| v as f32 - 18.0).collect();
    zip.write_all(&npy_f32(&[6, 6], &vals)).unwrap();
    zip.finish().unwrap();
}

fn npz_members(path: &Path) -> Vec<(String, bool, super::common::Npy)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let compressed = entry.compression() != zip::CompressionMethod::Stored;
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_string(), compressed, super::common::parse_npy(&bytes))
        })
        .collect()
}

#[test]
fn npz_is_processed_array_by_array() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("acts.npz");
    make_npz(&input);
    let out = dir.path().join("pooled.npz");
    let run =
        cnnops().args(["pool", "--size", "2", "--json"]).arg(&input).arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let lines = json_lines(&run.stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["input"]["array"], "conv1");
    assert_eq!(lines[1]["output"]["shape"], serde_json::json!([3, 3]));
    let members = npz_members(&out);
    assert_eq!(members.len(), 2);
    let (name, compressed, a) = &members[0];
    assert_eq!((name.as_str(), *compressed), ("conv1.npy", false));
    assert_eq!(a.to_f64(), vec![6.0, 8.0]);
    let (name, compressed, b) = &members[1];
    assert_eq!((name.as_str(), *compressed), ("conv2.npy", true), "compressed stays compressed");
    // 6x6 of v-18 pooled 2x2: bottom-right of each block.
    let want: Vec<f64> = (0..3)
        .flat_map(|i| (0..3).map(move |j| ((2 * i + 1) * 6 + 2 * j + 1) as f64 - 18.0))
        .collect();
    assert_eq!(b.to_f64(), want);

    // info lists the members; a member that does not fit fails the whole
    // archive and leaves no output.
    let info = cnnops().arg("info").arg(&out).output().unwrap();
    assert_eq!(json_lines(&info.stdout).len(), 2);
    let bad = dir.path().join("bad.npz");
    cnnops()
        .args(["pool", "--size", "3"])
        .arg(&input)
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("conv1.npy"));
    assert!(!bad.exists());
    // In a batch, .npz files are found and written under the output dir.
    let batch_out = dir.path().join("out");
    cnnops().args(["relu", "--quiet", "--out-dir"]).arg(&batch_out).arg(&input).assert().success();
    assert_eq!(
        npz_members(&batch_out.join("acts.npz"))[0].2.to_f64(),
        vec![1.0, 0.0, 3.0, 0.0, 0.0, 6.0, 0.0, 8.0]
    );
}
