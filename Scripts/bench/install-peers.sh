#!/usr/bin/env bash
# Installs the Python packages the peer scripts under Scripts/ import (torch, onnxruntime, onnx,
# safetensors, numpy, Pillow, pytorch-metric-learning), each only when it is missing. torch comes
# from the machine image's CPU wheel (pip's find-links) when one is there, else from PyPI.
set -euo pipefail
need=()
python3 -c "import torch" 2>/dev/null || need+=(torch)
python3 -c "import onnxruntime" 2>/dev/null || need+=(onnxruntime)
python3 -c "import onnx" 2>/dev/null || need+=(onnx)
python3 -c "import safetensors" 2>/dev/null || need+=(safetensors)
python3 -c "import numpy" 2>/dev/null || need+=(numpy)
python3 -c "import PIL" 2>/dev/null || need+=(Pillow)
if [ "${1:-}" = --xbm ]; then
    python3 -c "import pytorch_metric_learning" 2>/dev/null || need+=(pytorch-metric-learning)
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "==> pip install ${need[*]}" >&2
local_torch=$(ls /opt/wheels/torch-*cpu*.whl 2>/dev/null | head -1 || true)
if [ -n "$local_torch" ] && [[ " ${need[*]} " == *" torch "* ]]; then
    python3 -m pip install -q "$local_torch"
fi
python3 -m pip install -q "${need[@]}"
