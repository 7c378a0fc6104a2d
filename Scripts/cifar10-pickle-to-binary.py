#!/usr/bin/env python3
"""Convert CIFAR-10's python version (cifar-10-batches-py) to its binary version.

    python3 Scripts/cifar10-pickle-to-binary.py SRC_DIR DST_DIR

SRC_DIR holds data_batch_1 ... data_batch_5 and test_batch (pickled dicts with b"data", a
10000 x 3072 uint8 array of red, green, blue planes, and b"labels"). DST_DIR receives
data_batch_1.bin ... test_batch.bin: per image 1 label byte + the 3072 pixel bytes, the layout
of cifar-10-binary.tar.gz that Magpie's CIFAR10 reader reads. Needs numpy only.
"""
import os
import pickle
import sys

import numpy as np

NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def convert(src, dst):
    with open(src, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        sys.exit(f"error: {src}: expected data of shape (N, 3072) and N labels, got {data.shape} and {len(labels)}")
    if labels.min() < 0 or labels.max() > 255:
        sys.exit(f"error: {src}: labels must fit in one byte")
    records = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(records.tobytes())
    os.replace(tmp, dst)  # never leave a half-written batch behind
    print(f"{dst}: {len(records)} images")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src_dir, dst_dir = sys.argv[1:]
    os.makedirs(dst_dir, exist_ok=True)
    found = [n for n in NAMES if os.path.exists(os.path.join(src_dir, n))]
    if not found:
        sys.exit(f"error: {src_dir} has none of {', '.join(NAMES)}")
    for name in found:
        convert(os.path.join(src_dir, name), os.path.join(dst_dir, name + ".bin"))


if __name__ == "__main__":
    main()
