"""The 3D cost budget: checked at submit from the plan alone, an upper bound of what the renderer builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.plan import Item, Plan, parse_plan
from shared.render_limits import MAX_3D_VERTICES, mesh_estimate, plan_problems
from worker.render.view3d import view_of

EXAMPLES = Path(__file__).parent.parent / "examples"


def _vertices(plan: Plan, options: dict[str, object]) -> int:
    scene = view_of(plan, 400, 300, options).scene
    return len(scene.opaque.positions) + len(scene.glass.positions)


@pytest.mark.parametrize("name", ["furnished-apartment.json", "flat-2b.json", "two-storey-house.json",
                                  "curved-bay.json"])
def test_the_estimate_bounds_the_vertices_the_renderer_builds(name: str) -> None:
    plan = parse_plan(json.loads((EXAMPLES / name).read_text()))
    estimated = sum(mesh_estimate(floor, True)[0] for floor in plan.floors)
    built = _vertices(plan, {"floors": "all"})
    assert built <= estimated <= 20 * built, (built, estimated)


def test_items_that_grow_with_their_size_are_bounded_too() -> None:
    plan = parse_plan(json.loads((EXAMPLES / "flat-2b.json").read_text()))
    floor = plan.floors[0]
    huge = [Item(ref=ref, x=100, y=100, width=3000, depth=2000, height=400)
            for ref in ("bookshelf", "crib", "sofa_corner", "wardrobe", "kitchen_counter")]
    grown = plan.model_copy(update={"floors": [floor.model_copy(update={"items": huge})]})
    assert _vertices(grown, {}) <= mesh_estimate(grown.floors[0], True)[0]


def test_a_plan_too_big_for_3d_is_refused_with_what_to_change_while_one_floor_of_it_passes() -> None:
    plan = parse_plan(json.loads((EXAMPLES / "furnished-apartment.json").read_text()))
    floor = plan.floors[0]
    shelves = [Item(ref="bookshelf", x=100 + i, y=100, width=5000, depth=40, height=300) for i in range(600)]
    heavy = floor.model_copy(update={"items": [*floor.items, *shelves]})
    building = plan.model_copy(update={"floors": [floor, heavy]})
    assert mesh_estimate(heavy, True)[0] > MAX_3D_VERTICES
    [problem] = plan_problems(building, "3d", "png", {"floors": "all"})
    assert problem["path"] == "options.floors" and "turn off furniture" in problem["message"]
    assert plan_problems(building, "3d", "png", {"floor": 1, "furniture": False}) == []
    assert plan_problems(building, "3d", "png", {"floor": 0}) == []
