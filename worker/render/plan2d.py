"""The 2D plan: one floor of a plan drawn as SVG in cm user units, the source of every 2D output format.

Geometry comes from `geometry`, markup from `svg`; this module decides what is drawn, in what order and size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from shared.plan import Floor, Label, Plan
from worker.render.errors import RenderError
from worker.render.geometry import (
    Bounds,
    DoorLeaf,
    FloorGeometry,
    ItemShape,
    OpeningSymbol,
    Pt,
    RoomShape,
    clear_floor,
    floor_geometry,
    free_span,
    label_point,
    union_bounds,
)
from worker.render.svg import element, num, path_data

FONT = "DejaVu Sans"  # installed with the worker; the SVG must not fetch fonts
INK = "#262626"
SOFT_INK = "#5c5c5c"
ITEM_INK = "#7a7a7a"
PAPER = "#ffffff"
ROOM_TINTS = {
    "living": "#f4ecdc", "dining": "#f4ecdc", "kitchen": "#f8e5d3",
    "bedroom": "#e2eaf5", "office": "#e6efdf", "study": "#e6efdf",
    "bath": "#dcefef", "bathroom": "#dcefef", "wc": "#dcefef", "toilet": "#dcefef", "shower": "#dcefef",
    "hall": "#ecebe6", "corridor": "#ecebe6", "entrance": "#ecebe6",
    "storage": "#e9e9e9", "utility": "#e9e9e9", "laundry": "#e9e9e9",
    "balcony": "#e4f0dc", "terrace": "#e4f0dc",
}
ROOM_TINT = "#f1f0ec"

# Sizes in pixels of the output, scaled with the canvas so that a bigger image is the same drawing, sharper.
MARGIN_SHARE = 0.05  # of the shorter side, around the drawing
MIN_MARGIN_PX = 12.0
MIN_SPAN_CM = 100.0  # a lone label or item is shown at the scale of a small room, not magnified without end
NAME_SHARE = 1 / 55  # room name height, of the shorter side
MIN_TEXT_PX = 7.0  # below this text is a smudge: room names overflow rather than shrink further
MIN_ITEM_TEXT_PX = 6.0  # item refs are secondary, so they are left out rather than overflow
ADVANCE = 0.6  # DejaVu Sans: mean advance of a character, in ems (bold is wider)
BOLD_ADVANCE = 0.66
LINE_HEIGHT = 1.2

Line = tuple[str, float, bool]  # text, size in cm, bold


@dataclass(frozen=True)
class Viewport:
    """The user-space window (cm) shown on a width x height px canvas, of the same aspect ratio."""

    x: float
    y: float
    width: float
    height: float
    px_per_cm: float

    def viewbox(self) -> str:
        return " ".join(num(v) for v in (self.x, self.y, self.width, self.height))


@dataclass(frozen=True)
class Pens:
    """Line widths and text sizes in cm, chosen so that they come out at fixed pixel sizes on the canvas."""

    px_per_cm: float
    canvas_px: float  # the canvas's shorter side

    def line(self, weight: float) -> float:
        # Weight 1 is 1 px on a 1000 px canvas; on smaller ones lines keep their weight in pixels, since
        # thinner than about a pixel they fade to grey.
        return max(weight * self.canvas_px / 1000, min(weight, 1.0)) / self.px_per_cm

    def text(self, share: float, floor_px: float) -> float:
        return max(share * NAME_SHARE * self.canvas_px, floor_px) / self.px_per_cm

    def px(self, pixels: float) -> float:
        return pixels / self.px_per_cm


def plan_to_svg(plan: Plan, width: int, height: int, options: Mapping[str, Any]) -> str:
    """The chosen floor (`options["floor"]`, default 0) fitted to a width x height px canvas, as SVG text.

    Option `areas` (default true) writes each room's area under its name.
    """
    floor = chosen_floor(plan, options)
    show_areas = _bool_option(options, "areas", True)
    geometry = floor_geometry(floor)
    canvas_px = float(min(width, height))
    view = fit_viewport(geometry.bounds(), floor.labels, width, height)
    pens = Pens(view.px_per_cm, canvas_px)
    title = " - ".join(part for part in (plan.name, floor.name) if part)
    body = [
        element("title", {}, text=title) if title else "",
        element("rect", {"x": view.x, "y": view.y, "width": view.width, "height": view.height,
                         "fill": PAPER}),
        _rooms(geometry.rooms),
        _items(geometry.items, pens),
        element("path", {"d": path_data(geometry.walls), "fill": INK, "fill-rule": "evenodd"})
        if not geometry.walls.is_empty else "",
        _openings(geometry.openings, pens),
        _room_names(geometry, pens, show_areas),
        _item_refs(geometry.items, pens),
        _labels(floor.labels, pens),
    ]
    return element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "version": "1.1",
        "width": str(width), "height": str(height), "viewBox": view.viewbox(),
        "preserveAspectRatio": "xMidYMid meet",
    }, *body) + "\n"


def chosen_floor(plan: Plan, options: Mapping[str, Any]) -> Floor:
    index = options.get("floor")
    if index is None:
        index = 0
    count = len(plan.floors)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise RenderError("invalid_option",
                          f"option floor={index!r} names no floor: the plan has floors 0 to {count - 1}")
    return plan.floors[index]


def _bool_option(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if not isinstance(value, bool):
        raise RenderError("invalid_option", f"option {name}={value!r} must be true or false")
    return value


def fit_viewport(bounds: Bounds | None, labels: Iterable[Label], width: int, height: int) -> Viewport:
    """Fit the drawing and its labels, centred, with a margin; an empty floor gets a blank 10 m square."""
    labels = list(labels)
    view = _fit(bounds or (0.0, 0.0, 1000.0, 1000.0), width, height)
    # Label text has a size in pixels, so its extent in cm depends on the fit: refine the fit a few times.
    for _ in range(3 if labels else 0):
        pens = Pens(view.px_per_cm, float(min(width, height)))
        boxes = [_label_box(label, pens) for label in labels]
        view = _fit(union_bounds([*boxes, bounds] if bounds else boxes) or boxes[0], width, height)
    return view


def _fit(bounds: Bounds, width: int, height: int) -> Viewport:
    minx, miny, maxx, maxy = bounds
    margin = max(MIN_MARGIN_PX, MARGIN_SHARE * min(width, height))
    span_x, span_y = max(maxx - minx, MIN_SPAN_CM), max(maxy - miny, MIN_SPAN_CM)
    px_per_cm = min(max(width - 2 * margin, 1.0) / span_x, max(height - 2 * margin, 1.0) / span_y)
    view_w, view_h = width / px_per_cm, height / px_per_cm
    return Viewport((minx + maxx - view_w) / 2, (miny + maxy - view_h) / 2, view_w, view_h, px_per_cm)


def _label_box(label: Label, pens: Pens) -> Bounds:
    size = pens.text(0.8, MIN_TEXT_PX)
    return _box((label.x, label.y), _text_width(label.text, size, bold=False), size * LINE_HEIGHT).bounds


def _text_width(text: str, size: float, bold: bool) -> float:
    return len(text) * size * (BOLD_ADVANCE if bold else ADVANCE)


def _rooms(rooms: Iterable[RoomShape]) -> str:
    return element("g", {"stroke": "none"}, *(
        element("path", {"d": path_data(shape.polygon),
                         "fill": ROOM_TINTS.get(shape.room.type.lower(), ROOM_TINT)})
        for shape in rooms
    ))


def _items(items: Iterable[ItemShape], pens: Pens) -> str:
    return element("g", {"fill": "none", "stroke": ITEM_INK, "stroke-width": pens.line(1.0),
                         "stroke-linejoin": "round"},
                   *(element("path", {"d": path_data(shape.footprint)}) for shape in items))


def _openings(openings: Iterable[OpeningSymbol], pens: Pens) -> str:
    parts: list[str] = []
    for symbol in openings:
        if symbol.type == "window":
            # The room tint would show through the glass: a window is drawn on paper.
            parts.append(element("path", {"d": path_data(symbol.gap), "fill": PAPER, "stroke": "none"}))
        if symbol.lines:
            weight = 0.9 if symbol.type == "window" else 1.4
            parts.append(element("path", {"d": "".join(f"M{num(a[0])} {num(a[1])}L{num(b[0])} {num(b[1])}"
                                                       for a, b in symbol.lines),
                                          "stroke-width": pens.line(weight)}))
        parts.extend(_leaf(leaf, pens) for leaf in symbol.leaves)
    return element("g", {"fill": "none", "stroke": INK, "stroke-linecap": "butt"}, *parts)


def _leaf(leaf: DoorLeaf, pens: Pens) -> str:
    (hx, hy), (ox, oy), (cx, cy) = leaf.hinge, leaf.open_tip, leaf.closed_tip
    # SVG's sweep flag 1 turns towards +y from +x, which is the sign of this cross product.
    sweep = 1 if (ox - hx) * (cy - hy) - (oy - hy) * (cx - hx) > 0 else 0
    radius = num(leaf.radius)
    arc = f"M{num(ox)} {num(oy)}A{radius} {radius} 0 0 {sweep} {num(cx)} {num(cy)}"
    leaf_line = f"M{num(hx)} {num(hy)}L{num(ox)} {num(oy)}"
    return (element("path", {"d": leaf_line, "stroke-width": pens.line(2.2)})
            + element("path", {"d": arc, "stroke": SOFT_INK, "stroke-width": pens.line(0.9)}))


def _room_names(geometry: FloorGeometry, pens: Pens, show_areas: bool) -> str:
    furniture = unary_union([shape.footprint for shape in geometry.items])
    parts: list[str] = []
    for shape in geometry.rooms:
        lines, (x, y) = _room_label(shape, furniture, pens, show_areas)
        if lines:
            parts.append(_text_block(lines, x, y))
    return element("g", {"font-family": FONT, "fill": INK, "text-anchor": "middle"}, *parts)


def _room_label(shape: RoomShape, furniture: BaseGeometry, pens: Pens,
                show_areas: bool) -> tuple[list[Line], Pt]:
    """The name (bold) over the area, as large as fits, at the room's centre or else clear of furniture."""
    name = shape.room.name.strip()
    area = f"{shape.polygon.area / 10_000:.1f} m\u00b2" if show_areas else ""
    full = pens.text(1.0, MIN_TEXT_PX)
    block_w = max(_text_width(name, full, True), _text_width(area, full * 0.75, False))
    block_h = ((full if name else 0.0) + (full * 0.75 if area else 0.0)) * LINE_HEIGHT
    region, point = shape.polygon, label_point(shape.polygon)
    if _box(point, block_w, block_h).intersects(furniture):
        # Moved onto the clear floor only where it fits there at full size: a name too small to read is worse
        # than one over a table.
        clear = clear_floor(shape.polygon, furniture)
        if not clear.is_empty:
            clear_point = label_point(clear)
            span_w, span_h = free_span(clear, clear_point)
            if block_w <= 0.9 * span_w and block_h <= 0.9 * span_h:
                region, point = clear, clear_point
    span_w, span_h = free_span(region, point)
    size = max(min(full, 0.9 * span_w / max(len(name) * BOLD_ADVANCE, 1.0)), pens.px(MIN_TEXT_PX))
    lines: list[Line] = [(name, size, True)] if name else []
    area_size = max(size * 0.75, pens.px(MIN_TEXT_PX))
    block = (len(lines) * size + area_size) * LINE_HEIGHT
    # The area is extra: it goes only where it fits beside a name that does.
    fits = block <= 0.9 * span_h and _text_width(area, area_size, False) <= 0.9 * span_w
    if area and (not lines or fits):
        lines.append((area, area_size, False))
    return lines, point


def _box(centre: Pt, width: float, height: float) -> Polygon:
    x, y = centre
    return box(x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def _text_block(lines: list[Line], x: float, y: float, rotate: float = 0.0) -> str:
    """Lines of text centred as a block on (x, y), optionally turned clockwise about it."""
    top = y - sum(size for _, size, _ in lines) * LINE_HEIGHT / 2
    out: list[str] = []
    for text, size, bold in lines:
        # A baseline placed so the capitals sit centred in their line: DejaVu caps are 0.73 em tall.
        baseline = top + size * (LINE_HEIGHT + 0.73) / 2
        attrs: dict[str, str | float] = {"x": x, "y": baseline, "font-size": size}
        if bold:
            attrs["font-weight"] = "bold"
        if rotate:
            attrs["transform"] = f"rotate({num(rotate)} {num(x)} {num(y)})"
        out.append(element("text", attrs, text=text))
        top += size * LINE_HEIGHT
    return "".join(out)


def _item_refs(items: Iterable[ItemShape], pens: Pens) -> str:
    parts: list[str] = []
    for shape in items:
        item = shape.item
        # Text runs along the item's width and is never upside down.
        turn = item.rotation % 360
        if 90 < turn <= 270:
            turn -= 180
        size = min(pens.text(0.6, MIN_ITEM_TEXT_PX), 0.9 * item.width / (len(item.ref) * ADVANCE),
                   0.6 * item.depth)
        if size >= pens.px(MIN_ITEM_TEXT_PX):
            parts.append(_text_block([(item.ref, size, False)], item.x, item.y, turn))
    return element("g", {"font-family": FONT, "fill": SOFT_INK, "text-anchor": "middle"}, *parts)


def _labels(labels: Iterable[Label], pens: Pens) -> str:
    size = pens.text(0.8, MIN_TEXT_PX)
    return element("g", {"font-family": FONT, "fill": INK, "text-anchor": "middle"},
                   *(_text_block([(label.text, size, False)], label.x, label.y) for label in labels))
