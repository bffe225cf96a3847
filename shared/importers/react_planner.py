"""react-planner scenes: the v2 layered schema and the older flat one, in any of the editor's units.

A scene has layers (one per floor) of vertices, lines (walls), holes (doors and windows on a line, at a
fraction of its length measured from its end with the smaller x), areas (rooms) and items. Lengths are
`{"length": n, "unit": u}` in v2 and plain numbers in the flat schema; y points up, so it is flipped. Older
scenes (cvdlab's `myscene.json`) store pixels: `pixelPerUnit` of them make one `unit`.
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import Polygon

from shared.importers.common import ImportLog, ImportProblem, entries, mapping, number, place_openings, text

UNITS_CM = {"mm": 0.1, "cm": 1.0, "m": 100.0, "in": 2.54, "inch": 2.54, "ft": 30.48}
WALL_THICKNESS = 20.0  # cm, the editor's defaults
WALL_HEIGHT = 300.0
DEFAULT_ITEM = (100.0, 100.0, 100.0)


def from_react_planner(data: dict[str, Any], log: ImportLog) -> dict[str, Any]:
    """A react-planner scene (v2 or flat) as a plan v1 document, one floor per layer."""
    scale = _scale(data)
    layers = sorted(entries(data.get("layers"), "layers"),
                    key=lambda entry: (entry[1].get("altitude", 0) if isinstance(entry[1], dict) else 0,
                                       entry[1].get("order", 0) if isinstance(entry[1], dict) else 0))
    if not layers:
        raise ImportProblem("layers", "the scene has no layers")
    # y up becomes y down by mirroring about the scene's height, which keeps coordinates positive.
    flip = number(data.get("height", 0), "height") * scale if isinstance(data.get("height"), int | float) else 0.0
    floors = [_floor(layer, path, scale, flip, level, log) for level, (path, layer) in enumerate(layers)]
    for (path, _), floor in zip(layers, floors, strict=True):
        if not (floor["walls"] or floor["rooms"]):
            log.note(path, "dropped", "layer left out: it has no walls or areas")
    floors = [floor for floor in floors if floor["walls"] or floor["rooms"]]
    if not floors:
        raise ImportProblem("layers", "no layer has walls or areas")
    return {"name": text(data.get("name")) or "react-planner scene", "floors": floors}


def _scale(data: dict[str, Any]) -> float:
    """Centimetres per stored number: the unit's, divided by `pixelPerUnit` in scenes that store pixels."""
    unit = str(data.get("unit", "cm"))
    if unit not in UNITS_CM:
        raise ImportProblem("unit", f"unknown unit {unit!r}: one of {', '.join(UNITS_CM)}")
    scale = UNITS_CM[unit]
    if "pixelPerUnit" in data:
        pixels = number(data["pixelPerUnit"], "pixelPerUnit")
        if pixels <= 0:
            raise ImportProblem("pixelPerUnit", f"must be positive, found {pixels:g}")
        scale /= pixels
    return scale


def _length(value: Any, path: str, scale: float, default: float) -> float:
    """A length in cm from a v2 `{"length": n, "unit": u}`, or a flat-schema number in the scene's unit."""
    if value is None:
        return default
    if isinstance(value, dict):
        unit = value.get("unit") or value.get("_unit")
        factor = UNITS_CM.get(str(unit), scale) if unit else scale
        return number(value.get("length", value.get("_length")), f"{path}.length") * factor
    return number(value, path) * scale


def _prop(element: dict[str, Any], name: str) -> Any:
    """A property from v2's `properties`, or from the element itself in the flat schema."""
    properties = element.get("properties")
    if isinstance(properties, dict) and name in properties:
        return properties[name]
    return element.get(name)


def _floor(layer: Any, path: str, scale: float, flip: float, level: int, log: ImportLog) -> dict[str, Any]:
    layer = mapping(layer, path)
    vertices: dict[str, tuple[float, float]] = {}
    for vpath, vertex in entries(layer.get("vertices"), f"{path}.vertices"):
        vertex = mapping(vertex, vpath)
        key = str(vertex.get("id", vpath.rsplit(".", 1)[-1]))
        x, y = number(vertex.get("x"), f"{vpath}.x") * scale, number(vertex.get("y"), f"{vpath}.y") * scale
        vertices[key] = (round(x, 3), round(flip - y, 3))
    holes = {str(hole.get("id", hpath.rsplit(".", 1)[-1])): (hpath, hole)
             for hpath, hole in entries(layer.get("holes"), f"{path}.holes") if isinstance(hole, dict)}
    walls = []
    for lpath, line in entries(layer.get("lines"), f"{path}.lines"):
        line = mapping(line, lpath)
        if line.get("type", "wall") != "wall":
            continue
        wall = _wall(line, lpath, vertices, holes, scale, log)
        if wall is not None:
            walls.append(wall)
    rooms = []
    for apath, area in entries(layer.get("areas"), f"{path}.areas"):
        area = mapping(area, apath)
        points = [vertices.get(str(key)) for key in area.get("vertices", [])]
        if any(point is None for point in points):
            raise ImportProblem(f"{apath}.vertices", "names a vertex the layer does not have")
        ring = [p for p in points if p is not None]
        if len(ring) < 3 or not Polygon(ring).is_valid or Polygon(ring).area < 1:
            log.note(apath, "dropped", "area left out: its outline has no area or crosses itself")
            continue
        name = text(area.get("name"))
        rooms.append({"name": "" if name == "Area" else name, "polygon": [{"x": x, "y": y} for x, y in ring]})
    items = [_item(mapping(item, ipath), ipath, scale, flip) for ipath, item in entries(layer.get("items"),
                                                                                     f"{path}.items")]
    height = max((wall["height"] for wall in walls), default=WALL_HEIGHT)
    return {"name": text(layer.get("name")), "level": level, "height": height, "walls": walls, "rooms": rooms,
            "items": items}


def _wall(line: dict[str, Any], path: str, vertices: dict[str, tuple[float, float]],
          holes: dict[str, tuple[str, dict[str, Any]]], scale: float, log: ImportLog) -> dict[str, Any] | None:
    ends = [end for key in line.get("vertices", [])[:2] if (end := vertices.get(str(key))) is not None]
    if len(ends) != 2:
        raise ImportProblem(f"{path}.vertices", "a wall needs two vertices the layer has")
    a, b = ends
    # Holes are placed from the end with the smaller x, as the editor draws them.
    if a[0] > b[0]:
        a, b = b, a
    length = math.dist(a, b)
    if length < 1:
        log.note(path, "dropped", "wall left out: its two vertices are the same point")
        return None
    thickness = _length(_prop(line, "thickness"), f"{path}.thickness", scale, WALL_THICKNESS)
    height = _length(_prop(line, "height"), f"{path}.height", scale, WALL_HEIGHT)
    openings = []
    for key in line.get("holes", []):
        if str(key) not in holes:
            raise ImportProblem(f"{path}.holes", f"names hole {key!r}, which the layer does not have")
        hpath, hole = holes[str(key)]
        openings.append(_opening(hole, hpath, length, scale))
    return {"a": {"x": a[0], "y": a[1]}, "b": {"x": b[0], "y": b[1]}, "thickness": max(thickness, 1.0),
            "height": height, "openings": place_openings(length, height, openings, log)}


def _opening(hole: dict[str, Any], path: str, length: float, scale: float) -> dict[str, Any]:
    kind = str(hole.get("type", "door")).lower()
    if "window" in kind:
        mapped = "window"
    elif "sliding" in kind:
        mapped = "sliding_door"
    elif "double" in kind or "gate" in kind:
        mapped = "double_door"
    elif "door" in kind:
        mapped = "door"
    else:
        mapped = "opening"
    width = _length(_prop(hole, "width"), f"{path}.width", scale, 80.0)
    height = _length(_prop(hole, "height"), f"{path}.height", scale, 120.0 if mapped == "window" else 215.0)
    sill = _length(_prop(hole, "altitude"), f"{path}.altitude", scale, 90.0 if mapped == "window" else 0.0)
    offset = number(hole.get("offset", 0.5), f"{path}.offset") * length
    # The editor draws a leaf to the left of the wall's direction on its y-up screen unless flipped; on our
    # y-down plan that side is "out". Older scenes spell the flag flip_orizzontal.
    flipped = bool(_prop(hole, "flip_horizontal") or _prop(hole, "flip_orizzontal"))
    opening = {"type": mapped, "offset": offset, "width": width, "height": height, "sill": sill, "path": path}
    if mapped in ("door", "double_door"):
        opening["swing"] = "in" if flipped else "out"
        opening["hinge"] = "right" if _prop(hole, "flip_vertical") else "left"
    return opening


def _item(item: dict[str, Any], path: str, scale: float, flip: float) -> dict[str, Any]:
    width = _length(_prop(item, "width"), f"{path}.width", scale, DEFAULT_ITEM[0])
    depth = _length(_prop(item, "depth"), f"{path}.depth", scale, DEFAULT_ITEM[1])
    height = _length(_prop(item, "height"), f"{path}.height", scale, DEFAULT_ITEM[2])
    elevation = _length(_prop(item, "altitude"), f"{path}.altitude", scale, 0.0)
    x, y = number(item.get("x"), f"{path}.x") * scale, number(item.get("y"), f"{path}.y") * scale
    return {"ref": text(item.get("type"), 80) or "item", "x": round(x, 3), "y": round(flip - y, 3),
            # Counter-clockwise on a y-up screen is clockwise once y points down.
            "rotation": round(-number(item.get("rotation", 0), f"{path}.rotation") % 360, 3),
            "width": round(max(width, 1.0), 3), "depth": round(max(depth, 1.0), 3),
            "height": round(max(height, 1.0), 3), "elevation": round(max(elevation, 0.0), 3)}
