"""Golden images: the examples rendered as PNG must match reviewed renders in tests/golden/, within a tolerance.

The tolerance absorbs anti-aliasing noise between cairo and font versions, not changes a person would see.
On a mismatch the actual render and a difference image are written to a temporary folder named in the
failure. After a deliberate change, regenerate with FLOORPLAN_UPDATE_GOLDEN=1 and look at every image
before committing it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import cairosvg
import numpy as np
import pytest
from PIL import Image

from shared.importers import import_file
from shared.plan import parse_plan
from worker.render import render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = Path(__file__).resolve().parent / "samples"
UPDATE = os.environ.get("FLOORPLAN_UPDATE_GOLDEN") == "1"
MEAN_DIFF = 1.0  # mean absolute difference per channel, of 255
CHANGED_SHARE = 0.002  # share of pixels that differ by more than CHANGED in any channel
CHANGED = 48

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("apartment-color", "furnished-apartment.json", {}),
    ("apartment-bw-imperial", "furnished-apartment.json",
     {"style": "bw", "units": "imperial", "inner_dims": True, "dim_marks": "arrows", "north": 30}),
    ("apartment-blueprint", "furnished-apartment.json", {"style": "blueprint"}),
    ("apartment-bare", "furnished-apartment.json",
     {"furniture": False, "dims": False, "areas": False, "scale_bar": False, "north_arrow": False}),
    ("flat-2b", "flat-2b.json", {}),
    ("import-blueprint3d", "import-blueprint3d.json", {}),
    ("import-react-planner-doors", "import-react-planner-doors.json", {}),
    ("import-react-planner-flat", "import-react-planner-flat.json", {}),
    ("import-fml", "import-fml.json", {}),
    ("two-storey-house-all-floors", "two-storey-house.json", {"floor": "all", "totals": True}),
    ("curved-bay", "curved-bay.json", {}),
]
# Files other editors saved, imported at test time: a change in an importer shows here as in a renderer.
IMPORTED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("sh3d-studio", "sh3d-studio-Home.xml", "sh3d", {}),
    ("sh3d-house-all-floors", "sh3d-2bedroom-house-with-basement-Home.xml", "sh3d", {"floor": "all"}),
    ("ifc-blenderbim-openings", "ifc4-project0-openings.ifc", "ifc", {}),
]
WIDTH, HEIGHT = 1000, 750


def _load(example: str) -> Any:
    return parse_plan(json.loads((ROOT / "examples" / example).read_text()))


def _compare(name: str, actual: Image.Image) -> None:
    path = GOLDEN / f"{name}.png"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        actual.save(path, optimize=True)
        return
    assert path.exists(), f"no golden image {path}: run with FLOORPLAN_UPDATE_GOLDEN=1, then review it"
    expected = Image.open(path).convert("RGB")
    assert expected.size == actual.size, f"{name}: size {actual.size}, golden {expected.size}"
    a = np.asarray(actual, dtype=np.int16)
    b = np.asarray(expected, dtype=np.int16)
    diff = np.abs(a - b)
    mean = float(diff.mean())
    changed = float((diff.max(axis=2) > CHANGED).mean())
    if mean > MEAN_DIFF or changed > CHANGED_SHARE:
        out = Path(tempfile.mkdtemp(prefix=f"golden-{name}-"))
        actual.save(out / "actual.png")
        # Differences in red over a faded copy of the golden image.
        faded = (b * 0.3 + 178).astype(np.uint8)
        faded[diff.max(axis=2) > CHANGED] = (255, 0, 0)
        Image.fromarray(faded).save(out / "diff.png")
        pytest.fail(f"{name}: mean difference {mean:.2f} (max {MEAN_DIFF}), changed pixels {changed:.4f} "
                    f"(max {CHANGED_SHARE}); actual and diff images in {out}")


@pytest.mark.parametrize(("name", "example", "options"), CASES, ids=[case[0] for case in CASES])
def test_example_matches_its_reviewed_render(name: str, example: str, options: dict[str, Any]) -> None:
    png = render(_load(example), "2d", "png", WIDTH, HEIGHT, options)
    _compare(name, Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize(("name", "sample", "fmt", "options"), IMPORTED, ids=[case[0] for case in IMPORTED])
def test_an_imported_file_matches_its_reviewed_render(name: str, sample: str, fmt: str,
                                                      options: dict[str, Any]) -> None:
    plan = import_file((SAMPLES / sample).read_bytes(), fmt).plan
    png = render(plan, "2d", "png", WIDTH, HEIGHT, options)
    _compare(name, Image.open(io.BytesIO(png)).convert("RGB"))


def test_a4_sheet_at_1_100_matches_its_reviewed_render() -> None:
    # The sheet's SVG is what the PDF page holds; rasterised here because PDF readers are not a test dependency.
    svg = render(_load("furnished-apartment.json"), "2d", "svg", WIDTH, HEIGHT,
                 {"scale": "1:100", "paper": "A4"})
    png = cairosvg.svg2png(bytestring=svg, output_width=1123, output_height=794, unsafe=False)
    _compare("apartment-sheet-a4-1-100", Image.open(io.BytesIO(png)).convert("RGB"))
