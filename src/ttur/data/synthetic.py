"""Offline smoke datasets, written in the same on-disk formats as the real ones so they share the prepare code.

shapes32: a folder of 32x32 RGB PNGs (like the reference code's `cifar10_train` folder): one coloured shape (disc,
square or triangle) on a two-colour gradient background. Image i depends only on (seed, i), so a smaller count is a
prefix of a larger one. tinytext: English-like sentences from a small grammar, tokenised with spaces like One Billion
Word, in its folder layout `training-monolingual.tokenized.shuffled/news.en-000NN-of-00100`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ttur.data.text import TEXT_FOLDER

SHAPES_FOLDER = "shapes32_train"
TEXT_FILES = 4

_PALETTE = np.array(
    [(220, 40, 40), (40, 180, 60), (40, 80, 220), (240, 200, 30), (200, 60, 200), (30, 200, 210)], dtype=np.uint8
)


def shapes32_image(seed: int, index: int, size: int = 32) -> np.ndarray:
    """One shapes32 image (uint8 size x size x 3), a pure function of (seed, index)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng([seed, index])
    top, bottom = rng.integers(60, 200, size=(2, 3))
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    background = np.rint(top + (bottom - top) * ramp).astype(np.uint8)
    image = Image.fromarray(np.broadcast_to(background, (size, size, 3)).copy())
    side = int(rng.integers(size // 3, size // 2 + 3))
    x0, y0 = (int(v) for v in rng.integers(1, size - side, size=2))
    colour = tuple(int(c) for c in _PALETTE[rng.integers(len(_PALETTE))])
    draw = ImageDraw.Draw(image)
    kind = int(rng.integers(3))
    if kind == 0:
        draw.ellipse((x0, y0, x0 + side - 1, y0 + side - 1), fill=colour)
    elif kind == 1:
        draw.rectangle((x0, y0, x0 + side - 1, y0 + side - 1), fill=colour)
    else:
        draw.polygon([(x0 + side // 2, y0), (x0, y0 + side - 1), (x0 + side - 1, y0 + side - 1)], fill=colour)
    return np.asarray(image)


def write_shapes32(out: Path, count: int, seed: int) -> list[Path]:
    """Write `count` PNGs to out/shapes32_train/NNNNNN.png; returns the paths in order."""
    from PIL import Image

    folder = out / SHAPES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{index:06d}.png"
        Image.fromarray(shapes32_image(seed, index)).save(path, format="PNG")
        paths.append(path)
    return paths


_WORDS = {
    "det": ["the", "a", "every", "one", "that"],
    "adj": ["small", "red", "old", "quiet", "bright", "happy", "green", "tall", "cold", "new"],
    "noun": ["dog", "cat", "house", "river", "teacher", "city", "garden", "car", "child", "book", "tree", "market"],
    "verb": ["sees", "likes", "finds", "follows", "paints", "visits", "builds", "reads", "watches", "carries"],
    "prep": ["near", "behind", "under", "beside", "across"],
    "adv": ["today", "again", "slowly", "often", "yesterday"],
}


def _pick(rng: np.random.Generator, kind: str) -> str:
    words = _WORDS[kind]
    return words[int(rng.integers(len(words)))]


def _noun_phrase(rng: np.random.Generator) -> list[str]:
    phrase = [_pick(rng, "det")]
    if rng.random() < 0.5:
        phrase.append(_pick(rng, "adj"))
    return [*phrase, _pick(rng, "noun")]


def tinytext_sentence(rng: np.random.Generator) -> str:
    """One tokenised sentence: NP VERB NP [PREP NP] [ADV] . (first letter capitalised)."""
    words = [*_noun_phrase(rng), _pick(rng, "verb"), *_noun_phrase(rng)]
    if rng.random() < 0.4:
        words += [_pick(rng, "prep"), *_noun_phrase(rng)]
    if rng.random() < 0.3:
        words.append(_pick(rng, "adv"))
    words.append("." if rng.random() < 0.85 else "!")
    words[0] = words[0].capitalize()
    return " ".join(words)


def write_tinytext(out: Path, count: int, seed: int) -> list[Path]:
    """Write `count` sentences over TEXT_FILES files in the One Billion Word training layout; returns the paths."""
    rng = np.random.default_rng(seed)
    folder = out / TEXT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-count // TEXT_FILES)
    paths = []
    for number in range(1, TEXT_FILES + 1):
        n = max(0, min(per_file, count - (number - 1) * per_file))
        path = folder / f"news.en-{number:05d}-of-00100"
        path.write_text("".join(tinytext_sentence(rng) + "\n" for _ in range(n)), encoding="utf-8")
        paths.append(path)
    return paths
