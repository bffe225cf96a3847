"""`floorplan import`: a file another editor saved, as plan v1 JSON on stdout and what changed on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from shared.importers import FORMATS, ImportProblem, detect_format, import_file
from shared.plan import PlanProblem

CHOICES = ("auto", *FORMATS)


def run_import(file: str, fmt: str, out: TextIO, err: TextIO) -> int:
    """Convert `file` (format `fmt`, or "auto" to tell by its content); the exit status of the command."""
    try:
        raw = Path(file).read_bytes()
        imported = import_file(raw, detect_format(raw) if fmt == "auto" else fmt)
    except (ImportProblem, PlanProblem, OSError) as exc:
        print(f"import failed: {exc}", file=err)
        return 1
    for warning in imported.warnings:
        print(f"warning: {warning.path}: {warning.kind}: {warning.message}", file=err)
    out.write(imported.plan.model_dump_json(indent=2, exclude_defaults=True) + "\n")
    return 0
