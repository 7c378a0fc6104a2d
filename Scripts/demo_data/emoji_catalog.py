"""The emoji that can become classes: Unicode's emoji-test.txt, fully-qualified, no skin tones."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

EMOJI_TEST = Path("/usr/share/unicode/emoji/emoji-test.txt")  # Debian package unicode-data
SKIN_TONES = range(0x1F3FB, 0x1F400)
VARIATION_SELECTOR_16 = 0xFE0F

_LINE = re.compile(r"^([0-9A-Fa-f ]+?)\s*;\s*([a-z-]+)\s*#\s*\S+\s+E\d+\.\d+\s+(.+)$")


@dataclass(frozen=True)
class Emoji:
    codepoints: tuple[int, ...]
    name: str
    group: str
    subgroup: str

    @property
    def text(self) -> str:
        return "".join(map(chr, self.codepoints))

    @property
    def key(self) -> tuple[int, ...]:
        """Code points without U+FE0F: artwork sets disagree on where they keep it."""
        return match_key(self.codepoints)

    @property
    def slug(self) -> str:
        return "-".join(f"{c:x}" for c in self.codepoints)


def match_key(codepoints) -> tuple[int, ...]:
    return tuple(c for c in codepoints if c != VARIATION_SELECTOR_16)


def group_slug(group: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_")


def load_catalog(path: Path = EMOJI_TEST) -> list[Emoji]:
    """Fully-qualified emoji in the file's (CLDR) order, without skin-tone variants."""
    if not path.is_file():
        raise SystemExit(f"error: {path} is missing; install the Debian package unicode-data")
    emoji: list[Emoji] = []
    group = subgroup = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
            continue
        if line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise SystemExit(f"error: {path}:{number}: unexpected line: {line!r}")
        if m.group(2) != "fully-qualified":
            continue
        codepoints = tuple(int(h, 16) for h in m.group(1).split())
        if any(c in SKIN_TONES for c in codepoints):
            continue
        emoji.append(Emoji(codepoints, m.group(3).strip(), group, subgroup))
    if not emoji:
        raise SystemExit(f"error: {path} lists no fully-qualified emoji")
    return emoji
