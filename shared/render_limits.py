"""How big a render may get: 2D sheets and drawn elements, 3D vertices and instances; checked at submit time.

The canvas limits (pixels) live with the request; these depend on the plan too. Each problem names the
request path to change, so the API answers 422 at submit time instead of failing the job later.
"""

from __future__ import annotations

from typing import Any

from shared.paper import sheet_layout
from shared.plan import Floor, Plan
from shared.render_options import Options2D, Options3D

MAX_SHEETS = 12  # a PDF at 1:50 of a 60 x 40 m floor on A3; larger wants 1:100 or bigger paper
MAX_ELEMENTS = 50_000  # SVG elements over all sheets: beyond this a render takes longer than its time limit
VECTOR_FORMATS = ("pdf", "svg")
# 3D: what the scene may hold. A render's mesh building, shadow and main passes grow with its vertices (the
# furnished apartment's 62k render in a third of a second on llvmpipe), its memory with both. The estimate
# below bounds the meshes from above, so these leave room for a plan a hundred times the apartment's.
MAX_3D_VERTICES = 6_000_000
MAX_3D_INSTANCES = 20_000
CURVE_SEGMENTS = 48  # what a curved wall can cost, as the walls of that many straight ones


def element_estimate(floor: Floor, options: Options2D) -> int:
    """An upper bound of the SVG elements one sheet of this floor draws with these options.

    Openings and walls are drawn a few paths for all of them; what grows is text and furniture: a room's
    name and area, an item's up to three paths, a dimension figure per station along the outside.
    """
    count = 40  # paper, walls, the opening and dimension groups, legend or title block
    count += 3 * len(floor.rooms) + len(floor.labels) + 8 * len(floor.stairs)
    if options.furniture:
        count += 3 * len(floor.items)
    openings = sum(len(wall.openings) for wall in floor.walls)
    if options.dims:
        count += 4 * openings + 4 * len(floor.walls)
    if options.inner_dims:
        count += sum(2 * len(room.polygon) for room in floor.rooms) + 8 * openings + 8 * len(floor.walls)
    return count


def mesh_estimate(floor: Floor, furniture: bool) -> tuple[int, int]:
    """An upper bound of the vertices and of the instances (walls, openings, items, stairs) of one floor's 3D.

    Walls are bands between opening heights with frames, glass and leaves per opening; rooms are triangulated
    floors; models of furniture grow with their size where they repeat parts (books on a shelf, rails of a
    crib, doors of a wardrobe): bounded by their width and depth, and their height over 2 m.
    """
    openings = sum(len(wall.openings) for wall in floor.walls)
    curved = sum(1 for wall in floor.walls if wall.arc)
    vertices = 400 * (len(floor.walls) + curved * CURVE_SEGMENTS) + 1_200 * openings
    vertices += sum(12 * len(room.polygon) + 200 for room in floor.rooms)
    vertices += sum(48 * stair.steps + 200 for stair in floor.stairs)
    items = len(floor.items) if furniture else 0
    if furniture:
        vertices += sum(4_500 + int(40 * (item.width + item.depth) * max(1.0, item.height / 200))
                        for item in floor.items)
    return vertices, len(floor.walls) + openings + items + len(floor.stairs)


def _problems_3d(plan: Plan, options: dict[str, Any]) -> list[dict[str, str]]:
    opts = Options3D.model_validate(options)
    if opts.floors == "all":
        drawn = plan.floors
    elif opts.cutaway:
        drawn = plan.floors[: opts.floor + 1]
    else:
        drawn = [plan.floors[opts.floor]]
    vertices = instances = 0
    for floor in drawn:
        v, i = mesh_estimate(floor, opts.furniture)
        vertices, instances = vertices + v, instances + i
    if vertices > MAX_3D_VERTICES or instances > MAX_3D_INSTANCES:
        return [{"path": "options.floors" if opts.floors == "all" else "options.floor", "message": (
            f"the 3D scene would hold up to {vertices} vertices and {instances} walls, openings and items, more "
            f"than {MAX_3D_VERTICES} and {MAX_3D_INSTANCES}: draw one floor, turn off furniture, or split the plan")}]
    return []


def request_problems(view: str, fmt: str, options: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of a render request that show without the plan."""
    if view != "2d" or options.get("scale", "fit") == "fit" or fmt in VECTOR_FORMATS:
        return []
    return [{"path": "options.scale", "message": f"drawing to scale {options['scale']} needs format pdf or svg; "
                                                 f"{fmt} is fitted to width x height: use scale fit"}]


def floor_problems(plan: Plan, options: dict[str, Any]) -> list[dict[str, str]]:
    """The floor asked for, if the plan has no such floor."""
    floor_index = options.get("floor", 0)
    if floor_index != "all" and not 0 <= int(floor_index) < len(plan.floors):
        return [{"path": "options.floor", "message": f"no floor {floor_index}: the plan has {len(plan.floors)}"}]
    return []


def plan_problems(plan: Plan, view: str, fmt: str, options: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of rendering this plan as asked: no such floor, or an output too large.

    Too large means sheets or elements in 2D, vertices or instances in 3D. Options must be valid for the view.
    """
    return floor_problems(plan, options) or size_problems(plan, view, fmt, options)


def size_problems(plan: Plan, view: str, fmt: str, options: dict[str, Any]) -> list[dict[str, str]]:
    """What makes the output too large: too many sheets or elements in 2D, vertices or instances in 3D."""
    if view == "3d":
        return _problems_3d(plan, options)
    opts = Options2D.model_validate(options)
    indexes = range(len(plan.floors)) if opts.floor == "all" else [opts.floor]
    sheets = dict.fromkeys(indexes, 1)
    if opts.scale != "fit" and fmt in VECTOR_FORMATS:
        for index in indexes:
            sheets[index] = sheet_layout(plan.floors[index], opts.scale, opts.paper, opts.orientation).sheets
        if sum(sheets.values()) > MAX_SHEETS:
            return [{"path": "options.scale", "message": (
                f"at {opts.scale} on {opts.paper} the drawing needs {sum(sheets.values())} sheets, more than "
                f"{MAX_SHEETS}: choose a smaller scale or larger paper")}]
    elements = sum(element_estimate(plan.floors[index], opts) * count for index, count in sheets.items())
    if elements > MAX_ELEMENTS:
        where = f"floors[{opts.floor}]" if opts.floor != "all" else "options.floor"
        return [{"path": where, "message": (
            f"the drawing would have about {elements} elements, more than {MAX_ELEMENTS}: turn off furniture or "
            "inner_dims, or split the floor")}]
    return []
