"""The 3D scene of one floor: walls, floors, the base slab and furniture as vertex arrays (pure numpy, no GL).

Opaque triangles come in one block ordered by role, so the renderer draws a prefix of it per pass:
shadow casters first (walls, fittings, furniture), then floors and slab, then the ground that only catches
shadows. Glass is separate because it is drawn last, blended, and casts no shadow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from shared.plan import Floor
from worker.render.geometry import room_polygon
from worker.render.view3d import materials as mat
from worker.render.view3d.mesh import Mesh, MeshBuilder, Shape, extrude, flat, join, polygons_of
from worker.render.view3d.models import item_model
from worker.render.view3d.walls import build_walls

SLAB = 15.0  # cm: the base the floor stands on, seen at the model's edge
FLOOR_LIFT = 0.0  # floors sit at y = 0; the slab top is just below, seen only in doorways
SLAB_TOP = -0.3
# The ground is drawn only where the building can darken it (its shadow, its contact shade); everywhere else
# the background colour shows, which is what the ground would be, so shading those pixels would be waste.
GROUND_MARGIN = 250.0  # cm beyond the building and its shadow: past the reach of the contact shade


@dataclass(frozen=True)
class SceneOptions:
    section: float | None = None  # cm: where walls are cut; None draws them to full height
    doors_open: bool = True
    furniture: bool = True
    finishes: tuple[tuple[str, str], ...] = ()  # (room name or type, finish) overrides
    sun: tuple[float, float, float] = (0.0, 1.0, 0.0)  # unit vector towards the sun: where shadows fall


@dataclass(frozen=True)
class Scene:
    opaque: Mesh
    casters: int  # the first `casters` vertices cast shadows
    solids: int  # the first `solids` vertices are the building and its contents (not the ground)
    glass: Mesh
    framing: np.ndarray  # (n, 3) points a default camera must show: corners of the building and its contents
    extent: np.ndarray  # (n, 3) points that bound everything drawn, the ground included
    ground_y: float


def build_scene(floor: Floor, options: SceneOptions) -> Scene:
    walls = build_walls(floor, options.section, options.doors_open)
    casters = MeshBuilder()
    casters.extend(walls.walls)
    casters.extend(walls.fittings)
    glass = [walls.glass]
    corners = [_outline_points(walls.footprint, 0.0), _outline_points(walls.footprint, walls.top)]
    if options.furniture:
        for item in floor.items:
            model = item_model(item)
            placed = model.solid.transformed(item.rotation, item.x, item.elevation, item.y)
            casters.extend(placed)
            glass += [g.placed(item.rotation, item.x, item.elevation, item.y) for g in model.glass]
            corners.append(placed.corners())
    floors = _floors(floor, dict(options.finishes))
    rooms = [room_polygon(room) for room in floor.rooms]
    footprint = unary_union([walls.footprint, *[r for r in rooms if not r.is_empty]])
    base = MeshBuilder()
    if not footprint.is_empty:
        outline = unary_union([p.buffer(0.01) for p in polygons_of(footprint)])
        base.add(extrude(outline, -SLAB, SLAB_TOP, top=False), mat.BASE)
        base.add(flat(outline, SLAB_TOP), mat.THRESHOLD)

    corners += [_outline_points(room, 0.0) for room in rooms]
    corners.append(_outline_points(footprint, -SLAB))
    caster_mesh = casters.mesh()
    receivers = MeshBuilder()
    receivers.extend(floors)
    receivers.extend(base)
    receiver_mesh = receivers.mesh()
    framing = np.concatenate(corners) if corners else np.zeros((0, 3))
    ground = MeshBuilder()
    extent = framing
    if len(framing):
        patch = _ground_patch(framing, np.array(options.sun))
        ground.add(flat(patch, -SLAB), mat.GROUND)
        minx, minz, maxx, maxz = patch.bounds
        extent = np.concatenate([framing, [[x, -SLAB, z] for x in (minx, maxx) for z in (minz, maxz)]])
    ground_mesh = ground.mesh()
    opaque = _concat([caster_mesh, receiver_mesh, ground_mesh])
    glass_shape = join(glass)
    glass_builder = MeshBuilder()
    glass_builder.add(glass_shape, mat.GLASS)
    return Scene(opaque, len(caster_mesh), len(caster_mesh) + len(receiver_mesh), glass_builder.mesh(),
                 framing, extent, -SLAB)


def _ground_patch(framing: np.ndarray, sun: np.ndarray) -> BaseGeometry:
    """The ground the building can shade: its extent and where its top throws a shadow, with a margin."""
    lo, hi = framing.min(axis=0), framing.max(axis=0)
    reach = (hi[1] + SLAB) / max(sun[1], 0.05)  # how far along the ground a top corner's shadow lands
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


def _floors(floor: Floor, finishes: dict[str, str]) -> MeshBuilder:
    out = MeshBuilder()
    covered = None
    for room in floor.rooms:
        shape = room_polygon(room)
        if shape.is_empty:
            continue
        # Overlapping rooms would fight over the same pixels: each keeps only what earlier ones left.
        area = shape if covered is None else shape.difference(covered)
        covered = shape if covered is None else covered.union(shape)
        face = flat(area, FLOOR_LIFT)
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
