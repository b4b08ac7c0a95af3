"""The timing and memory part of bench/e2e.sh (see there for usage)."""
import os
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

BIN, WORK, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])
SIZES = [int(s) for s in sys.argv[4:]]
PY = shlex.quote(sys.executable)

NUMPY_RELU = (f"{PY} -c 'import sys, numpy as np; "
              "np.save(sys.argv[2], np.maximum(np.load(sys.argv[1]), np.float32(0)))'")
NUMPY_POOL2 = (f"{PY} -c 'import sys, numpy as np; x = np.load(sys.argv[1]); n, h, w, c = x.shape; "
               "np.save(sys.argv[2], x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4)))'")


def make_input(mib):
    """float32 NHWC (1, H, 16384, 4) of `mib` MiB, half negative.

    Written with write() calls, as np.save and the frameworks' savers do,
    not through a memory map: the page cache then holds the file the way
    it holds a user's saved or freshly read file. (A file written through
    a map sits in 4 KiB pages, which makes mapping it, for cnnops, and
    copying it, for cp, several milliseconds per 100 MB slower.)
    """
    h = mib * 1024 * 1024 // (16384 * 4 * 4)
    path = os.path.join(WORK, f"in{mib}.npy")
    rng = np.random.default_rng(0)
    header = {"descr": "<f4", "fortran_order": False, "shape": (1, h, 16384, 4)}
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for i in range(0, h, 256):
            rng.standard_normal((1, min(256, h - i), 16384, 4), dtype=np.float32).tofile(f)
    return path


def run_timed(cmd, out):
    if os.path.exists(out):
        os.remove(out)
    subprocess.run("sync", shell=True)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True)
    return time.perf_counter() - t


def measure_memory(args, stdin_path=None):
    t = time.perf_counter()
    cat = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE) if stdin_path else None
    proc = subprocess.Popen([BIN] + args, stdin=cat.stdout if cat else None)
    if cat:
        cat.stdout.close()
    anon = hwm = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon = max(anon, int(line.split()[1]))
                    elif line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    wall = time.perf_counter() - t
    if cat:
        cat.wait()
    if proc.returncode != 0:
        raise SystemExit(f"cnnops {args} failed")
    return wall, anon / 1024, hwm / 1024


for mib in SIZES:
    src = make_input(mib)
    out = os.path.join(WORK, "out.npy")
    q, o = shlex.quote(src), shlex.quote(out)
    commands = {
        "cp": f"cp {q} {o}",
        "cat | cat": f"cat {q} | cat > {o}",
        "numpy relu": f"{NUMPY_RELU} {q} {o}",
        "cnnops relu": f"{BIN} relu {q} {o}",
        "cnnops relu (pipe)": f"cat {q} | {BIN} relu - - > {o}",
        "numpy pool 2x2/2": f"{NUMPY_POOL2} {q} {o}",
        "cnnops pool 2x2/2": f"{BIN} pool --size 2 {q} {o}",
        "cnnops pool 3x3/2": f"{BIN} pool --size 3 --stride 2 {q} {o}",
        "cnnops pool 2x2/2 (pipe)": f"cat {q} | {BIN} pool --size 2 - - > {o}",
    }
    times = {k: [] for k in commands}
    for _ in range(RUNS):
        for name, cmd in commands.items():  # alternated: one of each per round
            times[name].append(run_timed(cmd, out))
    med = {k: statistics.median(v) for k, v in times.items()}
    h = mib * 1024 * 1024 // (16384 * 4 * 4)
    print(f"\n== {mib} MiB float32 (1, {h}, 16384, 4), {RUNS} runs, median (min-max) seconds")
    for k, v in times.items():
        print(f"  {k:26s} {med[k]:7.3f}  ({min(v):.3f}-{max(v):.3f})")
    print("  ratios:")
    print(f"    cnnops relu / cp                  {med['cnnops relu'] / med['cp']:.2f}   (target <= 1.1)")
    print(f"    cnnops pool 2x2/2 / cp            {med['cnnops pool 2x2/2'] / med['cp']:.2f}   (target <= 0.8)")
    print(f"    cnnops pool 3x3/2 / cp            {med['cnnops pool 3x3/2'] / med['cp']:.2f}   (target <= 0.8)")
    print(f"    numpy relu / cnnops relu          {med['numpy relu'] / med['cnnops relu']:.2f}x faster")
    print(f"    numpy pool / cnnops pool 2x2/2    {med['numpy pool 2x2/2'] / med['cnnops pool 2x2/2']:.2f}x faster")
    print(f"    cnnops relu (pipe) / cat | cat    {med['cnnops relu (pipe)'] / med['cat | cat']:.2f}   (target <= 1.2)")
    if os.path.exists(out):
        os.remove(out)
    wall, anon, hwm = measure_memory(["pool", "--size", "2", src, out])
    print(f"  memory, pool 2x2/2 from the file: {wall:.2f} s, peak RssAnon {anon:.1f} MiB, "
          f"peak RSS {hwm:.1f} MiB (mapped file pages included)")
    os.remove(out)
    wall, anon, hwm = measure_memory(["pool", "--size", "2", "-", out], stdin_path=src)
    print(f"  memory, pool 2x2/2 through a pipe: {wall:.2f} s, peak RssAnon {anon:.1f} MiB, "
          f"peak RSS {hwm:.1f} MiB")
    os.remove(out)
    os.remove(src)
