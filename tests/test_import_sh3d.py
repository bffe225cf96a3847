"""Sweet Home 3D homes imported from the editor's own example files, as Home.xml and as a .sh3d zip."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon

from shared.importers import ImportProblem, detect_format, import_file
from shared.plan import Floor, Plan, Wall, floor_elevations
from worker.render import render
from worker.render.geometry import WallFrame, opening_symbol

SAMPLES = Path(__file__).resolve().parent / "samples"
STUDIO = (SAMPLES / "sh3d-studio-Home.xml").read_bytes()
HOUSE = (SAMPLES / "sh3d-2bedroom-house-with-basement-Home.xml").read_bytes()


def sh3d(home_xml: bytes, **others: bytes) -> bytes:
    """A .sh3d file as the editor writes it since 5.3: a zip with Home.xml (and models, here none)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Home", b"\xac\xed\x00\x05")  # the Java-serialised home, which we never read
        archive.writestr("Home.xml", home_xml)
        for name, data in others.items():
            archive.writestr(name, data)
    return out.getvalue()


def rooms(floor: Floor) -> dict[str, Polygon]:
    return {room.name: Polygon([(p.x, p.y) for p in room.polygon]) for room in floor.rooms}


def extent(floor: Floor) -> tuple[float, float]:
    xs = [p.x for wall in floor.walls for p in (wall.a, wall.b)]
    ys = [p.y for wall in floor.walls for p in (wall.a, wall.b)]
    return max(xs) - min(xs), max(ys) - min(ys)


def leaf_tip(wall: Wall, index: int) -> Point:
    frame = WallFrame.of(wall)
    assert frame is not None
    symbol = opening_symbol(frame, wall.openings[index])
    assert symbol is not None and symbol.leaves
    return Point(symbol.leaves[0].open_tip)


def test_studio_keeps_its_walls_rooms_openings_and_furniture() -> None:
    imported = import_file(STUDIO, "sh3d")
    plan = imported.plan
    assert plan.name == "Studio" and len(plan.floors) == 1
    floor = plan.floors[0]
    assert len(floor.walls) == 16
    assert set(rooms(floor)) == {"Bathroom", "Hall", "Bedroom", "Kitchen", "Balcony"}
    assert {room.name: room.type for room in floor.rooms}["Bathroom"] == "bathroom"
    kinds = sorted(o.type for w in floor.walls for o in w.openings)
    assert kinds == ["door", "door", "sliding_door", "window", "window"]
    assert len(floor.items) == 43  # 36 pieces and 7 lights
    assert [label.text for label in floor.labels] == ["Studio"]
    # wall0 is 26 cm thick, wall3 16 cm and 340.2 cm long; wall9 starts furthest west, wall7 furthest north.
    assert (floor.walls[0].thickness, floor.walls[3].thickness) == (26, 16)
    assert floor.walls[3].length == pytest.approx(457.2 - 117.0)
    width, depth = extent(floor)
    assert (width, depth) == pytest.approx((740.0 - 0.83332825, 457.2 + 11.884985), abs=0.01)
    assert plan.north == pytest.approx(math.degrees(2.9146998), abs=0.001)
    # The one dimension-line kind the plan cannot hold is reported, with where it was.
    assert any(w.kind == "dropped" and "dimensionLine" in w.message for w in imported.warnings)


def test_doors_sit_in_their_wall_and_open_the_way_the_editor_draws_them() -> None:
    floor = import_file(STUDIO, "sh3d").plan.floors[0]
    # The bathroom door stands in wall4 (x = 222) and opens into the bathroom; the front door, in wall12,
    # opens into the hall.
    wall4, wall12 = floor.walls[4], floor.walls[12]
    door = wall4.openings[0]
    assert (door.type, door.width, door.height) == ("door", 92.5, 208.5)
    # Centred at y = 296.36 on a wall running north from y = 451.8.
    assert door.offset == pytest.approx(451.8 - 296.3578, abs=0.1)
    assert rooms(floor)["Bathroom"].contains(leaf_tip(wall4, 0))
    assert rooms(floor)["Hall"].contains(leaf_tip(wall12, 0))
    window = next(o for o in floor.walls[1].openings)
    assert (window.type, window.sill, window.height, window.width) == ("window", 105, 116, 58)


def test_levels_become_floors_at_their_elevations_and_the_hidden_roof_stays_out() -> None:
    imported = import_file(HOUSE, "sh3d")
    plan = imported.plan
    assert [(f.name, f.level, f.elevation) for f in plan.floors] == [("Basement", -1, -150), ("1st floor", 0, 112)]
    assert floor_elevations(plan) == [-150, 112]
    basement, first = plan.floors
    # 41 walls in the file, 4 of them on the hidden roof level; 13 rooms, one a stairwell without floor.
    assert (len(basement.walls), len(first.walls)) == (14, 23)
    assert len(basement.rooms) + len(first.rooms) == 12
    assert {"Kitchen", "Living room", "Bedroom #1", "Bedroom #2", "Corridor", "Terrace"} <= set(rooms(first))
    messages = [w.message for w in imported.warnings]
    assert "4 wall on hidden levels left out" in messages
    assert any("no floor" in m for m in messages)
    # 27 doors and windows: the half-round window over the front door cannot share its stretch of wall.
    assert sum(len(w.openings) for f in plan.floors for w in f.walls) == 26
    transom = next(w for w in imported.warnings if w.path == "/home/doorOrWindow[27]")
    assert transom.kind == "dropped" and "above the door" in transom.message
    assert extent(first) == pytest.approx((1026.1 + 7.3940277, 593.6 + 23.194096), abs=0.01)


def test_the_basement_staircase_is_a_flight_of_stairs() -> None:
    imported = import_file(HOUSE, "sh3d")
    basement = imported.plan.floors[0]
    (stair,) = basement.stairs
    assert stair.width == 92 and stair.length == pytest.approx(230.5)
    # The model is 362 cm high with its handrail; it climbs the 262 cm from the basement to the 1st floor.
    assert (stair.height, stair.steps) == (262, round(262 / 18))
    # Turned half round, the model's front (where one steps on) faces north: the flight climbs south.
    assert stair.run[0].y < stair.run[-1].y
    assert any(w.path == "/home/pieceOfFurniture[6]" and "curved" in w.message for w in imported.warnings)


def test_furniture_maps_onto_the_catalog_by_catalog_id_and_name() -> None:
    items = import_file(STUDIO, "sh3d").plan.floors[0].items
    refs = {item.ref for item in items}
    assert {"armchair", "table", "plant", "shower", "toilet"} <= refs
    bed = next(item for item in items if item.ref.startswith("bed"))
    assert bed.ref == "bed_double" and bed.width >= 140
    # Angles are radians clockwise on screen, as plan v1's degrees are.
    armchair = next(item for item in items if item.ref == "armchair")
    assert armchair.rotation == pytest.approx(75.0, abs=0.01)


def test_a_sh3d_zip_imports_like_its_home_xml() -> None:
    archive = sh3d(STUDIO, **{"0": b"model bytes"})
    assert detect_format(archive) == "sh3d" and detect_format(STUDIO) == "sh3d"
    assert import_file(archive, "sh3d").plan == import_file(STUDIO, "sh3d").plan


def test_a_zip_without_home_xml_says_which_editor_version_to_save_with() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Home", b"\xac\xed\x00\x05")
    with pytest.raises(ImportProblem) as caught:
        import_file(out.getvalue(), "sh3d")
    assert caught.value.path == "Home.xml" and "5.3" in caught.value.message


def test_a_zip_bomb_is_refused_without_being_inflated() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Home.xml", b"<home>" + b" " * (40 * 1024 * 1024) + b"</home>")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ImportProblem, match="MB uncompressed"):
        import_file(out.getvalue(), "sh3d")


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE home [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<home><label x='0' y='0'><text>&b;</text></label></home>",
    b'<?xml version="1.0"?><!DOCTYPE home [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b"<home><label x='0' y='0'><text>&secret;</text></label></home>",
], ids=["entity-expansion", "external-entity"])
def test_entities_in_home_xml_are_refused(document: bytes) -> None:
    with pytest.raises(ImportProblem, match="refused"):
        import_file(document, "sh3d")


def test_broken_xml_and_bad_numbers_say_where() -> None:
    with pytest.raises(ImportProblem) as caught:
        import_file(b"<home>\n  <wall id='w' xStart='0'>\n</home>", "sh3d")
    assert caught.value.path == "Home.xml:3:3"
    bad = STUDIO.replace(b"xStart='410.5' yStart='-3.0'", b"xStart='east' yStart='-3.0'")
    with pytest.raises(ImportProblem) as caught:
        import_file(bad, "sh3d")
    assert caught.value.path == "/home/wall[2]/@xStart"


def test_a_curved_wall_keeps_its_arc_and_its_window() -> None:
    home = b"""<?xml version='1.0'?>
<home version='6400' name='Round.sh3d' wallHeight='250'>
  <doorOrWindow catalogId='eTeks#window85x123' name='Window' x='300' y='-124.2641' elevation='90'
      width='80' depth='20' height='120'/>
  <wall id='w0' xStart='0' yStart='0' xEnd='600' yEnd='0' height='250' thickness='20' arcExtent='1.5707964'/>
</home>"""
    (wall,) = import_file(home, "sh3d").plan.floors[0].walls
    assert wall.arc == pytest.approx(90, abs=1e-4)
    circle = wall.circle()
    assert circle is not None and (circle.cx, circle.cy) == pytest.approx((300, 300))
    # The window stands at the top of the arc, so half way along it.
    (window,) = wall.openings
    assert window.offset == pytest.approx(wall.length / 2, abs=0.5)


def test_both_homes_render_every_floor_in_2d_and_3d() -> None:
    for home in (STUDIO, HOUSE):
        plan: Plan = import_file(home, "sh3d").plan
        for index in range(len(plan.floors)):
            assert render(plan, "2d", "png", 400, 300, {"floor": index}).startswith(b"\x89PNG")
            assert render(plan, "3d", "png", 160, 120, {"floor": index}).startswith(b"\x89PNG")
