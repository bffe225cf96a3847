"""The 2D renderer checked on decoded output: pixels where the plan puts walls, doors, windows; SVG text."""

from __future__ import annotations

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
    assert {"17'-1\"", "13'-9\""} <= set(texts(svg_root(plan, {"units": "imperial"})))
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
