#!/usr/bin/env python3
"""Builds a tiny demo data set twice and checks its formats. Not run by CI (it needs the
packages fetch-demo-data.sh installs); run it with the environment that script creates:

    data/.venv/bin/python Scripts/demo_data/test_build.py
"""
from __future__ import annotations

import collections
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import numpy as np
from PIL import Image

BUILD = Path(__file__).resolve().parent / "build.py"
CLASSES = 20
VARIANTS = 2
HEADER = "image_id class_id super_class_id path"


def run_build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), "--out", str(out), "--max-classes", str(CLASSES),
                           "--variants", str(VARIANTS), *extra], capture_output=True, text=True)


def read_sop(path: Path) -> list[tuple[int, int, int, str]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == HEADER, lines[0]
    assert lines[-1] == "", "file must end with one newline"
    rows = []
    for line in lines[1:-1]:
        fields = line.split(" ")
        assert len(fields) == 4, line
        rows.append((int(fields[0]), int(fields[1]), int(fields[2]), fields[3]))
    return rows


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class DemoDataTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = Path(cls.tmp.name) / "a"
        cls.twin = Path(cls.tmp.name) / "b"
        for out, jobs in ((cls.root, "2"), (cls.twin, "1")):
            result = run_build(out, "--jobs", jobs)
            assert result.returncode == 0, result.stderr
        cls.train = read_sop(cls.root / "Ebay_train.txt")
        cls.test = read_sop(cls.root / "Ebay_test.txt")
        rows = [line.split("\t") for line in (cls.root / "classes.tsv").read_text().splitlines()]
        assert rows[0][:7] == ["class_id", "split", "super_class_id", "codepoints", "group", "subgroup", "name"]
        cls.classes = {int(r[0]): dict(zip(rows[0], r)) for r in rows[1:]}
        cls.stamp = json.loads((cls.root / ".complete.json").read_text())

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_sop_ids_are_dense_and_splits_disjoint(self):
        for rows in (self.train, self.test):
            self.assertEqual([r[0] for r in rows], list(range(1, len(rows) + 1)))
        train_classes = sorted({r[1] for r in self.train})
        test_classes = sorted({r[1] for r in self.test})
        self.assertEqual(train_classes, list(range(1, len(train_classes) + 1)))
        self.assertEqual(test_classes, list(range(len(train_classes) + 1, CLASSES + 1)))
        self.assertLessEqual(abs(len(train_classes) - len(test_classes)), 9)  # about half and half
        self.assertEqual(len(self.train), self.stamp["counts"]["train_images"])
        self.assertEqual(len(self.test), self.stamp["counts"]["test_images"])

    def test_every_class_has_two_artwork_sets_and_one_super_class(self):
        per_class = collections.defaultdict(set)
        super_of = collections.defaultdict(set)
        for _, class_id, super_id, path in self.train + self.test:
            per_class[class_id].add(path.rsplit("_", 2)[1])
            super_of[class_id].add(super_id)
        for class_id, sources in per_class.items():
            self.assertGreaterEqual(len(sources), 2, class_id)
            self.assertEqual(super_of[class_id], {int(self.classes[class_id]["super_class_id"])})
        supers = dict(line.split(" ", 1) for line in (self.root / "super_classes.txt").read_text().splitlines()[1:])
        for class_id, info in self.classes.items():
            self.assertEqual(supers[info["super_class_id"]], info["group"])
        self.assertEqual(len({r[2] for r in self.train}), 9, "every Unicode group in train")
        self.assertEqual(len({r[2] for r in self.test}), 9, "every Unicode group in test")

    def test_every_path_is_a_96px_jpeg(self):
        paths = [r[3] for r in self.train + self.test]
        self.assertEqual(len(paths), len(set(paths)))
        for path in paths:
            with Image.open(self.root / path) as image:
                self.assertEqual(image.format, "JPEG")
                self.assertEqual(image.size, (96, 96))
                self.assertEqual(image.convert("RGB").getextrema()[0][0] >= 0, True)

    def test_cifar_records_are_the_images_at_32px(self):
        folder = self.root / "cifar-10-batches-bin"
        names = (folder / "batches.meta.txt").read_text().splitlines()
        self.assertEqual(len(names), 9)
        self.assertNotIn("Component", names)
        for split, rows, files in (("train", self.train, [f"data_batch_{i}.bin" for i in range(1, 6)]),
                                   ("test", self.test, ["test_batch.bin"])):
            data = b"".join((folder / f).read_bytes() for f in files)
            self.assertEqual(len(data) % 3073, 0)
            records = [data[i:i + 3073] for i in range(0, len(data), 3073)]
            self.assertEqual(len(records), len(rows), split)
            self.assertTrue(all(r[0] < 9 for r in records))
            expected = []
            for _, class_id, _, path in rows:
                with Image.open(self.root / path) as image:
                    hwc = np.asarray(image.convert("RGB").resize((32, 32), Image.Resampling.BOX))
                label = names.index(self.classes[class_id]["group"])
                expected.append(bytes([label]) + hwc.transpose(2, 0, 1).tobytes())
            self.assertEqual(sorted(records), sorted(expected), split)
        sizes = [(folder / f"data_batch_{i}.bin").stat().st_size // 3073 for i in range(1, 6)]
        self.assertLessEqual(max(sizes) - min(sizes), 1)

    def test_artwork_split_puts_each_emoji_in_both_cifar_files(self):
        out = Path(self.tmp.name) / "artwork"
        result = run_build(out, "--cifar-split", "artwork")
        self.assertEqual(result.returncode, 0, result.stderr)
        # Same images and SOP lists as the default build; only the CIFAR files are split otherwise.
        self.assertEqual((out / "Ebay_train.txt").read_bytes(), (self.root / "Ebay_train.txt").read_bytes())
        rows = read_sop(out / "Ebay_train.txt") + read_sop(out / "Ebay_test.txt")
        side_of = {}  # 32-px record (label + planes) -> (class id, artwork set)
        for _, class_id, _, path in rows:
            with Image.open(out / path) as image:
                hwc = np.asarray(image.convert("RGB").resize((32, 32), Image.Resampling.BOX))
            side_of[hwc.transpose(2, 0, 1).tobytes()] = (class_id, path.rsplit("_", 2)[1])
        folder = out / "cifar-10-batches-bin"
        sides = {}
        for split, files in (("train", [f"data_batch_{i}.bin" for i in range(1, 6)]), ("test", ["test_batch.bin"])):
            data = b"".join((folder / f).read_bytes() for f in files)
            for i in range(0, len(data), 3073):
                class_id, source = side_of[data[i + 1:i + 3073]]
                sides.setdefault(class_id, {}).setdefault(source, set()).add(split)
        self.assertEqual(set(sides), {r[1] for r in rows})  # every emoji, from both SOP splits
        for class_id, by_source in sides.items():
            self.assertTrue(all(len(s) == 1 for s in by_source.values()), by_source)  # an artwork on one side
            self.assertEqual(set().union(*by_source.values()), {"train", "test"}, class_id)  # the emoji on both
        self.assertIn("--cifar-split artwork", (out / "README.md").read_text())

    def test_person_lists_label_people_and_body(self):
        for name, rows in (("train_list.txt", self.train), ("val_list.txt", self.test)):
            lines = (self.root / "person_exists" / name).read_text().splitlines()
            self.assertEqual(len(lines), len(rows))
            group_of_path = {r[3]: self.classes[r[1]]["group"] for r in rows}
            for line in lines:
                path, label = line.split(" ")
                self.assertEqual(label, "1" if group_of_path[path] == "People & Body" else "0")
                self.assertTrue((self.root / path).is_file())

    def test_licenses_are_credited(self):
        readme = (self.root / "README.md").read_text()
        for words in ("CC-BY 4.0", "CC BY-SA 4.0", "Open Font License", "Symbola"):
            self.assertIn(words, readme)
        self.assertTrue((self.root / "LICENSES" / "OpenMoji-LICENSE.txt").is_file())

    def test_two_builds_are_identical(self):
        self.assertEqual(all_files(self.root), all_files(self.twin))

    def test_second_run_is_quick_and_changes_nothing(self):
        before = all_files(self.root)
        stamp_time = (self.root / ".complete.json").stat().st_mtime_ns
        started = time.monotonic()
        result = run_build(self.root)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("nothing to do", result.stderr)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual((self.root / ".complete.json").stat().st_mtime_ns, stamp_time)
        self.assertEqual(all_files(self.root), before)

    def test_new_options_rebuild_in_place(self):
        out = Path(self.tmp.name) / "rebuilt"
        self.assertEqual(run_build(out, "--seed", "3").returncode, 0)
        result = run_build(out, "--seed", "3", "--variants", "1", "--sources", "twemoji,noto")
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = read_sop(out / "Ebay_train.txt") + read_sop(out / "Ebay_test.txt")
        self.assertEqual(len(rows), 2 * CLASSES)
        self.assertEqual({r[3].rsplit("_", 2)[1] for r in rows}, {"twemoji", "noto"})
        self.assertEqual(sorted(os.listdir(out.parent)).count(".rebuilt.partial"), 0)

    def test_bad_options_fail_with_one_line(self):
        out = Path(self.tmp.name) / "bad"
        for extra in (["--sources", "twemoji"], ["--sources", "twemoji,paint"]):
            result = run_build(out, *extra)
            self.assertNotEqual(result.returncode, 0)
            self.assertTrue(result.stderr.strip().startswith("error:"), result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        foreign = Path(self.tmp.name) / "foreign"
        foreign.mkdir()
        (foreign / "mine.txt").write_text("keep me")
        result = run_build(foreign)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not built by this script", result.stderr)
        self.assertEqual((foreign / "mine.txt").read_text(), "keep me")


if __name__ == "__main__":
    unittest.main(verbosity=2)
