"""Writers for the output formats: SOP's Ebay_*.txt, CIFAR-10 binary batches, PaddleClas lists."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CIFAR_TRAIN_BATCHES = 5  # like cifar-10-batches-bin: data_batch_1.bin ... data_batch_5.bin


@dataclass(frozen=True)
class Picture:
    path: str  # relative to the dataset root
    class_id: int  # 1-based, train classes first, as in SOP
    super_class_id: int  # 1-based Unicode group
    train: bool
    cifar_train: bool  # side of the CIFAR files: `train` unless --cifar-split artwork
    person: bool  # group "People & Body"
    cifar_label: int | None  # 0-based Unicode group without "Component"; None: not in CIFAR
    pixels32: bytes  # 32x32 RGB, row-major HWC


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_sop_lists(root: Path, pictures: list[Picture]) -> None:
    """Ebay_train.txt / Ebay_test.txt exactly as Stanford Online Products writes them: a header,
    then `image_id class_id super_class_id path`, image ids from 1 in each file, class ids
    global (test classes follow the train classes)."""
    for name, train in (("Ebay_train.txt", True), ("Ebay_test.txt", False)):
        lines = ["image_id class_id super_class_id path"]
        chosen = [p for p in pictures if p.train == train]
        for image_id, p in enumerate(chosen, 1):
            lines.append(f"{image_id} {p.class_id} {p.super_class_id} {p.path}")
        write_text(root / name, "\n".join(lines) + "\n")


def write_person_lists(folder: Path, pictures: list[Picture]) -> None:
    """PULC person_exists lists: `path label`, 1 when the emoji shows a person."""
    for name, train in (("train_list.txt", True), ("val_list.txt", False)):
        lines = [f"{p.path} {int(p.person)}" for p in pictures if p.train == train]
        write_text(folder / name, "\n".join(lines) + "\n")


def _cifar_records(pictures: list[Picture]) -> bytes:
    out = bytearray()
    for p in pictures:
        planar = np.frombuffer(p.pixels32, np.uint8).reshape(32, 32, 3).transpose(2, 0, 1)
        out.append(p.cifar_label)
        out += planar.tobytes()
    return bytes(out)


def write_cifar(folder: Path, pictures: list[Picture], class_names: list[str], rng) -> None:
    """CIFAR-10 binary version: records of 1 label byte + 3072 bytes (R, G, B planes of 32x32),
    shuffled; the train set spread evenly over five batches."""
    folder.mkdir(parents=True, exist_ok=True)
    train = [p for p in pictures if p.cifar_train and p.cifar_label is not None]
    test = [p for p in pictures if not p.cifar_train and p.cifar_label is not None]
    train = [train[i] for i in rng.permutation(len(train))]
    test = [test[i] for i in rng.permutation(len(test))]
    for number, chunk in enumerate(np.array_split(np.arange(len(train)), CIFAR_TRAIN_BATCHES), 1):
        (folder / f"data_batch_{number}.bin").write_bytes(_cifar_records([train[i] for i in chunk]))
    (folder / "test_batch.bin").write_bytes(_cifar_records(test))
    write_text(folder / "batches.meta.txt", "".join(f"{name}\n" for name in class_names))
