#!/usr/bin/env python3
"""Checks `magpie export --format onnx` against onnxruntime for every model family and for
config-built retrieval models (`magpie export -c CONFIG`: RecModel backbone + FC neck + L2
normalisation, XBM's global max pooling).

For each family: export the freshly initialised weights as safetensors, replace every tensor with
seeded random values drawn here (numpy), set each BN's running statistics near those of its actual
input on random images (so BatchNorm is neither the identity nor an amplifier, as after training),
export the ONNX graph with those weights plus Magpie's own output on a random batch of 3
(--reference-input/--reference-output), then
  * onnx.checker.check_model(full_check=True) (includes strict shape inference),
  * onnxruntime on the same batch of 3 and on its first image alone (the batch is dynamic), with its
    default graph optimisations and, for the batch of 3, with none (the graph exactly as written),
  * max |onnxruntime - magpie| relative to max |magpie| must be <= 1e-4.

Needs (not installed by this script, not needed by CI):
    pip install onnx onnxruntime numpy
and a built magpie (`swift build -c release --product magpie`; the debug binary works, slower).

Usage: Scripts/check-onnx.py [--magpie PATH] [--only NAME ...] [--keep DIR]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4

# (label, registry name or config path, input size (None: the config's eval preprocessing), extra export arguments)
FAMILIES = [
    ("ResNet18", "ResNet18", 224, []),
    ("ResNet50_vd", "ResNet50_vd", 224, []),
    ("SE_ResNet18_vd", "SE_ResNet18_vd", 224, []),
    # 200 px gives odd feature maps (25, 13), so the vd shortcuts' ceil-mode average pools overhang.
    ("ResNet18_vd at 200 px (ceil-mode pools)", "ResNet18_vd", 200, []),
    ("WideResNet28_2 (faithful)", "WideResNet28_2", 32, []),
    ("PPLCNet_x0_25", "PPLCNet_x0_25", 224, []),
    ("PPLCNet_x1_0", "PPLCNet_x1_0", 224, []),
    ("MobileNetV3_small_x0_35", "MobileNetV3_small_x0_35", 224, []),
    ("MobileNetV3_large_x1_0", "MobileNetV3_large_x1_0", 224, []),
    ("ResNet18 + neck 128 + L2 (retrieval)", "ResNet18", 224, ["--class_num", "0", "--embedding_size", "128"]),
    ("XBM demo config: RecModel R18 max-pool", "configs/metric_learning/xbm_demo.yaml", None, []),
    ("XBM config: RecModel R50 max-pool", "configs/metric_learning/xbm_resnet50.yaml", None, []),
    # TensorFlow SAME padding: uneven Pad nodes before every stride-2 convolution.
    ("EfficientNet_lite0", "EfficientNet_lite0", 224, []),
    ("EfficientNet_lite0 at 225 px (even SAME pads)", "EfficientNet_lite0", 225, []),
]

SAFETENSORS_DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        blob = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = SAFETENSORS_DTYPES[info["dtype"]]
        tensors[name] = np.frombuffer(blob[begin:end], dtype=dtype).reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        kind = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def randomise(tensors, rng):
    """Seeded random values for every float tensor: He-scaled weights, non-trivial BN statistics."""
    out = {}
    for name, t in tensors.items():
        if t.dtype != np.float32:
            out[name] = t
        elif name.endswith("running_var"):
            out[name] = rng.uniform(0.5, 1.5, t.shape)
        elif name.endswith("running_mean") or name.endswith("bias"):
            out[name] = rng.normal(0, 0.2, t.shape)
        elif t.ndim == 1:  # BN scale
            out[name] = rng.uniform(0.5, 1.5, t.shape)
        else:
            fan_in = int(np.prod(t.shape[1:]))
            out[name] = rng.normal(0, np.sqrt(2.0 / fan_in), t.shape)
        out[name] = out[name].astype(t.dtype)
    return out


def calibrate_batch_norms(onnx_path, weights, images, rng):
    """Sets each BN's running statistics near the statistics of its actual input (in graph order),
    as training would. With random statistics activations grow layer by layer into the thousands,
    where two onnxruntime configurations already disagree with each other by more than 1e-4."""
    proto = onnx.load(onnx_path)
    graph = proto.graph
    bns = [n for n in graph.node if n.op_type == "BatchNormalization"]
    # The statistics become graph inputs, so one session serves every step.
    stats = {name for bn in bns for name in bn.input[3:5]}
    kept = [t for t in graph.initializer if t.name not in stats]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for name in sorted(stats):
        graph.input.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, list(weights[name].shape)))
    del graph.output[:]
    for name in dict.fromkeys(bn.input[0] for bn in bns):
        graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for bn in bns:
        feeds = {"input": images, **{name: weights[name] for name in stats}}
        (features,) = session.run([bn.input[0]], feeds)
        axes = tuple(i for i in range(features.ndim) if i != 1)
        mean, std = features.mean(axis=axes), features.std(axis=axes) + 1e-3
        weights[bn.input[3]] = (mean + rng.normal(0, 0.1, mean.shape) * std).astype(np.float32)
        weights[bn.input[4]] = (std ** 2 * rng.uniform(0.7, 1.3, std.shape)).astype(np.float32)
    return weights


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


def check(magpie, label, model, size, extra, workdir, seed):
    rng = np.random.default_rng(seed)
    if model.endswith(".yaml"):
        source = ["-c", model] + extra
    else:
        source = ["--model", model] + extra + ["--size", str(size)]
    base = os.path.join(workdir, f"{seed:02d}_{os.path.basename(model)}")
    init, weights, path = base + ".init.safetensors", base + ".safetensors", base + ".onnx"
    x_path, ref_path = base + ".input.npy", base + ".magpie.npy"

    run([magpie, "export", *source, "--format", "safetensors", "--out", init])
    random_weights = randomise(read_safetensors(init), rng)
    write_safetensors(weights, random_weights)
    run([magpie, "export", *source, "--weights", weights, "--format", "onnx", "--out", path])
    size = onnx.load(path).graph.input[0].type.tensor_type.shape.dim[2].dim_value
    calibration = rng.normal(0, 1, (2, 3, size, size)).astype(np.float32)
    write_safetensors(weights, calibrate_batch_norms(path, random_weights, calibration, rng))
    x = rng.normal(0, 1, (3, 3, size, size)).astype(np.float32)
    np.save(x_path, x)
    run([magpie, "export", *source, "--weights", weights, "--format", "onnx", "--out", path,
         "--reference-input", x_path, "--reference-output", ref_path])
    reference = np.load(ref_path)

    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 17, proto.opset_import
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (y3,) = session.run(None, {"input": x})
    (y1,) = session.run(None, {"input": x[:1]})
    # The graph as written, without onnxruntime's rewrites (Conv+BN fusion and the like).
    plain = ort.SessionOptions()
    plain.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    (y3_plain,) = ort.InferenceSession(path, plain, providers=["CPUExecutionProvider"]).run(None, {"input": x})
    assert y3.shape == reference.shape, (y3.shape, reference.shape)
    scale = float(np.abs(reference).max())
    diff3 = float(max(np.abs(y3 - reference).max(), np.abs(y3_plain - reference).max()))
    diff1 = float(np.abs(y1 - reference[:1]).max())
    worst = max(diff3, diff1)
    ok = worst <= TOLERANCE * max(scale, 1e-12)
    ops = len(proto.graph.node)
    print(f"{'ok  ' if ok else 'FAIL'} {label:40s} nodes {ops:4d}  out {str(tuple(reference.shape)):12s} "
          f"max|magpie| {scale:9.4g}  max abs diff b3 {diff3:.3g} b1 {diff1:.3g}  relative {worst / max(scale, 1e-12):.2e}",
          flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default = next((p for p in (os.path.join(root, ".build", c, "magpie") for c in ("release", "debug"))
                    if os.path.exists(p)), None)
    parser.add_argument("--magpie", default=default, help="magpie executable (default: .build/release or debug)")
    parser.add_argument("--only", nargs="*", help="registry names or config paths to check (default: every family)")
    parser.add_argument("--keep", help="write the files here instead of a temporary folder")
    args = parser.parse_args()
    if not args.magpie or not os.path.exists(args.magpie):
        sys.exit("no magpie executable: run `swift build -c release --product magpie` or pass --magpie")
    args.magpie = os.path.abspath(args.magpie)
    args.keep = args.keep and os.path.abspath(args.keep)
    os.chdir(root)  # config paths are relative to the repository

    # Seeds follow the position in FAMILIES, so --only reproduces the full run's figures.
    families = [(seed, f) for seed, f in enumerate(FAMILIES) if not args.only or f[1] in args.only]
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}, tolerance {TOLERANCE} relative")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or tmp
        os.makedirs(workdir, exist_ok=True)
        results = [check(args.magpie, label, model, size, extra, workdir, seed)
                   for seed, (label, model, size, extra) in families]
    failed = results.count(False)
    print(f"{len(results) - failed}/{len(results)} families match")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
