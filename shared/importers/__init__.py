"""Importers: plans saved by other floorplan editors, converted to plan schema v1.

Each importer is a pure function from a decoded JSON document to a `Plan`; one that cannot read a file
raises `ImportProblem` saying why, and the converted plan goes through `parse_plan` like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.importers.blueprint3d import from_blueprint3d
from shared.importers.common import ImportProblem
from shared.importers.fml import from_fml
from shared.importers.react_planner import from_react_planner
from shared.plan import Plan, PlanProblem, parse_plan

__all__ = ["CONTENT_TYPES", "FORMATS", "ImportProblem", "detect_format", "import_plan"]

# The format names of `?format=` and `floorplan import --format`, and the media types that select them.
IMPORTERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "blueprint3d": from_blueprint3d,
    "react-planner": from_react_planner,
    "fml": from_fml,
}
FORMATS = ("plan", *IMPORTERS)
CONTENT_TYPES = {
    "application/json": "plan",
    "application/vnd.floorplan.plan+json": "plan",
    "application/vnd.blueprint3d+json": "blueprint3d",
    "application/vnd.react-planner+json": "react-planner",
    "application/vnd.floorplanner.fml+json": "fml",
}


def import_plan(data: Any, fmt: str) -> Plan:
    """The plan in a document of format `fmt` ("plan" for schema v1 itself); raises ImportProblem for a file
    the importer cannot read and PlanProblem for a plan v1 document that is not drawable."""
    if fmt == "plan":
        return parse_plan(data)
    try:
        converter = IMPORTERS[fmt]
    except KeyError:
        raise ImportProblem("$", f"unknown format {fmt!r}: one of {', '.join(FORMATS)}") from None
    if not isinstance(data, dict):
        raise ImportProblem("$", f"a {fmt} file is a JSON object, not {type(data).__name__}")
    try:
        converted = converter(data)
    except ImportProblem:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        # A shape the converter did not foresee (a number where a list belongs, and so on) is still the
        # file's fault: a 422 that says so, never a 500.
        raise ImportProblem("$", f"the {fmt} file has an unexpected structure ({type(exc).__name__}: {exc})") from None
    try:
        return parse_plan(converted)
    except PlanProblem as exc:
        first = exc.errors[0]
        raise ImportProblem("$", f"the {fmt} file converts to a plan that cannot be drawn: {first['path']}: "
                                 f"{first['message']}") from None


def detect_format(data: Any) -> str:
    """Which format a decoded document looks like, for the command line, where there is no media type."""
    if isinstance(data, dict):
        if "floorplan" in data and "items" in data:
            return "blueprint3d"
        if "layers" in data:
            return "react-planner"
        floors = data.get("floors")
        if "designs" in data or "walls" in data and "areas" in data or (
                isinstance(floors, list) and floors and isinstance(floors[0], dict) and "designs" in floors[0]):
            return "fml"
    return "plan"
