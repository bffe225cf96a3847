"""The 2D renderer checked on decoded output: pixels where the plan puts walls, doors, windows; SVG text."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pydantic import ValidationError
from shapely.geometry import Point, Polygon

from shared.paper import sheet_layout
from shared.plan import Item, Plan, parse_plan
from shared.render_limits import element_estimate
from shared.render_options import Options2D
from worker.render import CONTENT_TYPES, FORMATS_BY_VIEW, MAX_SIDE, RenderError, render
from worker.render.catalog import KINDS, lookup
from worker.render.dimensions import outer_chains
from worker.render.geometry import floor_geometry, item_footprint
from worker.render.measure import area_text
from worker.render.symbols2d import SYMBOLS, symbol_for

SVG = "{http://www.w3.org/2000/svg}"
EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "examples" / "flat-2b.json"
EXAMPLE = parse_plan({
    "name": "Flat 2B", "floors": [{
        "name": "Ground", "level": 0, "height": 280,
        "walls": [{"id": "w1", "a": {"x": 0, "y": 0}, "b": {"x": 500, "y": 0}, "thickness": 20, "height": 280,
                   "openings": [{"type": "door", "offset": 120, "width": 90, "height": 210, "hinge": "left",
                                 "swing": "in"},
                                {"type": "window", "offset": 350, "width": 120, "height": 120, "sill": 90}]}],
        "rooms": [{"name": "Living", "type": "living",
                   "polygon": [{"x": 0, "y": 0}, {"x": 500, "y": 0}, {"x": 500, "y": 400},
                               {"x": 0, "y": 400}]}],
        "items": [{"ref": "sofa", "x": 250, "y": 300, "rotation": 0, "width": 200, "depth": 90,
                   "height": 80}],
        "labels": [{"text": "Balcony", "x": 250, "y": -60}],
    }],
})


def one_floor(**floor: Any) -> Plan:
    return parse_plan({"name": "test", "floors": [floor]})


def wall(a: tuple[float, float], b: tuple[float, float], thickness: float = 20,
         openings: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"a": {"x": a[0], "y": a[1]}, "b": {"x": b[0], "y": b[1]}, "thickness": thickness,
            "openings": list(openings)}


def room(name: str, *points: tuple[float, float]) -> dict[str, Any]:
    return {"name": name, "polygon": [{"x": x, "y": y} for x, y in points]}


# Pixel probes look at walls and openings alone: no dimension chains, scale bar or north arrow in the way.
PLAIN = {"dims": False, "scale_bar": False, "north_arrow": False}


def grey(plan: Plan, width: int = 800, height: int = 600, options: dict[str, Any] | None = None) -> Image.Image:
    return Image.open(io.BytesIO(render(plan, "2d", "png", width, height, options or PLAIN))).convert("L")


def svg_root(plan: Plan, options: dict[str, Any] | None = None, width: int = 800,
             height: int = 600) -> ET.Element:
    return ET.fromstring(render(plan, "2d", "svg", width, height, options or {}))


def projector(plan: Plan, width: int = 800, height: int = 600) -> Callable[[float, float], tuple[int, int]]:
    """Where a plan point (cm) lands on the canvas, read from the viewBox the renderer chose."""
    vx, vy, vw, vh = (float(v) for v in svg_root(plan, PLAIN, width, height).attrib["viewBox"].split())
    return lambda x, y: (int((x - vx) * width / vw), int((y - vy) * height / vh))


def lum(image: Image.Image, pixel: tuple[int, int]) -> int:
    value = image.getpixel(pixel)
    assert isinstance(value, int), "a grey image has one channel"
    return value


def darkest_near(image: Image.Image, pixel: tuple[int, int], reach: int = 2) -> int:
    x, y = pixel
    around = range(-reach, reach + 1)
    return min(lum(image, (x + i, y + j)) for i in around for j in around)


def texts(root: ET.Element) -> dict[str, ET.Element]:
    return {element.text or "": element for element in root.iter(f"{SVG}text")}


def test_png_has_requested_size() -> None:
    for width, height in ((640, 480), (300, 700), (1, 1)):
        image = Image.open(io.BytesIO(render(EXAMPLE, "2d", "png", width, height, {})))
        assert (image.format, image.size) == ("PNG", (width, height))


def test_walls_are_dark_where_the_wall_projects_and_background_is_white_far_away() -> None:
    plan = one_floor(walls=[wall((0, 0), (400, 0), 30)])
    at, image = projector(plan), grey(plan)
    assert lum(image, at(200, 0)) < 60
    assert lum(image, at(5, 10)) < 60
    assert lum(image, at(200, 120)) > 250
    assert lum(image, (2, 2)) > 250


def test_walls_meeting_at_a_corner_close_its_outside() -> None:
    plan = one_floor(walls=[wall((0, 0), (400, 0), 30), wall((0, 0), (0, 300), 30)])
    at, image = projector(plan), grey(plan)
    # Flat-ended bodies would leave this outer square of the corner white.
    assert lum(image, at(-12, -12)) < 60
    assert lum(image, at(-25, -25)) > 250


def test_door_opening_is_cut_out_of_the_wall() -> None:
    door = {"type": "door", "offset": 200, "width": 90}
    plan = one_floor(walls=[wall((0, 0), (400, 0), 30, (door,))])
    at, image = projector(plan), grey(plan)
    assert lum(image, at(200, 0)) > 240
    assert lum(image, at(140, 0)) < 60
    assert lum(image, at(260, 0)) < 60


@pytest.mark.parametrize(("swing", "side"), [("in", 1), ("out", -1)])
def test_door_swings_in_to_the_right_of_a_to_b_and_out_to_the_left(swing: str, side: int) -> None:
    door = {"type": "door", "offset": 200, "width": 90, "hinge": "left", "swing": swing}
    plan = one_floor(walls=[wall((0, 0), (400, 0), 20, (door,))])
    at, image = projector(plan), grey(plan)
    # Hinge left: the leaf hangs at the opening's end nearer a (x = 155) and stands across the wall, open.
    assert darkest_near(image, at(155, side * 55)) < 128
    assert darkest_near(image, at(155, -side * 55)) > 240
    assert darkest_near(image, at(245, side * 55)) > 240


def test_window_is_a_light_gap_crossed_by_lines_along_the_wall() -> None:
    window = {"type": "window", "offset": 200, "width": 120, "height": 120}
    plan = one_floor(walls=[wall((0, 0), (400, 0), 40, (window,))])
    at, image = projector(plan, 1600, 1200), grey(plan, 1600, 1200)
    x, top = at(200, -25)
    _, bottom = at(200, 25)
    column = [lum(image, (x, y)) < 160 for y in range(top, bottom + 1)]
    runs = sum(1 for above, here in zip([False, *column], column, strict=False) if here and not above)
    assert runs == 4, "both wall faces carry on as the frame, and the glass is a double line"
    assert lum(image, at(200, 10)) > 240


def test_room_name_is_escaped_in_svg() -> None:
    names = ["<script>alert(1)</script>", "&xxe;", "Tom's \"den\" & co"]
    rooms = [room(name, (i * 300, 0), (i * 300 + 250, 0), (i * 300 + 250, 250), (i * 300, 250))
             for i, name in enumerate(names)]
    root = svg_root(one_floor(rooms=rooms, labels=[{"text": "<b>&amp;</b>", "x": 0, "y": 300}]))
    found = texts(root)
    assert all(name in found for name in names)
    assert "<b>&amp;</b>" in found
    assert not [element for element in root.iter() if element.tag in (f"{SVG}script", "script")]


def test_characters_xml_forbids_do_not_break_the_svg() -> None:
    plan = one_floor(rooms=[room("bad\x00name\x1b", (0, 0), (300, 0), (300, 300), (0, 300))])
    assert "bad\ufffdname\ufffd" in texts(svg_root(plan))
    assert grey(plan).size == (800, 600)


def test_svg_references_nothing_outside() -> None:
    hostile = [room('<image href="https://evil.example/x.png"/>', (0, 0), (400, 0), (400, 300), (0, 300))]
    text = "url(https://evil.example/a.png) @import 'https://evil.example/a.css'"
    labels = [{"text": text, "x": 0, "y": -50}]
    for plan, options in ((EXAMPLE, {}), (one_floor(rooms=hostile, labels=labels), {}),
                          (one_floor(name=text, rooms=hostile, labels=labels), {"scale": "1:100"})):
        root = svg_root(plan, options)
        tags = {element.tag.removeprefix(SVG) for element in root.iter()}
        assert tags <= {"svg", "title", "rect", "g", "path", "text", "circle"}
        attributes = [(key, value) for element in root.iter() for key, value in element.attrib.items()]
        assert not [key for key, _ in attributes if "href" in key]
        assert not [value for _, value in attributes if "url(" in value or ":" in value]


def test_pdf_starts_with_pdf_magic() -> None:
    assert render(EXAMPLE, "2d", "pdf", 800, 600, {}).startswith(b"%PDF-")


def test_jpeg_and_webp_decode_at_size() -> None:
    for fmt, pil_format in (("jpeg", "JPEG"), ("webp", "WEBP")):
        image = Image.open(io.BytesIO(render(EXAMPLE, "2d", fmt, 500, 300, {})))
        assert (image.format, image.size, image.mode) == (pil_format, (500, 300), "RGB")
        assert image.getpixel((1, 1)) == pytest.approx((255, 255, 255), abs=3)


def test_every_format_has_a_content_type() -> None:
    assert {fmt for formats in FORMATS_BY_VIEW.values() for fmt in formats} <= set(CONTENT_TYPES)


def test_a_format_the_view_lacks_is_refused() -> None:
    with pytest.raises(RenderError) as caught:
        render(EXAMPLE, "2d", "gif", 800, 600, {})
    assert caught.value.code == "unsupported_format"


def test_canvas_over_the_limits_is_too_large() -> None:
    for width, height in ((MAX_SIDE + 1, 10), (10, MAX_SIDE + 1)):
        with pytest.raises(RenderError) as caught:
            render(EXAMPLE, "2d", "png", width, height, {})
        assert caught.value.code == "too_large"


def test_same_input_gives_same_bytes() -> None:
    for fmt in FORMATS_BY_VIEW["2d"]:
        assert render(EXAMPLE, "2d", fmt, 400, 300, {}) == render(EXAMPLE, "2d", fmt, 400, 300, {}), fmt


def test_pdf_does_not_depend_on_the_time_it_was_made() -> None:
    first = render(EXAMPLE, "2d", "pdf", 400, 300, {})
    time.sleep(1.1)  # PDF dates have whole seconds
    assert render(EXAMPLE, "2d", "pdf", 400, 300, {}) == first


def test_label_of_l_shaped_room_is_inside_it() -> None:
    corners = [(0, 0), (600, 0), (600, 150), (150, 150), (150, 600), (0, 600)]
    shape = Polygon(corners)
    assert not shape.contains(shape.centroid)  # so a centroid label would be outside
    name = texts(svg_root(one_floor(rooms=[room("Storage", *corners)])))["Storage"]
    assert shape.contains(Point(float(name.attrib["x"]), float(name.attrib["y"])))


def test_room_name_avoids_the_furniture_where_there_is_room() -> None:
    bed = {"ref": "bed", "x": 200, "y": 200, "width": 160, "depth": 200}
    plan = one_floor(rooms=[room("Bedroom", (0, 0), (400, 0), (400, 600), (0, 600))], items=[bed])
    name = texts(svg_root(plan))["Bedroom"]
    assert not item_footprint(plan.floors[0].items[0]).contains(
        Point(float(name.attrib["x"]), float(name.attrib["y"])))


def test_empty_floor_renders_a_blank_canvas() -> None:
    image = grey(one_floor(name="nothing yet"), 300, 200)
    assert (image.size, image.getextrema()) == ((300, 200), (255, 255))


def test_floor_option_chooses_the_floor() -> None:
    plan = parse_plan({"floors": [
        {"rooms": [room("Downstairs", (0, 0), (400, 0), (400, 300), (0, 300))]},
        {"level": 1, "rooms": [room("Upstairs", (0, 0), (400, 0), (400, 300), (0, 300))]},
    ]})
    assert "Downstairs" in texts(svg_root(plan))
    upstairs = texts(svg_root(plan, {"floor": 1}))
    assert "Upstairs" in upstairs and "Downstairs" not in upstairs


@pytest.mark.parametrize("floor", [1, -1, "0", True, 0.0])
def test_a_floor_the_plan_lacks_is_an_invalid_option(floor: Any) -> None:
    with pytest.raises(RenderError) as caught:
        render(EXAMPLE, "2d", "svg", 400, 300, {"floor": floor})
    assert caught.value.code == "invalid_option"


def test_item_turns_clockwise_on_screen() -> None:
    # y points south, so clockwise on screen takes the item's east end towards +y.
    footprint = item_footprint(Item(ref="bench", x=0, y=0, width=200, depth=10, rotation=30))
    assert footprint.contains(Point(80, 45))
    assert not footprint.contains(Point(80, -45))


def test_example_flat_is_a_valid_plan_that_renders() -> None:
    plan = parse_plan(json.loads(EXAMPLE_FILE.read_text()))
    found = texts(svg_root(plan))
    assert {"Living", "Kitchen", "Bedroom", "Bath", "Hall"} <= set(found)
    assert Image.open(io.BytesIO(render(plan, "2d", "png", 1600, 1200, {}))).size == (1600, 1200)


# Geometry with exact answers.

def box_walls(width: float, depth: float, thickness: float = 20) -> list[dict[str, Any]]:
    """Four walls on the centre lines of a width x depth rectangle from the origin, clockwise on screen."""
    corners = [(0, 0), (width, 0), (width, depth), (0, depth)]
    return [wall(a, b, thickness) for a, b in zip(corners, corners[1:] + corners[:1], strict=True)]


def test_room_area_is_the_floor_inside_the_walls_whether_drawn_on_centre_lines_or_faces() -> None:
    centre = one_floor(walls=box_walls(500, 400), rooms=[room("A", (0, 0), (500, 0), (500, 400), (0, 400))])
    faces = one_floor(walls=box_walls(500, 400), rooms=[room("A", (10, 10), (490, 10), (490, 390), (10, 390))])
    for plan in (centre, faces):
        (shape,) = floor_geometry(plan.floors[0]).rooms
        assert shape.area == pytest.approx(480 * 380)
    assert "18.2 m\u00b2" in texts(svg_root(centre))


def test_l_shaped_room_area_and_imperial_area() -> None:
    corners = [(0, 0), (600, 0), (600, 300), (300, 300), (300, 600), (0, 600)]
    plan = one_floor(rooms=[room("L", *corners)])
    (shape,) = floor_geometry(plan.floors[0]).rooms
    assert shape.area == pytest.approx(600 * 300 + 300 * 300)
    assert area_text(shape.area, "imperial") == "291 ft\u00b2"  # 27 m² is 290.6 ft²
    assert "291 ft\u00b2" in texts(svg_root(plan, {"units": "imperial"}))


def test_closed_walls_are_one_mass_with_a_hole_per_room_and_square_corners() -> None:
    partition = wall((250, 0), (250, 400), 10)
    mass = floor_geometry(one_floor(walls=[*box_walls(500, 400), partition]).floors[0]).body
    assert mass.geom_type == "Polygon"
    assert len(mass.interiors) == 2
    # Mitred corners and no notches or slivers: the outline is the outer rectangle, four corners.
    assert len(mass.exterior.coords) == 5
    assert mass.bounds == (-10, -10, 510, 410)
    assert mass.area == pytest.approx(520 * 420 - 2 * (235 * 380))


def test_a_wall_drawn_to_the_face_of_another_joins_it_at_a_t() -> None:
    stem = wall((200, 10), (200, 300), 10)  # stops at the host's face, 10 cm off its centre line
    mass = floor_geometry(one_floor(walls=[wall((0, 0), (400, 0), 20), stem]).floors[0]).body
    assert mass.geom_type == "Polygon" and not mass.interiors
    assert mass.area == pytest.approx(400 * 20 + 290 * 10)


def test_walls_at_an_angle_meet_in_a_mitre() -> None:
    slanted = wall((0, 0), (300 * math.cos(math.radians(60)), 300 * math.sin(math.radians(60))), 20)
    mass = floor_geometry(one_floor(walls=[wall((0, 0), (300, 0), 20), slanted]).floors[0]).body
    assert mass.geom_type == "Polygon"
    # The outer faces meet at the mitre point, 10 / sin(30°) = 20 cm from the corner, away from both walls.
    outward = (-math.cos(math.radians(30)), -math.sin(math.radians(30)))
    mitre = Point(20 * outward[0], 20 * outward[1])
    assert mass.exterior.distance(mitre) < 0.05


def test_label_of_u_shaped_room_is_inside_it() -> None:
    corners = [(0, 0), (150, 0), (150, 400), (450, 400), (450, 0), (600, 0), (600, 550), (0, 550)]
    shape = Polygon(corners)
    assert not shape.contains(shape.centroid)
    name = texts(svg_root(one_floor(rooms=[room("Gallery", *corners)])))["Gallery"]
    assert shape.contains(Point(float(name.attrib["x"]), float(name.attrib["y"])))


def test_outer_chain_has_the_corners_and_the_window_jambs() -> None:
    window = {"type": "window", "offset": 200, "width": 100}
    walls = box_walls(500, 400)
    walls[0]["openings"] = [window]
    geometry = floor_geometry(one_floor(walls=walls).floors[0])
    chains = {chain.side: chain for chain in outer_chains(geometry.body, geometry.openings)}
    assert chains["top"].stations == (-10, 150, 250, 510)
    assert chains["bottom"].stations == (-10, 510)
    assert chains["left"].stations == (-10, 410)
    assert chains["top"].face == -10


def test_dimension_texts_read_in_the_chosen_units() -> None:
    plan = one_floor(walls=box_walls(500, 400))
    metric = set(texts(svg_root(plan)))
    assert {"5.20", "4.20"} <= metric
    assert {"17' 1\"", "13' 9\""} <= set(texts(svg_root(plan, {"units": "imperial"})))
    assert {"17.06'", "13.78'"} <= set(texts(svg_root(plan, {"units": "imperial_decimal"})))
    assert not {"5.20", "4.20"} & set(texts(svg_root(plan, {"dims": False})))


def test_inner_dimensions_give_each_rooms_clear_lengths() -> None:
    plan = one_floor(walls=box_walls(500, 400), rooms=[room("A", (0, 0), (500, 0), (500, 400), (0, 400))])
    assert "4.80" not in texts(svg_root(plan))
    found = [element.text for element in svg_root(plan, {"inner_dims": True}).iter(f"{SVG}text")]
    assert found.count("4.80") == 2 and found.count("3.80") == 2


def test_every_catalog_kind_has_a_symbol_that_stays_inside_the_item() -> None:
    assert set(KINDS) <= set(SYMBOLS)
    for kind, draw in SYMBOLS.items():
        for width, depth in ((90, 200), (200, 60), (45, 45)):
            symbol = draw(width, depth)
            numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", symbol.body + symbol.detail + symbol.hidden)]
            assert symbol.body, kind
            # Every coordinate (arc radii and flags too) is within the footprint; a rug's fringe may overhang.
            reach = max(width, depth) / 2 + (6 if kind == "rug" else 0.01)
            assert max(abs(v) for v in numbers) <= reach, (kind, width, depth)


def test_an_unknown_ref_is_a_plain_box_of_its_size() -> None:
    symbol = symbol_for("e4a0c7d5b3f2", 120, 60)
    assert (symbol.body, symbol.detail, symbol.hidden) == ("M-60 -30H60V30H-60Z", "", "")


def test_styles_change_paper_walls_and_room_fills() -> None:
    plan = one_floor(walls=box_walls(500, 400), rooms=[room("Den", (0, 0), (500, 0), (500, 400), (0, 400))])

    def fills(options: dict[str, Any]) -> set[str]:
        return {element.attrib["fill"] for element in svg_root(plan, options).iter() if "fill" in element.attrib}

    assert {"#f1f0ec", "#2b2b2b"} <= fills({})
    assert "#f1f0ec" not in fills({"style": "bw"}) and "#000000" in fills({"style": "bw"})
    assert "#1c4a86" in fills({"style": "blueprint"})


def test_north_arrow_turns_with_the_north_option() -> None:
    plan = one_floor(walls=box_walls(500, 400))

    def arrow_tip(north: float) -> tuple[float, float]:
        root = svg_root(plan, {"north": north})
        circle = next(root.iter(f"{SVG}circle"))
        # The arrow is the path drawn right after the circle: its first point is the tip.
        siblings = list(root.iter())
        path = siblings[siblings.index(circle) + 1]
        x, y = (float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.attrib["d"])[:2])
        return x - float(circle.attrib["cx"]), y - float(circle.attrib["cy"])

    up, right = arrow_tip(0), arrow_tip(90)
    assert up[1] < 0 and abs(up[0]) < 1e-6 * abs(up[1]) + 0.01
    assert right[0] > 0 and abs(right[1]) < 0.01


def test_pdf_embeds_the_font_and_keeps_text_as_text() -> None:
    pdf = render(EXAMPLE, "2d", "pdf", 800, 600, {})
    assert b"/FontFile" in pdf  # cairo embeds the subset of DejaVu Sans it uses
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_to_scale_pdf_has_one_page_per_sheet() -> None:
    apartment = parse_plan(json.loads((EXAMPLE_FILE.parent / "furnished-apartment.json").read_text()))
    floor = apartment.floors[0]
    assert sheet_layout(floor, "1:100", "A4", "auto").sheets == 1
    assert sheet_layout(floor, "1:50", "A3", "auto").sheets == 1
    tiled = sheet_layout(floor, "1:50", "A4", "auto")
    assert tiled.sheets == 2
    pdf = render(apartment, "2d", "pdf", 800, 600, {"scale": "1:50", "paper": "A4"})
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    assert render(apartment, "2d", "pdf", 800, 600, {"scale": "1:50", "paper": "A4"}) == pdf
    svg = ET.fromstring(render(apartment, "2d", "svg", 800, 600, {"scale": "1:100", "paper": "A4"}))
    assert (svg.attrib["width"], svg.attrib["height"]) == ("297mm", "210mm")


def test_to_scale_needs_a_vector_format_and_one_sheet_for_svg() -> None:
    apartment = parse_plan(json.loads((EXAMPLE_FILE.parent / "furnished-apartment.json").read_text()))
    with pytest.raises(RenderError) as raster:
        render(apartment, "2d", "png", 800, 600, {"scale": "1:50"})
    assert raster.value.code == "invalid_option"
    with pytest.raises(RenderError) as tiled:
        render(apartment, "2d", "svg", 800, 600, {"scale": "1:50", "paper": "A4"})
    assert tiled.value.code == "too_large"


def test_element_estimate_bounds_what_is_drawn() -> None:
    apartment = parse_plan(json.loads((EXAMPLE_FILE.parent / "furnished-apartment.json").read_text()))
    everything = {"inner_dims": True}
    drawn = sum(1 for _ in svg_root(apartment, everything, 1600, 1200).iter())
    assert drawn <= element_estimate(apartment.floors[0], Options2D.model_validate(everything))


def test_furnished_apartment_example_is_valid_and_complete() -> None:
    apartment = parse_plan(json.loads((EXAMPLE_FILE.parent / "furnished-apartment.json").read_text()))
    floor = apartment.floors[0]
    assert len(floor.rooms) == 8 and len(floor.items) >= 40
    assert all(lookup(item.ref) is not None for item in floor.items), "every item is a catalog item"
    shapes = floor_geometry(floor).rooms
    assert [round(shape.area / 10_000, 1) for shape in shapes] == [33.8, 15.6, 19.9, 13.5, 22.2, 6.0, 3.3, 14.6]


def test_walls_of_different_thickness_meeting_at_an_angle_render_in_2d_and_3d() -> None:
    from worker.render.view3d import view_of

    plan = parse_plan({"floors": [{"walls": [
        {"a": {"x": 0, "y": 0}, "b": {"x": 400, "y": 0}, "thickness": 10},
        {"a": {"x": 400, "y": 0}, "b": {"x": 600, "y": 200}, "thickness": 20},
        {"a": {"x": 600, "y": 200}, "b": {"x": 600, "y": 500}, "thickness": 35},
    ]}]})
    svg = render(plan, "2d", "svg", 400, 300, {})
    assert b"<path" in svg or b"<polygon" in svg
    assert view_of(plan, 320, 240, {}) is not None


# Curved walls and stairs

def test_a_curved_wall_is_drawn_along_its_arc() -> None:
    # From (0, 0) to (400, 0) turning 90 degrees clockwise: it bulges north, 82.8 cm beyond its chord.
    bay = {**wall((0, 0), (400, 0), 20), "arc": 90}
    plan = one_floor(walls=[bay])
    at, image = projector(plan), grey(plan)
    assert lum(image, at(200, -82.8)) < 60  # the top of the arc
    assert lum(image, at(200, 0)) > 250  # the chord is open floor
    assert lum(image, at(200, -110)) > 250


def test_an_opening_in_a_curved_wall_is_placed_along_the_arc() -> None:
    window = {"type": "window", "offset": 0, "width": 100}
    bay = {**wall((0, 0), (400, 0), 20), "arc": 90}
    length = parse_plan({"floors": [{"walls": [bay]}]}).floors[0].walls[0].length
    plan = one_floor(walls=[{**bay, "openings": [{**window, "offset": length / 2}]}])
    geometry = floor_geometry(plan.floors[0])
    (symbol,) = geometry.openings
    # Centred on the top of the arc (radius 282.8 about (200, 200)), 100 cm of it along the centre line: its
    # outer face reaches 292.8 sin(50 / 282.8) to either side.
    assert symbol.gap.contains(Point(200, -82.8))
    minx, _, maxx, _ = symbol.gap.bounds
    reach = 292.84 * math.sin(50 / 282.84)
    assert (minx, maxx) == (pytest.approx(200 - reach, abs=0.1), pytest.approx(200 + reach, abs=0.1))
    # The glass follows the arc: its lines are chords, not one straight line across.
    assert len(symbol.lines) > 4
    # No dimension chain measures the facets of the arc, nor the jambs of the window in it: the top chain
    # has only the stations where the arc ends.
    (top,) = [chain for chain in outer_chains(geometry.body, geometry.openings, geometry.curves)
              if chain.side == "top"]
    assert all(station < 40 or station > 360 for station in top.stations)


def stairs_plan(steps: int = 16, height: float | None = None) -> Plan:
    stair: dict[str, Any] = {"run": [{"x": 100, "y": 400}, {"x": 100, "y": 50}], "width": 90, "steps": steps}
    if height is not None:
        stair["height"] = height
    return parse_plan({"floors": [
        {"name": "Ground", "level": 0, "height": 280, "walls": [wall((0, 0), (300, 0)), wall((300, 0), (300, 450)),
                                                               wall((300, 450), (0, 450)), wall((0, 450), (0, 0))],
         "stairs": [stair]},
        {"name": "Upper", "level": 1, "height": 270, "walls": [wall((0, 0), (300, 0)), wall((300, 0), (300, 450))]},
    ]})


def stair_paths(root: ET.Element) -> list[ET.Element]:
    group = next(g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}circle") is not None)
    return list(group.iter(f"{SVG}path"))


def test_stairs_draw_their_treads_the_walk_line_the_cut_and_an_arrow_up() -> None:
    root = svg_root(stairs_plan(), PLAIN)
    paths = stair_paths(root)
    solid = next(p for p in paths if p.get("d", "").count("M") == 6)
    dashed = [p for p in paths if p.get("stroke-dasharray")]
    # 16 risers, 15 nosings: at 17.5 cm a riser the cut at 120 cm falls on the seventh tread; 9 lie above.
    assert solid.get("d", "").count("L") == 6
    assert dashed[0].get("d", "").count("M") == 9
    assert len(dashed) == 2  # the upper treads and the upper walk line
    arrow = next(p for p in paths if p.get("stroke") == "none")
    ys = [float(v) for v in re.findall(r"[-\d.]+", arrow.get("d", ""))[1::2]]
    assert min(ys) == pytest.approx(50)  # the arrowhead's tip is at the head of the flight


def test_a_short_flight_below_the_cut_has_no_break_line() -> None:
    paths = stair_paths(svg_root(stairs_plan(steps=4, height=70), PLAIN))
    assert not [p for p in paths if p.get("stroke-dasharray")]


def test_a_flight_shows_whole_down_its_stairwell_on_the_floor_it_climbs_to() -> None:
    paths = stair_paths(svg_root(stairs_plan(), {**PLAIN, "floor": 1}))
    assert not [p for p in paths if p.get("stroke-dasharray")]
    nosings = next(p for p in paths if p.get("d", "").count("M") == 15)
    assert nosings is not None


# Whole buildings

HOUSE = parse_plan(json.loads((EXAMPLE_FILE.parent / "two-storey-house.json").read_text()))


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def test_floor_all_draws_every_floor_side_by_side_under_its_name() -> None:
    root = svg_root(HOUSE, {"floor": "all"}, 1600, 900)
    names = texts(root)
    assert {"Ground floor", "First floor", "Kitchen", "Landing"} <= set(names)
    assert float(names["Ground floor"].attrib["x"]) < float(names["First floor"].attrib["x"])
    # One frame for all: the floors stand at the same height, one cell apart, as they stand over each other.
    moves = [g.attrib["transform"] for g in root.iter(f"{SVG}g") if g.attrib.get("transform", "").startswith("tr")]
    (x0, y0), (x1, y1) = [tuple(float(v) for v in re.findall(r"[-\d.]+", move)) for move in moves]
    assert y0 == pytest.approx(y1) and x1 > x0 + 900
    image = Image.open(io.BytesIO(render(HOUSE, "2d", "png", 1600, 900, {"floor": "all"}))).convert("L")
    assert image.size == (1600, 900)
    left, right = image.crop((0, 0, 800, 900)), image.crop((800, 0, 1600, 900))
    assert _darkest(left) < 60 and _darkest(right) < 60  # wall poché on both halves


def _darkest(image: Image.Image) -> float:
    low, _ = image.getextrema()  # a one-band image: (darkest, lightest)
    assert isinstance(low, int | float)
    return low


def test_a_pdf_of_all_floors_has_a_page_per_floor_each_under_its_name() -> None:
    assert pdf_pages(render(HOUSE, "2d", "pdf", 800, 600, {"floor": "all"})) == 2
    assert pdf_pages(render(HOUSE, "2d", "pdf", 800, 600, {"floor": 1})) == 1
    to_scale = render(HOUSE, "2d", "pdf", 800, 600, {"floor": "all", "scale": "1:100", "paper": "A4"})
    assert pdf_pages(to_scale) == 2
    with pytest.raises(RenderError, match="SVG holds one"):
        render(HOUSE, "2d", "svg", 800, 600, {"floor": "all", "scale": "1:100", "paper": "A4"})


def test_limits_count_the_sheets_of_every_floor() -> None:
    from shared.render_limits import plan_problems

    one = sheet_layout(HOUSE.floors[0], "1:50", "A4", "auto").sheets
    assert one > 1
    found = plan_problems(HOUSE, "2d", "pdf", Options2D(floor="all", scale="1:50", paper="A4").model_dump())
    assert (found == []) == (2 * one <= 12)
    assert plan_problems(HOUSE, "2d", "png", {"floor": "all"}) == []


def test_the_north_arrow_follows_the_plans_north_unless_the_option_says() -> None:
    turned = parse_plan({**json.loads(EXAMPLE.model_dump_json()), "north": 90})

    def arrow_tip(plan: Plan, options: dict[str, Any]) -> tuple[float, float]:
        root = svg_root(plan, options)
        circle = next(root.iter(f"{SVG}circle"))
        cx, cy = float(circle.attrib["cx"]), float(circle.attrib["cy"])
        arrow = [p for p in root.iter(f"{SVG}path") if p.attrib.get("stroke") == "none"][-1]
        x, y = (float(v) for v in re.findall(r"[-\d.]+", arrow.attrib["d"])[:2])
        return x - cx, y - cy

    assert arrow_tip(EXAMPLE, {})[1] < 0  # up the page
    east = arrow_tip(turned, {})
    assert east[0] > 0 and abs(east[1]) < 0.01
    assert arrow_tip(turned, {"north": 0})[1] < 0


# What floorplan vendors' exports offer

def two_rooms() -> Plan:
    """A 500 x 400 box of 20 cm walls on its outline, split by a 10 cm wall at x = 300."""
    return one_floor(walls=[*box_walls(500, 400), wall((300, 0), (300, 400), 10)],
                     rooms=[{"name": "Living", "type": "living", "polygon": [{"x": 0, "y": 0}, {"x": 300, "y": 0},
                                                                            {"x": 300, "y": 400}, {"x": 0, "y": 400}]},
                            {"name": "Closet", "type": "closet", "polygon": [{"x": 300, "y": 0}, {"x": 500, "y": 0},
                                                                            {"x": 500, "y": 400},
                                                                            {"x": 300, "y": 400}]}])


def rgb_at(plan: Plan, options: dict[str, Any], point: tuple[float, float]) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(render(plan, "2d", "png", 800, 600, {**PLAIN, **options}))).convert("RGB")
    pixel = projector(plan)(*point)
    value = image.getpixel(pixel)
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


def test_rooms_are_filled_by_type_from_the_styles_palette_or_the_options() -> None:
    plan = two_rooms()
    assert rgb_at(plan, {}, (150, 300)) == (0xF4, 0xEC, 0xDC)  # living, in colour
    assert rgb_at(plan, {"style": "bw"}, (150, 300)) == (255, 255, 255)  # no fill where people live in print
    assert rgb_at(plan, {"style": "bw"}, (400, 300)) == (0xF2, 0xF2, 0xF2)  # a closet, light grey
    assert rgb_at(plan, {"room_colors": {"Living": "#336699"}}, (150, 300)) == (0x33, 0x66, 0x99)


def test_labels_and_inner_dimensions_are_hidden_for_the_room_types_asked() -> None:
    plan = two_rooms()
    shown = [e.text for e in svg_root(plan, {"inner_dims": True}).iter(f"{SVG}text")]
    hidden = [e.text for e in svg_root(plan, {"inner_dims": True, "hide_labels_for": ["closet"]}).iter(f"{SVG}text")]
    assert "Closet" in shown and "Closet" not in hidden and "Living" in hidden
    # The closet's inner faces are 185 cm wide (200 less a half of each wall): gone with its label.
    assert "1.85" in shown and "1.85" not in hidden


def test_gross_areas_add_half_the_walls_between_rooms_and_all_of_those_outside() -> None:
    plan = one_floor(walls=box_walls(500, 400), rooms=[room("Box", (0, 0), (500, 0), (500, 400), (0, 400))])
    assert "18.2 m\u00b2" in texts(svg_root(plan))  # 480 x 380 inside the walls
    assert "21.8 m\u00b2" in texts(svg_root(plan, {"area_rule": "gross"}))  # 520 x 420 over them
    split = {element.text for element in svg_root(two_rooms(), {"area_rule": "gross"}).iter(f"{SVG}text")}
    # Living: from the outside face at -10 to the partition's middle at 300, 420 deep; the closet the rest.
    assert {"13.0 m\u00b2", "8.8 m\u00b2"} <= split


def test_a_totals_block_gives_each_floor_and_the_whole() -> None:
    found = texts(svg_root(HOUSE, {"totals": True, "floor": "all"}, 1600, 900))
    assert {"Net floor area", "Ground floor", "First floor", "Total"} <= set(found)
    figures = [element.text for element in svg_root(HOUSE, {"totals": True}).iter(f"{SVG}text")]
    assert "115.1 m\u00b2" in figures  # 57.9 + 57.2
    assert "Gross floor area" in texts(svg_root(HOUSE, {"totals": True, "area_rule": "gross"}))


LOGO = "iVBORw0KGgoAAAANSUhEUgAAABQAAAAKCAIAAAA7N+mxAAAAFUlEQVR4nGP8z0A+YKJA76jmEaIZAHjzARO1LQhGAAAAAElFTkSuQmCC"


def test_a_logo_is_drawn_inline_in_its_corner_and_nothing_is_fetched() -> None:
    options = {**PLAIN, "branding": {"logo_png_base64": LOGO, "text": "Acme", "position": "top-left"}}
    root = svg_root(EXAMPLE, options)
    (image,) = list(root.iter(f"{SVG}image"))
    assert image.attrib["href"].startswith("data:image/png;base64,")
    assert "Acme" in texts(root)
    picture = Image.open(io.BytesIO(render(EXAMPLE, "2d", "png", 800, 600, options))).convert("RGB")
    x, y = float(image.attrib["x"]), float(image.attrib["y"])
    vx, vy, vw, _ = (float(v) for v in root.attrib["viewBox"].split())
    scale = 800 / vw
    red = picture.getpixel((int((x - vx) * scale) + 3, int((y - vy) * scale) + 3))
    assert red == (255, 0, 0)


@pytest.mark.parametrize(("logo", "why"), [
    ("https://example.com/logo.png", "base64"),
    (base64.b64encode(b"GIF89a" + bytes(40)).decode(), "not a PNG"),
    (base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40 * 1024)).decode(), "at most"),
    (base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x20\x00\x00\x00\x00\x10\x08\x02\x00\x00\x00"
                      b"\x00\x00\x00\x00").decode(), "a side"),
], ids=["url", "gif", "too-big", "too-wide"])
def test_a_logo_that_is_no_small_inline_png_is_refused(logo: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Options2D.model_validate({"branding": {"logo_png_base64": logo}})


# Dimension figures that read

def text_boxes(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every text's extent, by the renderer's font metrics, turned as it is drawn."""
    boxes = []
    for text in root.iter(f"{SVG}text"):
        size = float(text.attrib.get("font-size", 10))
        width = len(text.text or "") * size * (0.66 if text.attrib.get("font-weight") == "bold" else 0.6)
        # The glyphs' middle is 0.365 em above the baseline (DejaVu's capitals, centred in their line).
        x, y = float(text.attrib["x"]), float(text.attrib["y"]) - size * 0.365
        anchor = text.attrib.get("text-anchor", "middle")
        left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        box = (left, y - size * 0.5, left + width, y + size * 0.5)
        turn = re.match(r"rotate\((-?[\d.]+) (-?[\d.]+) (-?[\d.]+)\)", text.attrib.get("transform", ""))
        if turn and float(turn[1]) == -90:
            # A quarter turn about (cx, cy): x offsets become y offsets and y offsets x ones.
            cx, cy = float(turn[2]), float(turn[3])
            box = (cx + (box[1] - cy), cy - (box[2] - cx), cx + (box[3] - cy), cy - (box[0] - cx))
        boxes.append((text.text or "", box))
    return boxes


def overlapping(root: ET.Element) -> list[tuple[str, str]]:
    boxes = text_boxes(root)
    found = []
    for i, (a, p) in enumerate(boxes):
        for b, q in boxes[i + 1:]:
            if p[0] < q[2] - 0.01 and q[0] < p[2] - 0.01 and p[1] < q[3] - 0.01 and q[1] < p[3] - 0.01:
                found.append((a, b))
    return found


def imported(name: str) -> Plan:
    from shared.importers import import_file

    return import_file((Path(__file__).resolve().parent / "samples" / name).read_bytes(),
                       "ifc" if name.endswith(".ifc") else "sh3d").plan


@pytest.mark.parametrize(("name", "options"), [
    ("sh3d-2bedroom-house-with-basement-Home.xml", {"floor": 0}),
    ("sh3d-2bedroom-house-with-basement-Home.xml", {"floor": 1, "inner_dims": True}),
    ("ifc2x3-acad2010-walls.ifc", {}),
    ("ifc4-project0-openings.ifc", {"units": "imperial"}),
], ids=["basement", "first-floor-inner-dims", "autocad-letters", "blenderbim-imperial"])
def test_no_two_figures_of_a_real_file_overlap(name: str, options: dict[str, Any]) -> None:
    root = svg_root(imported(name), options, 1000, 750)
    assert overlapping(root) == []


def test_a_jog_of_a_few_centimetres_is_merged_and_a_short_segment_keeps_a_readable_figure() -> None:
    # The south face steps out 3 cm at x = 300, and a 25 cm pier stands between two windows.
    windows = ({"type": "window", "offset": 150, "width": 130}, {"type": "window", "offset": 305, "width": 130})
    plan = one_floor(walls=[wall((0, 0), (500, 0), 20, windows), wall((500, 0), (500, 400)),
                            wall((500, 400), (300, 400)), wall((300, 403), (0, 403)), wall((0, 403), (0, 0))])
    root = svg_root(plan, PLAIN | {"dims": True}, 800, 600)
    figures = [element.text for element in root.iter(f"{SVG}text")]
    assert "0.03" not in figures
    assert "0.25" in figures  # the pier between the windows, beside its segment if not on it
    assert overlapping(root) == []
