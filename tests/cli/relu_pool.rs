//! The semantics checklist, one test each, with expected values worked out
//! by hand: NaN and -0.0 through ReLU, NaN at every window position, -inf
//! windows, Fortran and big-endian input, float16, standard input and
//! output, `--json` and `--dry-run`, and `info`.

use super::common::{cnnops, make_npy, npy_f32, read_npy, same_bits_f64};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run_ok(args: &[&str], input: &Path, output: &Path) -> Vec<f64> {
    cnnops().args(args).arg(input).arg(output).assert().success().stderr("");
    read_npy(output).to_f64()
}

#[test]
fn relu_keeps_nan_and_negative_zero() {
    let dir = tempfile::tempdir().unwrap();
    let x = [f32::NAN, -0.0, 0.0, -2.5, 3.0, f32::NEG_INFINITY];
    let inp = write(dir.path(), "x.npy", &npy_f32(&[6], &x));
    let got = run_ok(&["relu"], &inp, &dir.path().join("y.npy"));
    let want = [f64::NAN, -0.0, 0.0, 0.0, 3.0, 0.0];
    assert!(same_bits_f64(&got, &want), "{got:?}");
}

#[test]
fn relu6_and_leaky() {
    let dir = tempfile::tempdir().unwrap();
    let inp = write(dir.path(), "x.npy", &npy_f32(&[4], &[-4.0, 1.0, 6.5, f32::NAN]));
    let got = run_ok(&["relu", "--max", "6"], &inp, &dir.path().join("a.npy"));
    assert!(same_bits_f64(&got, &[0.0, 1.0, 6.0, f64::NAN]), "{got:?}");
    let got = run_ok(&["relu", "--alpha", "0.25"], &inp, &dir.path().join("b.npy"));
    assert!(same_bits_f64(&got, &[-1.0, 1.0, 6.5, f64::NAN]), "{got:?}");
}

/// A NaN at each of the four positions of a 2x2 window makes that window
/// NaN, and only that one (`f32::max` would drop it in three of them).
#[test]
fn max_pool_nan_anywhere_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    for pos in 0..4 {
        // 2x4 map, two 2x2 windows; NaN in the first window at `pos`.
        let mut x = [1.0f32, 2.0, 5.0, 6.0, 3.0, 4.0, 7.0, 8.0];
        let cell = [0, 1, 4, 5][pos];
        x[cell] = f32::NAN;
        let inp = write(dir.path(), "x.npy", &npy_f32(&[2, 4], &x));
        let got = run_ok(&["pool", "--size", "2"], &inp, &dir.path().join("y.npy"));
        assert!(got[0].is_nan(), "NaN at position {pos} lost: {got:?}");
        assert_eq!(got[1], 8.0);
    }
}

#[test]
fn max_pool_of_all_neg_inf_is_neg_inf() {
    let dir = tempfile::tempdir().unwrap();
    let x = [f32::NEG_INFINITY; 4];
    let inp = write(dir.path(), "x.npy", &npy_f32(&[2, 2], &x));
    let got = run_ok(&["pool", "--size", "2"], &inp, &dir.path().join("y.npy"));
    assert_eq!(got, [f64::NEG_INFINITY]);
    let got = run_ok(&["pool", "--size", "2", "--mode", "min"], &inp, &dir.path().join("z.npy"));
    assert_eq!(got, [f64::NEG_INFINITY]);
}

#[test]
fn max_pool_tie_keeps_first_signed_zero() {
    let dir = tempfile::tempdir().unwrap();
    let inp = write(dir.path(), "x.npy", &npy_f32(&[1, 2], &[-0.0, 0.0]));
    let got = run_ok(&["pool", "--size", "1x2"], &inp, &dir.path().join("y.npy"));
    assert!(same_bits_f64(&got, &[-0.0]), "{got:?}");
}

#[test]
fn seed_case_stride_one_gives_l_minus_p_plus_1() {
    let dir = tempfile::tempdir().unwrap();
    // 4x5x2 HWC volume, 3x3 window, stride 1 -> 2x3x2.
    let x: Vec<f32> = (0..40).map(|v| ((v * 7) % 11) as f32).collect();
    let inp = write(dir.path(), "x.npy", &npy_f32(&[4, 5, 2], &x));
    let out = dir.path().join("y.npy");
    cnnops().args(["pool", "--size", "3", "--stride", "1"]).arg(&inp).arg(&out).assert().success();
    let y = read_npy(&out);
    assert_eq!(y.shape, vec![2, 3, 2]);
    let got = y.to_f64();
    for i in 0..2 {
        for j in 0..3 {
            for c in 0..2 {
                let mut m = f32::MIN;
                for di in 0..3 {
                    for dj in 0..3 {
                        m = m.max(x[((i + di) * 5 + (j + dj)) * 2 + c]);
                    }
                }
                assert_eq!(got[(i * 3 + j) * 2 + c], m as f64);
            }
        }
    }
}

#[test]
fn fortran_and_big_endian_inputs_give_c_order_little_endian() {
    let dir = tempfile::tempdir().unwrap();
    // Logical 2x3 array [[1,2,3],[4,5,6]] stored Fortran order, big-endian.
    let logical = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let fortran_order = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0];
    let data: Vec<u8> = fortran_order.iter().flat_map(|v| v.to_be_bytes()).collect();
    let dict = "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let pad = 64 - (10 + dict.len() + 1) % 64;
    bytes.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes.extend(std::iter::repeat_n(b' ', pad));
    bytes.push(b'\n');
    bytes.extend(data);
    let inp = write(dir.path(), "f.npy", &bytes);
    let out = dir.path().join("r.npy");
    cnnops().arg("relu").arg(&inp).arg(&out).assert().success();
    let y = read_npy(&out);
    assert_eq!((y.descr.as_str(), y.fortran, y.shape.clone()), ("<f4", false, vec![2, 3]));
    assert_eq!(y.to_f64(), logical.map(f64::from));
}

#[test]
fn float16_pool() {
    let dir = tempfile::tempdir().unwrap();
    let vals = [1.5f32, -2.0, 65504.0, f32::NAN];
    let data: Vec<u8> = vals.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
    let inp = write(dir.path(), "h.npy", &make_npy("<f2", &[2, 2], &data));
    let out = dir.path().join("o.npy");
    cnnops().args(["pool", "--size", "1x2"]).arg(&inp).arg(&out).assert().success();
    let y = read_npy(&out);
    assert_eq!(y.descr, "<f2");
    let got = y.to_f64();
    assert_eq!(got[0], 1.5);
    assert!(got[1].is_nan());
}

#[test]
fn stdin_to_stdout_pipeline() {
    let x: Vec<f32> = (0..48).map(|v| v as f32 - 24.0).collect();
    let input = npy_f32(&[4, 4, 3], &x);
    let relu = cnnops().args(["relu", "-", "-"]).write_stdin(input).output().unwrap();
    assert!(relu.status.success());
    let pooled =
        cnnops().args(["pool", "--size", "2", "-", "-"]).write_stdin(relu.stdout).output().unwrap();
    assert!(pooled.status.success(), "{}", String::from_utf8_lossy(&pooled.stderr));
    let y = super::common::parse_npy(&pooled.stdout);
    assert_eq!(y.shape, vec![2, 2, 3]);
    // max over each 2x2 block of relu(x); x increases along the flat index,
    // so the max is the bottom-right cell of each block.
    let want: Vec<f64> = (0..2)
        .flat_map(|i| (0..2).flat_map(move |j| (0..3).map(move |c| (i, j, c))))
        .map(|(i, j, c)| (x[((2 * i + 1) * 4 + 2 * j + 1) * 3 + c].max(0.0)) as f64)
        .collect();
    assert_eq!(y.to_f64(), want);
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn json_report_and_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let inp = write(dir.path(), "x.npy", &npy_f32(&[2, 9, 7, 4], &[0.0; 2 * 9 * 7 * 4]));
    let out = dir.path().join("y.npy");
    let run = cnnops()
        .args(["pool", "--size", "3", "--stride", "2", "--pad", "1", "--json"])
        .arg(&inp)
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    let v = &json_lines(&run.stdout)[0];
    assert_eq!(v["op"], "pool");
    assert_eq!(v["input"]["shape"], serde_json::json!([2, 9, 7, 4]));
    assert_eq!(v["input"]["layout"], "NHWC");
    assert_eq!(v["output"]["shape"], serde_json::json!([2, 5, 4, 4]));
    assert_eq!(v["output"]["dtype"], "float32");
    assert_eq!(v["window"]["pad_begin"], serde_json::json!([1, 1]));
    assert_eq!(read_npy(&out).shape, vec![2, 5, 4, 4]);

    // --dry-run: same object, nothing written, output optional.
    let out2 = dir.path().join("never.npy");
    let dry = cnnops()
        .args(["pool", "--size", "3", "--stride", "2", "--pad", "same", "--dry-run"])
        .arg(&inp)
        .arg(&out2)
        .output()
        .unwrap();
    assert!(dry.status.success());
    assert!(!out2.exists());
    let v = &json_lines(&dry.stdout)[0];
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["output"]["shape"], serde_json::json!([2, 5, 4, 4]));
    let dry = cnnops().args(["pool", "--global", "--dry-run"]).arg(&inp).output().unwrap();
    assert!(dry.status.success());
    assert_eq!(json_lines(&dry.stdout)[0]["output"]["shape"], serde_json::json!([2, 1, 1, 4]));
}

#[test]
fn json_goes_to_stderr_when_output_is_stdout() {
    let input = npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let run = cnnops().args(["relu", "--json", "-", "-"]).write_stdin(input).output().unwrap();
    assert!(run.status.success());
    assert_eq!(super::common::parse_npy(&run.stdout).shape, vec![2, 2]);
    assert_eq!(json_lines(&run.stderr)[0]["op"], "relu");
}

#[test]
fn info_reports_headers() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.npy", &npy_f32(&[3, 5], &[0.0; 15]));
    let b = write(dir.path(), "b.npy", &make_npy(">i2", &[4], &[0; 8]));
    let run = cnnops().arg("info").arg(&a).arg(&b).output().unwrap();
    assert!(run.status.success());
    let v = json_lines(&run.stdout);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["shape"], serde_json::json!([3, 5]));
    assert_eq!(v[0]["dtype"], "float32");
    assert_eq!(v[0]["order"], "C");
    assert_eq!(v[0]["data_bytes"], 60);
    assert_eq!(v[0]["file_bytes"], std::fs::metadata(&a).unwrap().len());
    assert_eq!(v[1]["descr"], ">i2");
    assert_eq!(v[1]["dtype"], "int16");
}

#[test]
fn pool_every_integer_dtype_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // 1x4 map of [min, 1, max, 0] pooled 1x2: [max(min,1), max(max,0)].
    macro_rules! case {
        ($t:ty, $descr:expr) => {{
            let vals: [$t; 4] = [<$t>::MIN, 1, <$t>::MAX, 0];
            let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
            let inp = write(dir.path(), "i.npy", &make_npy($descr, &[1, 4], &data));
            let out = dir.path().join("o.npy");
            cnnops().args(["pool", "--size", "1x2"]).arg(&inp).arg(&out).assert().success();
            let y = read_npy(&out);
            assert_eq!(y.descr, $descr);
            let want: Vec<u8> = [1 as $t, <$t>::MAX].iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(y.data, want, "{}", $descr);
        }};
    }
    case!(i8, "|i1");
    case!(u8, "|u1");
    case!(i16, "<i2");
    case!(u16, "<u2");
    case!(i32, "<i4");
    case!(u32, "<u4");
    case!(i64, "<i8");
    case!(u64, "<u8");
}
