"""The 3D scene of a storey or a stack of them, as vertex arrays (pure numpy, no GL).

It holds walls, floors, stairs, slabs and furniture.

Opaque triangles come in one block ordered by role, so the renderer draws a prefix of it per pass:
shadow casters first (walls, fittings, stairs, furniture), then floors and slabs, then the ground that only
catches shadows. Glass is separate because it is drawn last, blended, and casts no shadow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import LineString, MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from shared.plan import Floor, Stair
from worker.render.geometry import WallFrame, room_polygon
from worker.render.view3d import materials as mat
from worker.render.view3d.mesh import Mesh, MeshBuilder, Shape, extrude, flat, join, polygons_of
from worker.render.view3d.models import item_model
from worker.render.view3d.walls import build_walls, in_wall

SLAB = 15.0  # cm: the base the floor stands on, seen at the model's edge, and the slab between storeys
FLOOR_LIFT = 0.0  # floors sit at y = 0; the slab top is just below, seen only in doorways
SLAB_TOP = -0.3
# The ground is drawn only where the building can darken it (its shadow, its contact shade); everywhere else
# the background colour shows, which is what the ground would be, so shading those pixels would be waste.
GROUND_MARGIN = 250.0  # cm beyond the building and its shadow: past the reach of the contact shade


@dataclass(frozen=True)
class Storey:
    """One floor in the stack: where its floor is (cm up), where its walls are cut, what its slab leaves open."""

    floor: Floor
    elevation: float = 0.0
    section: float | None = None  # cm above its floor: where walls and stairs are cut; None: full height
    voids: tuple[Polygon, ...] = field(default=())  # stairwells from the storey below, through its slab


@dataclass(frozen=True)
class SceneOptions:
    """What a 3D scene shows: open doors, furniture, finishes and the sun's direction."""

    doors_open: bool = True
    furniture: bool = True
    finishes: tuple[tuple[str, str], ...] = ()  # (room name or type, finish) overrides
    sun: tuple[float, float, float] = (0.0, 1.0, 0.0)  # unit vector towards the sun: where shadows fall


@dataclass(frozen=True)
class Scene:
    """A 3D scene's meshes, opaque ones ordered so that each pass draws a prefix."""

    opaque: Mesh
    casters: int  # the first `casters` vertices cast shadows
    solids: int  # the first `solids` vertices are the building and its contents (not the ground)
    glass: Mesh
    framing: np.ndarray  # (n, 3) points a default camera must show: corners of the building and its contents
    extent: np.ndarray  # (n, 3) points that bound everything drawn, the ground included
    ground_y: float


def build_scene(storeys: Sequence[Storey], options: SceneOptions) -> Scene:
    """The scene of storeys stacked from the lowest up.

    The lowest stands on the base slab, each one above on a slab of its own.
    """
    casters = MeshBuilder()
    receivers = MeshBuilder()
    glass: list[Shape] = []
    corners: list[np.ndarray] = []
    lowest = min(storey.elevation for storey in storeys)
    for storey in storeys:
        footprint = _storey(storey, options, casters, receivers, glass, corners)
        if footprint.is_empty:
            continue
        outline = unary_union([p.buffer(0.01) for p in polygons_of(footprint)])
        bottom, between = storey.elevation - SLAB, storey.elevation > lowest
        if between:
            # A slab between storeys, kept a centimetre inside the walls below so their faces hide its edge.
            outline = outline.buffer(-1.0, join_style="mitre").difference(unary_union(storey.voids))
        receivers.add(extrude(outline, bottom, storey.elevation + SLAB_TOP, top=False, bottom=between), mat.BASE)
        receivers.add(flat(outline, storey.elevation + SLAB_TOP), mat.THRESHOLD)
        corners.append(_outline_points(outline, bottom))
    caster_mesh, receiver_mesh = casters.mesh(), receivers.mesh()
    framing = np.concatenate(corners) if corners else np.zeros((0, 3))
    ground = MeshBuilder()
    extent = framing
    ground_y = lowest - SLAB
    if len(framing):
        patch = _ground_patch(framing, np.array(options.sun), ground_y)
        ground.add(flat(patch, ground_y), mat.GROUND)
        minx, minz, maxx, maxz = patch.bounds
        extent = np.concatenate([framing, [[x, ground_y, z] for x in (minx, maxx) for z in (minz, maxz)]])
    opaque = _concat([caster_mesh, receiver_mesh, ground.mesh()])
    glass_builder = MeshBuilder()
    glass_builder.add(join(glass), mat.GLASS)
    return Scene(opaque, len(caster_mesh), len(caster_mesh) + len(receiver_mesh), glass_builder.mesh(),
                 framing, extent, ground_y)


def _storey(storey: Storey, options: SceneOptions, casters: MeshBuilder, receivers: MeshBuilder,
            glass: list[Shape], corners: list[np.ndarray]) -> BaseGeometry:
    """One storey's meshes, raised to its elevation, into the builders; returns its footprint."""
    floor, up = storey.floor, storey.elevation
    walls = build_walls(floor, storey.section, options.doors_open)
    casters.extend(walls.walls.transformed(0.0, 0.0, up, 0.0))
    casters.extend(walls.fittings.transformed(0.0, 0.0, up, 0.0))
    glass.append(walls.glass.moved(0.0, up, 0.0))
    corners += [_outline_points(walls.footprint, up), _outline_points(walls.footprint, up + walls.top)]
    for stair in floor.stairs:
        steps = stair_steps(stair, stair.height or floor.height, storey.section).transformed(0.0, 0.0, up, 0.0)
        casters.extend(steps)
        corners.append(steps.corners())
    if options.furniture:
        for item in floor.items:
            model = item_model(item)
            placed = model.solid.transformed(item.rotation, item.x, item.elevation + up, item.y)
            casters.extend(placed)
            glass += [g.placed(item.rotation, item.x, item.elevation + up, item.y) for g in model.glass]
            corners.append(placed.corners())
    receivers.extend(_floors(floor, dict(options.finishes), up, unary_union(storey.voids)))
    rooms = [room_polygon(room) for room in floor.rooms]
    corners += [_outline_points(room, up) for room in rooms]
    return unary_union([walls.footprint, *[r for r in rooms if not r.is_empty]])


def stair_steps(stair: Stair, rise: float, section: float | None) -> MeshBuilder:
    """A flight as solid steps, each a block from the floor to its tread, cut at `section`.

    The cut is drawn dark, as a wall's is.
    """
    out = MeshBuilder()
    points = [(p.x, p.y) for p in stair.run]
    legs = [(a, b, sum(math.dist(p, q) for p, q in zip(points[:i], points[1:i + 1], strict=False)))
            for i, (a, b) in enumerate(zip(points, points[1:], strict=False))]
    total = LineString(points).length
    going, step_rise, half = total / stair.steps, rise / stair.steps, stair.width / 2
    for step in range(stair.steps):
        s0, s1 = step * going, (step + 1) * going
        top = (step + 1) * step_rise
        cut = section is not None and top > section
        height = min(top, section) if cut and section is not None else top
        for index, (a, b, start) in enumerate(legs):
            length = math.dist(a, b)
            lo, hi = max(s0, start), min(s1, start + length)
            if hi <= lo:
                continue
            frame = WallFrame(a[0], a[1], (b[0] - a[0]) / length, (b[1] - a[1]) / length, length, stair.width)
            # At a turn, each leg's step reaches across the landing square to the outer corner.
            lo_s = lo - start - (half if index and lo == start else 0.0)
            hi_s = hi - start + (half if index < len(legs) - 1 and hi == start + length else 0.0)
            out.add(in_wall(frame, lo_s, hi_s, -half, half, 0.0, height), mat.STAIR)
            if cut:
                out.add(flat_top(frame, lo_s, hi_s, half, height), mat.SECTION)
    return out


def flat_top(frame: WallFrame, s0: float, s1: float, half: float, height: float) -> Shape:
    """The cut face on top of a step cut by the section: a quad a hair above it, so it wins the depth test."""
    return flat(frame.rect(s0, s1, -half, half).buffer(0), height + 0.05)


def _ground_patch(framing: np.ndarray, sun: np.ndarray, ground_y: float) -> BaseGeometry:
    """The ground the building can shade: its extent and where its top throws a shadow, with a margin."""
    lo, hi = framing.min(axis=0), framing.max(axis=0)
    reach = (hi[1] - ground_y) / max(sun[1], 0.05)  # how far along the ground a top corner's shadow lands
    dx, dz = -sun[0] * reach, -sun[2] * reach
    corners = [(x, z) for x in (lo[0], hi[0]) for z in (lo[2], hi[2])]
    shadow = MultiPoint(corners + [(x + dx, z + dz) for x, z in corners]).convex_hull
    return shadow.buffer(GROUND_MARGIN, join_style="mitre")


def _outline_points(geometry: BaseGeometry, y: float) -> np.ndarray:
    """The outline vertices of a shape at height y: with a few heights, they bound a prism's projection."""
    coords = [np.asarray(p.exterior.coords) for p in polygons_of(geometry)]
    if not coords:
        return np.zeros((0, 3))
    xz = np.concatenate(coords)
    return np.stack([xz[:, 0], np.full(len(xz), y), xz[:, 1]], axis=1)


def _floors(floor: Floor, finishes: dict[str, str], up: float, voids: BaseGeometry) -> MeshBuilder:
    out = MeshBuilder()
    covered = voids if not voids.is_empty else None
    for room in floor.rooms:
        shape = room_polygon(room)
        if shape.is_empty:
            continue
        # Overlapping rooms would fight over the same pixels: each keeps only what earlier ones left, and
        # none covers a stairwell.
        area = shape if covered is None else shape.difference(covered)
        covered = shape if covered is None else covered.union(shape)
        face = flat(area, FLOOR_LIFT + up)
        if not len(face):
            continue
        finish = mat.room_finish(room.type, room.name, finishes)
        material = mat.finish_material(finish)
        out.add(face, material, _floor_uvs(face, shape, material.texture_size))
    return out


def _floor_uvs(face: Shape, room: object, size: float) -> np.ndarray:
    """Planar uvs; boards run along a room's longer side, as floors are usually laid."""
    minx, miny, maxx, maxy = room.bounds  # type: ignore[attr-defined]
    u, v = face.positions[:, 0], face.positions[:, 2]
    if maxy - miny > maxx - minx:
        u, v = v, -u
    return (np.stack([u, v], axis=1) / size).astype(np.float32)


def _concat(meshes: list[Mesh]) -> Mesh:
    return Mesh(*(np.concatenate([getattr(m, name) for m in meshes])
                  for name in ("positions", "normals", "colors", "uvs", "layers")))
