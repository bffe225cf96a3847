"""What the importers share: the error they raise and lenient readers of numbers in foreign files."""

from __future__ import annotations

import math
from typing import Any


class ImportProblem(ValueError):
    """A file an importer cannot convert; `path` points into the source document."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def number(value: Any, path: str) -> float:
    """A finite number, or ImportProblem naming where it should have been."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ImportProblem(path, f"expected a number, found {value!r}"[:200])
    return float(value)


def mapping(value: Any, path: str) -> dict[str, Any]:
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
    return value[:limit] if isinstance(value, str) else ""


CLEARANCE = 0.1  # cm


def place_openings(length: float, height: float, openings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Openings kept inside their wall and off each other: foreign editors let them overhang, overlap and
    reach above the wall, which plan v1 refuses. Each is narrowed and lowered to fit its wall; one that
    still overlaps an earlier one is left out."""
    placed: list[dict[str, Any]] = []
    for opening in sorted(openings, key=lambda o: o["offset"]):
        width = min(opening["width"], length - 2)
        if width < 5:
            continue
        # A millimetre of clearance: the values are rounded below, and an end rounded past the wall's end
        # (or top) would make plan v1 refuse the whole import.
        offset = min(max(opening["offset"], width / 2 + CLEARANCE), length - width / 2 - CLEARANCE)
        if placed and offset - width / 2 < placed[-1]["offset"] + placed[-1]["width"] / 2:
            continue
        sill = min(max(opening.get("sill") or 0.0, 0.0), height - 10)
        rise = min(opening.get("height") or height, height - sill - CLEARANCE)
        placed.append({**opening, "offset": round(offset, 3), "width": round(width, 3), "sill": round(sill, 3),
                       "height": round(rise, 3)})
    return placed
