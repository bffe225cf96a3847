"""Walls in 3D: the plan's wall mass extruded band by band, so doors and windows are real holes, plus their fittings.

Heights are split into bands at every wall top and opening edge; within a band the footprint is the 2D wall
mass (joined corners, as the plan draws it) less the openings that span the band. Band sides make the wall
faces and reveals; where the footprint changes between bands we add sills, lintel soffits and the top caps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from shared.plan import Floor, Opening
from worker.render.geometry import WallFrame, opening_symbol, wall_mass
from worker.render.view3d import materials as mat
from worker.render.view3d.mesh import MeshBuilder, Shape, box, flat, join, polygons_of, sides

MIN_AREA = 0.05  # cm^2: slivers left by polygon differences are numerical dust, not geometry
CASING = 4.0  # cm: width of a door frame's jambs and head, seen face-on
LEAF = 4.0  # cm: door leaf thickness
WINDOW_BAR = 5.0  # cm: window frame and mullion width, seen face-on
WINDOW_DEPTH = 7.0  # cm: window frame depth across the wall
MULLION_OVER = 120.0  # cm: windows wider than this get a centre mullion


@dataclass(frozen=True)
class PlacedOpening:
    """An opening on its wall, from `s0` to `s1` along it."""

    frame: WallFrame
    opening: Opening
    s0: float
    s1: float
    bottom: float
    top: float  # clipped to the wall's drawn top
    cut_through: bool  # the opening reaches above the wall's drawn top: no head, the cap is open
    cut: Polygon


@dataclass(frozen=True)
class WallMeshes:
    """A floor's walls as meshes: faces, fittings and glass, and the footprint they stand on."""

    walls: MeshBuilder  # wall faces, reveals, sills, soffits and caps
    fittings: MeshBuilder  # window frames, door frames, leaves and handles
    glass: Shape  # window and sliding-door panes, drawn blended
    footprint: BaseGeometry  # the wall mass at floor level, openings cut (for tests and the slab)
    top: float  # the highest wall top drawn


def build_walls(floor: Floor, section: float | None, doors_open: bool) -> WallMeshes:
    """All walls of a floor, drawn up to `section` cm (None: their full height)."""
    walls = []
    for wall in floor.walls:
        frame = WallFrame.of(wall)
        if frame is None:
            continue
        top = wall.height or floor.height
        if section is not None:
            top = min(top, section)
        walls.append((wall, frame, top))
    placed: list[PlacedOpening] = []
    for wall, frame, top in walls:
        for opening in wall.openings:
            symbol = opening_symbol(frame, opening)
            if symbol is None or opening.bottom >= top:
                continue
            s0 = max(0.0, opening.offset - opening.width / 2)
            s1 = min(frame.length, opening.offset + opening.width / 2)
            upper = opening.bottom + opening.span
            # Fittings are built straight, in the frame touching a curved wall at the opening's middle.
            placed.append(PlacedOpening(frame.tangent((s0 + s1) / 2), opening, s0, s1, opening.bottom,
                                        min(upper, top), upper >= top - 0.5, symbol.cut))

    solid = MeshBuilder()
    levels = sorted({0.0, *(top for _, _, top in walls), *(o.bottom for o in placed), *(o.top for o in placed)})
    bands: list[tuple[BaseGeometry, BaseGeometry]] = []  # (footprint with holes, mass without) per band
    for h0, h1 in zip(levels, levels[1:], strict=False):
        mid = (h0 + h1) / 2
        frames = [frame for _, frame, top in walls if top > mid]
        cuts = [o.cut for o in placed if o.bottom < mid < o.top]
        footprint = wall_mass(frames, cuts)
        bands.append((footprint, wall_mass(frames, []) if cuts else footprint))
        solid.add(sides(footprint, h0, h1, smooth=True), mat.WALL)
    empty = Polygon()
    for k in range(1, len(levels)):
        below_fp, below_mass = bands[k - 1]
        above_fp, above_mass = bands[k] if k < len(bands) else (empty, empty)
        height = levels[k]
        up = _clean(below_fp.difference(above_fp))
        if not up.is_empty:
            cap = _clean(up.intersection(below_mass.difference(above_mass)))
            solid.add(flat(cap, height, up=True), mat.SECTION)
            solid.add(flat(_clean(up.difference(cap)), height, up=True), mat.WALL)
        solid.add(flat(_clean(above_fp.difference(below_fp)), height, up=False), mat.WALL)

    glass: list[Shape] = []
    fittings = MeshBuilder()
    for placed_opening in placed:
        _fit(placed_opening, doors_open, fittings, glass)
    footprint = bands[0][0] if bands else empty
    return WallMeshes(solid, fittings, join(glass), footprint, levels[-1])


def _clean(geometry: BaseGeometry) -> BaseGeometry:
    pieces = [p for p in polygons_of(geometry) if p.area > MIN_AREA]
    if len(pieces) == 1:
        return pieces[0]
    return MultiPolygon(pieces)


def in_wall(frame: WallFrame, s0: float, s1: float, t0: float, t1: float, h0: float, h1: float) -> Shape:
    """A box given in a wall's own axes: s along it from a, t across it (right of a->b), h up."""
    s0, s1 = sorted((s0, s1))
    t0, t1 = sorted((t0, t1))
    degrees = math.degrees(math.atan2(frame.uy, frame.ux))
    return box(s0, s1, h0, h1, t0, t1).turned_y(degrees).moved(frame.ax, 0.0, frame.ay)


def pane(frame: WallFrame, s0: float, s1: float, t: float, h0: float, h1: float) -> Shape:
    """A vertical glass quad across a wall's opening (drawn double-sided)."""
    if s1 - s0 <= 0 or h1 - h0 <= 0:
        return Shape.empty()
    return in_wall(frame, s0, s1, t - 0.1, t + 0.1, h0, h1)


def _fit(o: PlacedOpening, doors_open: bool, solid: MeshBuilder, glass: list[Shape]) -> None:
    kind = o.opening.type
    if kind == "window":
        _window(o, solid, glass)
    elif kind in ("door", "double_door"):
        _door(o, doors_open, solid)
    elif kind == "sliding_door":
        _sliding_door(o, doors_open, solid, glass)


def _window(o: PlacedOpening, solid: MeshBuilder, glass: list[Shape]) -> None:
    f, width = o.frame, o.s1 - o.s0
    bar = min(WINDOW_BAR, width / 6, (o.top - o.bottom) / 6)
    depth = min(WINDOW_DEPTH, f.thickness - 1.0) / 2
    head = 0.0 if o.cut_through else bar
    parts = [in_wall(f, o.s0, o.s0 + bar, -depth, depth, o.bottom, o.top),
             in_wall(f, o.s1 - bar, o.s1, -depth, depth, o.bottom, o.top),
             in_wall(f, o.s0 + bar, o.s1 - bar, -depth, depth, o.bottom, o.bottom + bar)]
    if head:
        parts.append(in_wall(f, o.s0 + bar, o.s1 - bar, -depth, depth, o.top - head, o.top))
    panes = [(o.s0 + bar, o.s1 - bar)]
    if width > MULLION_OVER:
        mid = (o.s0 + o.s1) / 2
        parts.append(in_wall(f, mid - bar / 2, mid + bar / 2, -depth, depth, o.bottom + bar, o.top - head))
        panes = [(o.s0 + bar, mid - bar / 2), (mid + bar / 2, o.s1 - bar)]
    solid.add(join(parts), mat.WINDOW_FRAME)
    glass.extend(pane(f, a, b, 0.0, o.bottom + bar, o.top - head) for a, b in panes)


def _door(o: PlacedOpening, doors_open: bool, solid: MeshBuilder) -> None:
    f = o.frame
    half = f.thickness / 2
    side = 1.0 if o.opening.swing == "in" else -1.0
    casing = min(CASING, (o.s1 - o.s0) / 6)
    head = 0.0 if o.cut_through else casing
    solid.add(join([
        in_wall(f, o.s0, o.s0 + casing, -half - 1, half + 1, 0.0, o.top),
        in_wall(f, o.s1 - casing, o.s1, -half - 1, half + 1, 0.0, o.top),
        in_wall(f, o.s0 + casing, o.s1 - casing, -half - 1, half + 1, o.top - head, o.top) if head
        else Shape.empty(),
    ]), mat.DOOR_FRAME)
    inner0, inner1 = o.s0 + casing, o.s1 - casing
    if o.opening.type == "double_door":
        mid = (inner0 + inner1) / 2
        leaves = [(inner0, mid), (inner1, mid)]
    elif o.opening.hinge == "left":
        leaves = [(inner0, inner1)]
    else:
        leaves = [(inner1, inner0)]
    leaf_top = o.top - head - 0.5
    thick = min(LEAF, f.thickness - 2.0)
    for hinge, latch in leaves:
        reach = abs(latch - hinge) - 0.5
        toward = math.copysign(1.0, latch - hinge)
        if doors_open:
            leaf = in_wall(f, hinge, hinge + toward * thick, side * half, side * (half + reach), 0.5, leaf_top)
            grip_s, grip_t = hinge + toward * thick / 2, side * (half + reach - 6)
            grip = join([in_wall(f, grip_s - toward * (thick / 2 + 3), grip_s + toward * (thick / 2 + 3),
                                 grip_t - 8, grip_t + 1, 102, 104.5)])
        else:
            face = side * (half - 1.0)
            leaf = in_wall(f, hinge, hinge + toward * reach, face, face - side * thick, 0.5, leaf_top)
            grip_s = hinge + toward * (reach - 7)
            grip = in_wall(f, grip_s - 8, grip_s + 8, face + side * 3, face - side * (thick + 3), 102, 104.5)
        solid.add(leaf, mat.DOOR)
        solid.add(grip, mat.METAL)


def _sliding_door(o: PlacedOpening, doors_open: bool, solid: MeshBuilder, glass: list[Shape]) -> None:
    f = o.frame
    bar = min(WINDOW_BAR, (o.s1 - o.s0) / 8)
    head = 0.0 if o.cut_through else bar
    mid = (o.s0 + o.s1) / 2
    overlap = bar
    panels = [(o.s0, mid + overlap, -2.5)]
    panels.append((o.s0, mid + overlap, 2.5) if doors_open else (mid - overlap, o.s1, 2.5))
    frame_parts = []
    for s0, s1, t in panels:
        top = o.top - head
        frame_parts += [in_wall(f, s0, s0 + bar, t - 1.5, t + 1.5, 0.5, top),
                        in_wall(f, s1 - bar, s1, t - 1.5, t + 1.5, 0.5, top),
                        in_wall(f, s0 + bar, s1 - bar, t - 1.5, t + 1.5, 0.5, 0.5 + bar),
                        in_wall(f, s0 + bar, s1 - bar, t - 1.5, t + 1.5, top - bar, top)]
        glass.append(pane(f, s0 + bar, s1 - bar, t, 0.5 + bar, top - bar))
    if head:
        frame_parts.append(in_wall(f, o.s0, o.s1, -f.thickness / 2 + 1, f.thickness / 2 - 1, o.top - head, o.top))
    solid.add(join(frame_parts), mat.WINDOW_FRAME)
