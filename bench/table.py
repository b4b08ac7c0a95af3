"""Print criterion's results as throughput: one line per benchmark.

Usage: python3 bench/table.py [CRITERION_DIR] [SUBSTRING...]
CRITERION_DIR defaults to the target directory's `criterion` folder (run
`cargo bench --bench kernels` first). Each line gives the benchmark id,
GB/s (10^9 bytes) and GiB/s of input from criterion's median time of the
last run. Only ids holding every SUBSTRING are printed.
"""
import json
import os
import subprocess
import sys


def criterion_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          check=True, capture_output=True, text=True).stdout
    return os.path.join(json.loads(meta)["target_directory"], "criterion")


def main():
    args = sys.argv[1:]
    root = args.pop(0) if args and os.path.isdir(args[0]) else criterion_dir()
    rows = []
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            ns = json.load(f)["median"]["point_estimate"]
        nbytes = (bench.get("throughput") or {}).get("Bytes")
        if not nbytes or not all(s in bench["full_id"] for s in args):
            continue
        rows.append((bench["full_id"], nbytes / ns, nbytes / ns * 1e9 / 2**30))
    if not rows:
        raise SystemExit(f"no criterion results under {root}")
    width = max(len(r[0]) for r in rows)
    for full_id, gbs, gibs in sorted(rows):
        print(f"{full_id:<{width}}  {gbs:6.2f} GB/s  {gibs:6.2f} GiB/s")


main()
