"""IFC building models (IFC2x3 and IFC4 STEP files), read with ifcopenshell.

Storeys become floors at their elevations; walls are their axis (or footprint) and thickness, with the doors
and windows that fill their openings; spaces are rooms. Lengths are converted from the file's unit
(`IfcUnitAssignment`) to cm, and y is flipped: IFC's y points north, plan v1's down the page. Paths in
warnings and errors name the STEP instance: `#143=IfcWall`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.util.element
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from shared.importers.common import ImportLog, ImportProblem, WallLine, place_openings, room_type, text
from shared.plan import MAX_COORD

Entity = Any  # ifcopenshell.entity_instance, whose methods carry no type hints
SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
DEFAULT_THICKNESS = 20.0  # cm, for a wall whose file says nothing about it
DEFAULT_HEIGHT = 280.0
MIN_ROOM = 1_000.0  # cm²: an enclosure smaller than this (a shaft, a gap between walls) is no room
# Building elements plan v1 has no place for; reported with a count, not one by one.
LEFT_OUT = ("IfcSlab", "IfcRoof", "IfcColumn", "IfcBeam", "IfcStair", "IfcStairFlight", "IfcRamp", "IfcRailing",
            "IfcCurtainWall", "IfcFurnishingElement", "IfcCovering", "IfcPlate", "IfcMember")
SLIDING = ("SLIDING", "DOUBLE_DOOR_SLIDING")
DOUBLE = ("DOUBLE_DOOR", "DOUBLE_SWING")


def from_ifc(raw: bytes, log: ImportLog) -> dict[str, Any]:
    """An IFC STEP file as a plan v1 document, one floor per storey that has walls or spaces."""
    model = _open(raw)
    reader = _Reader(model, log)
    return reader.plan()


def _open(raw: bytes) -> ifcopenshell.file:
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        source = raw.decode("latin-1")  # STEP is ASCII; stray bytes are the file's problem, not a crash
    try:
        model = ifcopenshell.file.from_string(source)
        schema = model.schema
    except (RuntimeError, ValueError, SyntaxError) as exc:
        raise ImportProblem("$", f"not a readable IFC STEP file of schema {' or '.join(SCHEMAS)}: {exc}"[:300]
                            ) from None
    if schema not in SCHEMAS:
        raise ImportProblem("HEADER.FILE_SCHEMA", f"schema {schema} is not one of {', '.join(SCHEMAS)}")
    return model


def _path(entity: Entity) -> str:
    return f"#{entity.id()}={entity.is_a()}"


@dataclass
class _Storey:
    name: str
    elevation: float  # cm
    walls: list[dict[str, Any]]
    lines: list[WallLine]
    openings: list[list[dict[str, Any]]]
    rooms: list[dict[str, Any]]


class _Reader:
    """One model: its unit and storeys, then the walls and spaces on each."""

    def __init__(self, model: ifcopenshell.file, log: ImportLog) -> None:
        self.model = model
        self.log = log
        self.cm = ifcopenshell.util.unit.calculate_unit_scale(model) * 100.0
        self.radians = ifcopenshell.util.unit.calculate_unit_scale(model, "PLANEANGLEUNIT")
        self.settings = ifcopenshell.geom.settings()  # type: ignore[no-untyped-call]
        self.settings.set("use-world-coords", True)
        self.settings.set("disable-opening-subtractions", True)
        self.storeys: dict[int, _Storey] = {}
        for storey in model.by_type("IfcBuildingStorey"):
            elevation = storey.Elevation if storey.Elevation is not None else self._placement(storey)[2, 3]
            self.storeys[storey.id()] = _Storey(text(storey.LongName) or text(storey.Name),
                                                float(elevation) * self.cm, [], [], [], [])
        self.loose = _Storey("", 0.0, [], [], [], [])  # walls and spaces in no storey

    def plan(self) -> dict[str, Any]:
        """Walls, their openings and spaces onto their storeys, then the floors in order of elevation."""
        for wall in self.model.by_type("IfcWall"):
            self._wall(wall)
        if not any(storey.walls for storey in (*self.storeys.values(), self.loose)):
            raise ImportProblem("$", "the model has no IfcWall")
        for space in self.model.by_type("IfcSpace"):
            self._space(space)
        self._report_left_out()
        storeys = [s for s in sorted(self.storeys.values(), key=lambda s: s.elevation) if s.walls or s.rooms]
        if self.loose.walls or self.loose.rooms:
            storeys.insert(0, self.loose)
        ground = next((i for i, s in enumerate(storeys) if s.elevation >= -1.0), 0)
        floors = [self._floor(storey, index - ground) for index, storey in enumerate(storeys)]
        project = self.model.by_type("IfcProject")
        name = (text(project[0].LongName) or text(project[0].Name)) if project else ""
        return _within_limits({"name": name or "IFC model", "floors": floors}, self.log)

    def _placement(self, product: Entity) -> np.ndarray:
        if product.ObjectPlacement is None:
            return np.eye(4)
        return np.asarray(ifcopenshell.util.placement.get_local_placement(product.ObjectPlacement), float)

    def _storey_of(self, element: Entity) -> _Storey:
        container: Entity = ifcopenshell.util.element.get_container(element) or \
            ifcopenshell.util.element.get_aggregate(element)
        while container is not None and not container.is_a("IfcBuildingStorey"):
            container = ifcopenshell.util.element.get_aggregate(container)
        if container is None:
            return self.loose
        return self.storeys[container.id()]

    def _plan_xy(self, point: np.ndarray) -> tuple[float, float]:
        """A world point (file units) on the plan, in cm with y down the page."""
        return (float(point[0]) * self.cm, -float(point[1]) * self.cm)

    def _wall(self, wall: Entity) -> None:
        path = _path(wall)
        storey = self._storey_of(wall)
        matrix = self._placement(wall)
        thickness, centre = self._thickness(wall, matrix)
        segments = self._axis(wall, matrix, centre)
        base = float(matrix[2, 3]) * self.cm - storey.elevation
        height = self._height(wall)
        if base > 1.0:
            self.log.note(path, "clamped", f"wall stands {base:.0f} cm above its storey's floor: drawn from it")
        for a, b, arc in segments:
            if math.dist(a, b) < 1:
                continue
            record: dict[str, Any] = {"a": _xy(a), "b": _xy(b), "thickness": round(thickness, 3),
                                      "height": round(min(max(height, 1.0), 2_000), 3)}
            if arc is not None:
                record["arc"] = round(arc, 4)
            storey.walls.append(record)
            storey.lines.append(WallLine(a, b, arc))
            storey.openings.append([])
        if not segments:
            self.log.note(path, "dropped", "wall left out: it has no axis and no footprint to take one from")
            return
        first = len(storey.walls) - len(segments)
        for rel in wall.HasOpenings or ():
            self._opening(rel.RelatedOpeningElement, storey, first, base)

    def _thickness(self, wall: Entity, matrix: np.ndarray) -> tuple[float, float]:
        """The wall's thickness and where its centre line lies across the axis (local y), in cm."""
        usage: Entity = ifcopenshell.util.element.get_material(wall)
        if usage is not None and usage.is_a("IfcMaterialLayerSetUsage") and usage.LayerSetDirection == "AXIS2":
            total = sum(float(layer.LayerThickness or 0) for layer in usage.ForLayerSet.MaterialLayers)
            if total > 0:
                sense = 1.0 if usage.DirectionSense == "POSITIVE" else -1.0
                offset = float(usage.OffsetFromReferenceLine or 0.0)
                return total * self.cm, (offset + sense * total / 2) * self.cm
        footprint = self._local_footprint(wall)
        if footprint is not None:
            _, miny, _, maxy = footprint.bounds
            return (maxy - miny) * self.cm, (miny + maxy) / 2 * self.cm
        self.log.note(_path(wall), "defaulted", f"no material layers or body profile: {DEFAULT_THICKNESS:g} cm thick")
        return DEFAULT_THICKNESS, 0.0

    def _axis(self, wall: Entity, matrix: np.ndarray, centre_cm: float
              ) -> list[tuple[tuple[float, float], tuple[float, float], float | None]]:
        """The wall's centre line as plan segments (a, b, arc degrees or None), in cm."""
        curve = _representation_item(wall, "Axis")
        local: list[tuple[np.ndarray, np.ndarray, float | None]] = []
        if curve is not None:
            local = _curve_segments(curve, self.radians)
        if not local:
            footprint = self._local_footprint(wall)
            if footprint is None:
                return []
            minx, _, maxx, _ = footprint.bounds
            local = [(np.array([minx, 0.0]), np.array([maxx, 0.0]), None)]
        shift = centre_cm / self.cm
        segments = []
        for a, b, arc in local:
            # Lines run along local x; the centre is `shift` across them (local y). IFC turns anticlockwise
            # with y north; on the page, y points down, so an arc's sense flips.
            start = matrix @ np.array([a[0], a[1] + shift, 0.0, 1.0])
            end = matrix @ np.array([b[0], b[1] + shift, 0.0, 1.0])
            segments.append((self._plan_xy(start), self._plan_xy(end), None if arc is None else -arc))
        return segments

    def _local_footprint(self, wall: Entity) -> Polygon | None:
        """The body's extruded profile in the wall's own axes (file units), or None."""
        solid = _extruded_solid(wall)
        if solid is None:
            return None
        profile = _profile_polygon(solid.SweptArea, self.radians)
        if profile is None:
            return None
        position = _axis2_matrix(solid.Position)
        coords = [(position @ np.array([x, y, 0.0, 1.0]))[:2] for x, y in profile.exterior.coords]
        return Polygon(coords)

    def _height(self, wall: Entity) -> float:
        solid = _extruded_solid(wall)
        if solid is not None and solid.Depth:
            return float(solid.Depth) * self.cm
        quantity = _quantity(wall, ("Height", "NominalHeight"))
        if quantity:
            return quantity * self.cm
        self.log.note(_path(wall), "defaulted", f"no height in the file: {DEFAULT_HEIGHT:g} cm")
        return DEFAULT_HEIGHT

    def _opening(self, element: Entity, storey: _Storey, first: int, base: float) -> None:
        """An opening element in the wall it voids (one of its segments), with what fills it."""
        fillings = [rel.RelatedBuildingElement for rel in element.HasFillings or ()]
        filling = fillings[0] if fillings else None
        path = _path(filling or element)
        bounds = self._world_bounds(element)
        if bounds is None:
            self.log.note(path, "dropped", "opening left out: it has no geometry to place it by")
            return
        low, high = bounds
        corners = [self._plan_xy(np.array([x, y])) for x in (low[0], high[0]) for y in (low[1], high[1])]
        centre = (sum(c[0] for c in corners) / 4, sum(c[1] for c in corners) / 4)
        index = min(range(first, len(storey.lines)), key=lambda i: storey.lines[i].locate(centre)[1])
        line = storey.lines[index]
        spans = [line.locate(corner)[0] for corner in corners]
        along = line.locate(centre)[0]
        width = max(spans) - min(spans)
        sill = float(low[2]) * self.cm - storey.elevation - base
        rise = (float(high[2]) - float(low[2])) * self.cm
        kind, extra = "opening", dict[str, str]()
        if filling is not None:
            kind, extra = self._filling(filling, line.locate(centre)[2])
            width = float(filling.OverallWidth) * self.cm if filling.OverallWidth else width
            rise = float(filling.OverallHeight) * self.cm if filling.OverallHeight else rise
        if len(fillings) > 1:
            self.log.note(_path(fillings[1]), "dropped", f"{fillings[1].is_a()} left out: its opening already holds "
                                                         f"{path}")
        storey.openings[index].append({"type": kind, "offset": along, "width": width, "height": rise,
                                       "sill": max(sill, 0.0), "path": path, **extra})

    def _filling(self, filling: Entity, tangent: tuple[float, float]) -> tuple[str, dict[str, str]]:
        """A door's or window's opening type, and for a hinged door which end it hangs on and where it opens."""
        if filling.is_a("IfcWindow"):
            return "window", {}
        operation = str(getattr(filling, "OperationType", None) or "")
        kind = ifcopenshell.util.element.get_type(filling)
        if not operation and kind is not None:
            operation = str(getattr(kind, "OperationType", None) or "")
        if any(word in operation for word in SLIDING):
            return "sliding_door", {}
        matrix = self._placement(filling)
        # A leaf opens towards the door's local +y; its hinges are on the left seen looking that way.
        opens = (float(matrix[0, 1]), -float(matrix[1, 1]))
        left = (opens[1], -opens[0])  # a quarter turn anticlockwise on the page
        right_of_wall = (-tangent[1], tangent[0])
        swing = "in" if opens[0] * right_of_wall[0] + opens[1] * right_of_wall[1] > 0 else "out"
        if any(word in operation for word in DOUBLE):
            return "double_door", {"swing": swing}
        hinge_side = -1.0 if "RIGHT" in operation else 1.0
        towards_a = (left[0] * tangent[0] + left[1] * tangent[1]) * hinge_side < 0
        return "door", {"swing": swing, "hinge": "left" if towards_a else "right"}

    def _mesh(self, element: Entity) -> tuple[np.ndarray, np.ndarray] | None:
        """An element's triangles in world coordinates (file units): vertices (n, 3) and faces (m, 3)."""
        try:
            shape: Any = ifcopenshell.geom.create_shape(self.settings, element)
        except (RuntimeError, ValueError):
            return None
        verts = np.asarray(shape.geometry.verts, float).reshape(-1, 3)
        faces = np.asarray(shape.geometry.faces, int).reshape(-1, 3)
        return (verts, faces) if len(verts) and len(faces) else None

    def _world_bounds(self, element: Entity) -> tuple[np.ndarray, np.ndarray] | None:
        mesh = self._mesh(element)
        return None if mesh is None else (mesh[0].min(axis=0), mesh[0].max(axis=0))

    def _space(self, space: Entity) -> None:
        path = _path(space)
        outline = self._footprint(space)
        if outline is None or outline.area < 1:
            self.log.note(path, "dropped", "space left out: it has no footprint")
            return
        name = text(space.LongName) or text(space.Name)
        ring = list(outline.exterior.coords)[:-1]
        self._storey_of(space).rooms.append({"name": name, "type": room_type(name), "polygon": [_xy(p) for p in ring]})

    def _footprint(self, element: Entity) -> Polygon | None:
        """An element's plan footprint in cm: its triangles, projected down and united."""
        mesh = self._mesh(element)
        if mesh is None:
            return None
        verts, faces = mesh
        triangles = [Polygon([self._plan_xy(verts[i]) for i in face]) for face in faces]
        merged = unary_union([t for t in triangles if t.is_valid and t.area > 1e-6])
        pieces = [p for p in getattr(merged, "geoms", [merged]) if isinstance(p, Polygon)]
        if not pieces:
            return None
        return Polygon(max(pieces, key=lambda p: p.area).exterior).simplify(0.5)

    def _report_left_out(self) -> None:
        for kind in LEFT_OUT:
            count = _count(self.model, kind)
            if count:
                self.log.note("$", "dropped", f"{count} {kind} left out: plan v1 has no place for them")
        for kind in ("IfcDoor", "IfcWindow"):
            for element in self.model.by_type(kind):
                if not element.FillsVoids:
                    self.log.note(_path(element), "dropped", f"{kind} left out: it fills no opening in a wall")

    def _floor(self, storey: _Storey, level: int) -> dict[str, Any]:
        walls = []
        for wall, line, openings in zip(storey.walls, storey.lines, storey.openings, strict=True):
            walls.append({**wall, "openings": place_openings(line.length, wall["height"], openings, self.log)})
        rooms = storey.rooms or _enclosures(walls, self.log, storey.name)
        height = max((wall["height"] for wall in walls), default=DEFAULT_HEIGHT)
        return {"name": storey.name, "level": level, "elevation": round(storey.elevation, 3),
                "height": round(height, 3), "walls": walls, "rooms": rooms}


def _count(model: ifcopenshell.file, kind: str) -> int:
    try:
        return len(model.by_type(kind))
    except RuntimeError:
        return 0  # a class this schema does not define


def _xy(point: tuple[float, float]) -> dict[str, float]:
    return {"x": round(point[0], 3), "y": round(point[1], 3)}


def _representation_item(product: Entity, identifier: str) -> Entity | None:
    shape = product.Representation
    for representation in (shape.Representations if shape else ()):
        if representation.RepresentationIdentifier == identifier and representation.Items:
            return representation.Items[0]
    return None


def _extruded_solid(product: Entity) -> Entity | None:
    """The extruded solid a body is made of, through booleans (clippings) and mapped items."""
    item = _representation_item(product, "Body")
    for _ in range(20):
        if item is None or item.is_a("IfcExtrudedAreaSolid"):
            return item
        if item.is_a("IfcBooleanResult"):
            item = item.FirstOperand
        elif item.is_a("IfcMappedItem"):
            items = item.MappingSource.MappedRepresentation.Items
            item = items[0] if items else None
        else:
            return None
    return None


def _axis2_matrix(placement: Entity | None) -> np.ndarray:
    if placement is None:
        return np.eye(4)
    return np.asarray(ifcopenshell.util.placement.get_axis2placement(placement), float)


def _profile_polygon(profile: Entity, radians: float) -> Polygon | None:
    if profile.is_a("IfcRectangleProfileDef"):
        half_x, half_y = float(profile.XDim) / 2, float(profile.YDim) / 2
        offset = _axis2_matrix(profile.Position) if profile.Position else np.eye(4)
        corners = [(offset @ np.array([x, y, 0.0, 1.0]))[:2] for x, y in
                   ((-half_x, -half_y), (half_x, -half_y), (half_x, half_y), (-half_x, half_y))]
        return Polygon(corners)
    if profile.is_a("IfcArbitraryClosedProfileDef"):
        points = [point for a, b, _ in _curve_segments(profile.OuterCurve, radians) for point in (a, b)]
        if len(points) >= 3:
            shape = Polygon(points)
            return shape if shape.is_valid else shape.convex_hull
    return None


def _curve_segments(curve: Entity, radians: float) -> list[tuple[np.ndarray, np.ndarray, float | None]]:
    """A 2D curve as straight segments and arcs, in local units.

    Each piece is (a, b, sweep degrees anticlockwise, or None); `radians` is the file's plane angle unit in
    radians.
    """
    if curve.is_a("IfcPolyline"):
        points = [np.asarray(p.Coordinates[:2], float) for p in curve.Points]
        return [(a, b, None) for a, b in zip(points, points[1:], strict=False)]
    if curve.is_a("IfcIndexedPolyCurve"):
        return _indexed_segments(curve)
    if curve.is_a("IfcTrimmedCurve"):
        return _trimmed_segments(curve, radians)
    if curve.is_a("IfcCompositeCurve"):
        return [segment for part in curve.Segments for segment in _curve_segments(part.ParentCurve, radians)]
    return []


def _indexed_segments(curve: Entity) -> list[tuple[np.ndarray, np.ndarray, float | None]]:
    points = [np.asarray(p[:2], float) for p in curve.Points.CoordList]
    if not curve.Segments:
        return [(a, b, None) for a, b in zip(points, points[1:], strict=False)]
    segments: list[tuple[np.ndarray, np.ndarray, float | None]] = []
    for segment in curve.Segments:
        indices = [i - 1 for i in segment.wrappedValue]
        if segment.is_a("IfcArcIndex") and len(indices) == 3:
            a, mid, b = (points[i] for i in indices)
            segments.append((a, b, _sweep_through(a, mid, b)))
        else:
            segments += [(points[i], points[j], None) for i, j in zip(indices, indices[1:], strict=False)]
    return segments


def _sweep_through(a: np.ndarray, mid: np.ndarray, b: np.ndarray) -> float | None:
    """The anticlockwise sweep in degrees (y up) of the circular arc from a through mid to b."""
    chord = float(np.linalg.norm(b - a))
    if chord < 1e-9:
        return None
    cross = float((mid[0] - a[0]) * (b[1] - a[1]) - (mid[1] - a[1]) * (b[0] - a[0]))
    sagitta = abs(cross) / chord
    if sagitta < 1e-9:
        return None
    # Bulging to the right of a->b (y up) is an anticlockwise turn.
    return math.degrees(4 * math.atan(2 * sagitta / chord)) * (1.0 if cross > 0 else -1.0)


def _trimmed_segments(curve: Entity, radians: float) -> list[tuple[np.ndarray, np.ndarray, float | None]]:
    basis = curve.BasisCurve
    if not basis.is_a("IfcCircle"):
        return []
    centre = _axis2_matrix(basis.Position)
    radius = float(basis.Radius)

    def angle(trim: Any) -> float | None:
        values: list[Entity] = [v for v in trim if isinstance(v, ifcopenshell.entity_instance)]
        for value in values:
            if value.is_a("IfcCartesianPoint"):
                local = np.linalg.inv(centre) @ np.array([*value.Coordinates[:2], 0.0, 1.0])
                return math.atan2(local[1], local[0])
            if value.is_a("IfcParameterValue"):
                return float(value.wrappedValue) * radians
        return None

    start, end = angle(curve.Trim1), angle(curve.Trim2)
    if start is None or end is None:
        return []
    sweep = (end - start) % (2 * math.pi) if curve.SenseAgreement else -((start - end) % (2 * math.pi))
    a = (centre @ np.array([radius * math.cos(start), radius * math.sin(start), 0.0, 1.0]))[:2]
    b = (centre @ np.array([radius * math.cos(end), radius * math.sin(end), 0.0, 1.0]))[:2]
    return [(a, b, math.degrees(sweep))]


def _quantity(element: Entity, names: tuple[str, ...]) -> float | None:
    for values in ifcopenshell.util.element.get_psets(element, qtos_only=True).values():
        for name in names:
            if isinstance(values.get(name), int | float):
                return float(values[name])
    return None


def _enclosures(walls: list[dict[str, Any]], log: ImportLog, storey: str) -> list[dict[str, Any]]:
    """Rooms for a storey without IfcSpace: the areas its walls enclose, on the wall faces."""
    bodies: list[BaseGeometry] = []
    for wall in walls:
        a, b = (wall["a"]["x"], wall["a"]["y"]), (wall["b"]["x"], wall["b"]["y"])
        line = WallLine(a, b, wall.get("arc"))
        circle = line.circle()
        if circle is None:
            path = LineString([a, b])
        else:
            count = max(2, math.ceil(abs(math.degrees(circle.sweep)) / 3))
            path = LineString([circle.point(line.length * i / count) for i in range(count + 1)])
        # Square caps half a thickness long close corners, whichever way the axes meet.
        bodies.append(path.buffer(wall["thickness"] / 2, cap_style="square", join_style="mitre"))
    mass = unary_union(bodies)
    holes = [Polygon(ring) for piece in getattr(mass, "geoms", [mass]) if isinstance(piece, Polygon)
             for ring in piece.interiors]
    rooms = [hole.simplify(0.5) for hole in holes if hole.area >= MIN_ROOM]
    if rooms:
        log.note("$", "defaulted", f"storey {storey or 'without a name'!r} has no IfcSpace: its {len(rooms)} rooms "
                                   "are the areas its walls enclose")
    return [{"name": "", "polygon": [_xy(p) for p in list(room.exterior.coords)[:-1]]}
            for room in sorted(rooms, key=lambda room: -room.area)]


def _within_limits(plan: dict[str, Any], log: ImportLog) -> dict[str, Any]:
    """A georeferenced model can sit kilometres from its origin: moved next to it, keeping its shape."""
    xs = [p["x"] for floor in plan["floors"] for wall in floor["walls"] for p in (wall["a"], wall["b"])]
    ys = [p["y"] for floor in plan["floors"] for wall in floor["walls"] for p in (wall["a"], wall["b"])]
    if not xs or max(map(abs, xs + ys)) < MAX_COORD / 2:
        return plan
    dx, dy = -round(min(xs)), -round(min(ys))
    log.note("$", "clamped", f"moved by ({dx:g}, {dy:g}) cm: its coordinates lie far from the origin")

    def moved(point: dict[str, float]) -> dict[str, float]:
        return {"x": round(point["x"] + dx, 3), "y": round(point["y"] + dy, 3)}

    for floor in plan["floors"]:
        floor["walls"] = [{**wall, "a": moved(wall["a"]), "b": moved(wall["b"])} for wall in floor["walls"]]
        floor["rooms"] = [{**room, "polygon": [moved(p) for p in room["polygon"]]} for room in floor["rooms"]]
    return plan

