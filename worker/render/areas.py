"""Room areas by the net and the gross rule, in cm².

Net is a room's floor inside its walls. Gross adds the walls around it, shared out the way the gross
internal area does: the half of an interior wall on the room's side, and all of an exterior wall. A wall
goes to the room nearest to it, which splits a wall between two rooms down its middle and gives a wall
with one room beside it wholly to that room. Walls farther from every room than the thickest wall (garden
walls, a carport's posts) count for none.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, box

from worker.render.geometry import FloorGeometry

SAMPLE = 15.0  # cm between the points of a room's outline that share the walls out
JITTER = 0.001  # cm


def room_areas(geometry: FloorGeometry, rule: str, thickest_wall: float) -> tuple[float, ...]:
    """Each room's area (in the order of `geometry.rooms`) by `rule`, "net" or "gross"."""
    if rule == "net" or not geometry.rooms:
        return tuple(shape.area for shape in geometry.rooms)
    return tuple(net + walls for net, walls in zip((shape.area for shape in geometry.rooms),
                                                   _wall_shares(geometry, thickest_wall), strict=True))


def _wall_shares(geometry: FloorGeometry, thickest_wall: float) -> list[float]:
    """The wall area nearest to each room: its points are nearer to that room's outline than to any other's."""
    outlines = [shapely.segmentize(shape.polygon.boundary, SAMPLE) for shape in geometry.rooms]
    coords = [shapely.get_coordinates(outline) for outline in outlines]
    owners = np.concatenate([np.full(len(points), index) for index, points in enumerate(coords)])
    # Voronoi cells come one a distinct point: rings repeat their first point, touching rooms share some.
    _, first = np.unique(np.round(np.concatenate(coords), 3), axis=0, return_index=True)
    keep = np.sort(first)
    points, owners = np.concatenate(coords)[keep], owners[keep]
    rooms = shapely.union_all([shape.polygon for shape in geometry.rooms])
    walls = geometry.body.intersection(rooms.buffer(thickest_wall + 1.0, join_style="mitre"))
    if walls.is_empty:
        return [0.0] * len(geometry.rooms)
    minx, miny, maxx, maxy = walls.union(rooms).bounds
    # Evenly spaced points on parallel faces are cocircular by the dozen, which folds GEOS's cells over each
    # other; a hundredth of a millimetre of fixed jitter keeps them apart and the result the same every time.
    jittered = points + np.random.default_rng(0).uniform(-JITTER, JITTER, points.shape)
    cells = shapely.voronoi_polygons(MultiPoint(jittered), extend_to=box(minx - 10, miny - 10, maxx + 10, maxy + 10),
                                     ordered=True)
    pieces = np.asarray(cells.geoms)
    shapely.prepare(walls)
    shares = shapely.area(shapely.intersection(pieces, walls))
    return [float(v) for v in np.bincount(owners, weights=shares, minlength=len(geometry.rooms))]
