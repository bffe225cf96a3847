"""Importers: plans saved by other floorplan editors and BIM tools, converted to plan schema v1.

Each importer is a pure function from a file's content to a plan v1 document, reporting to an `ImportLog`
what it changed or left out; one that cannot read a file raises `ImportProblem` saying where. The converted
plan goes through `parse_plan` like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shared.importers.blueprint3d import from_blueprint3d
from shared.importers.common import Imported, ImportLog, ImportProblem, ImportWarning
from shared.importers.fml import from_fml
from shared.importers.ifc import from_ifc
from shared.importers.react_planner import from_react_planner
from shared.importers.sh3d import from_sh3d, looks_like_sh3d
from shared.plan import PlanProblem, parse_plan

__all__ = ["CONTENT_TYPES", "FORMATS", "Imported", "ImportProblem", "ImportWarning", "MalformedJson",
           "detect_format", "import_file", "import_plan"]

# The format names of `?format=` and `floorplan import --format`, and the media types that select them.
JSON_IMPORTERS: dict[str, Callable[[dict[str, Any], ImportLog], dict[str, Any]]] = {
    "blueprint3d": from_blueprint3d,
    "react-planner": from_react_planner,
    "fml": from_fml,
}
FILE_IMPORTERS: dict[str, Callable[[bytes, ImportLog], dict[str, Any]]] = {
    "sh3d": from_sh3d,
    "ifc": from_ifc,
}
FORMATS = ("plan", *JSON_IMPORTERS, *FILE_IMPORTERS)
CONTENT_TYPES = {
    "application/json": "plan",
    "application/vnd.floorplan.plan+json": "plan",
    "application/vnd.blueprint3d+json": "blueprint3d",
    "application/vnd.react-planner+json": "react-planner",
    "application/vnd.floorplanner.fml+json": "fml",
    "application/vnd.sweethome3d+zip": "sh3d",
    "application/vnd.sweethome3d+xml": "sh3d",
    "application/x-step": "ifc",
    "application/ifc": "ifc",
}
STEP_MAGIC = b"ISO-10303-21"
# A shape the converter did not foresee (a number where a list belongs, and so on) is still the file's
# fault: a 422 that says so, never a 500.
UNFORESEEN = (TypeError, ValueError, KeyError, IndexError, AttributeError)


TOO_DEEP = "the body is nested too deeply to be a floorplan"


class MalformedJson(ImportProblem):
    """A document of a JSON format that is not JSON at all."""


def import_file(raw: bytes, fmt: str) -> Imported:
    """The plan in a file of format `fmt`, from its bytes.

    Raises MalformedJson for a JSON format whose bytes are not JSON, ImportProblem for a file that cannot be
    imported, PlanProblem for an undrawable plan v1.
    """
    if fmt in FILE_IMPORTERS:
        log = ImportLog()
        return _finish(_convert(FILE_IMPORTERS[fmt], raw, fmt, log), fmt, log)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson("$", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedJson("$", TOO_DEEP) from None
    try:
        return import_plan(data, fmt)
    except RecursionError:  # nested less than the parser's limit, but more than a converter's
        raise ImportProblem("$", TOO_DEEP) from None


def import_plan(data: Any, fmt: str) -> Imported:
    """The plan in a decoded JSON document of format `fmt` ("plan" for schema v1 itself)."""
    if fmt == "plan":
        return Imported(parse_plan(data), fmt)
    converter = JSON_IMPORTERS.get(fmt)
    if converter is None:
        raise ImportProblem("$", f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if not isinstance(data, dict):
        raise ImportProblem("$", f"a {fmt} file is a JSON object, not {type(data).__name__}")
    log = ImportLog()
    return _finish(_convert(converter, data, fmt, log), fmt, log)


def _convert(converter: Callable[[Any, ImportLog], dict[str, Any]], content: Any, fmt: str,
             log: ImportLog) -> dict[str, Any]:
    try:
        return converter(content, log)
    except ImportProblem:
        raise
    except UNFORESEEN as exc:
        raise ImportProblem("$", f"the {fmt} file has an unexpected structure ({type(exc).__name__}: {exc})"[:500]
                            ) from None


def _finish(converted: dict[str, Any], fmt: str, log: ImportLog) -> Imported:
    try:
        plan = parse_plan(converted)
    except PlanProblem as exc:
        first = exc.errors[0]
        raise ImportProblem("$", f"the {fmt} file converts to a plan that cannot be drawn: {first['path']}: "
                                 f"{first['message']}") from None
    return Imported(plan, fmt, log.warnings)


def detect_format(raw: bytes) -> str:
    """Which format a file looks like, for the command line, where there is no media type."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(STEP_MAGIC):
        return "ifc"
    if looks_like_sh3d(raw):
        return "sh3d"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "plan"  # and the plan importer says why it is not one
    return _json_format(data)


def _json_format(data: Any) -> str:
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
