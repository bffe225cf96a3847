"""IFC models imported with ifcopenshell: BlenderBIM's IFC4 house of openings and AutoCAD's IFC2x3 walls."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon

from shared.importers import ImportProblem, detect_format, import_file
from shared.plan import Wall
from worker.render import render
from worker.render.geometry import WallFrame, opening_symbol

SAMPLES = Path(__file__).resolve().parent / "samples"
BLENDERBIM = (SAMPLES / "ifc4-project0-openings.ifc").read_bytes()
AUTOCAD = (SAMPLES / "ifc2x3-acad2010-walls.ifc").read_bytes()


def bounds(walls: list[Wall]) -> tuple[float, float, float, float]:
    xs = [p.x for wall in walls for p in (wall.a, wall.b)]
    ys = [p.y for wall in walls for p in (wall.a, wall.b)]
    return min(xs), min(ys), max(xs), max(ys)


def test_the_blenderbim_house_keeps_its_walls_on_their_centre_lines() -> None:
    imported = import_file(BLENDERBIM, "ifc")
    (floor,) = imported.plan.floors
    assert (floor.name, floor.elevation, floor.height) == ("My Storey", 0, 280)
    # A 3 x 6 m box of 20 cm walls (metres in the file) and a 10 cm partition half way; the layers lie on
    # one side of each wall's axis, so the centre lines are 10 cm in from the outside.
    assert sorted(wall.thickness for wall in floor.walls) == [10, 20, 20, 20, 20]
    assert bounds(floor.walls) == (0, -600, 300, 0)
    outer = [wall for wall in floor.walls if wall.thickness == 20]
    assert {round(wall.length) for wall in outer} == {600, 300}
    assert all(wall.height == 280 for wall in floor.walls)


def test_doors_and_windows_fill_the_openings_that_void_their_walls() -> None:
    imported = import_file(BLENDERBIM, "ifc")
    floor = imported.plan.floors[0]
    south = next(wall for wall in floor.walls if wall.a.y == wall.b.y == -10)
    kinds = sorted((o.type, o.width, o.height, o.sill) for o in south.openings)
    assert kinds == [("door", 90, 200, 0), ("window", 100, 100, pytest.approx(100, abs=0.05))]
    door = next(o for o in south.openings if o.type == "door")
    assert door.offset == pytest.approx(181.6 + 45, abs=0.1)  # the opening's x from 181.6 cm, 90 cm wide
    # The unfilled opening in the partition is a passage, 120 cm wide and 240 cm high.
    partition = next(wall for wall in floor.walls if wall.thickness == 10)
    assert [(o.type, o.width, o.height) for o in partition.openings] == [("opening", 120, 240)]
    # The window that fills no opening is reported, not placed somewhere.
    assert any(w.path == "#2476=IfcWindow" and w.kind == "dropped" for w in imported.warnings)


def test_the_front_door_opens_into_the_house_hung_as_its_type_says() -> None:
    floor = import_file(BLENDERBIM, "ifc").plan.floors[0]
    south = next(wall for wall in floor.walls if wall.a.y == wall.b.y == -10)
    door = next(o for o in south.openings if o.type == "door")
    frame = WallFrame.of(south)
    assert frame is not None
    symbol = opening_symbol(frame, door)
    assert symbol is not None
    inside = Polygon([(10, -10), (290, -10), (290, -590), (10, -590)])
    leaf = symbol.leaves[0]
    assert inside.contains(Point(leaf.open_tip))
    # SINGLE_SWING_RIGHT: hinged on the right seen looking the way it opens (north, into the house): east.
    assert leaf.hinge[0] > leaf.closed_tip[0]


def test_rooms_are_the_enclosures_of_the_walls_when_the_model_has_no_spaces() -> None:
    imported = import_file(BLENDERBIM, "ifc")
    areas = sorted(round(Polygon([(p.x, p.y) for p in room.polygon]).area / 10_000, 2)
                   for room in imported.plan.floors[0].rooms)
    # 2.6 m wide inside the 20 cm walls; the 10 cm partition's faces are 290 and 300 cm from the south
    # wall's outside, which leaves 2.7 and 2.8 m deep rooms.
    assert areas == [pytest.approx(2.6 * 2.7, abs=0.01), pytest.approx(2.6 * 2.8, abs=0.01)]
    assert any(w.kind == "defaulted" and "IfcSpace" in w.message for w in imported.warnings)


def test_autocad_walls_in_millimetres_and_in_no_storey_are_one_floor() -> None:
    imported = import_file(AUTOCAD, "ifc")
    (floor,) = imported.plan.floors
    assert len(floor.walls) == 8
    assert {wall.thickness for wall in floor.walls} == {24}  # 240 mm
    assert {wall.height for wall in floor.walls} == {300}  # extruded 3000 mm
    # The first wall's axis is 1344.98 mm long.
    assert sorted(round(wall.length, 1) for wall in floor.walls)[-3] == pytest.approx(134.5, abs=0.1)
    assert detect_format(AUTOCAD) == "ifc" and detect_format(BLENDERBIM) == "ifc"


def test_a_file_that_is_not_step_or_of_another_schema_is_refused() -> None:
    with pytest.raises(ImportProblem, match="not a readable IFC"):
        import_file(b"ISO-10303-21;\nHEADER;\nthis is not STEP", "ifc")
    other = BLENDERBIM.replace(b"FILE_SCHEMA(('IFC4'))", b"FILE_SCHEMA(('CONFIG_CONTROL_DESIGN'))")
    assert other != BLENDERBIM
    with pytest.raises(ImportProblem):
        import_file(other, "ifc")


def test_both_models_render_in_2d_and_3d() -> None:
    for model in (BLENDERBIM, AUTOCAD):
        plan = import_file(model, "ifc").plan
        assert render(plan, "2d", "png", 400, 300, {}).startswith(b"\x89PNG")
        assert render(plan, "3d", "png", 160, 120, {}).startswith(b"\x89PNG")
