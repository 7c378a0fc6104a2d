"""PyTorch (and onnxruntime) CPU peer for `magpie bench train|infer`: the same step on the same
shapes, printed as one JSON object per line.

    python3 Scripts/bench/torch_peer.py train ResNet50 16 224 [steps]
    python3 Scripts/bench/torch_peer.py infer ResNet50 1 224 [steps]
    python3 Scripts/bench/torch_peer.py ort   ResNet50 1 224 [steps]
    python3 Scripts/bench/torch_peer.py train-bf16 ResNet50 16 224 [steps]   # torch.autocast("cpu", bfloat16)
    python3 Scripts/bench/torch_peer.py infer-bf16 ResNet50 1 224 [steps]

Training: forward + cross-entropy + backward + SGD(momentum 0.9, wd 1e-4) step, in contiguous
(NCHW) and channels_last layouts; the faster one is the peer figure. 2 threads, as our run.
The models restate torchvision's ResNet (v1.5) and kekmodel's WRN-28-2 so no torchvision wheel
is needed (Scripts/fixtures/make_model_fixtures.py holds the same definitions).
"""
import json
import os
import resource
import sys
import tempfile
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from make_model_fixtures import BasicBlock, WideResNet  # noqa: E402

torch.set_num_threads(2)


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        expansion = 4 if block is Bottleneck else 1
        stages = []
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or self.inplanes != planes * expansion:
                down = nn.Sequential(nn.Conv2d(self.inplanes, planes * expansion, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes * expansion))
            blocks = [block(self.inplanes, planes, stride, down)]
            self.inplanes = planes * expansion
            blocks += [block(self.inplanes, planes) for _ in range(1, n)]
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(name):
    if name == "ResNet50":
        return ResNet(Bottleneck, [3, 4, 6, 3]), 1000
    if name == "ResNet18":
        return ResNet(BasicBlock, [2, 2, 2, 2]), 1000
    if name == "WideResNet28_2":
        return WideResNet(num_classes=10), 10
    raise SystemExit(f"no peer model for {name}")


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def train(name, batch, size, steps, layout, bf16=False):
    torch.manual_seed(0)
    model, classes = build(name)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, classes, (batch,))
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - t)
    return median(times)


def infer(name, batch, size, steps, bf16=False):
    model, _ = build(name)
    model.eval()
    x = torch.randn(batch, 3, size, size)
    times = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(steps + 2):
            t = time.perf_counter()
            model(x)
            if i > 1:
                times.append(time.perf_counter() - t)
    return median(times)


def ort(name, batch, size, steps):
    import onnxruntime as rt

    model, _ = build(name)
    model.eval()
    x = torch.randn(batch, 3, size, size)
    path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    torch.onnx.export(model, x, path, opset_version=17, dynamo=False)
    options = rt.SessionOptions()
    options.intra_op_num_threads = 2
    session = rt.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x.numpy()}
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        session.run(None, feed)
        if i > 1:
            times.append(time.perf_counter() - t)
    return median(times)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    kind, name, batch, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    bf16 = kind.endswith("-bf16")
    if kind.startswith("train"):
        results = {layout: train(name, batch, size, steps, layout, bf16) for layout in ("contiguous", "channels_last")}
        layout = min(results, key=results.get)
        seconds = results[layout]
        extra = {"layouts": {k: round(batch / v, 3) for k, v in results.items()}, "layout": layout}
    elif kind.startswith("infer"):
        seconds, extra = infer(name, batch, size, steps, bf16), {}
    else:
        seconds, extra = ort(name, batch, size, steps), {}
    peer = "onnxruntime" if kind == "ort" else ("pytorch-bf16-autocast" if bf16 else "pytorch")
    bench = "infer" if kind == "ort" else kind.removesuffix("-bf16")
    print(json.dumps({"peer": peer, "bench": bench, "model": name, "batch": batch,
                      "size": size, "seconds_per_step": seconds, "images_per_second": batch / seconds,
                      "peak_rss_mb": peak_mb(), "torch": torch.__version__, **extra}))


if __name__ == "__main__":
    main()
