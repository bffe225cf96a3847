"""blueprint3d (`exportSerialized` JSON): corners and walls in cm, y down; items in 3D with y up.

It stores no rooms: they are the smallest cycles of the wall graph. Doors (item_type 7) and windows
(item_type 3) are items: each is snapped onto the nearest wall. Item rotation is in radians about the
vertical axis, counter-clockwise seen from above; an item's front faces +z at rotation 0, as ours faces +y.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon

from shared.importers.common import ImportLog, ImportProblem, entries, mapping, number, place_openings, text

WALL_THICKNESS = 10.0  # the editor's defaults
WALL_HEIGHT = 250.0
DOOR, WINDOW, WALL_ITEM = 7, 3, 2
# Item names to catalog refs and the size of the editor's model (width, depth, height in cm; the file
# stores only a scale), first match wins: a "Bedside table" is a nightstand before it is a bed.
NAMES: tuple[tuple[str, str, float, float, float], ...] = (
    ("bedside", "nightstand", 45, 40, 55), ("nightstand", "nightstand", 45, 40, 55),
    ("dresser", "dresser", 120, 50, 85), ("media console", "tv_stand", 160, 45, 50),
    ("tv", "tv_stand", 160, 45, 50), ("rug", "rug", 200, 140, 1), ("carpet", "rug", 200, 140, 1),
    ("sofa", "sofa", 200, 90, 80), ("couch", "sofa", 200, 90, 80), ("coffee table", "coffee_table", 110, 60, 45),
    ("dining table", "dining_table", 180, 90, 75), ("desk", "desk", 140, 70, 75), ("table", "table", 140, 80, 75),
    ("armchair", "armchair", 80, 80, 80), ("stool", "stool", 40, 40, 65), ("chair", "chair", 60, 60, 85),
    ("lamp", "floor_lamp", 40, 40, 160), ("bookshelf", "bookshelf", 100, 35, 200),
    ("bookcase", "bookshelf", 100, 35, 200), ("wardrobe", "wardrobe", 200, 60, 220),
    ("closet", "wardrobe", 200, 60, 220), ("crib", "crib", 60, 120, 90), ("bunk", "bunk_bed", 90, 200, 160),
    ("bed", "bed_double", 160, 200, 50), ("plant", "plant", 50, 50, 120), ("toilet", "toilet", 40, 65, 80),
    ("bathtub", "bathtub", 170, 75, 55), ("shower", "shower", 90, 90, 210), ("sink", "sink", 60, 45, 85),
    ("fridge", "fridge", 60, 65, 180), ("stove", "stove", 60, 60, 90), ("oven", "oven", 60, 60, 90),
    ("piano", "piano", 150, 60, 120), ("fireplace", "fireplace", 120, 40, 110), ("cabinet", "cabinet", 80, 45, 90),
)
OTHER_SIZE = (60.0, 60.0, 80.0)
DOOR_SIZE = (80.0, 200.0)  # width, height
WINDOW_SIZE = (100.0, 120.0)
INCHES = re.compile(r"(\d{2,3})x(\d{2,3})")  # model files like closed-door28x80 name their size in inches
# A derived room is named after what stands in it.
ROOM_NAMES = (("bed", "Bedroom", "bedroom"), ("sofa", "Living room", "living"), ("toilet", "Bathroom", "bathroom"),
              ("bathtub", "Bathroom", "bathroom"), ("stove", "Kitchen", "kitchen"), ("fridge", "Kitchen", "kitchen"))


def from_blueprint3d(data: dict[str, Any], log: ImportLog) -> dict[str, Any]:
    """A blueprint3d design as a plan v1 document of one floor."""
    floorplan = mapping(data.get("floorplan"), "floorplan")
    corners: dict[str, tuple[float, float]] = {}
    for key, corner in mapping(floorplan.get("corners", {}), "floorplan.corners").items():
        path = f"floorplan.corners.{key}"
        corner = mapping(corner, path)
        corners[key] = (number(corner.get("x"), f"{path}.x"), number(corner.get("y"), f"{path}.y"))
    walls: list[dict[str, Any]] = []
    for path, wall in entries(floorplan.get("walls", []), "floorplan.walls"):
        wall = mapping(wall, path)
        ends = [corners.get(str(wall.get(key))) for key in ("corner1", "corner2")]
        if ends[0] is None or ends[1] is None:
            raise ImportProblem(path, "names a corner that floorplan.corners does not have")
        if math.dist(ends[0], ends[1]) < 1:
            log.note(path, "dropped", "wall left out: its two corners are the same point")
            continue
        thickness = number(wall.get("thickness", WALL_THICKNESS), f"{path}.thickness")
        height = number(wall.get("height", WALL_HEIGHT), f"{path}.height")
        walls.append({"a": ends[0], "b": ends[1], "thickness": thickness, "height": height, "openings": []})
    if not walls:
        raise ImportProblem("floorplan.walls", "the design has no walls")
    items: list[dict[str, Any]] = []
    for path, item in entries(data.get("items", []), "items"):
        item = mapping(item, path)
        kind = item.get("item_type")
        if kind in (DOOR, WINDOW):
            _snap_opening(item, path, walls)
        else:
            items.append(_item(item, path))
    rooms = _rooms(walls, items)
    return {
        "name": "blueprint3d design",
        "floors": [{
            "name": "Ground floor", "height": max(wall["height"] for wall in walls),
            "walls": [{"a": _point(w["a"]), "b": _point(w["b"]), "thickness": w["thickness"], "height": w["height"],
                       "openings": place_openings(math.dist(w["a"], w["b"]), w["height"], w["openings"], log)}
                      for w in walls],
            "rooms": rooms,
            "items": items,
        }],
    }


def _point(xy: tuple[float, float]) -> dict[str, float]:
    return {"x": round(xy[0], 3), "y": round(xy[1], 3)}


def _scale(item: dict[str, Any], path: str, axis: str) -> float:
    value = number(item.get(f"scale_{axis}", 1), f"{path}.scale_{axis}")
    return value if value > 0 else 1.0


def _inches(item: dict[str, Any]) -> tuple[float, float] | None:
    match = INCHES.search(text(item.get("model_url"), 500))
    return (int(match[1]) * 2.54, int(match[2]) * 2.54) if match else None


def _item(item: dict[str, Any], path: str) -> dict[str, Any]:
    name = text(item.get("item_name")) or "item"
    lowered = name.lower()
    ref, width, depth, height = next(((r, w, d, h) for key, r, w, d, h in NAMES if key in lowered),
                                     (re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")[:80] or "item", *OTHER_SIZE))
    if ref == "rug" and (inches := _inches(item)):
        width, depth = inches
    x, y_up, z = (number(item.get(key), f"{path}.{key}") for key in ("xpos", "ypos", "zpos"))
    rotation = number(item.get("rotation", 0), f"{path}.rotation")
    width, depth = width * _scale(item, path, "x"), depth * _scale(item, path, "z")
    height = height * _scale(item, path, "y")
    elevation = 0.0
    if item.get("item_type") == WALL_ITEM:
        # Hung on a wall at its centre height: thin, and off the floor.
        depth = 4.0
        elevation = max(0.0, y_up - height / 2)
    return {"ref": ref, "x": round(x, 3), "y": round(z, 3),
            # Counter-clockwise radians seen from above become clockwise degrees on a y-down screen.
            "rotation": round(-math.degrees(rotation) % 360, 3),
            "width": round(width, 3), "depth": round(depth, 3), "height": round(height, 3),
            "elevation": round(elevation, 3)}


def _snap_opening(item: dict[str, Any], path: str, walls: list[dict[str, Any]]) -> None:
    """Put a door or window item into the wall nearest to it, facing the way the item faces."""
    x, y_up, z = (number(item.get(key), f"{path}.{key}") for key in ("xpos", "ypos", "zpos"))
    door = item.get("item_type") == DOOR
    width, height = _inches(item) or (DOOR_SIZE if door else WINDOW_SIZE)
    width, height = width * _scale(item, path, "x"), height * _scale(item, path, "y")

    def along(wall: dict[str, Any]) -> tuple[float, float, float]:
        (ax, ay), (bx, by) = wall["a"], wall["b"]
        length = math.dist(wall["a"], wall["b"])
        ux, uy = (bx - ax) / length, (by - ay) / length
        s = min(max((x - ax) * ux + (z - ay) * uy, 0.0), length)
        return math.dist((ax + ux * s, ay + uy * s), (x, z)), s, length

    wall = min(walls, key=lambda w: along(w)[0])
    _, offset, length = along(wall)
    (ax, ay), (bx, by) = wall["a"], wall["b"]
    ux, uy = (bx - ax) / length, (by - ay) / length
    rotation = number(item.get("rotation", 0), f"{path}.rotation")
    # The item's front, (sin r, cos r) in plan, tells which side of the wall the door opens to.
    facing = math.sin(rotation) * -uy + math.cos(rotation) * ux
    name = text(item.get("item_name")).lower()
    if door:
        opening = {"type": "double_door" if "double" in name else "door", "offset": offset, "width": width,
                   "height": height, "sill": 0.0, "swing": "in" if facing >= 0 else "out", "hinge": "left",
                   "path": path}
    else:
        opening = {"type": "window", "offset": offset, "width": width, "height": height,
                   "sill": max(0.0, y_up - height / 2), "path": path}
    wall["openings"].append(opening)


def _rooms(walls: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bounded faces of the wall graph, smallest cycles first, named after their furniture."""
    faces = minimal_cycles([(w["a"], w["b"]) for w in walls])
    rooms: list[dict[str, Any]] = []
    for index, face in enumerate(faces, start=1):
        shape = Polygon(face)
        inside = [item["ref"] for item in items if shape.contains(ShapelyPoint(item["x"], item["y"]))]
        name, kind = next(((n, k) for key, n, k in ROOM_NAMES if any(key in ref for ref in inside)),
                          (f"Room {index}", "room"))
        rooms.append({"name": name, "type": kind, "polygon": [_point(p) for p in face]})
    return rooms


def minimal_cycles(edges: Sequence[tuple[tuple[float, float], tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """The inner faces of a planar graph given by its edges: the rooms.

    Walk each edge keeping the face on the walker's right-hand side (turning as sharply right as possible at
    every node); each walk that comes back with a positive area on a y-down screen is a room, the one around the
    outside is not.
    """
    neighbours: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for a, b in edges:
        if a != b:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
    for node, around in neighbours.items():
        around.sort(key=lambda other: math.atan2(other[1] - node[1], other[0] - node[0]))
    seen: set[tuple[tuple[float, float], tuple[float, float]]] = set()
    faces: list[list[tuple[float, float]]] = []
    for start in neighbours:
        for first in neighbours[start]:
            if (start, first) in seen:
                continue
            face, (u, v) = [start], (start, first)
            while (u, v) not in seen:
                seen.add((u, v))
                face.append(v)
                around = neighbours[v]
                # The next edge out of v, just before the way back to u in angular order.
                u, v = v, around[(around.index(u) - 1) % len(around)]
            face.pop()
            if len(face) >= 3 and _signed_area(face) > 1.0:
                faces.append(face)
    return sorted(faces, key=_signed_area)


def _signed_area(points: list[tuple[float, float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)) / 2
