"""Importers on real files: blueprint3d, react-planner (v2 and the older flat schema) and Floorplanner FML v3."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, Polygon

from api.cli import main
from shared.importers import ImportProblem, detect_format, import_plan
from shared.importers.blueprint3d import minimal_cycles
from shared.plan import Plan, parse_plan
from worker.render import render

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def convert(data: Any, fmt: str) -> Plan:
    return import_plan(data, fmt).plan


def openings(plan: Plan) -> list[tuple[str, float, float]]:
    return [(o.type, round(o.offset, 1), round(o.width, 1)) for w in plan.floors[0].walls for o in w.openings]


# blueprint3d

def test_minimal_cycles_are_the_rooms_of_the_wall_graph() -> None:
    square = [(0, 0), (100, 0), (200, 0), (200, 100), (100, 100), (0, 100)]
    edges = list(zip(square, square[1:] + square[:1], strict=True)) + [((100, 0), (100, 100)),
                                                                        ((200, 100), (260, 160))]  # a spur
    faces = minimal_cycles(edges)
    assert sorted(round(Polygon(face).area) for face in faces) == [10_000, 10_000]


def test_blueprint3d_rooms_are_derived_and_named_after_their_furniture() -> None:
    plan = convert(sample("blueprint3d-example-furnished.json"), "blueprint3d")
    floor = plan.floors[0]
    assert len(floor.walls) == 8
    rooms = {room.name: Polygon([(p.x, p.y) for p in room.polygon]) for room in floor.rooms}
    assert set(rooms) == {"Bedroom", "Living room"}
    # The bedroom is the rectangle between the corners at x 745.744..1044.702, y -105.664..232.664.
    assert rooms["Bedroom"].area == pytest.approx((1044.702 - 745.744) * (232.664 + 105.664), abs=0.5)
    assert rooms["Living room"].contains(Point(357, -22))  # the sofa


def test_blueprint3d_doors_and_windows_are_snapped_into_the_nearest_walls() -> None:
    plan = convert(sample("blueprint3d-example-furnished.json"), "blueprint3d")
    kinds = [kind for kind, _, _ in openings(plan)]
    assert (kinds.count("door"), kinds.count("window")) == (2, 4)
    # "closed-door28x80" is 28 inches wide and stands at (637.2, 232.2), in the wall along y = 232.664.
    wall, door = next((w, o) for w in plan.floors[0].walls for o in w.openings if o.width == pytest.approx(71.12))
    length = math.dist((wall.a.x, wall.a.y), (wall.b.x, wall.b.y))
    centre = (wall.a.x + (wall.b.x - wall.a.x) * door.offset / length,
              wall.a.y + (wall.b.y - wall.a.y) * door.offset / length)
    assert centre == pytest.approx((637.2, 232.664), abs=0.5)


def test_blueprint3d_items_are_in_plan_coordinates_with_clockwise_degrees() -> None:
    plan = convert(sample("blueprint3d-example-furnished.json"), "blueprint3d")
    items = {item.ref: item for item in plan.floors[0].items}
    bed = items["bed_double"]
    assert (round(bed.x), round(bed.y), bed.rotation) == (940, -16, 90)  # rotation -pi/2: head to the east
    assert items["sofa"].rotation == 270
    assert items["rug"].width == pytest.approx(60 * 2.54)  # cb-blue-block-60x96
    poster = items["nyc_poster"]
    assert poster.elevation > 100 and poster.depth == 4  # hung on a wall, drawn as a box
    assert "Open Door" not in {item.ref for item in plan.floors[0].items}


def test_blueprint3d_without_walls_or_with_a_missing_corner_says_why() -> None:
    data = sample("blueprint3d-example-furnished.json")
    broken = copy.deepcopy(data)
    broken["floorplan"]["walls"][2]["corner2"] = "nowhere"
    with pytest.raises(ImportProblem) as caught:
        convert(broken, "blueprint3d")
    assert caught.value.path == "floorplan.walls[2]"
    empty = {"floorplan": {"corners": {}, "walls": []}, "items": []}
    with pytest.raises(ImportProblem, match="no walls"):
        convert(empty, "blueprint3d")


# react-planner

def test_react_planner_v2_flips_y_and_keeps_the_area() -> None:
    data = sample("react-planner-data.json")
    plan = convert(data, "react-planner")
    floor = plan.floors[0]
    assert len(floor.walls) == 4 and len(floor.rooms) == 1
    vertex = next(iter(data["layers"]["layer-1"]["vertices"].values()))
    ys = {p.y for p in floor.rooms[0].polygon}
    assert data["height"] - vertex["y"] in ys
    assert floor.walls[0].thickness == 20 and floor.walls[0].height == 300


def test_react_planner_doors_map_to_plan_opening_types() -> None:
    plan = convert(sample("react-planner-test_doors.json"), "react-planner")
    assert [kind for kind, _, _ in openings(plan)] == ["door", "double_door", "door", "double_door", "sliding_door"]
    # Offsets are fractions of the wall from its end with the smaller x: 0.6233 of 300 cm.
    assert (openings(plan)[3][1], openings(plan)[3][2]) == (187.0, 200.0)
    swings = [o.swing for w in plan.floors[0].walls for o in w.openings if o.type == "double_door"]
    assert swings == ["in", "out"]  # flip_horizontal true, then false


def test_react_planner_flat_schema_in_metres_is_converted_to_cm() -> None:
    plan = convert(sample("react-planner-flat-m.json"), "react-planner")
    floor = plan.floors[0]
    assert floor.height == 270
    assert {w.thickness for w in floor.walls} == {20}
    assert openings(plan)[0] == ("door", 150.0, 90.0)
    living = next(room for room in floor.rooms if room.name == "Living")
    assert Polygon([(p.x, p.y) for p in living.polygon]).area == pytest.approx(300 * 400)
    sofa = next(item for item in floor.items if item.ref == "sofa")
    assert (sofa.x, sofa.y, sofa.width) == (250, 155, 200)  # y 4.45 m up is 1.55 m down from the 6 m scene top


def test_react_planner_scene_in_pixels_is_scaled_by_pixel_per_unit() -> None:
    # cvdlab's older scenes: "unit": "m", "pixelPerUnit": 100, coordinates 30 ... 1300 px. Read as metres
    # they made a plan 600 m wide, refused at floors[0].rooms[0].polygon[0].y.
    plan = convert(sample("react-planner-myscene-px.json"), "react-planner")
    floor = plan.floors[0]
    xs = [p.x for wall in floor.walls for p in (wall.a, wall.b)]
    assert (min(xs), max(xs)) == (30, 1300)  # 1270 px at 100 px a metre: 12.7 m
    assert {room.name for room in floor.rooms} == {"Living", "Bedroom"}
    living = next(room for room in floor.rooms if room.name == "Living")
    assert Polygon([(p.x, p.y) for p in living.polygon]).area == pytest.approx(670 * 800)


def test_overlapping_windows_of_one_kind_merge_into_one_spanning_their_union() -> None:
    imported = import_plan(sample("react-planner-myscene-px.json"), "react-planner")
    top = next(wall for wall in imported.plan.floors[0].walls if wall.openings and wall.openings[0].type == "window")
    # Seven 90 cm windows centred 200, 250 ... 500 cm along the wall: one window from 155 to 545 cm.
    (window,) = top.openings
    assert (window.offset - window.width / 2, window.offset + window.width / 2) == pytest.approx((155, 545), abs=0.01)
    merged = [w for w in imported.warnings if w.kind == "merged"]
    assert [w.path for w in merged] == [f"layers.layer-1.holes.w{i}" for i in range(2, 8)]
    assert all("layers.layer-1.holes.w1" in w.message for w in merged)


def test_openings_of_different_kinds_are_trimmed_or_left_out_and_say_so() -> None:
    from shared.importers.common import ImportLog, place_openings

    log = ImportLog()
    placed = place_openings(500, 250, [
        {"type": "door", "offset": 100, "width": 90, "path": "door"},
        {"type": "window", "offset": 190, "width": 100, "sill": 90, "height": 120, "path": "window"},  # 5 cm in
        {"type": "window", "offset": 120, "width": 60, "sill": 90, "height": 120, "path": "inside"},
        {"type": "window", "offset": 480, "width": 100, "sill": 90, "height": 120, "path": "overhang"},
    ], log)
    assert [(o["type"], o["offset"] - o["width"] / 2) for o in placed][:2] == [("door", 55), ("window", 145)]
    kinds = {w.path: w.kind for w in log.warnings}
    assert kinds == {"window": "clamped", "inside": "dropped", "overhang": "clamped"}
    assert placed[-1]["offset"] + placed[-1]["width"] / 2 <= 500


def test_react_planner_unknown_unit_is_refused() -> None:
    data = {**sample("react-planner-data.json"), "unit": "furlong"}
    with pytest.raises(ImportProblem) as caught:
        convert(data, "react-planner")
    assert caught.value.path == "unit"


# Floorplanner FML v3

def test_fml_project_converts_walls_openings_areas_items_and_labels() -> None:
    plan = convert(sample("fml-one-bedroom.json"), "fml")
    floor = plan.floors[0]
    assert (floor.name, floor.height, len(floor.walls)) == ("Ground floor", 260, 7)
    assert [room.name for room in floor.rooms] == ["Living room", "Bedroom", "Bathroom"]
    # t is the centre's fraction of the wall: 0.5556 of the 900 cm south wall.
    south = floor.walls[2]
    door = next(o for o in south.openings if o.type == "door")
    assert door.offset == pytest.approx(500, abs=0.1) and door.width == 95
    bathroom_door = floor.walls[6].openings[0]
    assert (bathroom_door.hinge, bathroom_door.swing) == ("right", "out")  # mirrored [1, 1]
    assert floor.walls[3].openings[0].type == "sliding_door"
    refs = [item.ref for item in floor.items]
    assert "e4a0c7d5b3f2" in refs  # an asset id the catalog does not know: it draws as a box
    assert [label.text for label in floor.labels] == ["Terrace"]


def test_fml_design_or_floor_alone_is_accepted() -> None:
    project = sample("fml-one-bedroom.json")
    floor = project["floors"][0]
    design = floor["designs"][0]
    for document in (floor, design):
        assert len(convert(document, "fml").floors[0].walls) == 7


def test_fml_without_designs_says_why() -> None:
    with pytest.raises(ImportProblem) as caught:
        convert({"floors": [{"name": "empty", "designs": []}]}, "fml")
    assert "without designs" in caught.value.message


def test_fml_bad_number_names_its_path() -> None:
    project = sample("fml-one-bedroom.json")
    project["floors"][0]["designs"][0]["walls"][1]["a"]["x"] = "east"
    with pytest.raises(ImportProblem) as caught:
        convert(project, "fml")
    assert caught.value.path == "floors[0].designs[0].walls[1].a.x"


# All of them

ALL = [("blueprint3d-example-furnished.json", "blueprint3d"), ("react-planner-data.json", "react-planner"),
       ("react-planner-test_doors.json", "react-planner"), ("react-planner-flat-m.json", "react-planner"),
       ("react-planner-myscene-px.json", "react-planner"), ("fml-one-bedroom.json", "fml")]


@pytest.mark.parametrize(("name", "fmt"), ALL, ids=[name for name, _ in ALL])
def test_each_sample_is_recognised_imported_and_rendered(name: str, fmt: str) -> None:
    assert detect_format((SAMPLES / name).read_bytes()) == fmt
    plan = convert(sample(name), fmt)
    assert render(plan, "2d", "svg", 400, 300, {}).startswith(b"<svg")


def test_openings_that_overhang_or_overlap_are_fitted_into_their_wall() -> None:
    data = sample("react-planner-test_doors.json")
    layer = data["layers"]["layer-1"]
    hole = next(iter(layer["holes"].values()))
    hole["offset"] = 0.99  # the door's centre at the wall's very end
    plan = convert(data, "react-planner")
    for wall in plan.floors[0].walls:
        for opening in wall.openings:
            assert opening.width / 2 <= opening.offset <= math.dist((wall.a.x, wall.a.y), (wall.b.x, wall.b.y)) \
                - opening.width / 2 + 1e-6


def test_import_command_prints_plan_v1_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SAMPLES / "fml-one-bedroom.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(parse_plan(printed).floors[0].rooms) == 3


def test_import_command_reports_what_it_changed_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SAMPLES / "react-planner-myscene-px.json")]) == 0
    captured = capsys.readouterr()
    assert len(parse_plan(json.loads(captured.out)).floors[0].walls) == 5
    lines = captured.err.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("warning: layers.layer-1.holes.w2: merged: window overlaps")


@pytest.mark.parametrize(("name", "fmt"), [("sh3d-studio-Home.xml", "sh3d"), ("ifc4-project0-openings.ifc", "ifc")])
def test_import_command_tells_sweet_home_3d_and_ifc_by_their_content(name: str, fmt: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SAMPLES / name)]) == 0
    assert parse_plan(json.loads(capsys.readouterr().out)).floors[0].walls
    assert main(["import", "--format", fmt, str(SAMPLES / name)]) == 0


def test_import_command_fails_with_the_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"floorplan": {"corners": {}, "walls": []}, "items": []}))
    assert main(["import", str(broken)]) == 1
    assert "no walls" in capsys.readouterr().err


def test_openings_clamped_to_a_wall_end_still_fit_after_rounding() -> None:
    from shared.importers.common import ImportLog, place_openings
    from shared.plan import check_plan, parse_plan

    length = 248.3333333
    openings = place_openings(length, 250.3333, [{"type": "door", "offset": 240.0, "width": 80.0,
                                                  "height": 400.0, "path": "d"},
                                                 {"type": "window", "offset": 0.0, "width": 60.0, "sill": 90.0,
                                                  "path": "w"}], ImportLog())
    plan = parse_plan({"floors": [{"height": 250.3333, "walls": [
        {"a": {"x": 0, "y": 0}, "b": {"x": round(length, 3), "y": 0}, "height": 250.3333, "openings": openings}]}]})
    assert check_plan(plan) == []
    assert len(plan.floors[0].walls[0].openings) == 2


@pytest.mark.parametrize("scene", [
    {"layers": {"l": {"lines": {"w": {"vertices": 5}}}}},
    {"layers": {"l": {"lines": {"w": {"vertices": ["a", "b"], "holes": 3}}}}},
    {"layers": {"l": {"areas": {"r": {"vertices": 7}}}}},
], ids=["vertices-not-a-list", "holes-not-a-list", "area-vertices-not-a-list"])
def test_a_react_planner_file_of_an_unexpected_shape_is_an_import_problem(scene: dict[str, Any]) -> None:
    with pytest.raises(ImportProblem):
        convert({"width": 1000, "height": 1000, "unit": "cm", **scene}, "react-planner")
