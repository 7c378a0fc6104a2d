"""PyTorch CPU peer for `magpie bench fixmatch`: one FixMatch training step on WRN-28-2 as
kekmodel/FixMatch-pytorch runs it, on random 32x32 inputs, printed as one JSON object.

    python3 Scripts/bench/fixmatch_peer.py [batch 64] [mu 7] [steps 3]

Step: cat(labelled, weak, strong) -> interleave(2mu+1) -> model -> de-interleave; Lx = CE(mean);
pseudo-labels = argmax softmax(weak logits, detached), mask = max prob >= 0.95; Lu = mean over
all mu*B of mask * CE(strong, pseudo); (Lx + Lu).backward(); SGD(lr 0.03, momentum 0.9,
Nesterov, wd 5e-4 except BN and bias); EMA 0.999 of the parameters, buffers copied.
Timed in contiguous (NCHW) and channels_last layouts; the faster is the peer figure. 2 threads.
The WRN-28-2 is the restatement in Scripts/fixtures/make_model_fixtures.py.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from make_model_fixtures import WideResNet  # noqa: E402

torch.set_num_threads(2)


def interleave(x, s):
    shape = list(x.shape)
    return x.reshape([-1, s] + shape[1:]).transpose(0, 1).reshape([-1] + shape[1:])


def de_interleave(x, s):
    shape = list(x.shape)
    return x.reshape([s, -1] + shape[1:]).transpose(0, 1).reshape([-1] + shape[1:])


class EMA:
    def __init__(self, model, decay):
        self.decay = decay
        self.shadow = WideResNet(num_classes=10)
        self.shadow.load_state_dict(model.state_dict())
        self.params = [n for n, _ in model.named_parameters()]
        self.buffers = [n for n, _ in model.named_buffers()]
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        live, mine = model.state_dict(), self.shadow.state_dict()
        for k in self.params:
            mine[k].mul_(self.decay).add_(live[k].detach(), alpha=1 - self.decay)
        for k in self.buffers:
            mine[k].copy_(live[k])


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def run(batch, mu, steps, layout):
    torch.manual_seed(0)
    model = WideResNet(num_classes=10)
    decay = [p for n, p in model.named_parameters() if not any(w in n for w in ("bias", "bn"))]
    rest = [p for n, p in model.named_parameters() if any(w in n for w in ("bias", "bn"))]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
                          lr=0.03, momentum=0.9, nesterov=True)
    ema = EMA(model, 0.999)
    x_l = torch.randn(batch, 3, 32, 32)
    u_w = torch.randn(mu * batch, 3, 32, 32)
    u_s = torch.randn(mu * batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    model.train()
    s = 2 * mu + 1
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        inputs = interleave(torch.cat((x_l, u_w, u_s)), s)
        if layout == "channels_last":
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        logits = de_interleave(model(inputs), s)
        logits_x = logits[:batch]
        logits_w, logits_s = logits[batch:].chunk(2)
        lx = F.cross_entropy(logits_x, y, reduction="mean")
        probs = torch.softmax(logits_w.detach(), dim=-1)
        max_probs, pseudo = torch.max(probs, dim=-1)
        mask = max_probs.ge(0.95).float()
        lu = (F.cross_entropy(logits_s, pseudo, reduction="none") * mask).mean()
        loss = lx + lu
        loss.backward()
        opt.step()
        ema.update(model)
        model.zero_grad()
        if i > 0:
            times.append(time.perf_counter() - t)
    return median(times), s * batch


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    mu = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    results = {layout: run(batch, mu, steps, layout) for layout in ("contiguous", "channels_last")}
    layout = min(results, key=lambda k: results[k][0])
    seconds, images = results[layout]
    print(json.dumps({"peer": "pytorch", "bench": "fixmatch", "model": "WideResNet28_2", "batch": batch, "mu": mu,
                      "images_per_step": images, "seconds_per_step": seconds, "images_per_second": images / seconds,
                      "layouts": {k: round(v[1] / v[0], 3) for k, v in results.items()}, "layout": layout,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
