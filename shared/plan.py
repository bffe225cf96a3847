"""Plan schema v1: what a client sends us to draw. Units are cm, x east, y south, angles degrees clockwise.

Pydantic checks types and ranges; `check_plan` adds the geometric rules (openings inside their wall, no
overlaps, simple polygons) and names the JSON path of each problem, e.g. `floors[0].walls[3].openings[1].offset`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shapely.geometry import Polygon

# Sane limits: a plan larger than this is not a floorplan, and it would make renders unbounded.
MAX_COORD = 100_000.0  # 1 km from the origin
MAX_REPORTED = 50  # a plan with thousands of mistakes gets the first fifty, not a megabyte of errors
Coord = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD)]
Length = Annotated[float, Field(gt=0, le=10_000)]
Name = Annotated[str, Field(max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Point(_Model):
    x: Coord
    y: Coord


OpeningType = Literal["door", "double_door", "sliding_door", "window", "opening"]


class Opening(_Model):
    type: OpeningType
    offset: Annotated[float, Field(ge=0, le=20_000,
                                   description="Distance from the wall's `a` to the opening's centre, cm.")]
    width: Annotated[float, Field(gt=0, le=2_000)]
    height: Annotated[float, Field(gt=0, le=2_000)] | None = Field(
        default=None, description="Defaults to 210 cm for doors and passages, 120 cm for windows."
    )
    sill: Annotated[float, Field(ge=0, le=2_000)] | None = Field(
        default=None, description="Height of the opening's bottom above the floor; windows default to 90 cm."
    )
    hinge: Literal["left", "right"] = "left"
    swing: Literal["in", "out"] = "in"

    @property
    def span(self) -> float:
        """The opening's height, with the default for its type."""
        if self.height is not None:
            return self.height
        return 120.0 if self.type == "window" else 210.0

    @property
    def bottom(self) -> float:
        if self.sill is not None:
            return self.sill
        return 90.0 if self.type == "window" else 0.0


class Wall(_Model):
    id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    a: Point
    b: Point
    thickness: Annotated[float, Field(gt=0, le=200)] = 20
    height: Annotated[float, Field(gt=0, le=2_000)] | None = Field(
        default=None, description="Defaults to the floor's height."
    )
    openings: Annotated[list[Opening], Field(max_length=50)] = []

    @property
    def length(self) -> float:
        return math.hypot(self.b.x - self.a.x, self.b.y - self.a.y)


class Room(_Model):
    name: Name = ""
    type: Annotated[str, Field(max_length=40)] = "room"
    polygon: Annotated[list[Point], Field(min_length=3, max_length=2_000)]


class Item(_Model):
    ref: Annotated[str, Field(min_length=1, max_length=80, description="Catalog name; unknown refs draw as a box.")]
    x: Coord
    y: Coord
    rotation: Annotated[float, Field(ge=-3600, le=3600)] = 0
    width: Length
    depth: Length
    height: Annotated[float, Field(gt=0, le=2_000)] = 80
    elevation: Annotated[float, Field(ge=0, le=2_000)] = 0


class Label(_Model):
    text: Annotated[str, Field(min_length=1, max_length=200)]
    x: Coord
    y: Coord


class Floor(_Model):
    name: Name = ""
    level: Annotated[int, Field(ge=-10, le=200)] = 0
    height: Annotated[float, Field(gt=0, le=2_000)] = 280
    walls: Annotated[list[Wall], Field(max_length=5_000)] = []
    rooms: Annotated[list[Room], Field(max_length=1_000)] = []
    items: Annotated[list[Item], Field(max_length=5_000)] = []
    labels: Annotated[list[Label], Field(max_length=1_000)] = []


class Plan(_Model):
    name: Name = ""
    floors: Annotated[list[Floor], Field(min_length=1, max_length=20)]


class PlanProblem(ValueError):
    """A plan that cannot be drawn; `errors` lists each problem with its JSON path."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors[:5]))
        self.errors = errors[:MAX_REPORTED]


def json_path(loc: Sequence[int | str]) -> str:
    """('floors', 0, 'walls', 3, 'a') -> 'floors[0].walls[3].a'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def errors_from_validation(exc: ValidationError, skip: int = 0) -> list[dict[str, str]]:
    return [{"path": json_path(e["loc"][skip:]), "message": e["msg"]} for e in exc.errors()]


def parse_plan(data: Any) -> Plan:
    """Validate a decoded JSON document as a drawable plan, or raise PlanProblem naming every bad path."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanProblem(errors_from_validation(exc)) from None
    problems = check_plan(plan)
    if problems:
        raise PlanProblem(problems)
    return plan



def check_plan(plan: Plan) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []

    def bad(path: str, message: str) -> None:
        problems.append({"path": path, "message": message})

    for fi, floor in enumerate(plan.floors):
        seen_ids: set[str] = set()
        for wi, wall in enumerate(floor.walls):
            wpath = f"floors[{fi}].walls[{wi}]"
            if wall.id is not None:
                if wall.id in seen_ids:
                    bad(f"{wpath}.id", f"duplicate wall id {wall.id!r}")
                seen_ids.add(wall.id)
            length = wall.length
            if length < 1:
                bad(f"{wpath}.b", "wall has zero length: a and b are the same point")
                continue
            height = wall.height or floor.height
            spans = []
            for oi, opening in enumerate(wall.openings):
                opath = f"{wpath}.openings[{oi}]"
                start, end = opening.offset - opening.width / 2, opening.offset + opening.width / 2
                if start < 0 or end > length:
                    bad(f"{opath}.offset", f"opening spans {start:g}..{end:g} cm but the wall is {length:g} cm long")
                if opening.bottom + opening.span > height:
                    bad(f"{opath}.height", f"opening reaches {opening.bottom + opening.span:g} cm, above the "
                                           f"{height:g} cm wall")
                spans.append((start, end, oi))
            spans.sort()
            for (_, prev_end, prev_i), (start, _, oi) in zip(spans, spans[1:], strict=False):
                if start < prev_end:
                    bad(f"{wpath}.openings[{oi}].offset", f"opening overlaps openings[{prev_i}]")
        for ri, room in enumerate(floor.rooms):
            rpath = f"floors[{fi}].rooms[{ri}].polygon"
            poly = Polygon([(p.x, p.y) for p in room.polygon])
            if not poly.is_valid:
                bad(rpath, "polygon intersects itself")
            elif poly.area < 1:
                bad(rpath, "polygon has no area")
    return problems
