#!/usr/bin/env python3
"""Summarises Scripts/fixmatch-vs-supervised.sh runs: one folder per seed (seedN/fixmatch,
seedN/supervised, each holding <arch>/train_log.jsonl). Prints a row per seed and mean ± std of
each arm, writes summary.json and curves.html (top-1 against training time for both arms, and
FixMatch's mask rate and confident pseudo-label accuracy against time) into the output folder.

    fixmatch_summary.py OUT_DIR TEST_IMAGES [SEED ...]   # default: every seedN folder with both arms
"""
import html
import json
import math
import pathlib
import statistics
import sys

ARMS = ("fixmatch", "supervised")
COLOURS = {"fixmatch": "#1f77b4", "supervised": "#ff7f0e", "mask": "#2ca02c", "pseudo_acc": "#d62728"}


def read_arm(folder):
    logs = sorted(folder.glob("*/train_log.jsonl"))
    if not logs:
        return None
    records = [json.loads(line) for line in logs[0].read_text().splitlines() if line.strip()]
    train = [r for r in records if r["phase"] == "train"]
    evals = [r for r in records if r["phase"] == "eval"]
    if not evals:
        return None
    # Training seconds at a step, interpolated between evaluations (which record both).
    anchors = [(0, 0.0)] + [(e["step"], e.get("train_seconds", 0.0)) for e in evals]

    def seconds(step):
        for (s0, t0), (s1, t1) in zip(anchors, anchors[1:]):
            if step <= s1:
                return t0 + (t1 - t0) * (step - s0) / max(s1 - s0, 1)
        (s0, t0), (s1, t1) = anchors[-2], anchors[-1]
        return t1 + (t1 - t0) * (step - s1) / max(s1 - s0, 1)

    tail = train[-10:]

    def tail_mean(key):
        values = [r[key] for r in tail if key in r]
        return sum(values) / len(values) if values else None

    last_step = train[-1]["step"] if train else evals[-1]["step"]
    late = [e["top1"] for e in evals if e["step"] >= last_step / 2]
    return {
        "steps": last_step,
        "train_seconds": evals[-1].get("train_seconds"),
        "top1_last": evals[-1]["top1"],
        "top1_best": max(e["top1"] for e in evals),
        "top1_second_half": sum(late) / len(late) if late else None,
        "mask": tail_mean("mask"),
        "pseudo_acc": tail_mean("pseudo_acc"),
        "curve": [(e.get("train_seconds", 0.0), e["top1"]) for e in evals],
        "mask_curve": [(seconds(r["step"]), r["mask"]) for r in train if "mask" in r],
        "pseudo_curve": [(seconds(r["step"]), r["pseudo_acc"]) for r in train if "pseudo_acc" in r],
    }


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def pct(v):
    return "—" if v is None else f"{100 * v:.1f} %"


def text_plot(series, marks):
    """Mean top-1 against training minutes as a character plot: F FixMatch, S supervised, * both."""
    values = [v for vs in series.values() for v in vs]
    if not values:
        return ""
    step = 0.01 if max(values) - min(values) <= 0.12 else 0.02
    top, bottom = round(max(values) / step) * step, round(min(values) / step) * step
    rows = int(round((top - bottom) / step)) + 1
    grid = [[" "] * len(marks) for _ in range(rows)]
    for arm, letter in (("fixmatch", "F"), ("supervised", "S")):
        for column, v in enumerate(series.get(arm, [])):
            row = int(round((top - v) / step))
            grid[row][column] = "*" if grid[row][column] not in (" ", letter) else letter
    lines = [f"{100 * (top - r * step):5.0f} % |" + "".join(f"{c:>6}" for c in grid[r]) for r in range(rows)]
    lines.append("        +" + "-" * (6 * len(marks)))
    lines.append("   minute " + "".join(f"{t / 60:>6g}" for t in marks))
    return "\n".join(lines)


def polyline(points, scale_x, scale_y, colour, dashed=False):
    if not points:
        return ""
    coords = " ".join(f"{scale_x(x):.1f},{scale_y(y):.1f}" for x, y in points)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} points="{coords}"/>'


def panel(title, series, y_label, x_max, y_min, y_max):
    """An SVG line chart: series is [(label, colour, dashed, points)]."""
    width, height, left, bottom, top, right = 760, 340, 56, 40, 28, 190
    plot_w, plot_h = width - left - right, height - top - bottom
    sx = lambda x: left + plot_w * x / max(x_max, 1e-9)
    sy = lambda y: top + plot_h * (1 - (y - y_min) / max(y_max - y_min, 1e-9))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="16" font-size="13">{html.escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>']
    y_step = next(v for v in (0.02, 0.05, 0.1, 0.2, 0.25) if (y_max - y_min) / v <= 8)
    y = math.ceil(y_min / y_step - 1e-9) * y_step
    while y <= y_max + 1e-9:
        parts.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{100 * y:.0f}%</text>')
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#eee"/>')
        y += y_step
    # Minute ticks at a round step (0.25, 0.5, 1, 2, 5, 10, 15, 30 minutes), at most 8.
    x_step = 60 * next(v for v in (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60) if x_max / (60 * v) <= 8)
    x = 0.0
    while x <= x_max + 1e-9:
        minutes = f"{x / 60:g}"
        parts.append(f'<text x="{sx(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{minutes}</text>')
        x += x_step
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">training minutes (evaluations not counted)</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" text-anchor="middle">{html.escape(y_label)}</text>')
    legend_y = top + 4
    for label, colour, dashed, points in series:
        parts.append(polyline(points, sx, sy, colour, dashed))
        if label:
            dash = ' stroke-dasharray="5,4"' if dashed else ""
            parts.append(f'<line x1="{left + plot_w + 10}" x2="{left + plot_w + 34}" y1="{legend_y}" y2="{legend_y}" stroke="{colour}" stroke-width="2"{dash}/>')
            parts.append(f'<text x="{left + plot_w + 38}" y="{legend_y + 4}">{html.escape(label)}</text>')
            legend_y += 16
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    out = pathlib.Path(sys.argv[1])
    test_images = int(sys.argv[2])
    wanted = [int(s) for s in sys.argv[3:]]
    seeds = {}
    for folder in sorted(out.glob("seed*"), key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else 0):
        if not folder.name[4:].isdigit() or (wanted and int(folder.name[4:]) not in wanted):
            continue
        arms = {arm: read_arm(folder / arm) for arm in ARMS}
        if all(arms.values()):
            seeds[int(folder.name[4:])] = arms
    if not seeds:
        sys.exit(f"no seed folder in {out} has both arms' evaluations")

    print(f"{'seed':>4} {'FixMatch':>9} {'steps':>7} {'train s':>7} {'supervised':>10} {'steps':>7} {'train s':>7} {'diff':>7} {'mask':>5} {'pseudo acc':>10}")
    for seed, arms in seeds.items():
        f, s = arms["fixmatch"], arms["supervised"]
        diff = 100 * (f["top1_last"] - s["top1_last"])
        mask = "" if f["mask"] is None else f"{f['mask']:.2f}"
        seconds = lambda r: "—" if r["train_seconds"] is None else f"{r['train_seconds']:.0f}"
        print(f"{seed:>4} {pct(f['top1_last']):>9} {f['steps']:>7} {seconds(f):>7} {pct(s['top1_last']):>10} {s['steps']:>7} {seconds(s):>7} "
              f"{diff:>+6.1f}  {mask:>5} {pct(f['pseudo_acc']):>10}")
    summary = {"seeds": {str(k): {arm: {key: v for key, v in r.items() if not key.endswith("curve")} for arm, r in a.items()}
                         for k, a in seeds.items()}}
    stats = {}
    for arm in ARMS:
        mean, std = mean_std([a[arm]["top1_last"] for a in seeds.values()])
        stats[arm] = {"mean": mean, "std": std}
    f, s = stats["fixmatch"], stats["supervised"]
    diff = f["mean"] - s["mean"]
    error = 100 * math.sqrt(s["mean"] * (1 - s["mean"]) / max(test_images, 1))
    print(f"mean ± std over {len(seeds)} seed(s), last evaluation: FixMatch {100 * f['mean']:.1f} ± {100 * f['std']:.1f} %, "
          f"supervised {100 * s['mean']:.1f} ± {100 * s['std']:.1f} %, difference {100 * diff:+.1f} points "
          f"(one evaluation on {test_images} test images: standard error ±{error:.1f} points)")
    beats = len(seeds) > 1 and diff > f["std"] and diff > s["std"]
    print("FixMatch beats the baseline by more than both standard deviations: " + ("yes" if beats else "no")
          + ("" if len(seeds) > 1 else " (one seed: no spread to compare)"))
    summary.update({"mean_std": stats, "difference": diff, "beats_by_more_than_both_std": beats, "test_images": test_images})
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    # Mean top-1 over the seeds at round minutes (linear between evaluations): the curves in text.
    def at(curve, t):
        for (t0, v0), (t1, v1) in zip(curve, curve[1:]):
            if t0 <= t <= t1:
                return v0 + (v1 - v0) * (t - t0) / max(t1 - t0, 1e-9)
        return None
    end = min(max(t for t, _ in a[arm]["curve"]) for a in seeds.values() for arm in ARMS)
    step = 60 * next(v for v in (0.25, 0.5, 1, 2, 5, 10, 15) if end / (60 * v) <= 8)
    marks = [step * i for i in range(1, int(end // step) + 1)]
    if marks:
        print("mean top-1 by training minute: " + " ".join(f"{t / 60:>6g}" for t in marks))
        for arm in ARMS:
            values = [[at(a[arm]["curve"], t) for a in seeds.values()] for t in marks]
            cells = [f"{100 * statistics.fmean(v):5.1f}%" if all(x is not None for x in v) else "     —" for v in values]
            print(f"  {arm:<28}" + " ".join(cells))

        print(text_plot({arm: [statistics.fmean(v) for v in ([at(a[arm]["curve"], t) for a in seeds.values()] for t in marks)
                               if all(x is not None for x in v)] for arm in ARMS}, marks))

    # Pseudo-label quality over time, a line per quarter of the FixMatch run.
    for seed, arms in seeds.items():
        curve = arms["fixmatch"]["pseudo_curve"]
        mask = arms["fixmatch"]["mask_curve"]
        if curve:
            quarters = [curve[min(len(curve) - 1, len(curve) * q // 4)] for q in (0, 1, 2, 3)] + [curve[-1]]
            masks = [mask[min(len(mask) - 1, len(mask) * q // 4)] for q in (0, 1, 2, 3)] + [mask[-1]]
            print(f"seed {seed} FixMatch (minute: mask, pseudo-label accuracy): "
                  + ", ".join(f"{t / 60:.0f}: {m:.2f}, {100 * p:.0f} %" for (t, p), (_, m) in zip(quarters, masks)))

    x_max = max(max(t for t, _ in a[arm]["curve"]) for a in seeds.values() for arm in ARMS)
    values = [v for a in seeds.values() for arm in ARMS for _, v in a[arm]["curve"]]
    y_min, y_max = math.floor(min(values) * 10) / 10, min(1.0, math.ceil(max(values) * 10) / 10)
    top1 = [(f"{arm} seed {seed}", COLOURS[arm], i > 0, a[arm]["curve"])
            for i, (seed, a) in enumerate(seeds.items()) for arm in ARMS]
    quality = [(f"{name} seed {seed}", COLOURS[key], i > 0, a["fixmatch"][curve])
               for i, (seed, a) in enumerate(seeds.items())
               for key, name, curve in (("mask", "mask rate", "mask_curve"), ("pseudo_acc", "pseudo-label acc.", "pseudo_curve"))]
    title = out.name
    page = ["<!doctype html><meta charset='utf-8'><title>FixMatch vs supervised</title>",
            "<body style='font-family:sans-serif'>",
            f"<h2>FixMatch against the supervised baseline ({html.escape(title)})</h2>",
            f"<p>FixMatch {100 * f['mean']:.1f} ± {100 * f['std']:.1f} %, supervised {100 * s['mean']:.1f} ± {100 * s['std']:.1f} % "
            f"top-1 at the end, over {len(seeds)} seed(s); the first seed is drawn solid, the others dashed.</p>",
            panel("Test top-1 (EMA model) against training time", top1, "top-1", x_max, y_min, y_max),
            panel("FixMatch: share of unlabelled images above the threshold, and their pseudo-label accuracy",
                  quality, "rate", x_max, 0.0, 1.0),
            "</body>"]
    (out / "curves.html").write_text("\n".join(page) + "\n")
    print(f"wrote {out / 'summary.json'} and {out / 'curves.html'}")


if __name__ == "__main__":
    main()
