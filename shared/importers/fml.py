"""Floorplanner FML v3 JSON: a project of floors, each of designs with walls, areas, items and labels, in cm.

Accepts a whole project, one floor or one design. A wall has points `a` and `b`, a `thickness` and
`openings` placed at `t`, their centre's fraction of the wall's length, and a curved wall a control point
`c` (a quadratic Bézier, drawn as the circular arc through its ends and midpoint); items have a `refid` (an asset of
Floorplanner's library: one the catalog does not know draws as a box of the item's size), a centre, a
`rotation` in degrees clockwise, and `width` x `height` seen from above.
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import Polygon

from shared.importers.common import (
    ImportLog,
    ImportProblem,
    WallLine,
    entries,
    mapping,
    number,
    place_openings,
    room_type,
    text,
)

FLOOR_HEIGHT = 280.0
WALL_THICKNESS = 20.0


def from_fml(data: dict[str, Any], log: ImportLog) -> dict[str, Any]:
    """A Floorplanner project, floor or design as a plan v1 document."""
    if "floors" in data:
        floors = [(path, mapping(floor, path)) for path, floor in entries(data["floors"], "floors")]
    elif "designs" in data:
        floors = [("$", data)]
    else:
        floors = [("$", {"designs": [data]})]
    converted = [_floor(floor, path, level, log) for level, (path, floor) in enumerate(floors)]
    for (path, _), floor in zip(floors, converted, strict=True):
        if not (floor["walls"] or floor["rooms"]):
            log.note(path, "dropped", "floor left out: its design has no walls or areas")
    converted = [floor for floor in converted if floor["walls"] or floor["rooms"]]
    if not converted:
        raise ImportProblem("floors", "no floor has a design with walls or areas")
    return {"name": text(data.get("name")) or "Floorplanner project", "floors": converted}


def _floor(floor: dict[str, Any], path: str, level: int, log: ImportLog) -> dict[str, Any]:
    designs = entries(floor.get("designs"), f"{path}.designs" if path != "$" else "designs")
    if not designs:
        raise ImportProblem(path, "a floor without designs")
    # A floor's designs are alternative versions of it; the first is the one Floorplanner opens.
    dpath, design = designs[0]
    design = mapping(design, dpath)
    for other, _ in designs[1:]:
        log.note(other, "dropped", f"design left out: a floor draws its first design, {dpath}")
    height = number(floor.get("height", FLOOR_HEIGHT), f"{path}.height")
    raw_level = floor.get("level", level)
    return {
        "name": text(floor.get("name")) or text(design.get("name")),
        "level": int(raw_level) if isinstance(raw_level, int) and not isinstance(raw_level, bool) else level,
        "height": height,
        "walls": [wall for wpath, w in entries(design.get("walls"), f"{dpath}.walls")
                  if (wall := _wall(mapping(w, wpath), wpath, height, log)) is not None],
        "rooms": [room for apath, a in entries(design.get("areas"), f"{dpath}.areas")
                  if (room := _room(mapping(a, apath), apath, log)) is not None],
        "items": [_item(mapping(i, ipath), ipath) for ipath, i in entries(design.get("items"), f"{dpath}.items")],
        "labels": [label for lpath, raw in entries(design.get("labels"), f"{dpath}.labels")
                   if (label := _label(mapping(raw, lpath), lpath)) is not None],
    }


def _xy(point: Any, path: str) -> tuple[float, float]:
    point = mapping(point, path)
    return (number(point.get("x"), f"{path}.x"), number(point.get("y"), f"{path}.y"))


def _wall(wall: dict[str, Any], path: str, floor_height: float, log: ImportLog) -> dict[str, Any] | None:
    a, b = _xy(wall.get("a"), f"{path}.a"), _xy(wall.get("b"), f"{path}.b")
    if math.dist(a, b) < 1:
        log.note(path, "dropped", "wall left out: a and b are the same point")
        return None
    arc = _arc(a, b, _xy(wall["c"], f"{path}.c")) if isinstance(wall.get("c"), dict) else None
    length = WallLine(a, b, arc).length
    height = floor_height
    for end in ("a", "b"):
        point = wall.get(end)
        if isinstance(point, dict) and isinstance(point.get("h"), int | float) and point["h"] > 0:
            height = min(height, float(point["h"]))
    openings = [_opening(mapping(o, opath), opath, length) for opath, o in entries(wall.get("openings"),
                                                                                   f"{path}.openings")]
    converted: dict[str, Any] = {
        "a": {"x": a[0], "y": a[1]}, "b": {"x": b[0], "y": b[1]},
        "thickness": max(number(wall.get("thickness", WALL_THICKNESS), f"{path}.thickness"), 1.0),
        "height": height, "openings": place_openings(length, height, openings, log)}
    if arc is not None:
        converted["arc"] = arc
    return converted


def _arc(a: tuple[float, float], b: tuple[float, float], control: tuple[float, float]) -> float | None:
    """The sweep in degrees (plan v1's sign) of the arc a quadratic Bézier a-control-b stands for.

    The arc is the circular one through a, b and the curve's midpoint; None when that is (nearly) straight.
    """
    chord = math.dist(a, b)
    mid = ((a[0] + 2 * control[0] + b[0]) / 4, (a[1] + 2 * control[1] + b[1]) / 4)
    ux, uy = (b[0] - a[0]) / chord, (b[1] - a[1]) / chord
    # How far the curve's midpoint lies to the left of a->b, on a page with y pointing down.
    bulge = (mid[0] - (a[0] + b[0]) / 2) * uy - (mid[1] - (a[1] + b[1]) / 2) * ux
    if abs(bulge) < 0.5:
        return None
    return round(math.degrees(4 * math.atan(2 * abs(bulge) / chord)) * (1 if bulge > 0 else -1), 4)


def _opening(opening: dict[str, Any], path: str, length: float) -> dict[str, Any]:
    kind = str(opening.get("type", "")).lower()
    sill = number(opening.get("z", 0), f"{path}.z")
    if "window" in kind or (not kind and sill > 0):
        mapped = "window"
    elif "slid" in kind:
        mapped = "sliding_door"
    elif "double" in kind:
        mapped = "double_door"
    elif "door" in kind or not kind:
        mapped = "door"
    else:
        mapped = "opening"
    t = number(opening.get("t", 0.5), f"{path}.t")
    result: dict[str, Any] = {
        "type": mapped, "offset": t * length, "width": number(opening.get("width", 80), f"{path}.width"),
        "height": number(opening.get("z_height", 120 if mapped == "window" else 210), f"{path}.z_height"),
        "sill": sill, "path": path,
    }
    raw = opening.get("mirrored")
    mirrored: list[Any] = raw if isinstance(raw, list) else []
    if mapped in ("door", "double_door"):
        # Mirrored across the wall's length moves the hinge; across its thickness, the side it opens to.
        result["hinge"] = "right" if len(mirrored) > 0 and mirrored[0] else "left"
        result["swing"] = "out" if len(mirrored) > 1 and mirrored[1] else "in"
    return result


def _room(area: dict[str, Any], path: str, log: ImportLog) -> dict[str, Any] | None:
    ring = [_xy(point, f"{path}.poly[{i}]") for i, point in enumerate(area.get("poly") or [])]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3 or not Polygon(ring).is_valid or Polygon(ring).area < 1:
        log.note(path, "dropped", "area left out: its outline has no area or crosses itself")
        return None
    name = text(area.get("name"))
    room: dict[str, Any] = {"name": name, "polygon": [{"x": x, "y": y} for x, y in ring]}
    if isinstance(area.get("type"), str) and area["type"]:
        room["type"] = area["type"][:40]
    elif room_type(name) != "room":
        room["type"] = room_type(name)
    return room


def _item(item: dict[str, Any], path: str) -> dict[str, Any]:
    x, y = number(item.get("x"), f"{path}.x"), number(item.get("y"), f"{path}.y")
    width = number(item.get("width", 50), f"{path}.width")
    depth = number(item.get("height", 50), f"{path}.height")
    height = number(item.get("z_height", 80), f"{path}.z_height")
    return {"ref": text(item.get("refid"), 80) or "box", "x": x, "y": y,
            "rotation": number(item.get("rotation", 0), f"{path}.rotation") % 360,
            "width": max(abs(width), 1.0), "depth": max(abs(depth), 1.0), "height": max(abs(height), 1.0),
            "elevation": max(number(item.get("z", 0), f"{path}.z"), 0.0)}


def _label(label: dict[str, Any], path: str) -> dict[str, Any] | None:
    words = text(label.get("text")).strip()
    if not words:
        return None
    x, y = _xy(label, path)
    return {"text": words, "x": x, "y": y}
