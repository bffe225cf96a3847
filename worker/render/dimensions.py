"""Dimension geometry in cm: the outer chains along each side of the building and the inner wall lengths.

Pure shapely like `geometry`; where the lines go on the page and how they are labelled is `plan2d`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from worker.render.geometry import OpeningSymbol, Pt, RoomShape

SIDES = ("top", "bottom", "left", "right")
SAME_STATION = 0.5  # cm: stations closer than this are one
MIN_EDGE = 30.0  # cm: shorter room edges (jambs, small steps) get no inner dimension
RAY = 1e6  # cm: far enough to leave any plan


@dataclass(frozen=True)
class Chain:
    """The points one side of the building shows to a viewer outside it, measured along that side.

    `face` is the building's outermost coordinate on the side (y for top and bottom, x for left and right);
    `stations` are positions along it (x for top and bottom, y for left and right), sorted.
    """

    side: str
    face: float
    stations: tuple[float, ...]

    @property
    def horizontal(self) -> bool:
        """Whether the chain runs along the top or the bottom."""
        return self.side in ("top", "bottom")

    @property
    def outward(self) -> float:
        """-1 where the chain lies towards smaller coordinates (top, left), +1 otherwise."""
        return -1.0 if self.side in ("top", "left") else 1.0


@dataclass(frozen=True)
class EdgeDimension:
    """One straight stretch of a room's outline, with the unit normal pointing into the room."""

    a: Pt
    b: Pt
    inward: Pt

    @property
    def length(self) -> float:
        """The measured length, in cm."""
        return math.dist(self.a, self.b)


def outer_chains(body: BaseGeometry, openings: Sequence[OpeningSymbol],
                 curves: Sequence[Polygon] = ()) -> list[Chain]:
    """A chain per side: the building's corners and the openings' jambs that are visible from that side.

    A point is visible from, say, the top when a ray from it straight up leaves the building without
    crossing it: the outer corners and the jambs on the outer face are, the inner face's are not. The
    vertices along a curved wall (`curves`) are no corners: an arc is not dimensioned by a chain.
    """
    footprint = _footprint(body)
    if footprint.is_empty:
        return []
    points = _candidates(footprint, openings)
    if curves and len(points):
        points = points[~shapely.contains_xy(shapely.union_all(curves), points[:, 0], points[:, 1])]
    if not len(points):
        return []
    minx, miny, maxx, maxy = footprint.bounds
    shapely.prepare(footprint)
    chains: list[Chain] = []
    for side in SIDES:
        step = {"top": (0.0, -1.0), "bottom": (0.0, 1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}[side]
        start = points + np.array(step) * 0.5  # off the boundary the point sits on, towards the viewer
        rays = shapely.linestrings(np.stack([start, start + np.array(step) * RAY], axis=1))
        visible = points[~shapely.intersects(footprint, rays)]
        axis = 0 if side in ("top", "bottom") else 1
        stations = _distinct(sorted(float(value) for value in visible[:, axis]))
        face = {"top": miny, "bottom": maxy, "left": minx, "right": maxx}[side]
        if len(stations) >= 2:
            chains.append(Chain(side, face, tuple(stations)))
    return chains


def _footprint(body: BaseGeometry) -> Polygon | BaseGeometry:
    """The building's outline with its rooms filled in: the walls' outer rings."""
    pieces = [Polygon(piece.exterior) for piece in getattr(body, "geoms", [body])
              if isinstance(piece, Polygon) and not piece.is_empty]
    # Joined walls leave vertices in the middle of straight faces; they are no corners to dimension.
    return shapely.union_all(pieces).simplify(SAME_STATION / 10) if pieces else Polygon()


def _candidates(footprint: BaseGeometry, openings: Iterable[OpeningSymbol]) -> np.ndarray:
    coords: list[tuple[float, float]] = []
    for piece in getattr(footprint, "geoms", [footprint]):
        coords.extend(piece.exterior.coords[:-1])
    for symbol in openings:
        coords.extend(symbol.gap.exterior.coords[:-1])
    return np.array(coords, dtype=float).reshape(-1, 2)


def _distinct(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in values:
        if not out or value - out[-1] > SAME_STATION:
            out.append(value)
    return out


def room_edges(rooms: Iterable[RoomShape]) -> list[EdgeDimension]:
    """Each room's inner wall lengths: the edges of its floor polygon, with the side the room is on."""
    edges: list[EdgeDimension] = []
    for shape in rooms:
        ring = shapely.geometry.polygon.orient(shape.polygon, sign=1.0).exterior
        coords = ring.coords[:-1]
        for a, b in zip(coords, coords[1:] + coords[:1], strict=True):
            length = math.dist(a, b)
            if length < MIN_EDGE:
                continue
            ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
            # Counter-clockwise in a y-up frame is clockwise on screen: the inside is to the screen-right.
            edges.append(EdgeDimension((a[0], a[1]), (b[0], b[1]), (-uy, ux)))
    return edges
