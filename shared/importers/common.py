"""What the importers share: their error, the log of what they changed, lenient number readers.

The readers are for the numbers in foreign files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from shared.plan import Arc, Plan

WarningKind = Literal["clamped", "merged", "dropped", "defaulted"]
MAX_WARNINGS = 200  # a file with thousands of oddities gets the first ones and a count, not a megabyte


class ImportProblem(ValueError):
    """A file an importer cannot convert; `path` points into the source document."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class ImportWarning:
    """One thing an importer adjusted or left out: where in the source file, what kind, and what it did."""

    path: str
    kind: WarningKind
    message: str

    def as_dict(self) -> dict[str, str]:
        """The warning as the API and the command line report it."""
        return {"path": self.path, "kind": self.kind, "message": self.message}


class ImportLog:
    """The warnings of one import, in the order the importer made its changes."""

    def __init__(self) -> None:
        self._warnings: list[ImportWarning] = []
        self._unlisted = 0

    def note(self, path: str, kind: WarningKind, message: str) -> None:
        """Record a change to the source file's content, or something of it that the plan leaves out."""
        if len(self._warnings) < MAX_WARNINGS:
            self._warnings.append(ImportWarning(path, kind, message[:300]))
        else:
            self._unlisted += 1

    @property
    def warnings(self) -> tuple[ImportWarning, ...]:
        """All warnings, ending with a count of those beyond the limit."""
        if not self._unlisted:
            return tuple(self._warnings)
        return (*self._warnings, ImportWarning("$", "dropped", f"{self._unlisted} more warnings not listed"))


@dataclass(frozen=True)
class Imported:
    """A file converted to a plan, with what the conversion changed or left out."""

    plan: Plan
    format: str
    warnings: tuple[ImportWarning, ...] = ()


def number(value: Any, path: str) -> float:
    """A finite number, or ImportProblem naming where it should have been."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ImportProblem(path, f"expected a number, found {value!r}"[:200])
    return float(value)


def mapping(value: Any, path: str) -> dict[str, Any]:
    """`value` if it is a JSON object, or ImportProblem naming where one should have been."""
    if not isinstance(value, dict):
        raise ImportProblem(path, f"expected an object, found {type(value).__name__}")
    return value


def entries(value: Any, path: str) -> list[tuple[str, Any]]:
    """The members of a list or of an id-keyed object, with their paths, in document order."""
    if value is None:
        return []
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return [(f"{path}.{key}", item) for key, item in value.items()]
    raise ImportProblem(path, f"expected a list or an object, found {type(value).__name__}")


def text(value: Any, limit: int = 200) -> str:
    """A string cut to `limit` characters; anything else is the empty string."""
    return value[:limit] if isinstance(value, str) else ""


@dataclass(frozen=True)
class WallLine:
    """A wall's centre line while importing, straight or an arc of `arc` degrees.

    It says where a point lies along it, and how far from it; `arc` follows plan v1's convention.
    """

    a: tuple[float, float]
    b: tuple[float, float]
    arc: float | None = None

    def circle(self) -> Arc | None:
        """The circle a curved centre line follows; None when straight."""
        if self.arc is None or abs(self.arc) < 0.5:
            return None
        return Arc.through(*self.a, *self.b, math.radians(self.arc))

    @property
    def length(self) -> float:
        """The centre line's length, along the arc when curved."""
        circle = self.circle()
        return math.dist(self.a, self.b) if circle is None else circle.radius * abs(circle.sweep)

    def locate(self, point: tuple[float, float]) -> tuple[float, float, tuple[float, float]]:
        """Where the point of the line nearest to `point` is, and the line's direction there.

        Returns how far along the line that point is, how far `point` is from it, and the direction (a unit
        vector).
        """
        circle = self.circle()
        length = self.length
        if circle is None:
            ux, uy = (self.b[0] - self.a[0]) / length, (self.b[1] - self.a[1]) / length
            along = min(max((point[0] - self.a[0]) * ux + (point[1] - self.a[1]) * uy, 0.0), length)
            nearest = (self.a[0] + ux * along, self.a[1] + uy * along)
            return along, math.dist(nearest, point), (ux, uy)
        sign = 1.0 if circle.sweep > 0 else -1.0
        turned = (sign * (math.atan2(point[1] - circle.cy, point[0] - circle.cx) - circle.start)) % (2 * math.pi)
        beyond = turned * circle.radius - length  # past the end, measured on round to the start
        if beyond > 0:
            turned = 0.0 if beyond > 2 * math.pi * circle.radius - length - beyond else length / circle.radius
        along = min(turned * circle.radius, length)
        angle = circle.start + sign * along / circle.radius
        tangent = (-sign * math.sin(angle), sign * math.cos(angle))
        return along, math.dist(circle.point(along), point), tangent


# Room names as editors write them, to the room types the renderers tint and furnish: first match wins, so
# "Living room" is living before it is a room, and "Bathroom" a bathroom before a bath.
ROOM_TYPES = (
    ("bedroom", "bedroom"), ("bed room", "bedroom"), ("chambre", "bedroom"), ("living", "living"),
    ("lounge", "living"), ("salon", "living"), ("séjour", "living"), ("dining", "dining"), ("kitchen", "kitchen"),
    ("cuisine", "kitchen"), ("bathroom", "bathroom"), ("bath", "bathroom"), ("shower", "bathroom"),
    ("salle de bain", "bathroom"), ("toilet", "wc"), ("wc", "wc"), ("office", "office"), ("study", "study"),
    ("corridor", "corridor"), ("hallway", "hall"), ("hall", "hall"), ("entrance", "entrance"),
    ("entry", "entrance"), ("closet", "closet"), ("wardrobe", "closet"), ("storage", "storage"),
    ("cellar", "storage"), ("utility", "utility"), ("laundry", "laundry"), ("garage", "garage"),
    ("balcony", "balcony"), ("terrace", "terrace"), ("patio", "terrace"), ("stair", "stairs"),
)
_WORD = re.compile(r"[\s#_\-.0-9]+")


def room_type(name: str) -> str:
    """The room type a room's name implies ("Bedroom #2" is a bedroom), or "room"."""
    lowered = _WORD.sub(" ", name.lower()).strip()
    return next((kind for key, kind in ROOM_TYPES if key in lowered), "room")


CLEARANCE = 0.1  # cm
MIN_OPENING = 5.0  # cm: narrower than this is no opening
TRIM_SHARE = 0.25  # an opening overlapping a neighbour of another kind by less than this share is trimmed


def place_openings(length: float, height: float, openings: list[dict[str, Any]],
                   log: ImportLog) -> list[dict[str, Any]]:
    """Openings kept inside their wall and off each other, as plan v1 requires.

    Foreign editors let openings overhang their wall, reach above it and overlap. Each is narrowed and
    lowered to fit its wall; overlapping ones of the same kind become one that spans their union (seven
    windows side by side are one band of glazing); one overlapping another kind is trimmed, or left out when
    the overlap is large. Every change goes to `log`, under the opening's `path` (a key of each dict).
    """
    fitted = [o for o in (_fit_to_wall(opening, length, height, log) for opening in openings) if o is not None]
    placed: list[dict[str, Any]] = []
    for opening in sorted(fitted, key=lambda o: o["start"]):
        previous = placed[-1] if placed else None
        if previous is None or opening["start"] >= previous["end"] - 1e-6:
            placed.append(opening)
        elif opening["type"] == previous["type"]:
            _merge(previous, opening, log)
        elif opening["sill"] >= previous["top"] or opening["top"] <= previous["sill"]:
            log.note(opening["path"], "dropped", f"{opening['type']} left out: it is "
                                                 f"{'above' if opening['sill'] >= previous['top'] else 'below'} the "
                                                 f"{previous['type']} at {previous['path']}, and plan v1 openings "
                                                 "cannot share a stretch of wall")
        elif opening["start"] < previous["end"] - TRIM_SHARE * (opening["end"] - opening["start"]) \
                or opening["end"] - previous["end"] < MIN_OPENING:
            log.note(opening["path"], "dropped", f"{opening['type']} left out: it overlaps the {previous['type']} "
                                                 f"at {previous['path']}")
        else:
            log.note(opening["path"], "clamped", f"{opening['type']} narrowed by "
                                                 f"{previous['end'] - opening['start']:.1f} cm: it overlapped the "
                                                 f"{previous['type']} at {previous['path']}")
            opening["start"] = previous["end"]
            placed.append(opening)
    return [_finished(opening, length) for opening in placed]


def _fit_to_wall(opening: dict[str, Any], length: float, height: float, log: ImportLog) -> dict[str, Any] | None:
    path = opening["path"]
    width = opening["width"]
    if width > length - 2:
        log.note(path, "clamped", f"width {width:.1f} cm narrowed to the {length:.1f} cm wall it is in")
        width = length - 2
    if width < MIN_OPENING:
        log.note(path, "dropped", f"{opening['type']} left out: {max(width, 0):.1f} cm wide in its wall")
        return None
    # A millimetre of clearance: the values are rounded at the end, and an end rounded past the wall's end
    # (or top) would make plan v1 refuse the whole import.
    centre = min(max(opening["offset"], width / 2 + CLEARANCE), length - width / 2 - CLEARANCE)
    if abs(centre - opening["offset"]) > 1.0:
        log.note(path, "clamped", f"moved {abs(centre - opening['offset']):.1f} cm along its wall: it overhung "
                                  "the wall's end")
    raw_sill = opening.get("sill") or 0.0
    sill = min(max(raw_sill, 0.0), height - 10)
    rise = opening.get("height") or height
    top = min(sill + rise, height - CLEARANCE)
    if abs(sill - raw_sill) > 0.5 or sill + rise - top > 0.5:
        log.note(path, "clamped", f"{opening['type']} lowered to fit its {height:.1f} cm wall (it spanned "
                                  f"{raw_sill:.1f} to {raw_sill + rise:.1f} cm)")
    return {**opening, "start": centre - width / 2, "end": centre + width / 2, "sill": sill, "top": top}


def _merge(into: dict[str, Any], opening: dict[str, Any], log: ImportLog) -> None:
    into["end"] = max(into["end"], opening["end"])
    into["sill"] = min(into["sill"], opening["sill"])
    into["top"] = max(into["top"], opening["top"])
    log.note(opening["path"], "merged", f"{opening['type']} overlaps the {into['type']} at {into['path']}: merged "
                                        f"into one {into['end'] - into['start']:.1f} cm {into['type']}")


def _finished(opening: dict[str, Any], length: float) -> dict[str, Any]:
    start, end = opening["start"], min(opening["end"], length - CLEARANCE)
    kept = {key: value for key, value in opening.items() if key not in ("path", "start", "end", "top")}
    return {**kept, "offset": round((start + end) / 2, 3), "width": round(end - start, 3),
            "sill": round(opening["sill"], 3), "height": round(opening["top"] - opening["sill"], 3)}
