"""Furniture models for the 3D view: one parametric model per catalog kind, built from primitives.

A model is built in its own frame, sized by the item: x across its width (-w/2..w/2), z along its depth
with its back at -d/2 (north, at rotation 0, as the plan's convention puts it), y up from its base. A kind
without a model here (the catalog may grow) is drawn as a plain rounded box of the item's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import Point, Polygon
from shapely.geometry import box as rect

from shared.plan import Item
from worker.render.catalog import lookup
from worker.render.view3d import materials as mat
from worker.render.view3d.mesh import (
    MeshBuilder,
    Shape,
    box,
    cylinder,
    ellipsoid,
    extrude,
    flat,
    join,
    rounded_box,
    sides,
)

Material = mat.Material
_FABRIC = mat.LAYER["fabric"]
_WOOD = mat.LAYER["furniture_wood"]
_FABRIC_CM = mat.TEXTURE_SIZE["fabric"]
_WOOD_CM = mat.TEXTURE_SIZE["furniture_wood"]

SOFA = Material("#8796a3", _FABRIC, texture_size=_FABRIC_CM)
SOFA_CUSHION = Material("#93a2ae", _FABRIC, texture_size=_FABRIC_CM)
ARMCHAIR = Material("#c49a55", _FABRIC, texture_size=_FABRIC_CM)
LINEN = Material("#f5f3ee", _FABRIC, texture_size=_FABRIC_CM)
PILLOW = Material("#ffffff", _FABRIC, texture_size=_FABRIC_CM)
THROW = Material("#9fb0c4", _FABRIC, texture_size=_FABRIC_CM)
HEADBOARD = Material("#b7aa98", _FABRIC, texture_size=_FABRIC_CM)
RUG = Material("#b86f58", _FABRIC, texture_size=_FABRIC_CM)
RUG_BORDER = Material("#e8dccb", _FABRIC, texture_size=_FABRIC_CM)
OAK = Material("#d2b28a", _WOOD, specular=0.08, texture_size=_WOOD_CM)
WALNUT = Material("#7a5a43", _WOOD, specular=0.08, texture_size=_WOOD_CM)
LACQUER = Material("#f1efea", specular=0.12)
LACQUER_GAP = Material("#c9c5bd")
DARK = Material("#3b3936", specular=0.1)
STONE = Material("#56524d", specular=0.25)
STEEL = Material("#c3c8cc", specular=0.6)
CERAMIC = Material("#fcfcfb", specular=0.45)
WATER = Material("#cfe0e6", specular=0.6)
BLACK_GLASS = Material("#1d1f22", specular=0.7)
CHROME = Material("#d9dde0", specular=0.9)
POT = Material("#c0714d")
SOIL = Material("#4a3a2c")
LEAVES = (Material("#4f8a4b"), Material("#5f9b55"), Material("#3f7440"))
BOOKS = (Material("#a84b3c"), Material("#3e6a8a"), Material("#d8b25a"), Material("#5b7f57"),
         Material("#e9e2d3"), Material("#49413b"))
PLAIN = Material("#d9d3c8", specular=0.05)
KEYS_WHITE = Material("#f7f6f2", specular=0.3)
FIRE = Material("#2a2523")
LAMPSHADE = Material("#efe6d6", _FABRIC, texture_size=_FABRIC_CM)


@dataclass
class Model:
    """What an item is made of, in its own frame: opaque parts, and glass (drawn blended)."""

    solid: MeshBuilder = field(default_factory=MeshBuilder)
    glass: list[Shape] = field(default_factory=list)

    def add(self, material: Material, *shapes: Shape) -> None:
        """Add `shapes` as solid parts of `material`."""
        self.solid.add(join(shapes), material)


def item_model(item: Item) -> Model:
    """The item's model in its own frame, sized by its width, depth and height."""
    entry = lookup(item.ref)
    kind = entry.kind if entry is not None else ""
    model = Model()
    build = MODELS.get(kind, _plain)
    build(model, item.width, item.depth, item.height, _rng(item))
    return model


def _rng(item: Item) -> np.random.Generator:
    # Seeded from the item itself, so books and leaves vary between items yet never between renders.
    seed = [round(item.x * 10), round(item.y * 10), round(item.width), round(item.depth), round(item.height)]
    return np.random.default_rng([abs(v) for v in seed])


Builder = Callable[[Model, float, float, float, np.random.Generator], None]


def _plain(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(PLAIN, rounded_box(-w / 2, w / 2, 0, h, -d / 2, d / 2, min(3.0, h / 4)))


def _legs(x: float, z: float, y0: float, y1: float, size: float, round_legs: bool = False) -> Shape:
    """Four legs at (+-x, +-z)."""
    parts = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            if round_legs:
                parts.append(cylinder(sx * x, sz * z, size / 2, y0, y1, segments=10))
            else:
                parts.append(box(sx * x - size / 2, sx * x + size / 2, y0, y1, sz * z - size / 2, sz * z + size / 2))
    return join(parts)


def _bed(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    if h >= 120:
        _bunk_bed(m, w, d, h)
        return
    top = max(h, 30.0)
    base_top = top - 18
    m.add(WALNUT, rounded_box(-w / 2, w / 2, 6, base_top, -d / 2 + 4, d / 2, 1.5), _legs(w / 2 - 6, d / 2 - 8, 0, 6, 5))
    m.add(HEADBOARD, rounded_box(-w / 2, w / 2, 0, max(top + 45, 95), -d / 2, -d / 2 + 7, 3))
    m.add(LINEN, rounded_box(-w / 2 + 2, w / 2 - 2, base_top, top, -d / 2 + 8, d / 2 - 1, 5))
    pillows = 2 if w >= 120 else 1
    gap = 6
    span = (w - 12 - gap * (pillows - 1)) / pillows
    for i in range(pillows):
        x0 = -w / 2 + 6 + i * (span + gap)
        m.add(PILLOW, rounded_box(x0, x0 + span, top, top + 12, -d / 2 + 11, -d / 2 + 11 + min(45.0, d * 0.22), 5))
    fold = -d / 2 + min(75.0, d * 0.38)
    m.add(THROW, rounded_box(-w / 2 + 1, w / 2 - 1, top - 12, top + 3, fold, d / 2 + 1, 3))
    m.add(LINEN, rounded_box(-w / 2 + 1.5, w / 2 - 1.5, top - 1, top + 4, fold - 14, fold + 2, 2))


def _bunk_bed(m: Model, w: float, d: float, h: float) -> None:
    m.add(OAK, _legs(w / 2 - 3, d / 2 - 3, 0, h, 6))
    for y in (20.0, h - 55):
        m.add(OAK, box(-w / 2, w / 2, y, y + 10, -d / 2, d / 2))
        m.add(LINEN, rounded_box(-w / 2 + 3, w / 2 - 3, y + 10, y + 26, -d / 2 + 3, d / 2 - 3, 4))
        m.add(PILLOW, rounded_box(-w / 2 + 8, w / 2 - 8, y + 26, y + 36, -d / 2 + 6, -d / 2 + 40, 4))
        m.add(THROW, rounded_box(-w / 2 + 2, w / 2 - 2, y + 20, y + 28, -d / 2 + 70, d / 2 - 2, 3))
    m.add(OAK, box(-w / 2, w / 2, h - 25, h - 20, d / 2 - 6, d / 2 - 2), box(-w / 2, w / 2, h - 25, h - 20,
                                                                            -d / 2 + 2, -d / 2 + 6))


def _crib(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(LACQUER, _legs(w / 2 - 2.5, d / 2 - 2.5, 0, h, 5))
    m.add(LACQUER, box(-w / 2, w / 2, 25, 30, -d / 2, d / 2))
    m.add(LINEN, rounded_box(-w / 2 + 3, w / 2 - 3, 30, 40, -d / 2 + 3, d / 2 - 3, 3))
    rails = []
    for z in (-d / 2 + 1, d / 2 - 4):
        rails.append(box(-w / 2, w / 2, h - 4, h, z, z + 3))
        count = max(3, int(w / 9))
        rails += [box(x - 1, x + 1, 30, h - 4, z + 0.5, z + 2.5) for x in np.linspace(-w / 2 + 6, w / 2 - 6, count)]
    for x in (-w / 2 + 1, w / 2 - 4):
        rails.append(box(x, x + 3, h - 4, h, -d / 2, d / 2))
        count = max(3, int(d / 9))
        rails += [box(x + 0.5, x + 2.5, 30, h - 4, z - 1, z + 1) for z in np.linspace(-d / 2 + 6, d / 2 - 6, count)]
    m.add(LACQUER, *rails)


def _sofa(m: Model, w: float, d: float, h: float, rng: np.random.Generator, cover: Material = SOFA,
          cushion: Material = SOFA_CUSHION, seats: int | None = None) -> None:
    arm = min(18.0, w * 0.15)
    back = min(22.0, d * 0.28)
    seat = min(42.0, h * 0.55)
    m.add(DARK, _legs(w / 2 - 6, d / 2 - 6, 0, 8, 4, round_legs=True))
    m.add(cover, rounded_box(-w / 2, w / 2, 8, seat - 10, -d / 2, d / 2, 3))
    m.add(cover, rounded_box(-w / 2, w / 2, 8, h, -d / 2, -d / 2 + back, 5))
    arm_top = min(h - 10, seat + 22)
    for x0 in (-w / 2, w / 2 - arm):
        m.add(cover, rounded_box(x0, x0 + arm, 8, arm_top, -d / 2, d / 2, 6))
    count = seats or max(1, min(4, round((w - 2 * arm) / 75)))
    inner = w - 2 * arm
    span = inner / count
    for i in range(count):
        x0 = -w / 2 + arm + i * span
        m.add(cushion, rounded_box(x0 + 0.8, x0 + span - 0.8, seat - 10, seat + 2, -d / 2 + back, d / 2 - 1, 5))
        m.add(cushion, rounded_box(x0 + 1.5, x0 + span - 1.5, seat + 2, h - 4, -d / 2 + back - 2,
                                   -d / 2 + back + 14, 6))


def _armchair(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    _sofa(m, w, d, h, rng, ARMCHAIR, ARMCHAIR, seats=1)


def _sofa_corner(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    seat_depth = min(95.0, d * 0.5, w * 0.45)
    back = 22.0
    seat = min(42.0, h * 0.55)
    arm = 18.0
    # The long run along the back, the chaise coming forward on the right, an arm on the left.
    feet = [(-w / 2 + 6, -d / 2 + 6), (w / 2 - 6, -d / 2 + 6), (w / 2 - 6, d / 2 - 6),
            (w / 2 - seat_depth + 6, d / 2 - 6), (-w / 2 + 6, -d / 2 + seat_depth - 6)]
    m.add(DARK, *[cylinder(x, z, 2, 0, 8, segments=10) for x, z in feet])
    base = rect(-w / 2, -d / 2, w / 2, -d / 2 + seat_depth).union(rect(w / 2 - seat_depth, -d / 2, w / 2, d / 2))
    m.add(SOFA, extrude(base, 8, seat - 10))
    m.add(SOFA, rounded_box(-w / 2, w / 2, 8, h, -d / 2, -d / 2 + back, 5))
    m.add(SOFA, rounded_box(-w / 2, -w / 2 + arm, 8, min(h - 10, seat + 22), -d / 2, -d / 2 + seat_depth, 6))
    run = w - arm - seat_depth
    count = max(1, round(run / 75))
    for i in range(count):
        x0 = -w / 2 + arm + i * run / count
        m.add(SOFA_CUSHION, rounded_box(x0 + 0.8, x0 + run / count - 0.8, seat - 10, seat + 2, -d / 2 + back,
                                        -d / 2 + seat_depth - 1, 5))
        m.add(SOFA_CUSHION, rounded_box(x0 + 1.5, x0 + run / count - 1.5, seat + 2, h - 4, -d / 2 + back - 2,
                                        -d / 2 + back + 14, 6))
    x0 = w / 2 - seat_depth
    m.add(SOFA_CUSHION, rounded_box(x0 + 0.8, w / 2 - 1, seat - 10, seat + 2, -d / 2 + back, d / 2 - 1, 5))
    m.add(SOFA_CUSHION, rounded_box(x0 + 1.5, w / 2 - 1.5, seat + 2, h - 4, -d / 2 + back - 2, -d / 2 + back + 14, 6))


def _table(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    top = min(4.0, h / 6)
    m.add(OAK, rounded_box(-w / 2, w / 2, h - top, h, -d / 2, d / 2, 1.0))
    leg = min(6.0, w / 12, d / 8)
    m.add(OAK, _legs(w / 2 - leg - 3, d / 2 - leg - 3, 0, h - top, leg))
    if h < 55 and d > 40:  # a coffee table gets its lower shelf
        m.add(OAK, box(-w / 2 + leg + 3, w / 2 - leg - 3, 10, 12.5, -d / 2 + leg + 3, d / 2 - leg - 3))


def _round_table(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(OAK, cylinder(0, 0, w / 2, h - 4, h, rz=d / 2, segments=40, bottom=True))
    m.add(DARK, cylinder(0, 0, 5, 2, h - 4, segments=16, top=False))
    m.add(DARK, cylinder(0, 0, min(w, d) / 4, 0, 2, segments=28))


def _desk(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(OAK, box(-w / 2, w / 2, h - 3, h, -d / 2, d / 2))
    m.add(LACQUER, box(-w / 2, -w / 2 + 3, 0, h - 3, -d / 2 + 2, d / 2 - 2))
    drawers = min(45.0, w * 0.35)
    m.add(LACQUER, box(w / 2 - drawers, w / 2, 0, h - 3, -d / 2 + 2, d / 2 - 2))
    for i in range(3):
        y0 = 2 + i * (h - 6) / 3
        m.add(LACQUER_GAP, box(w / 2 - drawers + 1.5, w / 2 - 1.5, y0, y0 + 0.6, d / 2 - 2, d / 2 - 1.6))
        m.add(STEEL, box(w / 2 - drawers / 2 - 6, w / 2 - drawers / 2 + 6, y0 + (h - 6) / 3 - 7,
                         y0 + (h - 6) / 3 - 5.5, d / 2 - 2, d / 2))
    m.add(LACQUER, box(-w / 2 + 3, w / 2 - drawers, h - 40, h - 3, -d / 2 + 2, -d / 2 + 4))


def _chair(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    if h > 100:  # an office chair: star base, gas lift, upholstered seat and back
        seat = 48.0
        m.add(DARK, *[box(-1.5, 1.5, 4, 7, 0, min(w, d) / 2 - 2).turned_y(a) for a in range(0, 360, 72)])
        m.add(DARK, *[cylinder(math.sin(math.radians(a)) * (min(w, d) / 2 - 3),
                               math.cos(math.radians(a)) * (min(w, d) / 2 - 3), 2.5, 0, 4, segments=8)
                      for a in range(0, 360, 72)])
        m.add(STEEL, cylinder(0, 0, 2.5, 6, seat - 6, segments=12, top=False))
        m.add(DARK, rounded_box(-w / 2 + 5, w / 2 - 5, seat - 7, seat, -d / 2 + 6, d / 2 - 3, 3))
        m.add(DARK, rounded_box(-w / 2 + 8, w / 2 - 8, seat + 6, h, -d / 2 + 3, -d / 2 + 9, 3))
        m.add(DARK, box(-2, 2, seat - 4, seat + 8, -d / 2 + 5, -d / 2 + 9))
        return
    seat = min(46.0, h * 0.52)
    leg = min(4.0, w / 10)
    m.add(OAK, _legs(w / 2 - leg / 2 - 1, d / 2 - leg / 2 - 1, 0, seat - 4, leg))
    m.add(OAK, rounded_box(-w / 2, w / 2, seat - 4, seat, -d / 2, d / 2, 1.2))
    m.add(OAK, box(-w / 2 + 1, -w / 2 + 1 + leg, seat, h - 2, -d / 2 + 1, -d / 2 + 1 + leg),
          box(w / 2 - 1 - leg, w / 2 - 1, seat, h - 2, -d / 2 + 1, -d / 2 + 1 + leg))
    m.add(OAK, rounded_box(-w / 2 + 1, w / 2 - 1, h - 18, h, -d / 2 + 1, -d / 2 + 3.5, 1))


def _stool(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    r = min(w, d) / 2
    m.add(OAK, cylinder(0, 0, r, h - 4, h, segments=24, bottom=True))
    for a in (45, 135, 225, 315):
        x, z = math.cos(math.radians(a)) * (r - 4), math.sin(math.radians(a)) * (r - 4)
        m.add(DARK, cylinder(x * 1.15, z * 1.15, 1.4, 0, h - 4, top_scale=1.0, segments=8))
    m.add(DARK, cylinder(0, 0, r * 0.8, 22, 23.5, segments=20))


def _cabinet(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    plinth = 8.0
    m.add(WALNUT, _legs(w / 2 - 4, d / 2 - 4, 0, plinth, 3, round_legs=True))
    m.add(LACQUER, rounded_box(-w / 2, w / 2, plinth, h, -d / 2, d / 2, 0.8))
    rows = max(1, min(4, round((h - plinth) / 22)))
    cols = 2 if w > 90 else 1
    row_h = (h - plinth - 4) / rows
    col_w = (w - 4) / cols
    for r in range(rows):
        for c in range(cols):
            x0, y0 = -w / 2 + 2 + c * col_w, plinth + 2 + r * row_h
            m.add(LACQUER, box(x0 + 0.4, x0 + col_w - 0.4, y0 + 0.4, y0 + row_h - 0.4, d / 2, d / 2 + 1.2))
            m.add(STEEL, box(x0 + col_w / 2 - 5, x0 + col_w / 2 + 5, y0 + row_h / 2 - 0.8, y0 + row_h / 2 + 0.8,
                             d / 2 + 1.2, d / 2 + 2.5))
    m.add(OAK, box(-w / 2, w / 2, h, h + 2, -d / 2, d / 2))


def _wardrobe(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(LACQUER_GAP, box(-w / 2 + 2, w / 2 - 2, 0, 8, -d / 2, d / 2 - 3))
    m.add(LACQUER, box(-w / 2, w / 2, 8, h, -d / 2, d / 2 - 2))
    doors = max(1, round(w / 50))
    door_w = w / doors
    for i in range(doors):
        x0 = -w / 2 + i * door_w
        m.add(LACQUER, box(x0 + 0.3, x0 + door_w - 0.3, 8.3, h - 0.3, d / 2 - 2, d / 2))
        handle_x = x0 + door_w - 5 if i % 2 == 0 else x0 + 5
        m.add(STEEL, box(handle_x - 0.8, handle_x + 0.8, h / 2 - 20, h / 2 + 20, d / 2, d / 2 + 2.5))


def _shelf(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    board = 2.5
    m.add(OAK, box(-w / 2, -w / 2 + board, 0, h, -d / 2, d / 2), box(w / 2 - board, w / 2, 0, h, -d / 2, d / 2),
          box(-w / 2 + board, w / 2 - board, 0, h, -d / 2, -d / 2 + 1.5))
    shelves = max(2, round(h / 38))
    pitch = (h - board) / shelves
    books = []
    for i in range(shelves + 1):
        y = i * pitch
        m.add(OAK, box(-w / 2 + board, w / 2 - board, y, y + board, -d / 2 + 1.5, d / 2))
        if i == shelves:
            break
        x = -w / 2 + board + 1
        while x < w / 2 - board - 4:
            width = float(rng.uniform(2.2, 5.0))
            if rng.uniform() < 0.12:  # gaps between groups of books
                x += width * 2
                continue
            tall = float(rng.uniform(0.6, 0.85)) * (pitch - board)
            material = BOOKS[int(rng.integers(len(BOOKS)))]
            books.append((material, box(x, min(x + width, w / 2 - board - 0.5), y + board, y + board + tall,
                                        -d / 2 + 3, d / 2 - 3)))
            x += width + 0.3
    for material in BOOKS:
        m.add(material, *[shape for mm, shape in books if mm is material])


def _counter(m: Model, w: float, d: float, h: float, rng: np.random.Generator, worktop: Shape | None = None,
             fronts: bool = True) -> None:
    plinth, top = 10.0, 4.0
    m.add(LACQUER_GAP, box(-w / 2, w / 2, 0, plinth, -d / 2, d / 2 - 6))
    m.add(LACQUER, box(-w / 2, w / 2, plinth, h - top, -d / 2, d / 2 - 2))
    if fronts:
        doors = max(1, round(w / 60))
        door_w = w / doors
        for i in range(doors):
            x0 = -w / 2 + i * door_w
            m.add(LACQUER, box(x0 + 0.3, x0 + door_w - 0.3, plinth + 0.3, h - top - 0.5, d / 2 - 2, d / 2))
            m.add(STEEL, box(x0 + door_w / 2 - 8, x0 + door_w / 2 + 8, h - top - 9, h - top - 7.5, d / 2,
                             d / 2 + 2.5))
    m.add(STONE, worktop if worktop is not None else box(-w / 2, w / 2, h - top, h, -d / 2, d / 2 + 1.5))


def _kitchen_sink(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    top = 4.0
    bowl = rect(-min(w * 0.35, 30), -d / 2 + 10, min(w * 0.35, 30), d / 2 - 10)
    slab = rect(-w / 2, -d / 2, w / 2, d / 2 + 1.5).difference(bowl)
    _counter(m, w, d, h, rng, worktop=extrude(slab, h - top, h))
    depth = 18.0
    m.add(STEEL, _inner_faces(bowl, h - depth, h), flat(bowl, h - depth))
    m.add(CHROME, cylinder(0, -d / 2 + 5, 1.8, h, h + 28, segments=12),
          box(-1.2, 1.2, h + 24, h + 27, -d / 2 + 5, -d / 2 + 20))


def _inner_faces(outline: Polygon, y0: float, y1: float) -> Shape:
    shape = sides(outline, y0, y1)
    # Reverse each triangle and its normal: the faces now look into the well.
    positions = shape.positions.reshape(-1, 3, 3)[:, ::-1].reshape(-1, 3)
    return Shape(positions.copy(), -shape.normals.reshape(-1, 3, 3)[:, ::-1].reshape(-1, 3))


def _stove(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    _counter(m, w, d, h, rng, fronts=False)
    m.add(BLACK_GLASS, box(-w / 2 + 3, w / 2 - 3, 14, h - 14, d / 2 - 2, d / 2 - 0.5))
    m.add(STEEL, box(-w / 2 + 6, w / 2 - 6, h - 20, h - 18, d / 2 - 0.5, d / 2 + 3))
    m.add(BLACK_GLASS, box(-w / 2 + 3, w / 2 - 3, h, h + 0.6, -d / 2 + 3, d / 2 - 2))
    rings = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            r = 8.0 if sx * sz > 0 else 6.0
            rings.append(Point(sx * w / 4.4, sz * d / 4.6).buffer(r, 24).difference(
                Point(sx * w / 4.4, sz * d / 4.6).buffer(r - 1.2, 24)))
    m.add(Material("#5d6166", specular=0.4), *[flat(ring, h + 0.7) for ring in rings])


def _fridge(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(STEEL, rounded_box(-w / 2, w / 2, 1, h, -d / 2, d / 2 - 0.5, 2))
    split = h * 0.62
    m.add(DARK, box(-w / 2 + 1, w / 2 - 1, split - 0.4, split + 0.4, d / 2 - 0.6, d / 2 + 0.1))
    x = w / 2 - 6
    m.add(CHROME, box(x - 1, x + 1, split + 8, split + 45, d / 2, d / 2 + 4),
          box(x - 1, x + 1, split - 40, split - 8, d / 2, d / 2 + 4))


def _appliance(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(STEEL, box(-w / 2, w / 2, 2, h, -d / 2, d / 2))
    m.add(DARK, box(-w / 2 + 1, w / 2 - 1, h - 9, h - 2, d / 2, d / 2 + 0.4))
    m.add(CHROME, box(-w / 2 + 8, w / 2 - 8, h - 15, h - 13, d / 2, d / 2 + 3))


def _tilted(shape: Shape) -> Shape:
    """Turned a quarter about x so an upright (y) axis points forward (+z): for faces like a porthole."""
    rotation = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)
    return Shape(shape.positions @ rotation.T, shape.normals @ rotation.T)


def _washer(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    m.add(CERAMIC, rounded_box(-w / 2, w / 2, 1, h, -d / 2, d / 2, 1.5))
    r = min(w, h) * 0.3
    cy = h * 0.45
    m.add(CHROME, _tilted(cylinder(0, -cy, r, 0, 2.5, segments=32)).moved(0, 0, d / 2))
    m.add(BLACK_GLASS, _tilted(cylinder(0, -cy, r - 3, 0, 3, segments=32)).moved(0, 0, d / 2))
    m.add(DARK, box(-w / 2 + 3, w / 2 - 3, h - 10, h - 3, d / 2, d / 2 + 0.4))


def _toilet(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    seat = min(40.0, h)
    bowl_d = d if h < 60 else d - 17
    cz = d / 2 - bowl_d / 2
    rx, rz = w / 2, bowl_d / 2
    m.add(CERAMIC, cylinder(0, cz, rx * 0.6, 0, seat - 6, rz=rz * 0.7, top_scale=1.55, segments=28, top=False))
    rim = _ellipse(0, cz, rx, rz).difference(_ellipse(0, cz + 2, rx - 5, rz - 6))
    m.add(CERAMIC, extrude(rim, seat - 6, seat - 3, smooth=True))
    m.add(WATER, flat(_ellipse(0, cz + 2, rx - 5, rz - 6), seat - 16))
    m.add(CERAMIC, _inner_faces(_ellipse(0, cz + 2, rx - 5, rz - 6), seat - 16, seat - 3))
    if h >= 60:  # a cistern at the back; a bidet has none
        m.add(CERAMIC, rounded_box(-w / 2, w / 2, seat - 8, h, -d / 2, -d / 2 + 17, 2.5))
        m.add(CHROME, cylinder(0, -d / 2 + 9, 2.5, h, h + 0.8, segments=16))
        lid = _ellipse(0, cz, rx - 0.5, rz - 0.5)
        m.add(CERAMIC, extrude(lid.difference(_ellipse(0, cz + 2, rx - 6, rz - 7)), seat - 3, seat, smooth=True))


def _ellipse(cx: float, cz: float, rx: float, rz: float, segments: int = 40) -> Polygon:
    a = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    return Polygon(np.stack([cx + rx * np.cos(a), cz + rz * np.sin(a)], axis=1))


def _rounded_rect(x0: float, z0: float, x1: float, z1: float, r: float) -> Polygon:
    r = min(r, (x1 - x0) / 2.01, (z1 - z0) / 2.01)
    return rect(x0 + r, z0 + r, x1 - r, z1 - r).buffer(r, 8)


def _basin(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    top = 12.0
    m.add(OAK, box(-w / 2 + 1, w / 2 - 1, 15, h - top, -d / 2, d / 2 - 2))
    m.add(LACQUER_GAP, box(-w / 2 + 1, w / 2 - 1, h - top - 0.6, h - top, d / 2 - 2, d / 2 - 1.8))
    bowls = 2 if w >= 100 else 1
    span = w / bowls
    holes = [_ellipse(-w / 2 + span * (i + 0.5), 2, span / 2 - 7, d / 2 - 8) for i in range(bowls)]
    slab = rect(-w / 2, -d / 2, w / 2, d / 2)
    for hole in holes:
        slab = slab.difference(hole)
    m.add(CERAMIC, extrude(slab, h - top, h, smooth=True))
    for i, hole in enumerate(holes):
        m.add(CERAMIC, _inner_faces(hole, h - 10, h), flat(hole, h - 10))
        x = -w / 2 + span * (i + 0.5)
        m.add(CHROME, cylinder(x, -d / 2 + 5, 1.6, h, h + 18, segments=12),
              box(x - 1, x + 1, h + 15, h + 17.5, -d / 2 + 5, -d / 2 + 15))


def _bathtub(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    outer = rect(-w / 2, -d / 2, w / 2, d / 2)
    inner = _rounded_rect(-w / 2 + 8, -d / 2 + 8, w / 2 - 8, d / 2 - 8, min(d / 3, 22))
    m.add(CERAMIC, extrude(outer.difference(inner), 0, h, smooth=True))
    floor = max(8.0, h - 42)
    m.add(CERAMIC, _inner_faces(inner, floor, h))
    m.add(CERAMIC, flat(inner, floor))
    m.add(CHROME, cylinder(-w / 2 + 4, 0, 2, h, h + 14, segments=12), box(-w / 2 + 4, -w / 2 + 16, h + 11, h + 14,
                                                                            -1.2, 1.2))


def _shower(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    tray = 6.0
    m.add(CERAMIC, rounded_box(-w / 2, w / 2, 0, tray, -d / 2, d / 2, 1.5))
    m.add(STEEL, cylinder(0, 0, 4, tray, tray + 0.3, segments=16))
    frame = []
    glass_z, glass_x = d / 2 - 2, w / 2 - 2
    rails = ((-w / 2, w / 2, glass_z - 0.8, glass_z + 0.8), (glass_x - 0.8, glass_x + 0.8, -d / 2, d / 2))
    for x0, x1, z0, z1 in rails:
        frame.append(box(x0, x1, h - 3, h, z0, z1))
    frame.append(box(glass_x - 1.2, glass_x + 1.2, tray, h, glass_z - 1.2, glass_z + 1.2))
    m.add(CHROME, *frame)
    m.glass.append(box(-w / 2 + 2, glass_x - 1.2, tray, h - 3, glass_z - 0.4, glass_z + 0.4))
    # The front panel stops short: the way in.
    m.glass.append(box(glass_x - 0.4, glass_x + 0.4, tray, h - 3, -d / 2 + 2, glass_z - 1.2 - min(45.0, d * 0.45)))
    x = -w / 2 + 8
    m.add(CHROME, cylinder(x, -d / 2 + 3, 1.2, tray + 60, h - 10, segments=10),
          box(x - 1, x + 1, h - 12, h - 10, -d / 2 + 3, -d / 2 + 20),
          cylinder(x, -d / 2 + 20, 10, h - 14, h - 12, segments=24, bottom=True))


def _plant(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    r = min(w, d) / 2
    pot_h = min(h * 0.35, 45)
    m.add(POT, cylinder(0, 0, r * 0.55, 0, pot_h, top_scale=1.35, segments=24, top=False))
    m.add(SOIL, flat(Point(0, 0).buffer(r * 0.55 * 1.3, 24), pot_h - 3))
    m.add(POT, _inner_faces(Point(0, 0).buffer(r * 0.55 * 1.3, 24), pot_h - 3, pot_h))
    leaves = []
    for i in range(9):
        a = rng.uniform(0, 2 * math.pi)
        spread = rng.uniform(0.15, 0.6) * r
        y = pot_h + (h - pot_h) * rng.uniform(0.3, 0.75)
        size = r * rng.uniform(0.4, 0.6)
        tall = min(size, (h - pot_h) / 2.5)
        leaves.append((i % 3, ellipsoid(math.cos(a) * spread, y, math.sin(a) * spread, size, tall, size, rings=6,
                                        segments=10)))
    m.add(Material("#6b5a44"), cylinder(0, 0, 1.5, pot_h - 3, pot_h + (h - pot_h) * 0.5, segments=8))
    for k, material in enumerate(LEAVES):
        m.add(material, *[shape for index, shape in leaves if index == k])


def _rug(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    t = max(0.6, min(h, 1.5))
    m.add(RUG_BORDER, box(-w / 2, w / 2, 0, t, -d / 2, d / 2))
    m.add(RUG, box(-w / 2 + 8, w / 2 - 8, t, t + 0.15, -d / 2 + 8, d / 2 - 8))


def _piano(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    back = d * 0.55
    m.add(DARK, box(-w / 2, w / 2, 0, h, -d / 2, -d / 2 + back))
    keys_y = min(72.0, h * 0.6)
    m.add(DARK, box(-w / 2, -w / 2 + 4, 0, keys_y + 8, -d / 2, d / 2),
          box(w / 2 - 4, w / 2, 0, keys_y + 8, -d / 2, d / 2))
    m.add(DARK, box(-w / 2 + 4, w / 2 - 4, keys_y - 6, keys_y, -d / 2 + back, d / 2))
    m.add(KEYS_WHITE, box(-w / 2 + 5, w / 2 - 5, keys_y, keys_y + 1.5, -d / 2 + back, -d / 2 + back + 15))
    octave = (w - 10) / 7 * 12 / 52 * 7
    blacks = []
    x = -w / 2 + 5
    while x < w / 2 - 5 - octave / 7:
        for k in (1, 2, 4, 5, 6):
            bx = x + k * octave / 7
            if bx < w / 2 - 6:
                blacks.append(box(bx - 0.6, bx + 0.6, keys_y + 1.5, keys_y + 2.5, -d / 2 + back, -d / 2 + back + 9))
        x += octave
    m.add(BLACK_GLASS, *blacks)


def _fireplace(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    hearth = min(12.0, d * 0.3)
    front = d / 2 - hearth
    opening_w, opening_h = w * 0.55, h * 0.5
    m.add(LACQUER, box(-w / 2, -opening_w / 2, 0, h - 4, -d / 2, front),
          box(opening_w / 2, w / 2, 0, h - 4, -d / 2, front),
          box(-opening_w / 2, opening_w / 2, opening_h, h - 4, -d / 2, front))
    m.add(FIRE, box(-opening_w / 2, opening_w / 2, 0, opening_h, -d / 2, -d / 2 + 4))
    m.add(STONE, box(-w / 2, w / 2, h - 4, h, -d / 2, front + 2), box(-w / 2, w / 2, 0, 2, front, d / 2))
    m.add(WALNUT, *[_tilted(cylinder(0, 0, 4, -opening_w * 0.3, opening_w * 0.3, segments=10)).turned_y(90)
                    .moved(0, 6 + 8 * i, -d / 2 + 10 + 4 * i) for i in range(2)])


def _stairs(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    steps = max(2, round(h / 18))
    rise, run = h / steps, d / steps
    # Rising towards the back: the first step at the front edge, the landing against the back.
    treads = [box(-w / 2, w / 2, 0, rise * (i + 1), d / 2 - run * (i + 1), d / 2 - run * i) for i in range(steps)]
    m.add(OAK, *treads)


def _lamp(m: Model, w: float, d: float, h: float, rng: np.random.Generator) -> None:
    r = min(w, d) / 2
    m.add(DARK, cylinder(0, 0, r * 0.6, 0, 2.5, segments=24))
    m.add(STEEL, cylinder(0, 0, 1.2, 2.5, h - min(35.0, h * 0.25), segments=10, top=False))
    m.add(LAMPSHADE, cylinder(0, 0, r, h - min(35.0, h * 0.25), h, top_scale=0.7, segments=28, bottom=True))


MODELS: dict[str, Builder] = {
    "bed": _bed, "crib": _crib, "sofa": _sofa, "sofa_corner": _sofa_corner, "armchair": _armchair,
    "table": _table, "round_table": _round_table, "desk": _desk, "chair": _chair, "stool": _stool,
    "wardrobe": _wardrobe, "cabinet": _cabinet, "shelf": _shelf, "counter": _counter,
    "kitchen_sink": _kitchen_sink, "stove": _stove, "fridge": _fridge, "appliance": _appliance,
    "washer": _washer, "toilet": _toilet, "basin": _basin, "bathtub": _bathtub, "shower": _shower,
    "plant": _plant, "rug": _rug, "piano": _piano, "fireplace": _fireplace, "stairs": _stairs, "lamp": _lamp,
}
