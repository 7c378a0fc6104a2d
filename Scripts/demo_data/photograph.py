"""Seeded "photographs" of one artwork: placed on a background (plain, gradient, textured,
striped), scaled, slightly rotated, lit, blurred, with sensor noise; JPEG quality is chosen too."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter


def rng_for(*parts) -> np.random.Generator:
    """A generator that depends only on its parts, so an image never depends on build order."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))


@dataclass
class Shot:
    image: Image.Image  # RGB, size x size
    jpeg_quality: int


def _light_colour(rng) -> np.ndarray:
    return rng.uniform(200, 255, 3)


def _any_colour(rng) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def _background(rng, size: int) -> np.ndarray:
    kind = rng.choice(["plain", "plain", "gradient", "texture", "stripes"])
    base = _light_colour(rng) if rng.random() < 0.6 else _any_colour(rng)
    if kind == "plain":
        return np.broadcast_to(base, (size, size, 3)).copy()
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    if kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5) + 0.5).clip(0, 1)[..., None]
        other = base + rng.uniform(-80, 80, 3)
        return base * (1 - t) + other * t
    if kind == "texture":  # cloth or paper: low-pass noise around the base colour
        noise = Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8), "L")
        radius = float(rng.uniform(0.6, 3.0))
        smooth = np.asarray(noise.filter(ImageFilter.GaussianBlur(radius))).astype(np.float64)
        smooth = (smooth - smooth.mean()) / (smooth.std() + 1e-6)
        return base + rng.uniform(6, 25) * smooth[..., None]
    angle = rng.uniform(0, np.pi)  # stripes: wood grain, fabric
    period = rng.uniform(0.08, 0.4)
    phase = (np.cos(angle) * xx + np.sin(angle) * yy) / period
    wave = np.sin(2 * np.pi * phase)[..., None]
    return base + rng.uniform(8, 40) * wave


def photograph(artwork: Image.Image, rng: np.random.Generator, size: int, clean: bool) -> Shot:
    """One shot of an RGBA artwork cropped to its ink. A clean shot is a catalogue picture:
    upright, centred, on a light plain background, sharp."""
    if clean:
        background = np.broadcast_to(_light_colour(rng), (size, size, 3)).copy()
        fill, angle, shift = rng.uniform(0.72, 0.86), 0.0, np.zeros(2)
    else:
        background = _background(rng, size)
        fill, angle = rng.uniform(0.5, 0.9), rng.uniform(-15, 15)
        shift = rng.uniform(-1, 1, 2)
    canvas = Image.fromarray(background.clip(0, 255).astype(np.uint8), "RGB")

    scale = fill * size / max(artwork.size)
    target = (max(1, round(artwork.width * scale)), max(1, round(artwork.height * scale)))
    item = artwork.resize(target, Image.Resampling.LANCZOS)
    if angle:
        item = item.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    room = np.maximum(np.array([size, size]) - np.array(item.size), 0) / 2
    x, y = (np.array([size, size]) - np.array(item.size)) / 2 + shift * room
    position = (int(round(x)), int(round(y)))

    if not clean and rng.random() < 0.35:  # a soft shadow under the object
        alpha = item.getchannel("A").filter(ImageFilter.GaussianBlur(float(rng.uniform(1.5, 3.5))))
        shadow = Image.new("RGBA", item.size, (0, 0, 0, 0))
        shadow.putalpha(alpha.point(lambda a: int(a * 0.45)))
        offset = rng.integers(1, 5, 2)
        canvas.paste(shadow, (position[0] + int(offset[0]), position[1] + int(offset[1])), shadow)
    canvas.paste(item, position, item)

    if not clean:
        if rng.random() < 0.7:  # lighting
            canvas = ImageEnhance.Brightness(canvas).enhance(float(rng.uniform(0.8, 1.15)))
            canvas = ImageEnhance.Contrast(canvas).enhance(float(rng.uniform(0.8, 1.15)))
            canvas = ImageEnhance.Color(canvas).enhance(float(rng.uniform(0.75, 1.2)))
        if rng.random() < 0.5:  # focus
            canvas = canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.1))))
        if rng.random() < 0.4:  # sensor noise
            pixels = np.asarray(canvas).astype(np.float32) + rng.normal(0, rng.uniform(2, 7), (size, size, 3))
            canvas = Image.fromarray(pixels.clip(0, 255).round().astype(np.uint8), "RGB")
    quality = int(rng.integers(88, 96)) if clean else int(rng.integers(55, 96))
    return Shot(canvas, quality)
