"""Triangle meshes as numpy arrays, and the primitives that 3D walls, floors and furniture are built from.

World frame: x east and z south as in the plan (cm), y up. A `Shape` is a triangle soup (3 vertices a
triangle, counter-clockwise seen from outside) with a normal per vertex; a `Mesh` adds what the shader needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from worker.render.view3d.materials import Material

FloatArray = np.ndarray
SMOOTH_ANGLE = 40.0  # degrees: extruded outlines bending less than this at a vertex are shaded smooth


@dataclass(frozen=True)
class Shape:
    """Triangles before they get a material: (n, 3) positions and normals, n a multiple of 3."""

    positions: FloatArray
    normals: FloatArray

    @staticmethod
    def empty() -> Shape:
        """A shape with no triangles."""
        return Shape(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))

    def __len__(self) -> int:
        return len(self.positions)

    def moved(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> Shape:
        """The shape moved by (dx, dy, dz) cm."""
        return Shape(self.positions + np.array([dx, dy, dz], np.float32), self.normals)

    def placed(self, degrees: float, dx: float, dy: float, dz: float) -> Shape:
        """Turned clockwise about the vertical axis, then moved."""
        return self.turned_y(degrees).moved(dx, dy, dz)

    def turned_y(self, degrees: float) -> Shape:
        """Turned about the vertical axis, clockwise seen from above (as plan rotations are)."""
        rotation = yaw_matrix(degrees)
        return Shape(self.positions @ rotation.T, self.normals @ rotation.T)


def yaw_matrix(degrees: float) -> FloatArray:
    """The rotation about the vertical axis by `degrees`, clockwise on a plan."""
    # Clockwise on screen in a y-down plan is x' = x cos - z sin, z' = x sin + z cos in (x, z).
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]], np.float32)


def join(shapes: Iterable[Shape]) -> Shape:
    """All `shapes` as one."""
    listed = [shape for shape in shapes if len(shape)]
    if not listed:
        return Shape.empty()
    return Shape(np.concatenate([s.positions for s in listed]), np.concatenate([s.normals for s in listed]))


@dataclass(frozen=True)
class Mesh:
    """Vertex arrays ready for the GPU: position, normal, linear colour + specular, texture uv and layer."""

    positions: FloatArray  # (n, 3) float32
    normals: FloatArray  # (n, 3)
    colors: FloatArray  # (n, 4): linear rgb, specular strength
    uvs: FloatArray  # (n, 2)
    layers: FloatArray  # (n,): texture layer, or NO_TEXTURE / UNLIT

    def __len__(self) -> int:
        return len(self.positions)

    def interleaved(self) -> FloatArray:
        """One (n, 13) float32 block in the order of the shader's attributes."""
        return np.concatenate([self.positions, self.normals, self.colors, self.uvs, self.layers[:, None]],
                              axis=1).astype(np.float32, copy=False)


class MeshBuilder:
    """Collects shapes with their materials; `mesh()` packs them into one vertex block."""

    def __init__(self) -> None:
        self._parts: list[tuple[Shape, Material, FloatArray | None]] = []

    def add(self, shape: Shape, material: Material, uvs: FloatArray | None = None) -> None:
        """Add triangles; without `uvs` they get box-projected ones, in the frame they finally stand in."""
        if len(shape):
            self._parts.append((shape, material, uvs))

    def extend(self, other: MeshBuilder) -> None:
        """Add the parts of `other`."""
        self._parts.extend(other._parts)

    def transformed(self, degrees: float, dx: float, dy: float, dz: float) -> MeshBuilder:
        """Turned clockwise about the vertical axis, then moved; texture coordinates stay with the model."""
        out = MeshBuilder()
        rotation = yaw_matrix(degrees)
        offset = np.array([dx, dy, dz], np.float32)
        for shape, material, uvs in self._parts:
            if uvs is None:
                uvs = texture_coordinates(shape, material.texture_size)
            moved = Shape(shape.positions @ rotation.T + offset, shape.normals @ rotation.T)
            out._parts.append((moved, material, uvs))
        return out

    def __len__(self) -> int:
        return sum(len(shape) for shape, _, _ in self._parts)

    def corners(self) -> FloatArray:
        """The 8 corners of the axis-aligned box around everything added, or none if nothing was."""
        if not self._parts:
            return np.zeros((0, 3))
        lo = np.min([shape.positions.min(axis=0) for shape, _, _ in self._parts], axis=0)
        hi = np.max([shape.positions.max(axis=0) for shape, _, _ in self._parts], axis=0)
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])

    def mesh(self) -> Mesh:
        """The parts as one mesh: positions, normals, colours, texture coordinates and layers."""
        if not self._parts:
            z3 = np.zeros((0, 3), np.float32)
            return Mesh(z3, z3, np.zeros((0, 4), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, np.float32))
        parts = self._parts
        positions = np.concatenate([s.positions for s, _, _ in parts]).astype(np.float32)
        normals = np.concatenate([s.normals for s, _, _ in parts]).astype(np.float32)
        colors = np.concatenate([np.broadcast_to(m.vertex_color, (len(s), 4)) for s, m, _ in parts])
        uvs = np.concatenate([texture_coordinates(s, m.texture_size) if uv is None else uv
                              for s, m, uv in parts]).astype(np.float32)
        layers = np.concatenate([np.full(len(s), m.layer, np.float32) for s, m, _ in parts])
        return Mesh(positions, normals, colors, uvs, layers)


def texture_coordinates(shape: Shape, size: float) -> FloatArray:
    """Box-projected uvs in texture repeats: the plane a face lies closest to picks the two axes used."""
    p, n = shape.positions, np.abs(shape.normals)
    flat = n[:, 1] >= np.maximum(n[:, 0], n[:, 2])
    facing_x = ~flat & (n[:, 0] >= n[:, 2])
    u = np.where(flat, p[:, 0], np.where(facing_x, p[:, 2], p[:, 0]))
    v = np.where(flat, p[:, 2], -p[:, 1])
    return (np.stack([u, v], axis=1) / size).astype(np.float32)


# --- Primitives. Each returns a Shape in its own frame; callers move and turn it. -----------------------------


def _faces(polygons: Sequence[FloatArray], centre: FloatArray) -> Shape:
    """Flat-shaded convex polygons (each (k, 3)) fanned into triangles, wound to face away from `centre`."""
    shapes = []
    for count in sorted({len(poly) for poly in polygons}):
        polys = np.array([poly for poly in polygons if len(poly) == count], np.float64)  # (m, k, 3)
        normal = _newell(polys)
        inward = np.einsum("ij,ij->i", normal, polys.mean(axis=1) - centre) < 0
        polys[inward] = polys[inward][:, ::-1]
        normal[inward] = -normal[inward]
        fan = np.array([(0, i, i + 1) for i in range(1, count - 1)]).reshape(-1)
        positions = polys[:, fan].reshape(-1, 3)
        normals = np.repeat(normal, len(fan), axis=0)
        shapes.append(Shape(positions.astype(np.float32), normals.astype(np.float32)))
    return join(shapes)


def _newell(polys: FloatArray) -> FloatArray:
    nxt = np.roll(polys, -1, axis=1)
    normal = np.stack([np.sum((polys[..., 1] - nxt[..., 1]) * (polys[..., 2] + nxt[..., 2]), axis=1),
                       np.sum((polys[..., 2] - nxt[..., 2]) * (polys[..., 0] + nxt[..., 0]), axis=1),
                       np.sum((polys[..., 0] - nxt[..., 0]) * (polys[..., 1] + nxt[..., 1]), axis=1)], axis=1)
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    return np.where(length > 0, normal / np.maximum(length, 1e-12), np.array([0.0, 1.0, 0.0]))


def box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, bottom: bool = False) -> Shape:
    """An axis-aligned box; its bottom is left out unless asked, since most things stand on something."""
    if x1 - x0 <= 0 or y1 - y0 <= 0 or z1 - z0 <= 0:
        return Shape.empty()
    return _from_template(_template(False, bottom), x0, x1, y0, y1, z0, z1, 0.0)


def rounded_box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, r: float,
                bottom: bool = False) -> Shape:
    """A box with its edges chamfered by `r`: light catches the chamfers, so cushions and bodies look soft."""
    r = min(r, (x1 - x0) / 2.01, (y1 - y0) / 2.01, (z1 - z0) / 2.01)
    if r <= 0.05:
        return box(x0, x1, y0, y1, z0, z1, bottom)
    return _from_template(_template(True, bottom), x0, x1, y0, y1, z0, z1, r)


@cache
def _template(rounded: bool, bottom: bool) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A box's triangles as (signs, insets, normals): each vertex is centre + sign * (half - r * inset).

    Boxes are the most common primitive (thousands a plan), so the faces are worked out once on a reference
    box and every box after is one multiply-add.
    """
    half, r = np.array([1000.0, 2000.0, 3000.0]), 1.0
    shape = (_rounded_faces(-half[0], half[0], -half[1], half[1], -half[2], half[2], r, bottom) if rounded
             else _box_faces(-half[0], half[0], -half[1], half[1], -half[2], half[2], bottom))
    offset = shape.positions.astype(np.float64)
    signs = np.sign(offset)
    insets = np.round((half - np.abs(offset)) / r)
    return signs, insets, shape.normals


def _from_template(template: tuple[FloatArray, FloatArray, FloatArray], x0: float, x1: float, y0: float,
                   y1: float, z0: float, z1: float, r: float) -> Shape:
    signs, insets, normals = template
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2, (z1 - z0) / 2])
    return Shape((centre + signs * (half - r * insets)).astype(np.float32), normals)


def _box_faces(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, bottom: bool) -> Shape:
    c = np.array([[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1],
                  [x0, y1, z0], [x1, y1, z0], [x1, y1, z1], [x0, y1, z1]], np.float64)
    quads = [(4, 7, 6, 5), (0, 4, 5, 1), (2, 6, 7, 3), (0, 3, 7, 4), (1, 5, 6, 2)]
    if bottom:
        quads.append((0, 1, 2, 3))
    return _faces([c[list(q)] for q in quads], c.mean(axis=0))


def _rounded_faces(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, r: float,
                   bottom: bool) -> Shape:
    lo, hi = np.array([x0, y0, z0]), np.array([x1, y1, z1])
    centre, half = (lo + hi) / 2, (hi - lo) / 2

    def corner_point(signs: tuple[int, int, int], axis: int) -> FloatArray:
        # The corner's point on the face across `axis`: full extent there, inset by r on the other two.
        offset = np.array([(half[i] if i == axis else half[i] - r) * signs[i] for i in range(3)])
        point: FloatArray = centre + offset
        return point

    signs_all = [(sx, sy, sz) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    polys: list[FloatArray] = []
    for axis in range(3):
        for side in (-1, 1):
            if axis == 1 and side == -1 and not bottom:
                continue
            corners = [s for s in signs_all if s[axis] == side]
            polys.append(_convex_order(np.array([corner_point(s, axis) for s in corners]), axis))
    # Chamfers and corners below are kept even without a bottom: the sides must reach down to y0.
    for axis in range(3):  # the chamfer along each edge parallel to `axis`
        a, b = [i for i in range(3) if i != axis]
        for sa in (-1, 1):
            for sb in (-1, 1):
                quad = []
                for end in (-1, 1):
                    signs = [0, 0, 0]
                    signs[axis], signs[a], signs[b] = end, sa, sb
                    corner = (signs[0], signs[1], signs[2])
                    quad += [corner_point(corner, a), corner_point(corner, b)]
                polys.append(np.array([quad[0], quad[1], quad[3], quad[2]]))
    for s in signs_all:
        polys.append(np.array([corner_point(s, axis) for axis in range(3)]))
    return _faces(polys, centre)


def _convex_order(points: FloatArray, axis: int) -> FloatArray:
    a, b = [i for i in range(3) if i != axis]
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, b] - centre[b], points[:, a] - centre[a])
    return points[np.argsort(angles)]


def cylinder(cx: float, cz: float, rx: float, y0: float, y1: float, rz: float | None = None,
             top_scale: float = 1.0, segments: int = 24, top: bool = True, bottom: bool = False) -> Shape:
    """An upright elliptic cylinder, or a frustum when `top_scale` != 1, smooth-shaded around."""
    rz = rx if rz is None else rz
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    lo = np.stack([cx + rx * ring[:, 0], np.full(segments, y0), cz + rz * ring[:, 1]], axis=1)
    hi = np.stack([cx + rx * top_scale * ring[:, 0], np.full(segments, y1), cz + rz * top_scale * ring[:, 1]],
                  axis=1)
    # The normal of an ellipse at angle a is along (cos a / rx, sin a / rz); a frustum tilts it by its slope.
    slope = (rx - rx * top_scale) / max(y1 - y0, 1e-6)
    side_n = np.stack([ring[:, 0], np.full(segments, slope), ring[:, 1] * rx / rz], axis=1)
    side_n /= np.linalg.norm(side_n, axis=1, keepdims=True)
    j = np.roll(np.arange(segments), -1)
    i = np.arange(segments)
    # The ring runs counter-clockwise in (x, z); lo_i, hi_i, lo_j is then counter-clockwise seen from outside.
    tri_p = np.stack([lo[i], hi[i], lo[j], lo[j], hi[i], hi[j]], axis=1).reshape(-1, 3)
    tri_n = np.stack([side_n[i], side_n[i], side_n[j], side_n[j], side_n[i], side_n[j]], axis=1).reshape(-1, 3)
    shapes = [Shape(tri_p.astype(np.float32), tri_n.astype(np.float32))]
    if top:
        centre = np.array([cx, y1, cz])
        shapes.append(_fan(centre, hi[j], hi[i], np.array([0.0, 1.0, 0.0])))
    if bottom:
        centre = np.array([cx, y0, cz])
        shapes.append(_fan(centre, lo[i], lo[j], np.array([0.0, -1.0, 0.0])))
    return join(shapes)


def _fan(centre: FloatArray, a: FloatArray, b: FloatArray, normal: FloatArray) -> Shape:
    positions = np.stack([np.broadcast_to(centre, a.shape), a, b], axis=1).reshape(-1, 3)
    return Shape(positions.astype(np.float32), np.broadcast_to(normal, positions.shape).astype(np.float32))


def ellipsoid(cx: float, cy: float, cz: float, rx: float, ry: float, rz: float, rings: int = 8,
              segments: int = 12) -> Shape:
    """A smooth ellipsoid (leaves, cushions' ends, a bowl's body)."""
    theta = np.linspace(0, math.pi, rings + 1)  # from the top
    phi = np.linspace(0, 2 * math.pi, segments + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], axis=-1)
    radii = np.array([rx, ry, rz])
    pos = unit * radii + np.array([cx, cy, cz])
    nrm = unit / radii
    nrm /= np.maximum(np.linalg.norm(nrm, axis=-1, keepdims=True), 1e-9)
    a, b, c, d = pos[:-1, :-1], pos[:-1, 1:], pos[1:, 1:], pos[1:, :-1]
    na, nb, nc, nd = nrm[:-1, :-1], nrm[:-1, 1:], nrm[1:, 1:], nrm[1:, :-1]
    tri_p = np.stack([a, b, c, a, c, d], axis=2).reshape(-1, 3)
    tri_n = np.stack([na, nb, nc, na, nc, nd], axis=2).reshape(-1, 3)
    return Shape(tri_p.astype(np.float32), tri_n.astype(np.float32))


def triangulate(geometry: BaseGeometry) -> FloatArray:
    """(k, 3, 2) triangles covering a polygon or multipolygon, holes respected, counter-clockwise in (x, z)."""
    if geometry.is_empty:
        return np.zeros((0, 3, 2))
    triangles = shapely.constrained_delaunay_triangles(geometry)
    coords = shapely.get_coordinates(shapely.get_exterior_ring(np.array(triangles.geoms)))
    tris = coords.reshape(-1, 4, 2)[:, :3]
    # Make every triangle counter-clockwise in (x, z); since z points south, that is clockwise on a plan.
    cross = ((tris[:, 1, 0] - tris[:, 0, 0]) * (tris[:, 2, 1] - tris[:, 0, 1])
             - (tris[:, 1, 1] - tris[:, 0, 1]) * (tris[:, 2, 0] - tris[:, 0, 0]))
    tris[cross < 0] = tris[cross < 0][:, ::-1]
    kept: FloatArray = tris[np.abs(cross) > 1e-9]
    return kept


def flat(geometry: BaseGeometry, y: float, up: bool = True) -> Shape:
    """A horizontal face covering `geometry` (plan x, z) at height y, facing up or down."""
    tris = triangulate(geometry)
    if not len(tris):
        return Shape.empty()
    # A face seen from above (looking down -y) is counter-clockwise when its (x, z) winding is clockwise.
    if up:
        tris = tris[:, ::-1]
    positions = np.stack([tris[..., 0], np.full(tris.shape[:2], y), tris[..., 1]], axis=-1).reshape(-1, 3)
    normal = np.array([0.0, 1.0 if up else -1.0, 0.0])
    return Shape(positions.astype(np.float32), np.broadcast_to(normal, positions.shape).astype(np.float32))


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons of a geometry, whatever its type."""
    return [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon) and not g.is_empty]


def sides(geometry: BaseGeometry, y0: float, y1: float, smooth: bool = False) -> Shape:
    """The vertical faces of `geometry` extruded from y0 to y1, facing out of it (into holes for holes)."""
    if y1 - y0 <= 1e-6:
        return Shape.empty()
    positions, normals = [], []
    for polygon in polygons_of(geometry):
        polygon = orient(polygon, 1.0)  # exterior counter-clockwise, holes clockwise, in (x, z)
        for ring in [polygon.exterior, *polygon.interiors]:
            p, n = _ring_sides(np.asarray(ring.coords)[:-1], y0, y1, smooth)
            positions.append(p)
            normals.append(n)
    if not positions:
        return Shape.empty()
    return Shape(np.concatenate(positions).astype(np.float32), np.concatenate(normals).astype(np.float32))


def _ring_sides(ring: FloatArray, y0: float, y1: float, smooth: bool) -> tuple[FloatArray, FloatArray]:
    a = ring
    b = np.roll(ring, -1, axis=0)
    edge = b - a
    length = np.linalg.norm(edge, axis=1)
    keep = length > 1e-6
    a, b, edge, length = a[keep], b[keep], edge[keep], length[keep]
    # In (x, z) with z south, a ccw ring (shapely's positive area) has its outside to the right of a->b when
    # drawn y-up, which is (dz, -dx) normalised.
    out = np.stack([edge[:, 1], -edge[:, 0]], axis=1) / length[:, None]
    na = nb = out
    if smooth and len(out) > 2:
        prev_out = np.roll(out, 1, axis=0)
        next_out = np.roll(out, -1, axis=0)
        cos_limit = math.cos(math.radians(SMOOTH_ANGLE))
        blend_a = np.where((np.sum(out * prev_out, axis=1) > cos_limit)[:, None], out + prev_out, out)
        blend_b = np.where((np.sum(out * next_out, axis=1) > cos_limit)[:, None], out + next_out, out)
        na = blend_a / np.linalg.norm(blend_a, axis=1, keepdims=True)
        nb = blend_b / np.linalg.norm(blend_b, axis=1, keepdims=True)
    count = len(a)
    lo_a = np.stack([a[:, 0], np.full(count, y0), a[:, 1]], axis=1)
    lo_b = np.stack([b[:, 0], np.full(count, y0), b[:, 1]], axis=1)
    hi_a, hi_b = lo_a.copy(), lo_b.copy()
    hi_a[:, 1] = hi_b[:, 1] = y1
    n3a = np.stack([na[:, 0], np.zeros(count), na[:, 1]], axis=1)
    n3b = np.stack([nb[:, 0], np.zeros(count), nb[:, 1]], axis=1)
    positions = np.stack([lo_a, hi_b, lo_b, lo_a, hi_a, hi_b], axis=1).reshape(-1, 3)
    normals = np.stack([n3a, n3b, n3b, n3a, n3a, n3b], axis=1).reshape(-1, 3)
    return positions, normals


def extrude(geometry: BaseGeometry, y0: float, y1: float, top: bool = True, bottom: bool = False,
            smooth: bool = False) -> Shape:
    """A prism: `geometry` (plan x, z) from y0 up to y1."""
    parts = [sides(geometry, y0, y1, smooth)]
    if top:
        parts.append(flat(geometry, y1, up=True))
    if bottom:
        parts.append(flat(geometry, y0, up=False))
    return join(parts)


def triangle_areas(shape: Shape) -> FloatArray:
    """The area of each triangle of `shape`, in cm²."""
    tris = shape.positions.reshape(-1, 3, 3).astype(np.float64)
    areas: FloatArray = 0.5 * np.linalg.norm(np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]), axis=1)
    return areas
