#!/bin/sh
# Fills fuzz/corpus/<target>/ with seed inputs (the corpus is not committed).
#   npy_read, header_only: every .npy under fixtures/
#   npz_list: a few archives made with NumPy (np.savez, np.savez_compressed)
# Run from the repository root: sh fuzz/seed_corpus.sh
set -eu
for t in npy_read header_only npz_list; do mkdir -p "fuzz/corpus/$t"; done
find fixtures -name '*.npy' | while read -r f; do
    name=$(printf '%s' "$f" | tr '/' '_')
    cp "$f" "fuzz/corpus/npy_read/seed_$name"
    cp "$f" "fuzz/corpus/header_only/seed_$name"
done
python3 - fuzz/corpus/npz_list <<'PY'
import io, sys, zipfile
import numpy as np
out = sys.argv[1]
a = np.arange(12, dtype="<f4").reshape(3, 4)
b = np.array([[1, -2], [3, -4]], dtype=">i2")
c = np.asfortranarray(np.linspace(-1, 1, 6, dtype="<f8").reshape(2, 3))
np.savez(f"{out}/seed_savez.npz", a=a, b=b)
np.savez_compressed(f"{out}/seed_savez_compressed.npz", a=a, b=b, c=c)
np.savez(f"{out}/seed_empty.npz")
np.savez(f"{out}/seed_f16_bool_scalar.npz", h=np.ones(3, "<f2"), t=np.array([True, False]), s=np.float32(7))
np.savez_compressed(f"{out}/seed_compressed_u8.npz", np.arange(100, dtype="u1"))
# A member that is not a .npy file, and a directory entry.
with zipfile.ZipFile(f"{out}/seed_odd_members.npz", "w") as z:
    z.writestr("dir/", b"")
    z.writestr("text.npy", b"not an array")
    buf = io.BytesIO(); np.save(buf, a); z.writestr("a.npy", buf.getvalue())
PY
