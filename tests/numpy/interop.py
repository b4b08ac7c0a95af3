"""Interop check with real NumPy: arrays of every dtype saved by numpy.save
go through cnnops (as files and through pipes) and numpy.load reads each
result back equal to NumPy's own computation.

Usage: python3 tests/numpy/interop.py CNNOPS_BINARY WORKDIR
Exits non-zero with one line per mismatch.
"""
import json
import os
import subprocess
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BIN, WORK = sys.argv[1], sys.argv[2]
failures = []
checks = 0

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "float16", "float32", "float64"]


def make(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        lo, hi = max(info.min, -1000), min(info.max, 1000)
        a = rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
        flat = a.reshape(-1)
        flat[0], flat[-1] = info.min, info.max
        return a
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    flat = a.reshape(-1)
    flat[1], flat[5], flat[9], flat[14] = np.nan, -np.inf, np.inf, -0.0
    return a


def relu_ref(a):
    if a.dtype == bool:
        return a.copy()
    zero = np.zeros((), dtype=a.dtype)
    return np.where(a < zero, zero, a)


def pool_ref_nhwc(a, k, s):
    """Max pooling of an NHWC array, NaN propagating, by explicit windows."""
    n, h, w, c = a.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, oh, ow, c), dtype=a.dtype)
    for i in range(oh):
        for j in range(ow):
            win = a[:, i * s:i * s + k, j * s:j * s + k, :].reshape(n, k * k, c)
            if a.dtype.kind == "f":
                m = win.max(axis=1)  # np.max propagates NaN
            else:
                m = win.max(axis=1)
            out[:, i, j, :] = m
    return out


def counted(got, want, what):
    """Counts a check; False (and a failure) if dtype or shape differ."""
    global checks
    checks += 1
    if got.dtype != want.dtype or got.shape != want.shape:
        failures.append(f"{what}: got {got.dtype}{got.shape}, want {want.dtype}{want.shape}")
        return False
    return True


def same(got, want, what):
    if not counted(got, want, what):
        return
    if not got.flags["C_CONTIGUOUS"]:
        failures.append(f"{what}: not C order")
    if got.dtype.kind == "f":
        ok = np.array_equal(got, want, equal_nan=True) and np.array_equal(
            np.signbit(got), np.signbit(want))
    else:
        ok = np.array_equal(got, want)
    if not ok:
        failures.append(f"{what}: values differ")


def windows(a, k, s, axes, pad=0):
    """The k x k windows at stride s over the two spatial `axes` of `a`,
    as two trailing axes; with `pad` zeros on each side of those axes."""
    if pad:
        a = np.pad(a, [(pad, pad) if ax in axes else (0, 0) for ax in range(a.ndim)])
    w = sliding_window_view(a, (k, k), axis=axes)
    idx = [slice(None)] * a.ndim
    for ax in axes:
        idx[ax] = slice(None, None, s)
    return w[tuple(idx)]


def run(args, **kw):
    return subprocess.run([BIN] + args, check=True, capture_output=True, **kw)


def path(name):
    return os.path.join(WORK, name)


for i, dt in enumerate(DTYPES):
    a = make(dt, (2, 6, 8, 3), i)
    variants = {"c": a, "f": np.asfortranarray(a)}
    if a.dtype.itemsize > 1:
        variants["be"] = a.astype(a.dtype.newbyteorder(">"))
    for tag, arr in variants.items():
        src = path(f"{dt}_{tag}.npy")
        np.save(src, arr)
        run(["relu", src, path("r.npy")])
        same(np.load(path("r.npy")), relu_ref(a), f"relu {dt} {tag}")
        run(["pool", "--size", "2", src, path("p.npy")])
        same(np.load(path("p.npy")), pool_ref_nhwc(a, 2, 2), f"pool {dt} {tag}")

    # Through pipes: Python -> cnnops relu -> cnnops pool -> file.
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, numpy as np; np.save(sys.stdout.buffer, np.load(sys.argv[1]))",
         path(f"{dt}_c.npy")], stdout=subprocess.PIPE)
    relu = subprocess.Popen([BIN, "relu", "-", "-"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()
    pool = subprocess.run([BIN, "pool", "--size", "3", "--stride", "2", "--json", "-",
                           path("piped.npy")], stdin=relu.stdout, capture_output=True)
    relu.stdout.close()
    if relu.wait() != 0 or writer.wait() != 0 or pool.returncode != 0:
        failures.append(f"pipe {dt}: exit codes {writer.returncode} {relu.returncode} "
                        f"{pool.returncode}: {pool.stderr.decode().strip()}")
    else:
        want = pool_ref_nhwc(relu_ref(a), 3, 2)
        same(np.load(path("piped.npy")), want, f"pipe relu|pool {dt}")
        report = json.loads(pool.stdout)
        if report["output"]["shape"] != list(want.shape) or report["output"]["dtype"] != dt:
            failures.append(f"pipe {dt}: JSON says {report['output']}")

    # cnnops writing to standard output, NumPy reading it.
    out = run(["pool", "--size", "2", path(f"{dt}_c.npy"), "-"]).stdout
    with open(path("stdout.npy"), "wb") as f:
        f.write(out)
    same(np.load(path("stdout.npy")), pool_ref_nhwc(a, 2, 2), f"pool to stdout {dt}")

# Average pooling and Lp norms of floats: close to NumPy's, NCHW layout;
# with padding, averages count only the real cells. float32 outputs are
# within an ulp of NumPy's float64 results (float64 sums, its powers
# within a few float64 ulps of libm's). float64 norms are within 16
# float64 ulps of NumPy's (32 for p < 1, whose roots double the sums'
# error): the sums of positive terms in another order, and powers and
# roots each within a few ulps.
for dt in ["float32", "float64"]:
    a = np.random.default_rng(7).standard_normal((2, 3, 7, 9)).astype(dt)
    np.save(path("avg.npy"), a)
    for k, s, pad in [(3, 2, 0), (3, 1, 1)]:
        w = windows(a.astype(np.float64), k, s, (2, 3), pad)
        cells = windows(np.ones(a.shape), k, s, (2, 3), pad).sum(axis=(-1, -2))
        for mode, extra, want in [
            ("avg", [], w.sum(axis=(-1, -2)) / cells),
            ("lp", ["--p", "2"], np.sqrt((w * w).sum(axis=(-1, -2)))),
            *[("lp", ["--p", str(p)], (np.abs(w) ** p).sum(axis=(-1, -2)) ** (1 / p))
              for p in [0.5, 1.5, 2.5, 5, 7.25]],
        ]:
            run(["pool", "--size", str(k), "--stride", str(s), "--pad", str(pad), "--mode",
                 mode, *extra, "--layout", "NCHW", path("avg.npy"), path("avg_out.npy")])
            got = np.load(path("avg_out.npy"))
            checks += 1
            what = f"{mode} {' '.join(extra)} {dt} {k}x{k}/{s} pad {pad}"
            if got.dtype != a.dtype or not np.allclose(got, want, rtol=1e-6, atol=0):
                failures.append(f"{what}: differs from NumPy")
            elif dt == "float32":
                ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
                if (np.abs(got.astype(np.float64) - want) > ulp).any():
                    failures.append(f"{what}: more than an ulp from NumPy")
            elif mode == "lp":
                p = float(extra[1])
                ulps = 16 * max(1.0, 1.0 / p)
                if (np.abs(got - want) > ulps * np.spacing(np.abs(want))).any():
                    failures.append(f"{what}: more than {ulps:g} float64 ulps from NumPy")

# Format versions 2.0 and 3.0 written by NumPy itself.
for version in [(2, 0), (3, 0)]:
    a = make("float32", (4, 4, 2), 99)
    with open(path("v.npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    run(["relu", path("v.npy"), path("v_out.npy")])
    same(np.load(path("v_out.npy")), relu_ref(a), f"relu format {version}")

# float16 averages, Lp norms (p = 1, 2, 1.5, 3, 4) and leaky ReLU against
# NumPy in float64 rounded once to float16, with the F16C conversions where
# the CPU has them and with the software ones (CNNOPS_TEST_NO_F16C), the
# paths of CPUs without F16C. float64 sums of float16 values are exact, so
# the results must match bit for bit; NaN matches any NaN.
def same_f16(got, want, what):
    if not counted(got, want, what):
        return
    nan = np.isnan(want)
    bad = (np.isnan(got) != nan) | (~nan & (got.view(np.uint16) != want.view(np.uint16)))
    if bad.any():
        failures.append(f"{what}: {int(bad.sum())} of {bad.size} values differ")


a16 = make("float16", (2, 3, 37, 41), 16)
h16 = np.ascontiguousarray(make("float16", (2, 19, 23, 64), 17))
# Pixels of 5 channels: too short for the channels-last pixel folds, so
# summed along rows widened once, as channels-first maps are.
h5 = np.ascontiguousarray(make("float16", (2, 19, 23, 5), 18))
np.save(path("f16_nchw.npy"), a16)
np.save(path("f16_nhwc.npy"), h16)
np.save(path("f16_nhwc5.npy"), h5)
for env in [{}, {"CNNOPS_TEST_NO_F16C": "1"}]:
    tag = "without F16C" if env else "as detected"
    env = {**os.environ, **env}
    for layout, src, arr, axes in [("NCHW", "f16_nchw.npy", a16, (2, 3)),
                                   ("NHWC", "f16_nhwc.npy", h16, (1, 2)),
                                   ("NHWC", "f16_nhwc5.npy", h5, (1, 2))]:
        a64 = arr.astype(np.float64)
        for k, s, pad in [(2, 2, 0), (3, 2, 0), (3, 1, 0), (3, 1, 1)]:
            w = windows(a64, k, s, axes, pad)
            cells = windows(np.ones(arr.shape), k, s, axes, pad).sum(axis=(-1, -2))
            for mode, extra, want in [
                ("avg", [], w.sum(axis=(-1, -2)) / cells),
                ("lp", ["--p", "1"], np.abs(w).sum(axis=(-1, -2))),
                ("lp", ["--p", "2"], np.sqrt((w * w).sum(axis=(-1, -2)))),
                ("lp", ["--p", "1.5"], (np.abs(w) ** 1.5).sum(axis=(-1, -2)) ** (1 / 1.5)),
                ("lp", ["--p", "3"], np.cbrt((np.abs(w) ** 3).sum(axis=(-1, -2)))),
                ("lp", ["--p", "4"], ((w ** 4).sum(axis=(-1, -2))) ** 0.25),
            ]:
                run(["pool", "--size", str(k), "--stride", str(s), "--pad", str(pad),
                     "--mode", mode, *extra, "--layout", layout, path(src),
                     path("f16_out.npy")], env=env)
                same_f16(np.load(path("f16_out.npy")), want.astype(np.float16),
                         f"{mode} {' '.join(extra)} float16 {layout} {src} {k}x{k}/{s} pad {pad} {tag}")
    run(["relu", "--alpha", "0.1", path("f16_nchw.npy"), path("f16_out.npy")], env=env)
    leaky = (a16.astype(np.float32) * np.float32(0.1)).astype(np.float16)
    same_f16(np.load(path("f16_out.npy")), np.where(a16 < 0, leaky, a16),
             f"leaky relu float16 {tag}")

for line in failures:
    print("FAIL", line)
print(f"{checks} checks, {len(failures)} failed")
sys.exit(1 if failures or checks == 0 else 0)
