"""How big a 2D render may get: PDF sheets and drawn elements, checked at submit time and again by the renderer.

The canvas limits (pixels) live with the request; these depend on the plan too. Each problem names the
request path to change, so the API answers 422 at submit time instead of failing the job later.
"""

from __future__ import annotations

from typing import Any

from shared.paper import sheet_layout
from shared.plan import Floor, Plan
from shared.render_options import Options2D

MAX_SHEETS = 12  # a PDF at 1:50 of a 60 x 40 m floor on A3; larger wants 1:100 or bigger paper
MAX_ELEMENTS = 50_000  # SVG elements over all sheets: beyond this a render takes longer than its time limit
VECTOR_FORMATS = ("pdf", "svg")


def element_estimate(floor: Floor, options: Options2D) -> int:
    """An upper bound of the SVG elements one sheet of this floor draws with these options.

    Openings and walls are drawn a few paths for all of them; what grows is text and furniture: a room's
    name and area, an item's up to three paths, a dimension figure per station along the outside.
    """
    count = 40  # paper, walls, the opening and dimension groups, legend or title block
    count += 3 * len(floor.rooms) + len(floor.labels)
    if options.furniture:
        count += 3 * len(floor.items)
    openings = sum(len(wall.openings) for wall in floor.walls)
    if options.dims:
        count += 4 * openings + 4 * len(floor.walls)
    if options.inner_dims:
        count += sum(2 * len(room.polygon) for room in floor.rooms) + 8 * openings + 8 * len(floor.walls)
    return count


def request_problems(view: str, fmt: str, options: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of a render request that show without the plan."""
    if view != "2d" or options.get("scale", "fit") == "fit" or fmt in VECTOR_FORMATS:
        return []
    return [{"path": "options.scale", "message": f"drawing to scale {options['scale']} needs format pdf or svg; "
                                                 f"{fmt} is fitted to width x height: use scale fit"}]


def plan_problems(plan: Plan, view: str, fmt: str, options: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of rendering this plan as asked: no such floor, too many sheets or elements. Options must be
    valid for the view."""
    floor_index = int(options.get("floor", 0))
    if not 0 <= floor_index < len(plan.floors):
        return [{"path": "options.floor", "message": f"no floor {floor_index}: the plan has {len(plan.floors)}"}]
    if view != "2d":
        return []
    opts = Options2D.model_validate(options)
    floor = plan.floors[opts.floor]
    sheets = 1
    if opts.scale != "fit" and fmt in VECTOR_FORMATS:
        sheets = sheet_layout(floor, opts.scale, opts.paper, opts.orientation).sheets
        if sheets > MAX_SHEETS:
            return [{"path": "options.scale", "message": (
                f"at {opts.scale} on {opts.paper} the floor needs {sheets} sheets, more than {MAX_SHEETS}: "
                "choose a smaller scale or larger paper")}]
    elements = element_estimate(floor, opts) * sheets
    if elements > MAX_ELEMENTS:
        return [{"path": f"floors[{opts.floor}]", "message": (
            f"the drawing would have about {elements} elements, more than {MAX_ELEMENTS}: turn off furniture or "
            "inner_dims, or split the floor")}]
    return []
