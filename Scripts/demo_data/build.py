#!/usr/bin/env python3
"""Builds Magpie's demo data set from emoji artwork that Debian and PyPI packages ship: an
emoji "product" retrieval set in Stanford Online Products' format, a CIFAR-10-format set whose
labels are the Unicode emoji groups, and PULC person_exists lists. Deterministic from --seed.

Run through Scripts/fetch-demo-data.sh, which installs what this needs."""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

BUILD_VERSION = 1  # bump when the output for the same options changes
DEFAULT_CLASSES = 300
DEFAULT_VARIANTS = 2
FULL_VARIANTS = 3
MIN_SOURCES = 2
SOURCE_NAMES = ["twemoji", "openmoji", "noto", "symbola"]  # artwork.ALL_SOURCES
IMAGE_SIZE = 96
STAMP = ".complete.json"
PERSON_GROUP = "People & Body"
DROPPED_FROM_CIFAR = "Component"  # holds only "component" entries, so it never has classes anyway


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="data/emoji", help="output folder (default: data/emoji)")
    parser.add_argument("--max-classes", type=int, default=None,
                        help=f"number of emoji classes, 0 for all (default {DEFAULT_CLASSES}; --full: all)")
    parser.add_argument("--variants", type=int, default=None,
                        help=f"photographs per emoji and artwork set (default {DEFAULT_VARIANTS}; --full: {FULL_VARIANTS})")
    parser.add_argument("--full", action="store_true", help="every emoji drawn by two or more artwork sets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", default="twemoji,openmoji,noto,symbola",
                        help="artwork sets to draw from (default: twemoji,openmoji,noto,symbola)")
    parser.add_argument("--cifar-split", choices=["emoji", "artwork"], default="emoji",
                        help="CIFAR-10 files: 'emoji' (default) puts different emoji in train and test; 'artwork' "
                             "puts every emoji in both, each artwork set of it on one side (the usual semi-supervised "
                             "protocol: test images come from the distribution the unlabelled images come from)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--force", action="store_true", help="rebuild even when the output is complete")
    args = parser.parse_args(argv)
    if args.max_classes is None:
        args.max_classes = 0 if args.full else DEFAULT_CLASSES
    if args.variants is None:
        args.variants = FULL_VARIANTS if args.full else DEFAULT_VARIANTS
    if args.max_classes < 0 or args.max_classes == 1:
        raise SystemExit("error: --max-classes must be 0 (all) or at least 2")
    if args.variants < 1:
        raise SystemExit("error: --variants must be at least 1")
    if args.jobs < 1:
        raise SystemExit("error: --jobs must be at least 1")
    names = source_names(args)
    unknown = [s for s in names if s not in SOURCE_NAMES]
    if unknown or len(set(names)) < MIN_SOURCES or len(set(names)) != len(names):
        raise SystemExit(f"error: --sources needs {MIN_SOURCES} or more different names from "
                         f"{','.join(SOURCE_NAMES)}" + (f" (unknown: {','.join(unknown)})" if unknown else ""))
    args.sources = ",".join(names)
    return args


def source_names(args) -> list[str]:
    return [s.strip() for s in args.sources.split(",") if s.strip()]


def stamp_options(args) -> dict:
    options = {"version": BUILD_VERSION, "max_classes": args.max_classes, "variants": args.variants,
               "seed": args.seed, "sources": args.sources, "image_size": IMAGE_SIZE}
    if args.cifar_split != "emoji":  # absent for the default, so earlier builds stay complete
        options["cifar_split"] = args.cifar_split
    return options


def cifar_train_sources(emoji, sources: list[str], seed: int) -> set[str]:
    """--cifar-split artwork: the artwork sets of `emoji` whose images go to the CIFAR train
    file (half of them, rounded up, drawn from the seed); the others go to the test file."""
    from photograph import rng_for
    order = rng_for(seed, "cifar-split", emoji.slug).permutation(len(sources))
    return {sources[i] for i in order[: (len(sources) + 1) // 2]}


def read_stamp(out: Path) -> dict | None:
    try:
        return json.loads((out / STAMP).read_text())
    except (OSError, ValueError):
        return None


# ---- choosing classes -------------------------------------------------------------------------

def select_classes(candidates, limit: int, seed: int):
    """Up to `limit` emoji, shared among the groups in proportion to their sizes (at least two
    per group so both splits see every group), then each group split about half and half."""
    from photograph import rng_for
    groups: dict[str, list] = {}
    for emoji in candidates:
        groups.setdefault(emoji.group, []).append(emoji)
    total = len(candidates)
    if limit == 0 or limit >= total:
        quota = {g: len(m) for g, m in groups.items()}
    else:
        exact = {g: limit * len(m) / total for g, m in groups.items()}
        quota = {g: int(x) for g, x in exact.items()}
        for g in sorted(groups, key=lambda g: (quota[g] - exact[g], list(groups).index(g))):
            if sum(quota.values()) >= limit:
                break
            quota[g] += 1
        for g in groups:  # at least two per group, taken from the largest groups
            while quota[g] < min(2, len(groups[g])):
                donor = max(groups, key=lambda d: (quota[d], -list(groups).index(d)))
                if quota[donor] <= 2:
                    break
                quota[donor] -= 1
                quota[g] += 1
    train, test = [], []
    for index, (group, members) in enumerate(groups.items()):
        rng = rng_for(seed, "select", group)
        order = rng.permutation(len(members))[: quota[group]]
        chosen = [members[i] for i in order]
        n_train = (len(chosen) + index % 2) // 2
        position = {e: members.index(e) for e in chosen}  # keep Unicode order inside each split
        train += sorted(chosen[:n_train], key=position.get)
        test += sorted(chosen[n_train:], key=position.get)
    return train, test


# ---- rendering (worker processes) -------------------------------------------------------------

_SOURCES = {}


def _init_worker(names):
    import artwork
    for name in names:
        if name not in _SOURCES:
            _SOURCES[name] = artwork.ALL_SOURCES[name]()


def _render_task(task):
    """Draws one emoji with one artwork set and photographs it `variants` times."""
    from PIL import Image
    from photograph import photograph, rng_for
    emoji, source, variants, seed, folder, stem = task
    art = _SOURCES[source].render(emoji)
    if art is None:
        return []
    results = []
    for v in range(variants):
        shot = photograph(art, rng_for(seed, emoji.slug, source, v), IMAGE_SIZE, clean=(v == 0))
        buffer = io.BytesIO()
        shot.image.save(buffer, "JPEG", quality=shot.jpeg_quality)
        data = buffer.getvalue()
        relative = f"images/{stem}_{source}_{v}.jpg"
        (folder / relative).write_bytes(data)
        with Image.open(io.BytesIO(data)) as decoded:  # CIFAR holds what the JPEG holds, at 32 px
            small = decoded.convert("RGB").resize((32, 32), Image.Resampling.BOX)
        results.append((relative, small.tobytes()))
    return results


# ---- the build --------------------------------------------------------------------------------

def build(args, out: Path) -> dict:
    import artwork
    from emoji_catalog import group_slug, load_catalog
    from photograph import rng_for
    from writers import Picture, write_cifar, write_person_lists, write_sop_lists
    import notes

    names = source_names(args)
    assert list(artwork.ALL_SOURCES) == SOURCE_NAMES
    _init_worker(names)
    catalog = load_catalog()
    coverage = {e: [s for s in names if _SOURCES[s].covers(e)] for e in catalog}
    candidates = [e for e in catalog if len(coverage[e]) >= MIN_SOURCES]
    train, test = select_classes(candidates, args.max_classes, args.seed)
    groups = list(dict.fromkeys(e.group for e in catalog))
    super_ids = {g: i for i, g in enumerate(groups, 1)}
    cifar_names = [g for g in groups if g != DROPPED_FROM_CIFAR]

    partial = out.parent / f".{out.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    for g in groups:
        (partial / "images" / group_slug(g)).mkdir(parents=True, exist_ok=True)

    classes = [(e, True) for e in train] + [(e, False) for e in test]
    tasks, owners = [], []
    for class_id, (emoji, is_train) in enumerate(classes, 1):
        stem = f"{group_slug(emoji.group)}/{emoji.slug}"
        for source in coverage[emoji]:
            tasks.append((emoji, source, args.variants, args.seed, partial, stem))
            owners.append((class_id, emoji, is_train))
    if args.jobs > 1:
        context = multiprocessing.get_context("fork")
        with context.Pool(args.jobs, initializer=_init_worker, initargs=(names,)) as pool:
            rendered = list(pool.imap(_render_task, tasks, chunksize=4))
    else:
        rendered = [_render_task(t) for t in tasks]

    drawn = {}  # class id -> the artwork sets that drew it (tasks are one emoji and one artwork set each)
    for (class_id, _, _), task, results in zip(owners, tasks, rendered):
        if results:
            drawn.setdefault(class_id, []).append(task[1])
    pictures, class_rows = [], []
    for (class_id, emoji, is_train), task, results in zip(owners, tasks, rendered):
        cifar_train = is_train if args.cifar_split == "emoji" else task[1] in cifar_train_sources(emoji, drawn[class_id], args.seed)
        for relative, pixels in results:
            pictures.append(Picture(
                path=relative, class_id=class_id, super_class_id=super_ids[emoji.group], train=is_train,
                cifar_train=cifar_train,
                person=emoji.group == PERSON_GROUP,
                cifar_label=cifar_names.index(emoji.group) if emoji.group in cifar_names else None,
                pixels32=pixels))
    per_class = {}
    for p in pictures:
        per_class[p.class_id] = per_class.get(p.class_id, 0) + 1
    for class_id, (emoji, is_train) in enumerate(classes, 1):
        if per_class.get(class_id, 0) < 2:
            raise SystemExit(f"error: emoji {emoji.name!r} rendered into fewer than 2 images")
        class_rows.append(f"{class_id}\t{'train' if is_train else 'test'}\t{super_ids[emoji.group]}\t"
                          f"{emoji.slug}\t{emoji.group}\t{emoji.subgroup}\t{emoji.name}\t"
                          f"{','.join(coverage[emoji])}")

    write_sop_lists(partial, pictures)
    (partial / "classes.tsv").write_text(
        "class_id\tsplit\tsuper_class_id\tcodepoints\tgroup\tsubgroup\tname\tsources\n"
        + "".join(row + "\n" for row in class_rows), encoding="utf-8")
    (partial / "super_classes.txt").write_text(
        "super_class_id name\n" + "".join(f"{i} {g}\n" for g, i in super_ids.items()), encoding="utf-8")
    write_cifar(partial / "cifar-10-batches-bin", pictures, cifar_names, rng_for(args.seed, "cifar"))
    write_person_lists(partial / "person_exists", pictures)

    counts = {
        "classes": len(classes), "train_classes": len(train), "test_classes": len(test),
        "images": len(pictures), "train_images": sum(p.train for p in pictures),
        "test_images": sum(not p.train for p in pictures),
        "images_per_source": {s: sum(p.path.rsplit("_", 2)[1] == s for p in pictures) for s in names},
        "cifar_train": sum(p.cifar_train and p.cifar_label is not None for p in pictures),
        "cifar_test": sum(not p.cifar_train and p.cifar_label is not None for p in pictures),
        "person_positive": sum(p.person for p in pictures),
    }
    notes.write_readme_and_licenses(partial, args, counts, cifar_names, groups)
    (partial / STAMP).write_text(json.dumps({**stamp_options(args), "counts": counts}, indent=1) + "\n")

    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    partial.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = Path(args.out).resolve()
    stamp = read_stamp(out)
    if stamp is not None and not args.force and {k: stamp.get(k) for k in stamp_options(args)} == stamp_options(args):
        print(f"demo data: {out} is complete ({stamp['counts']['classes']} classes, "
              f"{stamp['counts']['images']} images); nothing to do", file=sys.stderr)
        return 0
    if out.exists() and stamp is None and any(out.iterdir()):
        raise SystemExit(f"error: {out} exists and was not built by this script; remove it or choose --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"demo data: building {out} (classes={args.max_classes or 'all'}, variants={args.variants}, "
          f"seed={args.seed}, sources={args.sources}, cifar split={args.cifar_split}, jobs={args.jobs})", file=sys.stderr)
    counts = build(args, out)
    print(f"demo data: {counts['classes']} classes ({counts['train_classes']} train, {counts['test_classes']} test), "
          f"{counts['images']} images, CIFAR {counts['cifar_train']}+{counts['cifar_test']} records, "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
