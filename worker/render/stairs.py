"""Stairs in plan, in cm: a flight's outline, its treads, the walk line with its arrow, and the break line.

Pure shapely, like `geometry`. As architects draw it, the plan cuts the flight at CUT_HEIGHT: treads below
the cut are drawn solid, a zigzag break line crosses the flight there, and what lies above is dashed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry import LineString, Polygon
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry.base import BaseGeometry

from shared.plan import Stair
from worker.render.geometry import Pt, Segment

CUT_HEIGHT = 120.0  # cm above the floor: where a plan is cut
ARROW = 0.18  # of the width: the arrowhead's length


@dataclass(frozen=True)
class StairShape:
    """What a flight of stairs draws in plan."""

    stair: Stair
    outline: Polygon
    treads: tuple[Segment, ...]  # the nosings below the cut
    upper_treads: tuple[Segment, ...]  # those above it, drawn dashed
    walk: tuple[Pt, ...]  # the walk line up to the cut (all of it when the flight stays below)
    upper_walk: tuple[Pt, ...]  # the rest, dashed
    arrow: Polygon  # at the head of the walk line, pointing up the flight
    foot: Pt  # where the walk line starts: a small circle
    cut: tuple[Pt, ...]  # the break line, or () for a flight that stays below the cut


def stair_shape(stair: Stair, floor_height: float, arriving: bool = False) -> StairShape:
    """The plan drawing of `stair` on a floor `floor_height` cm high (its rise when it says none).

    On the floor it `arriving`s at, the whole flight lies below the cut and shows, solid, down the stairwell.
    """
    run = LineString([(p.x, p.y) for p in stair.run])
    length = run.length
    outline = run.buffer(stair.width / 2, cap_style="flat", join_style="mitre")
    rise = (stair.height or floor_height) / stair.steps
    going = length / stair.steps
    # The first riser is the flight's foot; the cut falls on the tread it reaches CUT_HEIGHT on.
    cut_step = math.floor(CUT_HEIGHT / rise)
    cut_at = (cut_step + 0.5) * going if cut_step < stair.steps and not arriving else None
    treads: list[Segment] = []
    upper: list[Segment] = []
    for step in range(1, stair.steps):
        along = step * going
        nosing = _across(stair, run, along)
        if nosing is not None:
            (upper if cut_at is not None and along > cut_at else treads).append(nosing)
    lower_walk, upper_walk = _split(run, cut_at)
    return StairShape(stair, outline, tuple(treads), tuple(upper), lower_walk, upper_walk,
                      _arrow(run, stair.width), tuple(run.coords[0]), _break_line(stair, run, cut_at))


def _across(stair: Stair, run: LineString, along: float) -> Segment | None:
    """The line across the flight at `along`, square to the leg it is on and kept within that leg."""
    point, (ux, uy), leg = _station(run, along)
    half = stair.width / 2
    line = LineString([(point[0] - uy * half, point[1] + ux * half), (point[0] + uy * half, point[1] - ux * half)])
    clipped: BaseGeometry = line.intersection(leg.buffer(half + 0.01, cap_style="flat"))
    if clipped.is_empty or clipped.geom_type != "LineString":
        return None
    a, b = clipped.coords[0], clipped.coords[-1]
    return ((a[0], a[1]), (b[0], b[1]))


def _station(run: LineString, along: float) -> tuple[Pt, Pt, LineString]:
    """The point `along` the walk line, the direction there and the leg (segment) it lies on."""
    coords = list(run.coords)
    walked = 0.0
    for start, end in zip(coords, coords[1:], strict=False):
        leg = math.dist(start, end)
        if walked + leg >= along or end == coords[-1]:
            t = min(max((along - walked) / leg, 0.0), 1.0)
            ux, uy = (end[0] - start[0]) / leg, (end[1] - start[1]) / leg
            return ((start[0] + ux * leg * t, start[1] + uy * leg * t), (ux, uy), LineString([start, end]))
        walked += leg
    raise ValueError("a walk line of one point")  # plan v1 requires two


def _split(run: LineString, at: float | None) -> tuple[tuple[Pt, ...], tuple[Pt, ...]]:
    coords = [(x, y) for x, y in run.coords]
    if at is None:
        return tuple(coords), ()
    point = _station(run, at)[0]
    walked, lower = 0.0, [coords[0]]
    for start, end in zip(coords, coords[1:], strict=False):
        walked += math.dist(start, end)
        if walked >= at:
            break
        lower.append(end)
    upper = [point] + [c for c in coords if run.project(ShapelyPoint(c)) > at]
    return (*lower, point), tuple(upper)


def _arrow(run: LineString, width: float) -> Polygon:
    coords = list(run.coords)
    (px, py), (qx, qy) = coords[-2], coords[-1]
    leg = math.dist((px, py), (qx, qy))
    ux, uy = (qx - px) / leg, (qy - py) / leg
    size = min(width * ARROW, leg / 2)
    base = (qx - ux * size, qy - uy * size)
    return Polygon([(qx, qy), (base[0] - uy * size * 0.4, base[1] + ux * size * 0.4),
                    (base[0] + uy * size * 0.4, base[1] - ux * size * 0.4)])


def _break_line(stair: Stair, run: LineString, at: float | None) -> tuple[Pt, ...]:
    """A zigzag across the flight at `at`, slanting as a cut through a rising flight shows."""
    if at is None:
        return ()
    (x, y), (ux, uy), _ = _station(run, at)
    half = stair.width / 2 + 2.0
    slant = stair.width * 0.25  # along the flight, from one side to the other
    zig = stair.width * 0.06

    def place(across: float, ahead: float) -> Pt:
        return (x - uy * across + ux * ahead, y + ux * across + uy * ahead)

    return (place(-half, -slant), place(-zig, -zig), place(zig, zig * 2), place(half, slant))
