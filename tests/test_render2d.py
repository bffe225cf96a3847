"""The 2D renderer checked on decoded output: pixels where the plan puts walls, doors, windows; SVG text."""

from __future__ import annotations

import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from shapely.geometry import Point, Polygon

from shared.plan import Item, Plan, parse_plan
from worker.render import CONTENT_TYPES, FORMATS_BY_VIEW, MAX_SIDE, RenderError, render
from worker.render.geometry import item_footprint

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


def grey(plan: Plan, width: int = 800, height: int = 600) -> Image.Image:
    return Image.open(io.BytesIO(render(plan, "2d", "png", width, height, {}))).convert("L")


def svg_root(plan: Plan, options: dict[str, Any] | None = None, width: int = 800,
             height: int = 600) -> ET.Element:
    return ET.fromstring(render(plan, "2d", "svg", width, height, options or {}))


def projector(plan: Plan, width: int = 800, height: int = 600) -> Callable[[float, float], tuple[int, int]]:
    """Where a plan point (cm) lands on the canvas, read from the viewBox the renderer chose."""
    vx, vy, vw, vh = (float(v) for v in svg_root(plan, {}, width, height).attrib["viewBox"].split())
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
    assert 2 <= runs <= 3
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
    for plan in (EXAMPLE, one_floor(rooms=hostile, labels=labels)):
        root = svg_root(plan)
        tags = {element.tag.removeprefix(SVG) for element in root.iter()}
        assert tags <= {"svg", "title", "rect", "g", "path", "text"}
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


def test_3d_raises_unsupported_view() -> None:
    with pytest.raises(RenderError) as caught:
        render(EXAMPLE, "3d", "png", 800, 600, {})
    assert caught.value.code == "unsupported_view"


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
