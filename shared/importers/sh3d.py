"""Sweet Home 3D homes: a `.sh3d` file (a zip holding `Home.xml`) or `Home.xml` itself.

They are read as SweetHome3D.dtd describes them. Lengths are cm, y points down the screen as in plan v1, angles are
radians clockwise.

Walls keep their ends, thickness, height and arc; doors and windows go into the wall they stand in; rooms,
labels, furniture (onto our catalog by `catalogId` or name) and staircases follow; each `level` is a floor
at its elevation, and the compass gives north. Paths in warnings and errors are XPath-like:
`/home/doorOrWindow[3]/@width`.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeXml
from defusedxml import DefusedXmlException
from shapely.geometry import Polygon

from shared.importers.common import (
    ImportLog,
    ImportProblem,
    WallLine,
    place_openings,
    room_type,
    text,
)
from shared.plan import MAX_COORD

HOME_XML = "Home.xml"
MAX_HOME_XML = 32 * 1024 * 1024  # uncompressed: a home of thousands of walls is a few MB; beyond is a bomb
ZIP_MAGIC = b"PK\x03\x04"
DEFAULT_WALL_HEIGHT = 250.0  # the editor's default when neither the wall nor the home says
MAX_WALL_THICKNESS = 200.0
RISER = 18.0  # cm: a staircase model stores only its height; its steps are counted at this rise
DOOR_SILL_LIMIT = 40.0  # cm: a door or French window stands on the floor; higher, it is a window
PARALLEL = 0.8  # |cos| of the angle between a window and its wall: editors snap them, users nudge them
# Views, lighting and print settings of the editor: no part of a plan, so not worth a warning.
EDITOR_SETTINGS = frozenset({"camera", "observerCamera", "environment", "backgroundImage", "print"})


@dataclass(frozen=True)
class _Level:
    id: str
    name: str
    elevation: float
    height: float
    index: int  # elevationIndex: the editor's order of levels at the same elevation
    viewable: bool


@dataclass
class _Floor:
    """What one level collects while the file is read."""

    level: _Level | None
    walls: list[dict[str, Any]] = field(default_factory=list)
    lines: list[WallLine] = field(default_factory=list)
    openings: list[list[dict[str, Any]]] = field(default_factory=list)  # per wall
    rooms: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    stairs: list[dict[str, Any]] = field(default_factory=list)


def looks_like_sh3d(raw: bytes) -> bool:
    """Whether the bytes are a .sh3d zip holding Home.xml, or XML whose root is <home>."""
    if raw.startswith(ZIP_MAGIC):
        try:
            return HOME_XML in zipfile.ZipFile(io.BytesIO(raw)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    head = raw[:2048].decode("utf-8", "replace")
    # After the XML declaration, comments and a DOCTYPE, the first element.
    body = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", head, flags=re.S).lstrip()
    return re.match(r"<home[\s>/]", body) is not None


def from_sh3d(raw: bytes, log: ImportLog) -> dict[str, Any]:
    """A Sweet Home 3D home (zip or XML bytes) as a plan v1 document, one floor per viewable level."""
    home = _parse(_home_xml(raw))
    if home.tag != "home":
        raise ImportProblem(f"/{home.tag}", "a Sweet Home 3D home's root element is <home>")
    reader = _Reader(home, log)
    return reader.plan()


def _home_xml(raw: bytes) -> bytes:
    """Home.xml's bytes: the file itself, or read from the .sh3d zip with a cap on its uncompressed size."""
    if not raw.startswith(ZIP_MAGIC):
        return raw
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = archive.namelist()
        data = None
        if HOME_XML in names:
            with archive.open(HOME_XML) as stream:
                # At most one byte past the cap: the size in the zip's directory is the sender's word only.
                data = stream.read(MAX_HOME_XML + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
            ValueError) as exc:
        raise ImportProblem("$", f"not a readable .sh3d zip: {exc}"[:300]) from None
    if data is None:
        why = ("it was saved by a Sweet Home 3D older than 5.3, which stored only a Java-serialised Home: open "
               "and save it again in a newer version") if "Home" in names else "it is no Sweet Home 3D file"
        raise ImportProblem(HOME_XML, f"the zip holds no {HOME_XML}: {why}")
    if len(data) > MAX_HOME_XML:
        raise ImportProblem(HOME_XML, f"over {MAX_HOME_XML // (1024 * 1024)} MB uncompressed")
    return data


def _parse(data: bytes) -> Element:
    try:
        # No entity expansion and no external references: XML from strangers.
        root: Element = SafeXml.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        return root
    except ParseError as exc:
        line, column = exc.position  # expat counts columns from 0, editors from 1
        raise ImportProblem(f"{HOME_XML}:{line}:{column + 1}", f"not well-formed XML: {exc}"[:300]) from None
    except DefusedXmlException as exc:
        raise ImportProblem(HOME_XML, f"refused: {exc}"[:300]) from None


def _number(element: Element, name: str, path: str, default: float | None = None) -> float:
    raw = element.get(name)
    if raw is None:
        if default is None:
            raise ImportProblem(f"{path}/@{name}", "missing")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImportProblem(f"{path}/@{name}", f"expected a number, found {raw[:40]!r}") from None
    if not math.isfinite(value) or abs(value) > MAX_COORD:
        raise ImportProblem(f"{path}/@{name}", f"{raw[:40]} is out of range")
    return value


def _flag(element: Element, name: str, default: bool) -> bool:
    raw = element.get(name)
    return default if raw is None else raw.strip().lower() == "true"


def _children(parent: Element, path: str) -> Iterator[tuple[str, Element]]:
    """Each child element with its XPath (1-based, per tag)."""
    seen: Counter[str] = Counter()
    for child in parent:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        seen[child.tag] += 1
        yield f"{path}/{child.tag}[{seen[child.tag]}]", child


class _Reader:
    """One pass over a <home>: its levels first, then everything on them."""

    def __init__(self, home: Element, log: ImportLog) -> None:
        self.home = home
        self.log = log
        self.wall_height = _number(home, "wallHeight", "/home", DEFAULT_WALL_HEIGHT)
        self.levels: dict[str, _Level] = {}
        for path, element in _children(home, "/home"):
            if element.tag == "level":
                self._level(element, path)
        self.floors: dict[str | None, _Floor] = {key: _Floor(level) for key, level in self.levels.items()} \
            if self.levels else {None: _Floor(None)}
        self.hidden: Counter[str] = Counter()

    def _level(self, element: Element, path: str) -> None:
        key = element.get("id") or path
        viewable = _flag(element, "viewable", True) and _flag(element, "visible", True)
        self.levels[key] = _Level(key, text(element.get("name")), _number(element, "elevation", path),
                                  _number(element, "height", path, self.wall_height),
                                  int(_number(element, "elevationIndex", path, -1)), viewable)

    def plan(self) -> dict[str, Any]:
        """Read every element, then put the floors together in order of elevation."""
        doors: list[tuple[str, Element]] = []
        ignored: Counter[str] = Counter()
        for path, element in _children(self.home, "/home"):
            if element.tag == "wall":
                self._wall(element, path)
            elif element.tag in ("pieceOfFurniture", "furnitureGroup", "doorOrWindow", "light"):
                doors += self._furniture(element, path)
            elif element.tag == "room":
                self._room(element, path)
            elif element.tag == "label":
                self._label(element, path)
            elif element.tag == "compass":
                continue
            elif element.tag not in ("level", "property", "furnitureVisibleProperty", "dimensionLine"):
                ignored[element.tag] += 1
        # Doors and windows need the walls of their level, which may come after them in the file.
        for path, element in doors:
            self._door_or_window(element, path)
        self._report(ignored)
        return self._assemble()

    def _floor_of(self, element: Element, path: str) -> _Floor | None:
        """The floor an element belongs to, or None (counted) when its level is hidden."""
        key = element.get("level")
        if not self.levels:
            return self.floors[None]
        if key is None:
            key = min(self.levels.values(), key=lambda level: (level.elevation, level.index)).id
        if key not in self.floors:
            raise ImportProblem(f"{path}/@level", f"names level {key[:40]!r}, which the home does not have")
        floor = self.floors[key]
        if floor.level is not None and not floor.level.viewable:
            self.hidden[element.tag] += 1
            return None
        return floor

    def _wall(self, element: Element, path: str) -> None:
        floor = self._floor_of(element, path)
        if floor is None:
            return
        a = (_number(element, "xStart", path), _number(element, "yStart", path))
        b = (_number(element, "xEnd", path), _number(element, "yEnd", path))
        if math.dist(a, b) < 1:
            self.log.note(path, "dropped", "wall left out: its two ends are the same point")
            return
        thickness = _number(element, "thickness", path)
        if not 0 < thickness <= MAX_WALL_THICKNESS:
            self.log.note(f"{path}/@thickness", "clamped", f"thickness {thickness:g} cm drawn as "
                                                           f"{min(max(thickness, 1.0), MAX_WALL_THICKNESS):g}")
            thickness = min(max(thickness, 1.0), MAX_WALL_THICKNESS)
        height = min(_number(element, "height", path, self.wall_height), 2_000.0)
        at_end = min(_number(element, "heightAtEnd", path, height), 2_000.0)
        if abs(at_end - height) > 0.5:
            self.log.note(f"{path}/@heightAtEnd", "clamped", f"sloping top ({height:g} to {at_end:g} cm) drawn "
                                                            f"level at their mean, {(height + at_end) / 2:g} cm")
            height = (height + at_end) / 2
        arc = None
        if element.get("arcExtent") is not None:
            arc = math.degrees(_number(element, "arcExtent", path))
            arc = max(min(arc, 350.0), -350.0)
        wall: dict[str, Any] = {"a": _xy(a), "b": _xy(b), "thickness": round(thickness, 3),
                                "height": round(max(height, 1.0), 3), "path": path}
        if arc is not None and abs(arc) >= 0.5:
            wall["arc"] = round(arc, 4)
        floor.walls.append(wall)
        floor.lines.append(WallLine(a, b, wall.get("arc")))
        floor.openings.append([])

    def _furniture(self, element: Element, path: str) -> list[tuple[str, Element]]:
        """Furniture onto its floor, and the doors and windows kept for later.

        Groups are flattened: their pieces keep plan coordinates. Doors and windows are returned for when
        every wall is known.
        """
        if element.tag == "furnitureGroup":
            found: list[tuple[str, Element]] = []
            for child_path, child in _children(element, path):
                if child.tag in ("pieceOfFurniture", "furnitureGroup", "doorOrWindow", "light"):
                    found += self._furniture(child, child_path)
            return found
        if element.tag == "doorOrWindow" or _flag(element, "doorOrWindow", False):
            return [(path, element)]
        floor = self._floor_of(element, path)
        if floor is None:
            return []
        if not _flag(element, "visible", True):
            self.log.note(path, "dropped", f"{text(element.get('name'), 60) or 'piece'} left out: it is hidden")
            return []
        if _is_staircase(element):
            floor.stairs.append(_staircase(element, path, self._climb(floor), self.log))
        else:
            floor.items.append(_item(element, path, self.log))
        return []

    def _climb(self, floor: _Floor) -> float | None:
        """How far it is from a level's floor to the next level's: what its staircases climb."""
        if floor.level is None:
            return None
        above = [level.elevation for level in self.levels.values() if level.elevation > floor.level.elevation]
        return min(above) - floor.level.elevation if above else None

    def _door_or_window(self, element: Element, path: str) -> None:
        floor = self._floor_of(element, path)
        if floor is None:
            return
        name = text(element.get("name"), 60) or "door or window"
        if not _flag(element, "visible", True):
            self.log.note(path, "dropped", f"{name} left out: it is hidden")
            return
        centre = (_number(element, "x", path), _number(element, "y", path))
        angle = _number(element, "angle", path, 0.0)
        depth = _number(element, "depth", path)
        host = _host_wall(floor, centre, angle, depth)
        if host is None:
            self.log.note(path, "dropped", f"{name} left out: it stands in no wall of its level")
            return
        index, along = host
        opening = _opening(element, path, angle, floor.lines[index].locate(centre)[2])
        floor.openings[index].append({**opening, "offset": along})

    def _room(self, element: Element, path: str) -> None:
        floor = self._floor_of(element, path)
        if floor is None:
            return
        name = text(element.get("name")).strip()
        if not _flag(element, "floorVisible", True):
            self.log.note(path, "dropped", f"room {name!r} left out: it has no floor (a stairwell or a void)")
            return
        ring: list[tuple[float, float]] = []
        for point_path, point in _children(element, path):
            if point.tag == "point":
                xy = (_number(point, "x", point_path), _number(point, "y", point_path))
                if not ring or math.dist(ring[-1], xy) > 0.01:
                    ring.append(xy)
        if len(ring) > 1 and math.dist(ring[0], ring[-1]) <= 0.01:
            ring.pop()
        shape = Polygon(ring) if len(ring) >= 3 else Polygon()
        if shape.is_empty or not shape.is_valid or shape.area < 1:
            self.log.note(path, "dropped", f"room {name!r} left out: its outline has no area or crosses itself")
            return
        floor.rooms.append({"name": name, "type": room_type(name), "polygon": [_xy(p) for p in ring]})

    def _label(self, element: Element, path: str) -> None:
        floor = self._floor_of(element, path)
        if floor is None:
            return
        words = " ".join((element.findtext("text") or "").split())[:200]
        if words:
            floor.labels.append({"text": words, "x": round(_number(element, "x", path), 3),
                                 "y": round(_number(element, "y", path), 3)})

    def _report(self, ignored: Counter[str]) -> None:
        for tag, count in sorted(self.hidden.items()):
            self.log.note("/home", "dropped", f"{count} {tag} on hidden levels left out")
        for tag, count in sorted(ignored.items()):
            if tag not in EDITOR_SETTINGS:
                self.log.note("/home", "dropped", f"{count} {tag} left out: plan v1 has nothing like it")
        dimension_lines = sum(1 for child in self.home if child.tag == "dimensionLine")
        if dimension_lines:
            self.log.note("/home", "dropped", f"{dimension_lines} dimensionLine left out: the 2D render draws "
                                              "its own dimension chains")

    def _assemble(self) -> dict[str, Any]:
        shown = [floor for floor in self.floors.values() if floor.level is None or floor.level.viewable]
        shown.sort(key=lambda floor: (floor.level.elevation, floor.level.index) if floor.level else (0.0, 0))
        # Level 0 is the lowest at or above the ground; those below it are basements.
        ground = next((i for i, floor in enumerate(shown) if floor.level and floor.level.elevation >= 0),
                      max(len(shown) - 1, 0))
        floors = [self._floor(floor, index - ground) for index, floor in enumerate(shown)]
        floors = [floor for floor in floors if floor["walls"] or floor["rooms"]]
        if not floors:
            raise ImportProblem("/home", "the home has no walls or rooms on a viewable level")
        plan: dict[str, Any] = {"name": _home_name(self.home), "floors": floors}
        compass = self.home.find("compass")
        if compass is not None:
            plan["north"] = round(math.degrees(_number(compass, "northDirection", "/home/compass", 0.0)) % 360, 3)
        return plan

    def _floor(self, floor: _Floor, level: int) -> dict[str, Any]:
        walls = []
        for wall, line, openings in zip(floor.walls, floor.lines, floor.openings, strict=True):
            placed = place_openings(line.length, wall["height"], openings, self.log)
            walls.append({**{k: v for k, v in wall.items() if k != "path"}, "openings": placed})
        out: dict[str, Any] = {"name": floor.level.name if floor.level else "", "level": level, "walls": walls,
                               "rooms": floor.rooms, "items": floor.items, "labels": floor.labels,
                               "stairs": floor.stairs}
        tallest = max((wall["height"] for wall in walls), default=self.wall_height)
        out["height"] = round(floor.level.height if floor.level else tallest, 3)
        if floor.level is not None:
            out["elevation"] = round(floor.level.elevation, 3)
        return out


def _xy(point: tuple[float, float]) -> dict[str, float]:
    return {"x": round(point[0], 3), "y": round(point[1], 3)}


def _home_name(home: Element) -> str:
    name = text(home.get("name")).strip()
    return re.sub(r"\.sh3d$", "", name, flags=re.I) or "Sweet Home 3D home"


def _host_wall(floor: _Floor, centre: tuple[float, float], angle: float, depth: float) -> tuple[int, float] | None:
    """The wall a door or window stands in, and where along it.

    That is the nearest wall, roughly parallel to the piece, that its footprint overlaps.
    """
    direction = (math.cos(angle), math.sin(angle))
    best: tuple[float, int, float] | None = None
    for index, (wall, line) in enumerate(zip(floor.walls, floor.lines, strict=True)):
        along, distance, tangent = line.locate(centre)
        if distance > wall["thickness"] / 2 + depth / 2 + 1.0:
            continue
        if abs(direction[0] * tangent[0] + direction[1] * tangent[1]) < PARALLEL:
            continue
        if best is None or distance < best[0]:
            best = (distance, index, along)
    return None if best is None else (best[1], best[2])


def _opening(element: Element, path: str, angle: float, tangent: tuple[float, float]) -> dict[str, Any]:
    """A door or window as a plan v1 opening (without its offset), hinge and swing from its sashes."""
    words = f"{element.get('catalogId', '')} {element.get('name', '')}".lower()
    sill = _number(element, "elevation", path, 0.0)
    sashes = [sash for sash in element if sash.tag == "sash"]
    kind = _opening_type(words, sill, len(sashes))
    opening: dict[str, Any] = {"type": kind, "width": _number(element, "width", path),
                               "height": _number(element, "height", path), "sill": sill, "path": path}
    if kind in ("door", "double_door"):
        opening.update(_hinge_and_swing(element, path, sashes, angle, tangent))
    return opening


def _opening_type(words: str, sill: float, sashes: int) -> str:
    on_floor = sill < DOOR_SILL_LIMIT
    if any(word in words for word in ("doorframe", "door frame", "opening", "arch")) and not sashes:
        return "opening"
    if on_floor and ("slid" in words or "slider" in words):
        return "sliding_door"
    if on_floor and ("door" in words or "french" in words):
        return "double_door" if sashes >= 2 or "double" in words and not sashes else "door"
    return "window"


def _hinge_and_swing(element: Element, path: str, sashes: list[Element], angle: float,
                     tangent: tuple[float, float]) -> dict[str, str]:
    """Which end of the opening the leaf hangs on and which side of the wall it opens to.

    In the model's own frame x runs along its width and y to its front (the side it opens to when its sash
    turns towards +y); a sash turns about (xAxis * width, yAxis * depth) from startAngle to endAngle. The
    model may be mirrored (x flipped), then turned clockwise by `angle`.
    """
    mirrored = _flag(element, "modelMirrored", False)
    width = _number(element, "width", path)
    x_axis, end_angle = 0.0, -math.pi / 2  # a door without sash data: hung on its left, opening to its front
    if sashes:
        sash_path = f"{path}/sash[1]"
        x_axis = (_number(sashes[0], "xAxis", sash_path) - 0.5) * width
        end_angle = _number(sashes[0], "endAngle", sash_path)
    if mirrored:
        x_axis = -x_axis
    # Java's arcs measure angles anticlockwise on screen: the open leaf points along (cos, -sin) in the model.
    front = -math.sin(end_angle)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    hinge_along = x_axis * (cos_a * tangent[0] + sin_a * tangent[1])
    opens = front * (-sin_a * -tangent[1] + cos_a * tangent[0])  # the front's share of the wall's right side
    return {"hinge": "left" if hinge_along < 0 else "right", "swing": "in" if opens > 0 else "out"}


# Sweet Home 3D's catalog ids (eTeks#bedsideTable) and names, word by word, to our catalog: first match wins.
CATALOG_WORDS = (
    ("bedside", "nightstand"), ("night table", "nightstand"), ("bunk", "bunk_bed"), ("crib", "crib"),
    ("bed", "bed"), ("corner sofa", "sofa_corner"), ("sofa", "sofa"), ("couch", "sofa"), ("armchair", "armchair"),
    ("round table", "round_table"), ("coffee table", "coffee_table"), ("desk", "desk"), ("table", "table"),
    ("office chair", "office_chair"), ("chair", "chair"), ("stool", "stool"), ("wardrobe", "wardrobe"),
    ("chest", "dresser"), ("dresser", "dresser"), ("bookcase", "bookshelf"), ("shelf", "bookshelf"),
    ("tv unit", "tv_stand"), ("kitchen upper cabinet", "cabinet"), ("kitchen cabinet", "kitchen_counter"),
    ("washbasin", "basin"), ("basin", "basin"), ("sink", "sink_kitchen"), ("cooker", "stove"), ("stove", "stove"),
    ("oven", "oven"), ("fridge", "fridge"), ("dishwasher", "dishwasher"), ("clothes washer", "washing_machine"),
    ("washing machine", "washing_machine"), ("dryer", "dryer"), ("toilet", "toilet"), ("bidet", "bidet"),
    ("bath", "bathtub"), ("shower", "shower"), ("plant", "plant"), ("flowers", "plant"), ("rug", "rug"),
    ("carpet", "rug"), ("piano", "piano"), ("fireplace", "fireplace"), ("floor uplight", "floor_lamp"),
    ("lamp", "floor_lamp"), ("cabinet", "cabinet"), ("sideboard", "sideboard"),
)


def _words(element: Element) -> str:
    """The catalog id without its vendor prefix and the name, camelCase split: "bedside table bedside table"."""
    catalog = (element.get("catalogId") or "").split("#")[-1]
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", catalog)
    return f"{spaced} {element.get('name') or ''}".lower()


def _catalog_ref(element: Element, width: float) -> str:
    words = _words(element)
    ref = next((ref for word, ref in CATALOG_WORDS if word in words), None)
    if ref == "bed":
        return "bed_single" if width < 120 else "bed_double"
    if ref is not None:
        return ref
    name = text(element.get("name")).lower()
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_")[:80] or "box"


def _item(element: Element, path: str, log: ImportLog) -> dict[str, Any]:
    width = _number(element, "width", path)
    depth = _number(element, "depth", path)
    height = _number(element, "height", path)
    if element.get("pitch") or element.get("roll"):
        # A tilted piece (a ramp, a roof panel) is drawn flat over what it covers, as thick as it is.
        log.note(path, "clamped", f"{text(element.get('name'), 60)} is tilted: drawn flat over the area it covers")
        width = _number(element, "widthInPlan", path, width)
        depth = _number(element, "depthInPlan", path, depth)
    return {"ref": _catalog_ref(element, width), "x": round(_number(element, "x", path), 3),
            "y": round(_number(element, "y", path), 3),
            "rotation": round(math.degrees(_number(element, "angle", path, 0.0)) % 360, 3),
            "width": round(min(max(width, 1.0), 10_000), 3), "depth": round(min(max(depth, 1.0), 10_000), 3),
            "height": round(min(max(height, 0.1), 2_000), 3),
            "elevation": round(min(max(_number(element, "elevation", path, 0.0), 0.0), 2_000), 3)}


def _is_staircase(element: Element) -> bool:
    return element.get("staircaseCutOutShape") is not None or "stair" in _words(element)


def _staircase(element: Element, path: str, climb: float | None, log: ImportLog) -> dict[str, Any]:
    """A staircase model as a straight flight along its depth, from its front up to its back.

    It climbs to the next level (a model's height also counts its handrail above the top step).
    """
    x, y = _number(element, "x", path), _number(element, "y", path)
    angle = _number(element, "angle", path, 0.0)
    width, depth = _number(element, "width", path), _number(element, "depth", path)
    height = min(max(_number(element, "height", path), 1.0), 2_000)
    if climb is not None and 0 < climb < height:
        height = climb
    # The model's front (+y before turning) is where one steps on.
    fx, fy = -math.sin(angle) * depth / 2, math.cos(angle) * depth / 2
    if "curve" in _words(element) or "spiral" in _words(element):
        log.note(path, "clamped", f"{text(element.get('name'), 60) or 'staircase'} is curved: drawn as a straight "
                                  "flight over its footprint")
    steps = max(2, min(100, round(height / RISER)))
    return {"run": [_xy((x + fx, y + fy)), _xy((x - fx, y - fy))], "width": round(min(max(width, 1.0), 1_000), 3),
            "steps": steps, "height": round(height, 3), "name": text(element.get("name"))}
