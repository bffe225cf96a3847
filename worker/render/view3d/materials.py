"""Materials of the 3D view: the palette, floor finishes, and the procedural textures behind them (numpy only).

Colours are written in sRGB, as a designer picks them, and turned linear here: the shader lights in linear
space and the output is encoded back to sRGB. Textures are generated from seeded noise, never downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

TEXTURE_PX = 512  # per layer; mipmapped, so far-away floors stay calm rather than shimmer
NO_TEXTURE = -1.0
UNLIT = -2.0  # flat colour, no light: how a section cut is drawn
GROUND_LAYER = -3.0  # the background colour, darkened only by shadow and contact occlusion


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """SRGB components (0 to 1) to linear light."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def hex_rgb(value: str) -> tuple[float, float, float]:
    """A `#rrggbb` colour as components from 0 to 1."""
    value = value.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


@dataclass(frozen=True)
class Material:
    """How a surface looks: its colour, texture layer and shine."""

    color: str  # sRGB hex; multiplies the texture, if any
    layer: float = NO_TEXTURE
    specular: float = 0.0  # strength of the sun's highlight: 0 matte fabric, ~0.5 glazed ceramic
    texture_size: float = 100.0  # cm of surface one texture repeat covers
    vertex_color: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        linear = srgb_to_linear(np.array(hex_rgb(self.color)))
        object.__setattr__(self, "vertex_color", np.array([*linear, self.specular], np.float32))


# --- Textures: one layer of a texture array each; (name, cm per repeat, generator). -------------------------


def _periodic_noise(rng: np.random.Generator, size: int, sigma_u: float, sigma_v: float) -> np.ndarray:
    """Gaussian-filtered white noise that tiles seamlessly (filtering in the frequency domain wraps around).

    `sigma_*` are feature sizes in pixels along u (columns) and v (rows); a long sigma_u gives wood grain.
    """
    white = rng.standard_normal((size, size), dtype=np.float32)
    fv = np.fft.fftfreq(size).astype(np.float32)[:, None]
    fu = np.fft.rfftfreq(size).astype(np.float32)[None, :]
    kernel = np.exp(-2 * (np.pi ** 2) * ((fu * sigma_u) ** 2 + (fv * sigma_v) ** 2))
    noise = np.fft.irfft2(np.fft.rfft2(white) * kernel, s=(size, size))
    tiled: np.ndarray = (noise - noise.mean()) / (noise.std() + 1e-9)
    return tiled


def _mix(a: str, b: str, t: np.ndarray) -> np.ndarray:
    ca, cb = np.array(hex_rgb(a), np.float32), np.array(hex_rgb(b), np.float32)
    mixed: np.ndarray = ca + (cb - ca) * np.clip(t, 0, 1)[..., None]
    return mixed


def _planks(rng: np.random.Generator, size: int, light: str, dark: str, rows: int) -> np.ndarray:
    """Floor boards along u: staggered butt joints, a tone per board, grain, darker seams."""
    v = np.arange(size)
    row = v * rows // size
    row_px = size / rows
    tone = np.zeros((size, size))
    seam = np.zeros((size, size), bool)
    for r in range(rows):
        in_row = row == r
        # Boards of two or three per repeat, with a joint offset per row so joints do not line up.
        count = int(rng.integers(2, 4))
        joints = np.sort((rng.uniform(0, 1) + np.arange(count) / count) % 1.0) * size
        u = np.arange(size)
        board = np.searchsorted(joints, u) % count
        tones = rng.uniform(-1, 1, count)
        tone[in_row] = tones[board][None, :]
        near_joint = np.min(np.abs(((u[:, None] - joints[None, :]) + size / 2) % size - size / 2), axis=1) < 1.0
        seam[in_row] |= near_joint[None, :]
        top = int(round(r * row_px))
        seam[top:top + 1] = True
    grain = _periodic_noise(rng, size, 90.0, 1.6)
    figure = _periodic_noise(rng, size, 40.0, 6.0)
    fine = _periodic_noise(rng, size, 6.0, 0.7)
    t = 0.5 + 0.18 * tone + 0.16 * grain + 0.10 * figure + 0.06 * fine
    rgb = _mix(light, dark, t)
    rgb[seam] *= 0.72
    return rgb


def _wood(rng: np.random.Generator, size: int) -> np.ndarray:
    return _planks(rng, size, "#dcc09a", "#a9845b", rows=12)


def _dark_wood(rng: np.random.Generator, size: int) -> np.ndarray:
    return _planks(rng, size, "#8a6446", "#4f3626", rows=12)


def _grid_tiles(rng: np.random.Generator, size: int, count: int, light: str, dark: str, grout: str,
                grout_px: float, mottle: float) -> np.ndarray:
    cell = size / count
    u = np.arange(size)
    col, row = (u // cell).astype(int), (u // cell).astype(int)
    tones = rng.uniform(-1, 1, (count, count))
    tone = tones[row[:, None], col[None, :]]
    noise = _periodic_noise(rng, size, 14.0, 14.0)
    t = 0.5 + 0.12 * tone + mottle * noise
    rgb = _mix(light, dark, t)
    along = np.minimum(u % cell, cell - (u % cell))
    is_grout = (along[:, None] < grout_px / 2) | (along[None, :] < grout_px / 2)
    rgb[is_grout] = np.array(hex_rgb(grout))
    return rgb


def _tiles(rng: np.random.Generator, size: int) -> np.ndarray:
    return _grid_tiles(rng, size, 4, "#e4e1dc", "#c9c4bc", "#a8a39b", 1.6, 0.10)


def _small_tiles(rng: np.random.Generator, size: int) -> np.ndarray:
    return _grid_tiles(rng, size, 8, "#f1f3f4", "#d5dadd", "#b2b8bc", 1.8, 0.06)


def _carpet(rng: np.random.Generator, size: int) -> np.ndarray:
    fibre = _periodic_noise(rng, size, 0.8, 0.8)
    mottle = _periodic_noise(rng, size, 30.0, 30.0)
    return _mix("#d6c8b2", "#a8977f", 0.5 + 0.2 * fibre + 0.08 * mottle)


def _concrete(rng: np.random.Generator, size: int) -> np.ndarray:
    cloud = _periodic_noise(rng, size, 40.0, 40.0)
    speck = _periodic_noise(rng, size, 1.0, 1.0)
    return _mix("#c9c7c3", "#9d9a95", 0.45 + 0.18 * cloud + 0.08 * speck)


def _fabric(rng: np.random.Generator, size: int) -> np.ndarray:
    # A weave: fine threads in both directions, around white so that it only modulates the tint.
    u = np.arange(size)
    weave = 0.5 + 0.5 * np.sin(u * 2 * np.pi / 4)
    thread = 0.5 * (weave[None, :] + weave[:, None])
    fuzz = _periodic_noise(rng, size, 1.2, 1.2)
    value = 0.9 + 0.07 * (thread - 0.5) + 0.04 * fuzz
    return np.repeat(value[..., None], 3, axis=2)


def _furniture_wood(rng: np.random.Generator, size: int) -> np.ndarray:
    grain = _periodic_noise(rng, size, 120.0, 2.0)
    figure = _periodic_noise(rng, size, 50.0, 10.0)
    value = 0.92 + 0.06 * grain + 0.04 * figure
    return np.repeat(value[..., None], 3, axis=2)


Generator = Callable[[np.random.Generator, int], np.ndarray]
TEXTURES: list[tuple[str, float, Generator]] = [
    ("wood", 240.0, _wood),
    ("dark_wood", 240.0, _dark_wood),
    ("tiles", 240.0, _tiles),
    ("small_tiles", 120.0, _small_tiles),
    ("carpet", 100.0, _carpet),
    ("concrete", 300.0, _concrete),
    ("fabric", 20.0, _fabric),
    ("furniture_wood", 120.0, _furniture_wood),
]
LAYER = {name: float(i) for i, (name, _, _) in enumerate(TEXTURES)}
TEXTURE_SIZE = {name: size for name, size, _ in TEXTURES}


def texture_layers(size: int = TEXTURE_PX) -> np.ndarray:
    """All texture layers as one (layers, size, size, 4) float16 array of linear colour, seeded: deterministic."""
    to_linear = srgb_to_linear(np.arange(256) / 255).astype(np.float16)  # by 8-bit level: a lookup, not a pow
    layers = np.ones((len(TEXTURES), size, size, 4), np.float16)
    for index, (_, _, generate) in enumerate(TEXTURES):
        rgb = generate(np.random.default_rng(1000 + index), size)
        layers[index, ..., :3] = to_linear[np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)]
    return layers


def finish_material(finish: str) -> Material:
    """The material of a floor finish: its texture, untinted."""
    return Material("#ffffff", LAYER[finish], specular=0.12 if finish in ("tiles", "small_tiles") else 0.04,
                    texture_size=TEXTURE_SIZE[finish])


ROOM_FINISHES = {
    "living": "wood", "dining": "wood", "hall": "wood", "corridor": "wood", "entrance": "wood", "room": "wood",
    "office": "wood", "study": "wood", "bedroom": "carpet",
    "kitchen": "tiles", "balcony": "tiles", "terrace": "tiles",
    "bath": "small_tiles", "bathroom": "small_tiles", "wc": "small_tiles", "toilet": "small_tiles",
    "shower": "small_tiles", "laundry": "small_tiles",
    "storage": "concrete", "utility": "concrete", "garage": "concrete", "basement": "concrete",
}


def room_finish(room_type: str, name: str, overrides: dict[str, str]) -> str:
    """The finish of a room: an option keyed by its name or type wins, then the type's default, then wood."""
    for key in (name, name.strip().lower(), room_type, room_type.strip().lower()):
        if key in overrides:
            return overrides[key]
    return ROOM_FINISHES.get(room_type.strip().lower(), "wood")


# --- The palette of walls, openings and the base. -------------------------------------------------------------

WALL = Material("#f2f0ec", specular=0.02)
SECTION = Material("#3c3f44", UNLIT)  # wall tops where the section cuts them
STAIR = Material("#e6e1d8", specular=0.05)  # stone-coloured steps
BASE = Material("#d8d4cd")  # the slab's edge below the floor line
THRESHOLD = Material("#cdc7be", specular=0.05)  # floor in a doorway, between two rooms' finishes
DOOR = Material("#f6f4ef", specular=0.08)
DOOR_FRAME = Material("#fbfbfa", specular=0.08)
WINDOW_FRAME = Material("#fafafa", specular=0.15)
METAL = Material("#9ea3a8", specular=0.6)
GLASS = Material("#cfe3ee", specular=0.9)
GLASS_ALPHA = 0.14
GROUND = Material("#ffffff", GROUND_LAYER)
