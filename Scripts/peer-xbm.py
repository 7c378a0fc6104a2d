#!/usr/bin/env python3
"""Peer for the XBM demo: the same backbone, data, sampler, budget and evaluation in PyTorch with
pytorch-metric-learning's CrossBatchMemory + ContrastiveLoss, printing its recall@k and mAP and
wall time next to Magpie's run of configs/metric_learning/xbm_demo.yaml.

    Scripts/bench/install-peers.sh --xbm                     # torch, pytorch-metric-learning, Pillow, numpy
    python3 Scripts/peer-xbm.py [--magpie]                   # --magpie also runs `magpie train` and prints both

Mirrors xbm_demo.yaml: ResNet-18 (torchvision layout, stem ReLU, global max pooling) → Linear
512→128, L2-normalised; PK batches 16 classes × 4 images; Resize 72 → RandomResizedCrop 64
(scale 0.5–1) → flip → normalise; Adam 1e-3, L2 5e-4, 1-epoch linear warm-up then cosine; 12 epochs
× 17 steps; memory 1024 from step 52. PML's losses differ by design: ContrastiveLoss is used in similarity form (CosineSimilarity, pos_margin 1, neg_margin 0.5,
mean over non-zero pairs) and CrossBatchMemory scores the batch against the memory only.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "bench"))
from torch_peer import BasicBlock, ResNet  # noqa: E402

ROOT = "data/emoji"
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def read_list(name):
    rows = [line.split() for line in open(os.path.join(ROOT, name)).read().splitlines()[1:] if line.strip()]
    return [os.path.join(ROOT, r[3]) for r in rows], [int(r[1]) for r in rows]


def load(path, train, rng):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = 72 / min(w, h)
    img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    w, h = img.size
    if train:
        for _ in range(10):
            area = w * h * rng.uniform(0.5, 1.0)
            ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            cw, ch = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
            if 0 < cw <= w and 0 < ch <= h:
                x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
                break
        else:
            cw, ch, x, y = min(w, h), min(w, h), (w - min(w, h)) // 2, (h - min(w, h)) // 2
        img = img.resize((64, 64), Image.BILINEAR, box=(x, y, x + cw, y + ch))
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
    else:
        x, y = int(round((w - 64) / 2)), int(round((h - 64) / 2))
        img = img.crop((x, y, x + 64, y + 64))
    a = (np.asarray(img, np.float32) / 255 - MEAN) / STD
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = ResNet(BasicBlock, [2, 2, 2, 2])
        self.backbone.fc = nn.Identity()
        self.backbone.avgpool = nn.AdaptiveMaxPool2d(1)
        self.neck = nn.Linear(512, 128)
        nn.init.normal_(self.neck.weight, std=math.sqrt(2 / 128))
        nn.init.zeros_(self.neck.bias)

    def forward(self, x):
        return F.normalize(self.neck(self.backbone(x)), dim=1)


def evaluate(model, paths, labels):
    model.eval()
    rng = random.Random(0)
    with torch.no_grad():
        feats = torch.cat([model(torch.stack([load(p, False, rng) for p in paths[i:i + 128]])) for i in range(0, len(paths), 128)])
    sim = (feats @ feats.T).numpy()
    np.fill_diagonal(sim, -np.inf)
    y = np.array(labels)
    order = np.argsort(-sim, axis=1, kind="stable")[:, :-1]
    rel = y[order] == y[:, None]
    out = {f"recall{k}": float(rel[:, :k].any(1).mean()) for k in (1, 5, 10)}
    hits = np.cumsum(rel, 1)
    ranks = np.arange(1, rel.shape[1] + 1)
    ap = (hits / ranks * rel).sum(1) / np.maximum(rel.sum(1), 1)
    out["mAP"] = float(ap[rel.sum(1) > 0].mean())
    return out


def train_peer(steps_per_epoch=17, epochs=12, start=51, seed=0):
    from pytorch_metric_learning import distances, losses

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = random.Random(seed)
    paths, labels = read_list("Ebay_train.txt")
    by_class = {}
    for i, c in enumerate(labels):
        by_class.setdefault(c, []).append(i)
    model = Net()
    base = losses.ContrastiveLoss(pos_margin=1, neg_margin=0.5, distance=distances.CosineSimilarity())
    xbm = losses.CrossBatchMemory(base, embedding_size=128, memory_size=1024)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
    total = steps_per_epoch * epochs
    t0 = time.time()
    for step in range(total):
        lr = 1e-3 * step / steps_per_epoch if step < steps_per_epoch else \
            1e-3 * 0.5 * (1 + math.cos(math.pi * (step - steps_per_epoch) / (total - steps_per_epoch)))
        for g in opt.param_groups:
            g["lr"] = lr
        classes = rng.sample(sorted(by_class), 16)
        idx = [i for c in classes for i in (rng.sample(by_class[c], 4) if len(by_class[c]) >= 4 else rng.choices(by_class[c], k=4))]
        model.train()
        x = torch.stack([load(paths[i], True, rng) for i in idx])
        y = torch.tensor([labels[i] for i in idx])
        f = model(x)
        loss = xbm(f, y) if step >= start else base(f, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    wall = time.time() - t0
    tp, tl = read_list("Ebay_test.txt")
    return evaluate(model, tp, tl), wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--magpie", action="store_true", help="also run magpie train on xbm_demo.yaml and compare")
    args = parser.parse_args()
    metrics, wall = train_peer()
    print("peer (pytorch-metric-learning):", " ".join(f"{k} {v:.4f}" for k, v in metrics.items()), f"train wall {wall:.0f} s")
    if args.magpie:
        t0 = time.time()
        log = subprocess.run([".build/release/magpie", "train", "-c", "configs/metric_learning/xbm_demo.yaml",
                              "-o", "Global.output_dir=./output/peer_compare/", "-o", "Global.eval_interval=12"],
                             capture_output=True, text=True, check=True).stdout
        wall_ours = time.time() - t0
        line = [l for l in log.splitlines() if l.startswith("[Eval][Epoch 12][Avg]")][-1]
        ours = dict((k, float(v)) for k, v in re.findall(r"(\w+): ([0-9.]+)", line))
        # Like for like with the peer's loop: Magpie's training steps (data wait included) from
        # its train_log.jsonl, each logged batch_cost times the steps it averages.
        steps_seconds, previous = 0.0, 0
        with open("output/peer_compare/RecModel/train_log.jsonl") as f:
            for entry in map(json.loads, f):
                if entry.get("phase") == "train":
                    steps_seconds += entry["batch_cost"] * (entry["step"] - previous)
                    previous = entry["step"]
        print("magpie:", " ".join(f"{k} {ours[k]:.4f}" for k in ("recall1", "recall5", "recall10", "mAP")),
              f"train wall {steps_seconds:.0f} s ({wall_ours:.0f} s with start-up, evaluation and checkpoints)")
        print(f"recall@1 difference (magpie - peer): {100 * (ours['recall1'] - metrics['recall1']):+.1f} points; "
              f"training time ratio {steps_seconds / wall:.2f}x (magpie / peer)")


if __name__ == "__main__":
    main()
