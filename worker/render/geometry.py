"""Plan geometry in cm for the renderers: wall masses with joined corners, openings, rooms and items.

Pure shapely, in the plan's own frame (x east, y south); nothing here knows about SVG or pixels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel, unary_union

from shared.plan import Arc, Floor, Item, Opening, Room, Wall

Pt = tuple[float, float]
Bounds = tuple[float, float, float, float]  # min x, min y, max x, max y

JOIN_TOLERANCE = 1.0  # cm: wall ends closer than this are one junction (hand-made plans are rarely exact)
MITRE_LIMIT = 2.0  # thicknesses from the junction: sharper corners are bevelled, like SVG's miterlimit 4
CUT_OVERSHOOT = 0.5  # cm: an opening's cut pokes past the wall faces so no hairline of wall survives it
GRID = 0.01  # cm: the wall mass is snapped to this grid, which collapses slivers left by nearly-equal faces
MIN_ROOM_PIECE = 100.0  # cm²: pieces of a room smaller than this (10 x 10 cm) are slivers, not floor
GLASS_GAP = 0.12  # of the wall thickness: half the distance between a window's two glass lines
ARC_STEP = math.radians(3.0)  # a curved wall is drawn in 3 degree chords: under 0.4 mm off at a 10 m radius


@dataclass(frozen=True)
class WallFrame:
    """A wall's own axes: `s` runs along the wall from a to b, `t` across it, positive to the right of a->b.

    "Right" is as seen on screen (y south): for walls traced clockwise around a room, the room's side.
    """

    ax: float
    ay: float
    ux: float
    uy: float
    length: float
    thickness: float

    @staticmethod
    def of(wall: Wall) -> WallFrame | None:
        """The wall's frame (an ArcFrame for a curved wall), or None for a zero-length wall.

        A zero-length wall has no direction to draw along.
        """
        chord = wall.chord
        if chord < 1e-6:
            return None
        circle = wall.circle()
        if circle is not None:
            return ArcFrame.along(circle, wall.thickness)
        return WallFrame(wall.a.x, wall.a.y, (wall.b.x - wall.a.x) / chord, (wall.b.y - wall.a.y) / chord,
                         chord, wall.thickness)

    @property
    def curved(self) -> bool:
        """Whether the wall follows an arc."""
        return False

    def direction(self, s: float) -> Pt:
        """The unit vector along the wall at `s`: the same everywhere on a straight wall."""
        return (self.ux, self.uy)

    def tangent(self, s: float) -> WallFrame:
        """A straight frame touching this one at `s`, with the same `s` and `t` there.

        Openings' fittings are built straight in it.
        """
        return self

    def at(self, s: float, t: float) -> Pt:
        """The point `s` along the wall and `t` across it."""
        # The right-hand normal of (ux, uy) in a y-down frame is (-uy, ux).
        return (self.ax + self.ux * s - self.uy * t, self.ay + self.uy * s + self.ux * t)

    def rect(self, s0: float, s1: float, t0: float, t1: float) -> Polygon:
        """The rectangle from `s0` to `s1` along the wall and `t0` to `t1` across it."""
        return Polygon([self.at(s0, t0), self.at(s1, t0), self.at(s1, t1), self.at(s0, t1)])

    def body(self, start: float = 0.0, end: float = 0.0) -> Polygon:
        """The wall's rectangle, lengthened by `start` before a and `end` after b."""
        half = self.thickness / 2
        return self.rect(-start, self.length + end, -half, half)

    def project(self, point: Pt) -> tuple[float, float]:
        """(s, t) of a plan point in this wall's axes."""
        dx, dy = point[0] - self.ax, point[1] - self.ay
        return (dx * self.ux + dy * self.uy, -dx * self.uy + dy * self.ux)

    def line(self, s0: float, s1: float, t: float) -> list[Segment]:
        """The line at `t` across the wall from s0 to s1, as segments (chords on a curved wall)."""
        return [(self.at(s0, t), self.at(s1, t))]


@dataclass(frozen=True)
class ArcFrame(WallFrame):
    """A curved wall's axes: `s` runs along its arc, `t` across it (right of the way from a to b).

    Beyond its ends the arc carries on straight along its end tangents, so a curved wall joins others the way
    a straight one does. Points are sampled at fixed angles from the start, so every shape of one wall
    shares its vertices and their differences leave no slivers.
    """

    arc: Arc = field(kw_only=True)

    @staticmethod
    def along(arc: Arc, thickness: float) -> ArcFrame:
        """The frame of the wall whose centre line is `arc`."""
        start = arc.point(0.0)
        sign = 1.0 if arc.sweep > 0 else -1.0
        ux, uy = -sign * math.sin(arc.start), sign * math.cos(arc.start)
        return ArcFrame(start[0], start[1], ux, uy, arc.radius * abs(arc.sweep), thickness, arc=arc)

    @property
    def curved(self) -> bool:
        """Whether the wall follows an arc: it does."""
        return True

    def direction(self, s: float) -> Pt:
        """The unit tangent at `s` (clamped to the arc)."""
        s = min(max(s, 0.0), self.length)
        sign = 1.0 if self.arc.sweep > 0 else -1.0
        angle = self.arc.start + sign * s / self.arc.radius
        return (-sign * math.sin(angle), sign * math.cos(angle))

    def at(self, s: float, t: float) -> Pt:
        """The point `s` along the arc and `t` across it; straight on along the tangent past either end."""
        if 0.0 <= s <= self.length:
            return self.arc.point(s, t)
        end = 0.0 if s < 0 else self.length
        (ex, ey), (dx, dy) = self.arc.point(end, t), self.direction(end)
        return (ex + dx * (s - end), ey + dy * (s - end))

    def rect(self, s0: float, s1: float, t0: float, t1: float) -> Polygon:
        """The band between t0 and t1 from s0 to s1: an annular sector, with straight pieces past the ends."""
        stations = self.stations(s0, s1)
        return Polygon([self.at(s, t0) for s in stations] + [self.at(s, t1) for s in reversed(stations)])

    def stations(self, s0: float, s1: float) -> list[float]:
        """s0, s1 and the fixed sampling stations of the arc between them."""
        step = self.arc.radius * ARC_STEP
        first, last = math.floor(max(s0, 0.0) / step) + 1, math.ceil(min(s1, self.length) / step)
        inner = [k * step for k in range(first, last)]
        ends = [s for s in (0.0, self.length) if s0 < s < s1]
        return sorted({s0, s1, *inner, *ends})

    def tangent(self, s: float) -> WallFrame:
        """A straight frame touching the arc at `s`, with the same `s` and `t` there."""
        (px, py), (ux, uy) = self.at(s, 0.0), self.direction(s)
        return WallFrame(px - ux * s, py - uy * s, ux, uy, self.length, self.thickness)

    def project(self, point: Pt) -> tuple[float, float]:
        """(s, t) of a plan point: how far round the arc, and how far across it."""
        arc = self.arc
        sign = 1.0 if arc.sweep > 0 else -1.0
        turned = (sign * (math.atan2(point[1] - arc.cy, point[0] - arc.cx) - arc.start)) % (2 * math.pi)
        if turned * arc.radius > self.length:
            # Past the end: on whichever side of the gap the point is nearer to.
            turned = turned - 2 * math.pi if (2 * math.pi - turned) * arc.radius < turned * arc.radius - \
                self.length else turned
        distance = math.hypot(point[0] - arc.cx, point[1] - arc.cy)
        return (turned * arc.radius, sign * (arc.radius - distance))

    def line(self, s0: float, s1: float, t: float) -> list[Segment]:
        """The arc at `t` from s0 to s1, in chords."""
        points = [self.at(s, t) for s in self.stations(s0, s1)]
        return list(zip(points, points[1:], strict=False))


@dataclass(frozen=True)
class DoorLeaf:
    """A hinged leaf drawn open at 90 degrees; it swings along the arc from `open_tip` to `closed_tip`."""

    hinge: Pt
    open_tip: Pt
    closed_tip: Pt

    @property
    def radius(self) -> float:
        """The leaf's swing radius: hinge to tip."""
        return math.dist(self.hinge, self.open_tip)


Segment = tuple[Pt, Pt]


@dataclass(frozen=True)
class OpeningSymbol:
    """How an opening shows in plan: the gap through the wall, lines and panels in it, and door leaves."""

    type: str
    gap: Polygon  # face to face: what the symbol fills
    cut: Polygon  # what comes out of the wall mass
    lines: tuple[Segment, ...]  # window frames and glass
    leaves: tuple[DoorLeaf, ...]
    panels: tuple[Polygon, ...] = ()  # sliding door panels
    overhead: tuple[Segment, ...] = ()  # the lintel of a passage, drawn dashed: it is above the cut plane


@dataclass(frozen=True)
class RoomShape:
    """A room's floor: its polygon less the walls standing on it, and that floor's area in cm²."""

    room: Room
    polygon: Polygon  # the largest piece of floor: where the fill and the name go
    area: float  # all pieces of floor together


@dataclass(frozen=True)
class ItemShape:
    """An item placed on the plan, with its footprint."""

    item: Item
    footprint: Polygon


@dataclass(frozen=True)
class FloorGeometry:
    """Everything on one floor that has a shape, ready to draw."""

    walls: BaseGeometry  # the poché: all walls as one mass, openings cut out
    body: BaseGeometry  # the same mass before the openings were cut: what rooms and dimensions measure
    openings: tuple[OpeningSymbol, ...]
    rooms: tuple[RoomShape, ...]
    items: tuple[ItemShape, ...]
    curves: tuple[Polygon, ...] = ()  # around each curved wall short of its ends: no corners to dimension there

    def bounds(self) -> Bounds | None:
        """The extent of everything drawn except text, or None for an empty floor."""
        parts: list[BaseGeometry] = [self.walls]
        parts += [room.polygon for room in self.rooms]
        parts += [item.footprint for item in self.items]
        parts += [leaf_extent(leaf) for symbol in self.openings for leaf in symbol.leaves]
        return union_bounds(part.bounds for part in parts if not part.is_empty)


def floor_geometry(floor: Floor) -> FloorGeometry:
    """The geometry a floor is drawn from: its walls with the openings cut, and the openings."""
    frames = [(wall, frame) for wall in floor.walls if (frame := WallFrame.of(wall)) is not None]
    openings = tuple(symbol for wall, frame in frames for opening in wall.openings
                     if (symbol := opening_symbol(frame, opening)) is not None)
    body = wall_mass([frame for _, frame in frames], [])
    walls = body.difference(unary_union([symbol.cut for symbol in openings])) if openings else body
    return FloorGeometry(
        walls=walls,
        body=body,
        openings=openings,
        rooms=tuple(shape for room in floor.rooms if (shape := room_shape(room, body)) is not None),
        items=tuple(ItemShape(item, item_footprint(item)) for item in floor.items),
        curves=tuple(_curve_zone(frame) for _, frame in frames if frame.curved),
    )


def _curve_zone(frame: WallFrame) -> Polygon:
    # Short of the ends by most of a thickness, which keeps the corners where the arc meets other walls.
    inset = min(frame.thickness * 0.75, frame.length / 4)
    return frame.rect(inset, frame.length - inset, -frame.thickness, frame.thickness)


def wall_mass(frames: Sequence[WallFrame], cuts: Sequence[Polygon]) -> BaseGeometry:
    """All walls as one shape: bodies joined at corners and T-junctions, openings cut out.

    Ends that meet at a junction get their outer corner filled (a mitre); an end that stops at another
    wall's side is carried to that wall's centre line, so a wall drawn to the face of another still joins
    it. The union is snapped to a fine grid, which removes slivers between nearly-equal faces.
    """
    ends = _junctions(frames)
    reach = _reach_into_hosts(frames, ends)
    bodies = [frame.body(*reach[i]) for i, frame in enumerate(frames)]
    # Snapped to the grid, then rid of the vertices joins leave in the middle of straight faces.
    mass = shapely.set_precision(unary_union(bodies + corner_fills(ends)), GRID).simplify(0)
    if not cuts:
        return mass
    return mass.difference(unary_union(cuts))


@dataclass(frozen=True)
class _WallEnd:
    point: Pt
    dx: float  # unit direction from the end into its wall
    dy: float
    thickness: float
    wall: int  # index of the frame
    at_start: bool

    @property
    def angle(self) -> float:
        return math.atan2(self.dy, self.dx)


def corner_fills(junctions: Sequence[Sequence[_WallEnd]]) -> list[Polygon]:
    """Pieces that close the outer side of corners, which flat-ended wall bodies leave notched.

    At each junction the walls are taken in angular order; between two neighbours more than 180 degrees
    apart lies an outer corner, filled up to where their outer faces meet (the mitre point). Straight runs
    and T-junctions need nothing: flat ends already meet or sit inside the other wall.
    """
    fills: list[Polygon] = []
    for ends in junctions:
        if len(ends) < 2:
            continue  # a free end stays square
        ordered = sorted(ends, key=lambda end: end.angle)
        for first, second in zip(ordered, ordered[1:] + ordered[:1], strict=True):
            gap = (second.angle - first.angle) % (2 * math.pi)
            if gap > math.pi + 1e-6:
                fills.append(_mitre(first, second))
    return fills


def _junctions(frames: Sequence[WallFrame]) -> list[list[_WallEnd]]:
    junctions: list[list[_WallEnd]] = []
    cell_of_junction: dict[tuple[int, int], int] = {}
    for index, frame in enumerate(frames):
        for s, sign in ((0.0, 1.0), (frame.length, -1.0)):
            ux, uy = frame.direction(s)
            end = _WallEnd(frame.at(s, 0), sign * ux, sign * uy, frame.thickness, index, s == 0.0)
            # A grid of tolerance-sized cells: ends within tolerance share or neighbour a cell.
            cx, cy = round(end.point[0] / JOIN_TOLERANCE), round(end.point[1] / JOIN_TOLERANCE)
            found = next((cell_of_junction[(cx + i, cy + j)] for i in (-1, 0, 1) for j in (-1, 0, 1)
                          if (cx + i, cy + j) in cell_of_junction), None)
            if found is None:
                found = cell_of_junction[(cx, cy)] = len(junctions)
                junctions.append([])
            junctions[found].append(end)
    return junctions


def _reach_into_hosts(frames: Sequence[WallFrame], junctions: Sequence[Sequence[_WallEnd]]
                      ) -> list[tuple[float, float]]:
    """How far each wall's start and end must grow to reach the centre line of a wall they stop against.

    Only free ends (no other end at the junction) that touch or enter another wall's side are carried,
    and never further than that wall's half thickness: a wall that stops short of another stays short.
    """
    reach = [(0.0, 0.0)] * len(frames)
    # Only a wall whose body (widened by the tolerance) holds the end can host it: an index of the bodies
    # keeps this linear in the number of walls rather than quadratic.
    bodies = shapely.STRtree([f.rect(0, f.length, -f.thickness / 2 - JOIN_TOLERANCE,
                                     f.thickness / 2 + JOIN_TOLERANCE) for f in frames])
    for ends in junctions:
        if len(ends) != 1:
            continue
        end = ends[0]
        best = 0.0
        for index in sorted(int(i) for i in bodies.query(shapely.Point(end.point), predicate="intersects")):
            host = frames[index]
            if index == end.wall or host.curved:
                continue  # a T against a curved wall is left as drawn: its face is no line to reach across
            s, t = host.project(end.point)
            if not JOIN_TOLERANCE < s < host.length - JOIN_TOLERANCE:
                continue  # beyond the host's ends: a corner, handled by the junctions
            # Where the end's line crosses the host's centre line, measured outwards from the end.
            towards = -(end.dx * -host.uy + end.dy * host.ux)  # the end's outward direction, across the host
            if abs(towards) < 0.2:
                continue  # nearly parallel: not a T
            grow = -t / towards
            if 0 < grow <= host.thickness / 2 / abs(towards) + JOIN_TOLERANCE and (best == 0 or grow < best):
                best = grow
        if best:
            start, finish = reach[end.wall]
            reach[end.wall] = (best, finish) if end.at_start else (start, best)
    return reach


def _mitre(first: _WallEnd, second: _WallEnd) -> Polygon:
    """Fill the outer corner between `first` and `second`, the next wall in order of increasing angle."""
    # The faces bounding the corner: first's on the side of increasing angle, second's on the other side.
    ha, hb = first.thickness / 2, second.thickness / 2
    corner_a = (first.point[0] - first.dy * ha, first.point[1] + first.dx * ha)
    corner_b = (second.point[0] + second.dy * hb, second.point[1] - second.dx * hb)
    centre = ((first.point[0] + second.point[0]) / 2, (first.point[1] + second.point[1]) / 2)
    cross = first.dx * second.dy - first.dy * second.dx
    if abs(cross) > 1e-9:
        rx, ry = corner_b[0] - corner_a[0], corner_b[1] - corner_a[1]
        along = (rx * second.dy - ry * second.dx) / cross
        mitre = (corner_a[0] + first.dx * along, corner_a[1] + first.dy * along)
        if math.dist(mitre, centre) <= MITRE_LIMIT * max(first.thickness, second.thickness):
            quad = Polygon([centre, corner_a, mitre, corner_b])
            # Walls of different thickness meeting at an angle can fold this quad over itself; a
            # self-crossing polygon would break the union, so such corners get the bevel below.
            if quad.is_valid:
                return quad
    return Polygon([centre, corner_a, corner_b])


def opening_symbol(frame: WallFrame, opening: Opening) -> OpeningSymbol | None:
    """The opening's gap and symbol, or None if it lies wholly outside its wall.

    Conventions: `swing: in` opens the leaf to the right of a->b as seen on screen (into the room for walls
    traced clockwise around it), `out` to the left. `hinge: left` hangs the leaf on the opening's end nearer
    `a` (on your left as you stand on the `in` side facing the wall), `right` on the end nearer `b`.
    """
    s0 = max(0.0, opening.offset - opening.width / 2)
    s1 = min(frame.length, opening.offset + opening.width / 2)
    if s1 - s0 < 1e-6:
        return None
    half = frame.thickness / 2
    side = half if opening.swing == "in" else -half
    mid = (s0 + s1) / 2
    gap = frame.rect(s0, s1, -half, half)
    cut = frame.rect(s0, s1, -half - CUT_OVERSHOOT, half + CUT_OVERSHOOT)
    lines: tuple[Segment, ...] = ()
    leaves: tuple[DoorLeaf, ...] = ()
    panels: tuple[Polygon, ...] = ()
    overhead: tuple[Segment, ...] = ()
    if opening.type == "door":
        hinge, latch = (s0, s1) if opening.hinge == "left" else (s1, s0)
        leaves = (_leaf(frame, hinge, latch, side),)
    elif opening.type == "double_door":
        leaves = (_leaf(frame, s0, mid, side), _leaf(frame, s1, mid, side))
    elif opening.type == "sliding_door":
        # Two panels side by side in the wall's thickness, overlapping a little in the middle as real ones do.
        overlap = (s1 - s0) * 0.05
        depth = max(half / 3, 0.8)
        panels = (frame.rect(s0, mid + overlap, -depth, 0.0), frame.rect(mid - overlap, s1, 0.0, depth))
    elif opening.type == "window":
        # The wall faces carry on across the window as the frame; the glass is a pair of lines in the middle.
        glass = frame.thickness * GLASS_GAP
        lines = tuple(segment for t in (-half, -glass, glass, half) for segment in frame.line(s0, s1, t))
    else:
        overhead = tuple(segment for t in (-half, half) for segment in frame.line(s0, s1, t))
    return OpeningSymbol(opening.type, gap, cut, lines, leaves, panels, overhead)


def _leaf(frame: WallFrame, hinge_s: float, latch_s: float, face: float) -> DoorLeaf:
    """A leaf hung at `hinge_s` on the wall face at `face`, reaching `latch_s` when closed."""
    reach = abs(latch_s - hinge_s)
    out = face + math.copysign(reach, face)
    return DoorLeaf(frame.at(hinge_s, face), frame.at(hinge_s, out), frame.at(latch_s, face))


def leaf_extent(leaf: DoorLeaf) -> Polygon:
    """The square a door leaf sweeps through, for overlap checks."""
    # The quarter circle stays inside the square on its two radii.
    (hx, hy), (ox, oy), (cx, cy) = leaf.hinge, leaf.open_tip, leaf.closed_tip
    return Polygon([leaf.hinge, leaf.open_tip, (ox + cx - hx, oy + cy - hy), leaf.closed_tip])


def room_polygon(room: Room) -> Polygon:
    """The room's polygon; a self-intersecting one (plans the checker has not seen) is repaired, not fatal."""
    shape = Polygon([(p.x, p.y) for p in room.polygon])
    if shape.is_valid:
        return shape
    return _largest(shape.buffer(0))


def room_shape(room: Room, walls: BaseGeometry) -> RoomShape | None:
    """The room's floor: its polygon less the walls on it; None if no floor is left.

    So a polygon drawn on wall centre lines and one drawn on the wall faces give the same, net, area.
    """
    outline = room_polygon(room)
    if outline.is_empty:
        return None
    floor = outline.difference(walls) if not walls.is_empty and outline.intersects(walls) else outline
    pieces = [piece for piece in _polygons(floor) if piece.area >= MIN_ROOM_PIECE]
    if not pieces:
        return None
    return RoomShape(room, max(pieces, key=lambda piece: piece.area), sum(piece.area for piece in pieces))


def clear_floor(room: Polygon, furniture: BaseGeometry) -> Polygon:
    """The largest piece of the room that no item stands on."""
    return _largest(room.difference(furniture))


def _polygons(shape: BaseGeometry) -> list[Polygon]:
    return [piece for piece in getattr(shape, "geoms", [shape]) if isinstance(piece, Polygon) and not piece.is_empty]


def _largest(shape: BaseGeometry) -> Polygon:
    return max(_polygons(shape), key=lambda piece: piece.area, default=Polygon())


def label_point(shape: Polygon) -> Pt:
    """The room's visual centre: the inside point farthest from its edges, which a centroid of an L is not."""
    tolerance = max(1.0, math.sqrt(shape.area) / 200)
    point = polylabel(shape, tolerance=tolerance)
    # In a rectangle a whole line of points ties for farthest; the centroid, if nearly as far, looks centred.
    centroid = shape.centroid
    if shape.contains(centroid) and shape.boundary.distance(centroid) >= 0.9 * shape.boundary.distance(point):
        point = centroid
    return (point.x, point.y)


def free_span(shape: Polygon, point: Pt) -> tuple[float, float]:
    """Room for text around `point`: twice the distance to the nearer edge horizontally, then vertically."""
    minx, miny, maxx, maxy = shape.bounds
    x, y = point
    across = LineString([(minx - 1, y), (maxx + 1, y)]).intersection(shape)
    down = LineString([(x, miny - 1), (x, maxy + 1)]).intersection(shape)
    return 2 * _inside_reach(across, x, 0), 2 * _inside_reach(down, y, 1)


def _inside_reach(cut: BaseGeometry, value: float, axis: int) -> float:
    for piece in getattr(cut, "geoms", [cut]):
        if piece.is_empty:
            continue
        low, high = piece.bounds[axis], piece.bounds[axis + 2]
        if low - 1e-6 <= value <= high + 1e-6:
            return float(min(value - low, high - value))
    return 0.0


def item_footprint(item: Item) -> Polygon:
    """A width x depth rectangle centred on (x, y), turned clockwise on screen by `rotation` degrees."""
    half_w, half_d = item.width / 2, item.depth / 2
    rect = box(item.x - half_w, item.y - half_d, item.x + half_w, item.y + half_d)
    # shapely turns counter-clockwise in a y-up frame, which is clockwise once y points down the screen.
    return affinity.rotate(rect, item.rotation, origin=(item.x, item.y))


def union_bounds(boxes: Iterable[Bounds]) -> Bounds | None:
    """The box around all `boxes`, or None when there are none."""
    listed = list(boxes)
    if not listed:
        return None
    return (min(b[0] for b in listed), min(b[1] for b in listed),
            max(b[2] for b in listed), max(b[3] for b in listed))
