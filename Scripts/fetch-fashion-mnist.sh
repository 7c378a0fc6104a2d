#!/usr/bin/env bash
# Fashion-MNIST (Zalando: 60,000 training and 10,000 test 28×28 greyscale product photos, 10
# balanced classes) as CIFAR-10 binary batches for the FixMatch and classification configs.
# Debian's dataset-fashion-mnist package ships the IDX files (installed by
# Scripts/install-deps.sh --fashion-mnist); `magpie dataset from-idx` pads each image to 32×32 and
# copies it into the three colour planes. A second run finds the data complete and returns at once.
#
#   Scripts/fetch-fashion-mnist.sh [--out DIR]     # default data/fashion-mnist/cifar-10-batches-bin
set -euo pipefail
cd "$(dirname "$0")/.."

out=data/fashion-mnist/cifar-10-batches-bin
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n 2,8p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
# batches.meta.txt is written last, so its presence marks a complete conversion.
[ -f "$out/batches.meta.txt" ] && [ -f "$out/test_batch.bin" ] && exit 0

Scripts/install-deps.sh --fashion-mnist
source=/usr/share/datasets/fashion-mnist
swift build -c release --product magpie >&2  # incremental: seconds when up to date
.build/release/magpie dataset from-idx --from "$source" --out "$out" \
    --classes "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
