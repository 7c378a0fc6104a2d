#!/usr/bin/env python3
"""Converts a PaddleClas `.pdparams` or a PyTorch `.pth`/`.pt` state dict to safetensors.

    python3 Scripts/convert_weights.py IN.pdparams OUT.safetensors     # needs only numpy
    python3 Scripts/convert_weights.py IN.pth OUT.safetensors          # needs torch (CPU wheel)

Keys are written unchanged (PaddleClas names stay PaddleClas names); `magpie convert --from
paddleclas` maps them onto Magpie's. Float arrays are written as F32 (F16/BF16 kept as F16 are
upcast), integer arrays as I64. `magpie convert` calls this script for non-safetensors inputs.
"""
import json
import os
import pickle
import struct
import sys
import tempfile

import numpy as np


def load_state(path):
    if path.endswith((".pth", ".pt", ".bin", ".ckpt")):
        import torch  # only for PyTorch inputs

        obj = torch.load(path, map_location="cpu", weights_only=True)
        obj = obj.get("state_dict", obj.get("model", obj)) if isinstance(obj, dict) else obj
        return {k: v.detach().float().numpy() if v.is_floating_point() else v.numpy() for k, v in obj.items()}
    with open(path, "rb") as f:
        obj = pickle.load(f, encoding="latin1")
    if not isinstance(obj, dict):
        raise SystemExit(f"error: {path} does not hold a dict of arrays (got {type(obj).__name__})")
    out = {}
    for k, v in obj.items():
        if k == "StructuredToParameterName@@":
            continue
        out[k] = np.asarray(v)
    return out


def write_safetensors(arrays, path):
    header, chunks, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        if a.dtype.kind == "f":
            a, dtype = a.astype("<f4"), "F32"
        elif a.dtype.kind in "iub":
            a, dtype = a.astype("<i8"), "I64"
        else:
            raise SystemExit(f"error: tensor {name} has unsupported dtype {a.dtype}")
        data = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    arrays = load_state(sys.argv[1])
    write_safetensors(arrays, sys.argv[2])
    print(f"wrote {sys.argv[2]}: {len(arrays)} tensors")


if __name__ == "__main__":
    main()
