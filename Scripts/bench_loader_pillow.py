#!/usr/bin/env python3
"""The peer for `magpie bench loader`: Pillow + numpy running the same XBM training chain.

    /tmp/fx/bin/pip install pillow numpy
    .build/release/magpie bench loader --folder /tmp/bench-jpegs
    /tmp/fx/bin/python Scripts/bench_loader_pillow.py /tmp/bench-jpegs

Chain per image, as torchvision/paddle.vision do it with the PIL backend: open + convert("RGB"),
Resize(256) (short side, bilinear), RandomResizedCrop(224, scale=(0.2, 1)) (torchvision's box
draw, crop, bilinear resize), random horizontal flip, ToTensor (HWC uint8 -> CHW float / 255),
Normalize. One thread, like the "1 thread" row of the Swift benchmark.
"""
import glob
import math
import random
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)


def rrc_box(w, h, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3)):
    area = w * h
    for _ in range(10):
        target = area * random.uniform(*scale)
        aspect = math.exp(random.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = random.randint(0, w - cw), random.randint(0, h - ch)
            return x, y, cw, ch
    return 0, 0, w, h


def chain(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    if w <= h:
        img = img.resize((256, int(256 * h / w)), Image.BILINEAR)
    else:
        img = img.resize((int(256 * w / h), 256), Image.BILINEAR)
    x, y, cw, ch = rrc_box(*img.size)
    img = img.resize((224, 224), Image.BILINEAR, box=(x, y, x + cw, y + ch))
    if random.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    t = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (t - MEAN) / STD


def main():
    files = sorted(glob.glob(sys.argv[1] + "/*.jpg"))
    if not files:
        sys.exit("usage: bench_loader_pillow.py FOLDER_OF_JPEGS")
    random.seed(0)
    for f in files[:8]:
        chain(f)
    start = time.perf_counter()
    for f in files:
        chain(f)
    rate = len(files) / (time.perf_counter() - start)
    start = time.perf_counter()
    for f in files:
        Image.open(f).convert("RGB")
    decode = len(files) / (time.perf_counter() - start)
    print(f"pillow decode only, 1 thread: {decode:.1f} images/s")
    print(f"pillow decode + XBM train chain, 1 thread: {rate:.1f} images/s")


if __name__ == "__main__":
    main()
