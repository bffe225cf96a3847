"""The 2D plan: one floor of a plan drawn as SVG in cm user units, the source of every 2D output format.

Geometry comes from `geometry` and `dimensions`, furniture from `symbols2d`, markup from `svg`; this module
decides what is drawn, in what order, size and colour: fitted to a canvas, or to scale on sheets of paper.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from shared.paper import SheetLayout
from shared.plan import Floor, Label, Plan, floor_elevations, json_path
from shared.render_options import Options2D
from worker.render.areas import room_areas
from worker.render.dimension_labels import FigurePlacer
from worker.render.dimensions import Chain, EdgeDimension, outer_chains, room_edges
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
    leaf_extent,
    union_bounds,
)
from worker.render.marks2d import RULE_TITLES, brand_mark, brand_width, totals_rows, totals_size, totals_table
from worker.render.measure import area_text, length_text, scale_bar
from worker.render.stairs import StairShape, stair_shape
from worker.render.svg import BOLD_ADVANCE, FONT, LINE_HEIGHT, element, num, path_data, text_width
from worker.render.symbols2d import lies_flat, symbol_for

# Sizes are in drawing units: 1 unit is 1 px on a 1000 px canvas (scaled with the canvas, so a bigger image
# is the same drawing, sharper) and PAPER_UNIT_MM on paper.
PX_PER_MM = 96 / 25.4  # cairosvg's user unit is a CSS pixel
PAPER_UNIT_MM = 0.17
NAME_UNITS = 1000 / 55  # room name height
MARGIN_SHARE = 0.05  # of the shorter side, around the drawing
MIN_MARGIN_PX = 12.0
MIN_SPAN_CM = 100.0  # a lone label or item is shown at the scale of a small room, not magnified without end
MIN_TEXT_PX = 7.0  # below this text is a smudge: room names overflow rather than shrink further
# Dimension chains: distances from the drawing to the first and the overall chain, and their text.
CHAIN_GAP = 20.0
CHAIN_STEP = 17.0
DIM_TEXT = 9.5
INNER_GAP = 7.0  # inner dimensions: from the wall face into the room
LEGEND = 46.0  # the strip under a fitted drawing that holds the scale bar and the north arrow
BRAND = 34.0  # a logo's height; its text is BRAND_TEXT high
BRAND_TEXT = 12.0
BRAND_BAND = BRAND + 12.0  # the band a logo at the top of the canvas takes
HEADING = 1.15  # a floor's name over its drawing in a building's render, in room-name heights
HEADING_LINES = 1.9  # the heading's line, with the space under it
ARRIVAL_TOLERANCE = 40.0  # cm: a flight whose head is this close to a floor's level arrives on it

Line = tuple[str, float, bool]  # text, size in cm, bold


@dataclass(frozen=True)
class Palette:
    """The colours of one style."""

    paper: str
    wall: str
    ink: str  # door leaves, window frames, dimensions, text
    soft_ink: str  # swings, hidden lines
    item_ink: str
    item_fill: str
    glass: str  # a window's gap
    room_tints: Mapping[str, str]
    room_tint: str | None  # rooms of a type without a tint of their own; None draws no room fill


ROOM_TINTS = {
    "living": "#f4ecdc", "dining": "#f4ecdc", "kitchen": "#f8e5d3",
    "bedroom": "#e2eaf5", "office": "#e6efdf", "study": "#e6efdf",
    "bath": "#dcefef", "bathroom": "#dcefef", "wc": "#dcefef", "toilet": "#dcefef", "shower": "#dcefef",
    "hall": "#ecebe6", "corridor": "#ecebe6", "entrance": "#ecebe6", "stairs": "#ecebe6",
    "storage": "#e9e9e9", "utility": "#e9e9e9", "laundry": "#e9e9e9", "closet": "#e9e9e9", "garage": "#e6e6e3",
    "balcony": "#e4f0dc", "terrace": "#e4f0dc",
}
# Black on white for print: no fill where people live, light greys that photocopy for wet rooms, storage
# and the outdoors, as printed plans shade them.
BW_TINTS = {
    "bath": "#eeeeee", "bathroom": "#eeeeee", "wc": "#eeeeee", "toilet": "#eeeeee", "shower": "#eeeeee",
    "kitchen": "#f5f5f5", "storage": "#f2f2f2", "utility": "#f2f2f2", "laundry": "#f2f2f2", "closet": "#f2f2f2",
    "garage": "#eaeaea", "balcony": "#f7f7f7", "terrace": "#f7f7f7",
}
# White on blue: the same grouping, a shade lighter than the paper.
BLUEPRINT_TINTS = {
    "bath": "#25568f", "bathroom": "#25568f", "wc": "#25568f", "toilet": "#25568f", "shower": "#25568f",
    "kitchen": "#21508c", "storage": "#20508b", "utility": "#20508b", "laundry": "#20508b", "closet": "#20508b",
    "garage": "#1a4680", "balcony": "#23538c", "terrace": "#23538c",
}
PALETTES = {
    "color": Palette("#ffffff", "#2b2b2b", "#262626", "#6b6b6b", "#6e6e6e", "#ffffff", "#ffffff", ROOM_TINTS,
                     "#f1f0ec"),
    "bw": Palette("#ffffff", "#000000", "#000000", "#000000", "#000000", "#ffffff", "#ffffff", BW_TINTS, None),
    "blueprint": Palette("#1c4a86", "#eef4fb", "#ffffff", "#c7daf2", "#dbe8f7", "#1c4a86", "#1c4a86",
                         BLUEPRINT_TINTS, None),
}


@dataclass(frozen=True)
class Pens:
    """Line widths and text sizes in cm, chosen so that they come out at fixed sizes on the output."""

    px_per_cm: float
    unit_px: float  # one drawing unit in output pixels
    min_px: float = 1.0  # on a raster, lines thinner than about a pixel fade to grey; on paper there is no floor

    def line(self, weight: float) -> float:
        """A line width in cm for `weight`, never thinner than the minimum."""
        return max(weight * self.unit_px, min(weight, 1.0) * self.min_px) / self.px_per_cm

    def units(self, count: float) -> float:
        """`count` drawing units in cm."""
        return count * self.unit_px / self.px_per_cm

    def text(self, share: float, floor_px: float = MIN_TEXT_PX) -> float:
        """A text size in cm, `share` of a room name's, never below `floor_px`."""
        return max(share * NAME_UNITS * self.unit_px, floor_px) / self.px_per_cm

    def px(self, pixels: float) -> float:
        """`pixels` in cm."""
        return pixels / self.px_per_cm


@dataclass(frozen=True)
class Viewport:
    """The user-space window (cm) shown on a width x height px canvas, of the same aspect ratio."""

    x: float
    y: float
    width: float
    height: float
    px_per_cm: float

    def viewbox(self) -> str:
        """The SVG viewBox attribute."""
        return " ".join(num(v) for v in (self.x, self.y, self.width, self.height))


@dataclass(frozen=True)
class Scene:
    """What one floor shows, with the options that shape it; independent of canvas and paper."""

    title: str
    floor: Floor
    geometry: FloorGeometry
    chains: tuple[Chain, ...]
    options: Options2D
    palette: Palette
    stairs: tuple[StairShape, ...] = ()
    north: float = 0.0  # degrees clockwise from the top of the page
    areas: tuple[float, ...] = ()  # cm², of each of geometry.rooms by the options' area rule
    totals: tuple[tuple[str, float], ...] = ()  # each floor's name and area, when the options ask for totals

    def bounds(self) -> Bounds | None:
        """The extent of everything the floor draws except text."""
        boxes = [box for box in (self.geometry.bounds(),) if box]
        return union_bounds(boxes + [stair.outline.bounds for stair in self.stairs])


def read_options(options: Mapping[str, Any]) -> Options2D:
    """The stored options dict as Options2D, strictly.

    The API stored what it validated, so anything else is a caller's mistake.
    """
    try:
        return Options2D.model_validate(dict(options), strict=True)
    except ValidationError as exc:
        raise RenderError("invalid_option", "; ".join(
            f"option {json_path(e['loc'])}={e.get('input')!r}: {e['msg']}" for e in exc.errors())) from None


def chosen_floors(plan: Plan, options: Options2D) -> list[int]:
    """The indexes of the floors to draw: the one asked for, or all of them from the lowest level up."""
    count = len(plan.floors)
    if options.floor == "all":
        return sorted(range(count), key=lambda index: plan.floors[index].level)
    if not 0 <= options.floor < count:
        raise RenderError("invalid_option",
                          f"option floor={options.floor!r} names no floor: the plan has floors 0 to {count - 1}")
    return [options.floor]


def scenes_of(plan: Plan, options: Options2D) -> list[Scene]:
    """A scene for each floor the options ask for."""
    chosen = chosen_floors(plan, options)
    measured = {index: _measured(plan.floors[index], options)
                for index in (range(len(plan.floors)) if options.totals else chosen)}
    totals = tuple((floor_name(plan.floors[index]), sum(measured[index][1]))
                   for index in sorted(measured, key=lambda i: plan.floors[i].level)) if options.totals else ()
    return [scene_of(plan, index, options, totals, measured[index]) for index in chosen]


def _measured(floor: Floor, options: Options2D) -> tuple[FloorGeometry, tuple[float, ...]]:
    """A floor's geometry and its rooms' areas by the options' rule."""
    geometry = floor_geometry(floor)
    thickest = max((wall.thickness for wall in floor.walls), default=0.0)
    return geometry, room_areas(geometry, options.area_rule, thickest)


def scene_of(plan: Plan, index: int, options: Options2D, totals: tuple[tuple[str, float], ...] = (),
             measured: tuple[FloorGeometry, tuple[float, ...]] | None = None) -> Scene:
    """What floor `index` of the plan shows with these options (its geometry and areas, if known)."""
    floor = plan.floors[index]
    geometry, areas = measured or _measured(floor, options)
    chains = tuple(outer_chains(geometry.body, geometry.openings, geometry.curves)) if options.dims else ()
    title = " - ".join(part for part in (plan.name, floor.name) if part)
    stairs = tuple(stair_shape(stair, floor.height) for stair in floor.stairs) + _arriving_stairs(plan, floor)
    north = options.north if options.north is not None else plan.north
    palette = PALETTES[options.style]
    if options.room_colors:
        palette = replace(palette, room_tints={**palette.room_tints, **{k.lower(): v for k, v in
                                                                        options.room_colors.items()}})
    return Scene(title, floor, geometry, chains, options, palette, stairs, north, areas, totals)


def floor_name(floor: Floor) -> str:
    """How a floor is headed in a drawing of the whole building."""
    return floor.name or f"Level {floor.level}"


def _arriving_stairs(plan: Plan, floor: Floor) -> tuple[StairShape, ...]:
    """Flights from other floors that climb to this one: seen down their stairwell."""
    elevations = floor_elevations(plan)
    here = elevations[plan.floors.index(floor)]
    return tuple(stair_shape(stair, other.height, arriving=True)
                 for other, base in zip(plan.floors, elevations, strict=True) if other is not floor
                 for stair in other.stairs if abs(base + (stair.height or other.height) - here) < ARRIVAL_TOLERANCE)


def fitted_svg(scene: Scene, width: int, height: int, heading: bool = False) -> str:
    """One floor fitted to a width x height px canvas, with a margin, its legend along the bottom.

    With `heading`, under its name (a page of a building's PDF).
    """
    opts = scene.options
    unit_px = min(width, height) / 1000
    margin = float(opts.margin) if opts.margin is not None else max(MIN_MARGIN_PX, MARGIN_SHARE * min(width, height))
    pads = annotation_pads(scene, unit_px)
    heading_px = NAME_UNITS * HEADING * unit_px * HEADING_LINES if heading else 0.0
    band = top_band(opts) * unit_px
    pads = (pads[0], pads[1] + heading_px + band, pads[2], pads[3])
    strip = strip_units(scene) * unit_px if scene.bounds() else 0.0
    labels = scene.floor.labels if opts.labels else []
    view = fit_viewport(scene.bounds(), labels, width, height, margin, pads, strip)
    pens = Pens(view.px_per_cm, unit_px)
    body = [
        element("title", {}, text=scene.title) if scene.title else "",
        element("rect", {"x": view.x, "y": view.y, "width": view.width, "height": view.height,
                         "fill": scene.palette.paper}),
        *drawing(scene, pens),
    ]
    if heading:
        size = pens.text(HEADING)
        body.append(element("g", {"font-family": FONT, "fill": scene.palette.ink, "text-anchor": "middle"},
                            text_block([(floor_name(scene.floor), size, True)], view.x + view.width / 2,
                                       view.y + pens.px(margin + band + heading_px / 2))))
    if band:
        body.append(top_brand(scene, pens, view.x + pens.px(margin), view.x + pens.px(width - margin),
                              view.y + pens.px(margin)))
    if strip:
        # The legend strip runs along the bottom of the canvas, inside the margin.
        top = view.y + pens.px(height - margin - strip)
        left, right = view.x + pens.px(margin), view.x + pens.px(width - margin)
        body.append(legend(scene, pens, left, right, top, top + pens.px(strip)))
    return element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "version": "1.1",
        "width": str(width), "height": str(height), "viewBox": view.viewbox(),
        "preserveAspectRatio": "xMidYMid meet",
    }, *body) + "\n"


def sheet_svgs(scene: Scene, layout: SheetLayout) -> list[str]:
    """The drawing cut into paper sheets at the layout's scale, one SVG per sheet."""
    per_mm = layout.cm_per_mm
    pens = Pens(PX_PER_MM / per_mm, PAPER_UNIT_MM * PX_PER_MM, min_px=0.0)
    content = drawing(scene, pens)
    paper_w, paper_h = layout.paper_mm
    fx, fy, fw, fh = layout.frame_mm
    sheets: list[str] = []
    for row in range(layout.rows):
        for column in range(layout.columns):
            wx, wy = layout.window_cm(column, row)
            x0, y0 = wx - fx * per_mm, wy - fy * per_mm
            sheet = Viewport(x0, y0, paper_w * per_mm, paper_h * per_mm, PX_PER_MM / per_mm)
            frame = (wx, wy, wx + fw * per_mm, wy + fh * per_mm)
            number = row * layout.columns + column + 1
            body = [
                element("title", {}, text=scene.title) if scene.title else "",
                element("rect", {"x": sheet.x, "y": sheet.y, "width": sheet.width, "height": sheet.height,
                                 "fill": scene.palette.paper}),
                *content,
                _sheet_border(scene, pens, sheet, frame),
                _title_block(scene, pens, layout, frame, number),
            ]
            sheets.append(element("svg", {
                "xmlns": "http://www.w3.org/2000/svg", "version": "1.1",
                "width": f"{num(paper_w)}mm", "height": f"{num(paper_h)}mm", "viewBox": sheet.viewbox(),
            }, *body) + "\n")
    return sheets


def drawing(scene: Scene, pens: Pens) -> list[str]:
    """The floor's layers in plan coordinates, bottom to top."""
    opts, geometry = scene.options, scene.geometry
    shown_items = geometry.items if opts.furniture else ()
    # Names first: inner dimensions give way to them, and to each other.
    names = _room_name_blocks(geometry, shown_items, pens, scene) if (opts.labels or opts.areas) else []
    taken = [_block_box(lines, x, y) for lines, (x, y) in names]
    return [
        _rooms(geometry.rooms, scene.palette),
        _stairs(scene.stairs, pens, scene.palette),
        _items(shown_items, pens, scene.palette),
        element("path", {"d": path_data(geometry.walls), "fill": scene.palette.wall, "fill-rule": "evenodd",
                         "stroke": scene.palette.wall, "stroke-width": pens.line(0.6), "stroke-linejoin": "miter"})
        if not geometry.walls.is_empty else "",
        _openings(geometry.openings, pens, scene.palette),
        _inner_dimensions(room_edges(labelled_rooms(scene)), pens, scene, taken) if opts.inner_dims else "",
        _outer_dimensions(scene, pens) if scene.chains else "",
        _room_names(names, scene),
        _labels(scene.floor.labels, pens, scene.palette) if opts.labels else "",
    ]


def annotation_pads(scene: Scene, unit_px: float) -> tuple[float, float, float, float]:
    """Pixels kept free left, top, right and bottom of the drawing for its dimension chains."""
    sides = {chain.side: chain for chain in scene.chains}
    reach = (CHAIN_GAP + CHAIN_STEP + DIM_TEXT * 1.4) * unit_px

    def pad(side: str) -> float:
        chain = sides.get(side)
        if chain is None:
            return 0.0
        # Chains with more than the two end stations have an overall chain beyond them.
        return reach if len(chain.stations) > 2 else reach - CHAIN_STEP * unit_px

    return pad("left"), pad("top"), pad("right"), pad("bottom")


def fit_viewport(bounds: Bounds | None, labels: Iterable[Label], width: int, height: int,
                 margin: float | None = None, pads: tuple[float, float, float, float] = (0, 0, 0, 0),
                 strip: float = 0.0) -> Viewport:
    """Fit the drawing and its labels, centred, inside the margin, the pads and above the legend strip.

    An empty floor gets a blank 10 m square.
    """
    labels = list(labels)
    if margin is None:
        margin = max(MIN_MARGIN_PX, MARGIN_SHARE * min(width, height))
    area = (margin + pads[0], margin + pads[1], width - margin - pads[2], height - margin - pads[3] - strip)
    view = _fit(bounds or (0.0, 0.0, 1000.0, 1000.0), width, height, area)
    # Label text has a size in pixels, so its extent in cm depends on the fit: refine the fit a few times.
    for _ in range(3 if labels else 0):
        pens = Pens(view.px_per_cm, min(width, height) / 1000)
        boxes = [label_box(label, pens) for label in labels]
        view = _fit(union_bounds([*boxes, bounds] if bounds else boxes) or boxes[0], width, height, area)
    return view


def _fit(bounds: Bounds, width: int, height: int, area: tuple[float, float, float, float]) -> Viewport:
    minx, miny, maxx, maxy = bounds
    left, top, right, bottom = area
    span_x, span_y = max(maxx - minx, MIN_SPAN_CM), max(maxy - miny, MIN_SPAN_CM)
    px_per_cm = min(max(right - left, 1.0) / span_x, max(bottom - top, 1.0) / span_y)
    # The drawing's centre goes to the centre of the area; the viewBox then covers the whole canvas.
    centre_px = ((left + right) / 2, (top + bottom) / 2)
    x = (minx + maxx) / 2 - centre_px[0] / px_per_cm
    y = (miny + maxy) / 2 - centre_px[1] / px_per_cm
    return Viewport(x, y, width / px_per_cm, height / px_per_cm, px_per_cm)


def label_box(label: Label, pens: Pens) -> Bounds:
    """The box a label's text takes on the plan."""
    size = pens.text(0.8)
    bounds: Bounds = _box((label.x, label.y), text_width(label.text, size, bold=False), size * LINE_HEIGHT).bounds
    return bounds


def _rooms(rooms: Iterable[RoomShape], palette: Palette) -> str:
    parts = []
    for shape in rooms:
        tint = palette.room_tints.get(shape.room.type.lower(), palette.room_tint)
        if tint is not None:
            parts.append(element("path", {"d": path_data(shape.polygon), "fill": tint}))
    return element("g", {"stroke": "none"}, *parts) if parts else ""


def _items(items: Sequence[ItemShape], pens: Pens, palette: Palette) -> str:
    """Furniture symbols, rugs first since everything else stands on them."""
    if not items:
        return ""
    ordered = sorted(items, key=lambda shape: not lies_flat(shape.item.ref))
    parts: list[str] = []
    for shape in ordered:
        item = shape.item
        symbol = symbol_for(item.ref, item.width, item.depth)
        place = f"translate({num(item.x)} {num(item.y)})" + (f" rotate({num(item.rotation)})"
                                                              if item.rotation % 360 else "")
        parts.append(element("path", {"d": symbol.body, "transform": place,
                                      "fill": palette.item_fill if symbol.filled else "none"}))
        if symbol.detail:
            parts.append(element("path", {"d": symbol.detail, "transform": place, "fill": "none",
                                          "stroke-width": pens.line(0.55)}))
        if symbol.hidden:
            parts.append(element("path", {"d": symbol.hidden, "transform": place, "fill": "none",
                                          "stroke-width": pens.line(0.55),
                                          "stroke-dasharray": f"{num(pens.units(4))} {num(pens.units(2.5))}"}))
    return element("g", {"stroke": palette.item_ink, "stroke-width": pens.line(0.9), "stroke-linejoin": "round",
                         "stroke-linecap": "round"}, *parts)


def _stairs(stairs: Sequence[StairShape], pens: Pens, palette: Palette) -> str:
    """Each flight: its outline over the floor, the treads, the walk line from a dot to an arrow, the cut."""
    if not stairs:
        return ""
    dashes = f"{num(pens.units(4))} {num(pens.units(2.5))}"
    dot = pens.units(2.2)
    paths: list[tuple[str, dict[str, str | float]]] = [
        ("".join(path_data(shape.outline) for shape in stairs),
         {"fill": palette.paper, "stroke-width": pens.line(0.9)}),
        (_segments(t for shape in stairs for t in shape.treads), {}),
        (_segments(t for shape in stairs for t in shape.upper_treads), {"stroke-dasharray": dashes}),
        ("".join(_polyline(shape.walk) for shape in stairs), {}),
        ("".join(_polyline(shape.upper_walk) for shape in stairs), {"stroke-dasharray": dashes}),
        ("".join(_polyline(shape.cut) for shape in stairs), {"stroke-width": pens.line(0.9)}),
        ("".join(path_data(shape.arrow) for shape in stairs), {"fill": palette.item_ink, "stroke": "none"}),
    ]
    parts = [element("path", {"d": d, "fill": "none", **attrs}) for d, attrs in paths if d]
    parts += [element("circle", {"cx": shape.foot[0], "cy": shape.foot[1], "r": dot, "fill": palette.paper})
              for shape in stairs]
    return element("g", {"stroke": palette.item_ink, "stroke-width": pens.line(0.6), "stroke-linejoin": "miter"},
                   *parts)


def _polyline(points: Sequence[Pt]) -> str:
    return "M" + "L".join(f"{num(x)} {num(y)}" for x, y in points) if points else ""


def _segments(segments: Iterable[tuple[Pt, Pt]]) -> str:
    return "".join(f"M{num(a[0])} {num(a[1])}L{num(b[0])} {num(b[1])}" for a, b in segments)


def _openings(openings: Sequence[OpeningSymbol], pens: Pens, palette: Palette) -> str:
    """All openings as a few paths, one per pen: gaps, frames and glass, panels, leaves, swings, lintels."""
    windows = [symbol for symbol in openings if symbol.type == "window"]
    leaves = [leaf for symbol in openings for leaf in symbol.leaves]
    panels = [panel for symbol in openings for panel in symbol.panels]
    overhead = [segment for symbol in openings for segment in symbol.overhead]
    parts: list[str] = []
    if windows:
        # The room tint would show through the glass: a window's gap is filled with glass colour.
        parts.append(element("path", {"d": "".join(path_data(symbol.gap) for symbol in windows),
                                      "fill": palette.glass, "stroke": "none"}))
        parts.append(element("path", {"d": _segments(line for symbol in windows for line in symbol.lines),
                                      "stroke-width": pens.line(0.8)}))
    if panels:
        parts.append(element("path", {"d": "".join(path_data(panel) for panel in panels), "fill": palette.paper,
                                      "stroke-width": pens.line(0.9)}))
    if leaves:
        parts.append(element("path", {"d": "".join(_arc(leaf) for leaf in leaves), "stroke": palette.soft_ink,
                                      "stroke-width": pens.line(0.6)}))
        parts.append(element("path", {"d": _segments((leaf.hinge, leaf.open_tip) for leaf in leaves),
                                      "stroke-width": pens.line(2.0)}))
    if overhead:
        parts.append(element("path", {"d": _segments(overhead), "stroke": palette.soft_ink,
                                      "stroke-width": pens.line(0.6),
                                      "stroke-dasharray": f"{num(pens.units(5))} {num(pens.units(3))}"}))
    if not parts:
        return ""
    return element("g", {"fill": "none", "stroke": palette.ink, "stroke-linecap": "butt"}, *parts)


def _arc(leaf: DoorLeaf) -> str:
    (hx, hy), (ox, oy), (cx, cy) = leaf.hinge, leaf.open_tip, leaf.closed_tip
    # SVG's sweep flag 1 turns towards +y from +x, which is the sign of this cross product.
    sweep = 1 if (ox - hx) * (cy - hy) - (oy - hy) * (cx - hx) > 0 else 0
    radius = num(leaf.radius)
    return f"M{num(ox)} {num(oy)}A{radius} {radius} 0 0 {sweep} {num(cx)} {num(cy)}"


def _outer_dimensions(scene: Scene, pens: Pens) -> str:
    """Each side's chain of corner-to-jamb lengths, and beyond it the overall length of that side.

    Every figure is placed where it can be read (see dimension_labels).
    """
    labels = scene.floor.labels if scene.options.labels else []
    bounds = union_bounds([box for box in (scene.bounds(),) if box] + [label_box(label, pens) for label in labels])
    if bounds is None:
        return ""
    units = scene.options.units
    size = pens.text(DIM_TEXT / NAME_UNITS)
    placer = FigurePlacer(size, pens.units(2.2), pens.units(CHAIN_STEP), lambda cm: length_text(cm, units), [])
    strokes: list[str] = []
    texts: list[str] = []
    leaders: list[tuple[Pt, Pt]] = []
    for chain in scene.chains:
        # Lines sit beyond everything drawn on that side (door swings included), one step apart.
        edge = {"top": bounds[1], "bottom": bounds[3], "left": bounds[0], "right": bounds[2]}[chain.side]
        for level in placer.chain(chain, edge + chain.outward * pens.units(CHAIN_GAP)):
            strokes.append(_chain(chain, level.across, level.stations, pens, scene.options.dim_marks))
            texts += [text_block([(f.text, size, False)], f.x, f.y, f.rotate) for f in level.figures]
            leaders += [f.leader for f in level.figures if f.leader is not None]
    if leaders:
        strokes.append(_segments(leaders))
    return _dimension_group(scene, pens, strokes, texts)


def _chain(chain: Chain, level: float, stations: Sequence[float], pens: Pens, marks: str) -> str:
    """Path data for one dimension line, with its witness lines and end marks."""

    def at(along: float, across: float) -> Pt:
        return (along, across) if chain.horizontal else (across, along)

    start = chain.face + chain.outward * pens.units(4)
    overshoot = level + chain.outward * pens.units(3)
    d = "M{} {}L{} {}".format(*at(stations[0], level), *at(stations[-1], level))
    for station in stations:
        d += "M{} {}L{} {}".format(*at(station, start), *at(station, overshoot))
        d += _mark(at(station, level), chain.horizontal, pens, marks, stations, station)
    return d


def _mark(point: Pt, horizontal: bool, pens: Pens, marks: str, stations: Sequence[float], station: float) -> str:
    x, y = point
    if marks == "arrows":
        # Open arrowheads point at the station from the parts on either side of it (one at a chain's end).
        size = pens.units(5)
        half = size * 0.35
        path = ""
        for direction in (-1.0, 1.0):
            if (station == stations[0] and direction < 0) or (station == stations[-1] and direction > 0):
                continue
            if horizontal:
                path += f"M{num(x + direction * size)} {num(y - half)}L{num(x)} {num(y)}L{num(x + direction * size)} " \
                        f"{num(y + half)}"
            else:
                path += f"M{num(x - half)} {num(y + direction * size)}L{num(x)} {num(y)}L{num(x + half)} " \
                        f"{num(y + direction * size)}"
        return path
    tick = pens.units(3.5)
    # The architect's tick: a short slash at 45 degrees across the line.
    return f"M{num(x - tick)} {num(y + tick)}L{num(x + tick)} {num(y - tick)}"


def _dimension_group(scene: Scene, pens: Pens, strokes: Sequence[str], texts: Sequence[str]) -> str:
    palette = scene.palette
    return element("g", {},
                   element("path", {"d": "".join(strokes), "fill": "none", "stroke": palette.ink,
                                    "stroke-width": pens.line(0.6), "stroke-linecap": "round"}),
                   element("g", {"font-family": FONT, "fill": palette.ink, "text-anchor": "middle"}, *texts))


def _inner_dimensions(edges: Sequence[EdgeDimension], pens: Pens, scene: Scene, taken: list[Bounds]) -> str:
    """Each room's wall lengths, drawn just inside the room along its walls.

    A figure that would cover a room's name or another figure (`taken`, which it adds to) is left out, as one
    too long for its wall is.
    """
    size = pens.text(DIM_TEXT * 0.9 / NAME_UNITS)
    gap = pens.units(INNER_GAP)
    strokes = ""
    texts: list[str] = []
    for edge in edges:
        label = length_text(edge.length, scene.options.units)
        length = text_width(label, size, bold=False)
        if length + pens.units(8) > edge.length:
            continue  # a dimension whose figure does not fit is noise
        nx, ny = edge.inward
        offset = gap + pens.units(2) + size * 0.5
        mx, my = (edge.a[0] + edge.b[0]) / 2 + nx * offset, (edge.a[1] + edge.b[1]) / 2 + ny * offset
        ux, uy = (edge.b[0] - edge.a[0]) / edge.length, (edge.b[1] - edge.a[1]) / edge.length
        # The turned figure's upright box: generous on slanted walls, exact on square ones.
        half_w = (abs(ux) * length + abs(uy) * size * LINE_HEIGHT) / 2
        half_h = (abs(uy) * length + abs(ux) * size * LINE_HEIGHT) / 2
        box = (mx - half_w, my - half_h, mx + half_w, my + half_h)
        if any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in taken):
            continue
        taken.append(box)
        a = (edge.a[0] + nx * gap, edge.a[1] + ny * gap)
        b = (edge.b[0] + nx * gap, edge.b[1] + ny * gap)
        strokes += f"M{num(a[0])} {num(a[1])}L{num(b[0])} {num(b[1])}"
        tick = pens.units(3)
        for x, y in (a, b):
            # A slash at 45 degrees to the line, turning with it.
            dx, dy = (ux + nx) * tick * 0.7071, (uy + ny) * tick * 0.7071
            strokes += f"M{num(x - dx)} {num(y - dy)}L{num(x + dx)} {num(y + dy)}"
        angle = math.degrees(math.atan2(uy, ux))
        if angle > 90:
            angle -= 180
        elif angle <= -90:
            angle += 180
        texts.append(text_block([(label, size, False)], mx, my, angle))
    if not strokes:
        return ""
    return _dimension_group(scene, pens, [strokes], texts)


def _room_name_blocks(geometry: FloorGeometry, items: Sequence[ItemShape], pens: Pens,
                      scene: Scene) -> list[tuple[list[Line], Pt]]:
    """Each labelled room's name and area lines, and where they are centred."""
    # Names keep clear of furniture that hides the floor, and of the floor a door sweeps.
    furniture = unary_union([shape.footprint for shape in items if not lies_flat(shape.item.ref)]
                            + [leaf_extent(leaf) for symbol in geometry.openings for leaf in symbol.leaves]
                            + [stair.outline for stair in scene.stairs])
    blocks: list[tuple[list[Line], Pt]] = []
    hidden = {kind.lower() for kind in scene.options.hide_labels_for}
    for shape, area in zip(geometry.rooms, scene.areas, strict=True):
        if shape.room.type.lower() in hidden:
            continue
        lines, point = _room_label(shape, area, furniture, pens, scene.options)
        if lines:
            blocks.append((lines, point))
    return blocks


def _block_box(lines: list[Line], x: float, y: float) -> Bounds:
    width = max(text_width(text, size, bold) for text, size, bold in lines)
    height = sum(size for _, size, _ in lines) * LINE_HEIGHT
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def _room_names(blocks: list[tuple[list[Line], Pt]], scene: Scene) -> str:
    if not blocks:
        return ""
    return element("g", {"font-family": FONT, "fill": scene.palette.ink, "text-anchor": "middle"},
                   *(text_block(lines, x, y) for lines, (x, y) in blocks))


def labelled_rooms(scene: Scene) -> list[RoomShape]:
    """The rooms whose names, areas and inner dimensions are drawn: those of a type not hidden."""
    hidden = {kind.lower() for kind in scene.options.hide_labels_for}
    return [shape for shape in scene.geometry.rooms if shape.room.type.lower() not in hidden]


def _room_label(shape: RoomShape, area_cm2: float, furniture: BaseGeometry, pens: Pens,
                opts: Options2D) -> tuple[list[Line], Pt]:
    """The name (bold) over the area, as large as fits, at the room's centre or else clear of furniture."""
    name = shape.room.name.strip() if opts.labels else ""
    area = area_text(area_cm2, opts.units) if opts.areas else ""
    full = pens.text(1.0)
    block_w = max(text_width(name, full, True), text_width(area, full * 0.75, False))
    block_h = ((full if name else 0.0) + (full * 0.75 if area else 0.0)) * LINE_HEIGHT
    region, point = shape.polygon, label_point(shape.polygon)
    if not furniture.is_empty and _box(point, block_w, block_h).intersects(furniture):
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
    fits = block <= 0.9 * span_h and text_width(area, area_size, False) <= 0.9 * span_w
    if area and (not lines or fits):
        lines.append((area, area_size, False))
    return lines, point


def _box(centre: Pt, width: float, height: float) -> Polygon:
    x, y = centre
    return box(x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def text_block(lines: list[Line], x: float, y: float, rotate: float = 0.0) -> str:
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


def _labels(labels: Sequence[Label], pens: Pens, palette: Palette) -> str:
    if not labels:
        return ""
    size = pens.text(0.8)
    return element("g", {"font-family": FONT, "fill": palette.ink, "text-anchor": "middle"},
                   *(text_block([(label.text, size, False)], label.x, label.y) for label in labels))


def top_band(options: Options2D) -> float:
    """Drawing units kept along the top of the canvas for a logo in a top corner."""
    branding = options.branding
    return BRAND_BAND if branding is not None and branding.position.startswith("top") else 0.0


def strip_units(scene: Scene) -> float:
    """How tall the legend strip along the bottom is, in drawing units: 0 when it holds nothing."""
    opts = scene.options
    tall = LEGEND if opts.scale_bar or opts.north_arrow else 0.0
    if scene.totals:
        tall = max(tall, totals_size(scene.totals, opts.units, DIM_TEXT)[1] + 8.0)
    if opts.branding is not None and not opts.branding.position.startswith("top"):
        tall = max(tall, BRAND + 8.0)
    return tall


def top_brand(scene: Scene, pens: Pens, left: float, right: float, top: float) -> str:
    """The logo and text in the band along the top, in the corner the options name."""
    branding = scene.options.branding
    assert branding is not None
    height, size = pens.units(BRAND), pens.text(BRAND_TEXT / NAME_UNITS)
    width = brand_width(branding, height, size)
    x = left if branding.position == "top-left" else right - width
    return brand_mark(branding, x, top + pens.units(BRAND_BAND) / 2, height, size, scene.palette.ink)


def legend(scene: Scene, pens: Pens, left: float, right: float, top: float, bottom: float) -> str:
    """The legend along the strip: logo, scale bar, areas table and north arrow.

    A logo in a bottom corner, the scale bar at the left, the areas table in the middle and the north arrow at
    the right.
    """
    parts: list[str] = []
    height = bottom - top
    opts = scene.options
    branding = opts.branding
    if branding is not None and not branding.position.startswith("top"):
        brand_h, size = pens.units(BRAND), pens.text(BRAND_TEXT / NAME_UNITS)
        width = brand_width(branding, brand_h, size)
        at_left = branding.position == "bottom-left"
        parts.append(brand_mark(branding, left if at_left else right - width, (top + bottom) / 2, brand_h, size,
                                scene.palette.ink))
        gap = width + pens.units(16)
        left, right = (left + gap, right) if at_left else (left, right - gap)
    if opts.scale_bar:
        parts.append(_scale_bar(scene, pens, left, bottom - min(height, pens.units(LEGEND)) * 0.3,
                                (right - left) * 0.3))
    if opts.north_arrow:
        radius = min(height, pens.units(LEGEND)) * 0.3
        parts.append(_north_arrow(scene, pens, (right - radius, top + height / 2), radius))
    if scene.totals:
        size = pens.text(DIM_TEXT / NAME_UNITS)
        width, tall = totals_size(scene.totals, opts.units, size)
        parts.append(totals_table(scene.totals, opts.area_rule, opts.units, (left + right) / 2 - width / 2,
                                  (top + bottom) / 2 - tall / 2, size, scene.palette.ink))
    return "".join(parts)


def _scale_bar(scene: Scene, pens: Pens, x: float, y: float, longest: float) -> str:
    """Alternating filled and open blocks along a round length, with 0 and the length written over it."""
    length, parts, label = scale_bar(scene.options.units, longest)
    palette = scene.palette
    thick = pens.units(5)
    step = length / parts
    filled = "".join(f"M{num(x + i * step)} {num(y - thick)}h{num(step)}v{num(thick)}h{num(-step)}Z"
                     for i in range(0, parts, 2))
    size = pens.text(DIM_TEXT / NAME_UNITS)
    lift = y - thick - pens.units(3)
    return (element("path", {"d": f"M{num(x)} {num(y - thick)}h{num(length)}v{num(thick)}h{num(-length)}Z",
                             "fill": palette.paper, "stroke": palette.ink, "stroke-width": pens.line(0.7)})
            + element("path", {"d": filled, "fill": palette.ink, "stroke": "none"})
            + element("g", {"font-family": FONT, "fill": palette.ink, "text-anchor": "middle"},
                      text_block([("0", size, False)], x, lift - size * 0.5),
                      text_block([(label, size, False)], x + length, lift - size * 0.5)))


def _north_arrow(scene: Scene, pens: Pens, centre: Pt, radius: float) -> str:
    """A circle with an arrow through it pointing north (`north` degrees clockwise from up), and an N."""
    palette = scene.palette
    cx, cy = centre
    turn = math.radians(scene.north)

    def at(along: float, across: float) -> Pt:
        # `along` runs towards north, `across` to its right, both in units of the radius.
        ux, uy = math.sin(turn), -math.cos(turn)
        return (cx + (ux * along - uy * across) * radius, cy + (uy * along + ux * across) * radius)

    tip, tail, left, right = at(0.95, 0), at(-0.75, 0), at(-0.55, -0.38), at(-0.55, 0.38)
    arrow = "M{} {}L{} {}L{} {}L{} {}Z".format(*map(num, (*tip, *right, *tail, *left)))
    return (element("circle", {"cx": cx, "cy": cy, "r": radius, "fill": "none", "stroke": palette.ink,
                               "stroke-width": pens.line(0.7)})
            + element("path", {"d": arrow, "fill": palette.ink, "stroke": "none"})
            # The N stays upright, just beyond the arrow's tip.
            + element("g", {"font-family": FONT, "fill": palette.ink, "text-anchor": "middle"},
                      text_block([("N", radius * 0.6, True)], *at(1.45, 0.0))))


def _sheet_border(scene: Scene, pens: Pens, sheet: Viewport, frame: Bounds) -> str:
    """Paper over whatever of the drawing falls outside this sheet's frame, and the frame's border."""
    fx0, fy0, fx1, fy1 = frame
    sx0, sy0, sx1, sy1 = sheet.x, sheet.y, sheet.x + sheet.width, sheet.y + sheet.height
    cover = (f"M{num(sx0)} {num(sy0)}H{num(sx1)}V{num(sy1)}H{num(sx0)}Z"
             f"M{num(fx0)} {num(fy0)}V{num(fy1)}H{num(fx1)}V{num(fy0)}Z")
    return (element("path", {"d": cover, "fill": scene.palette.paper, "fill-rule": "evenodd", "stroke": "none"})
            + element("rect", {"x": fx0, "y": fy0, "width": fx1 - fx0, "height": fy1 - fy0, "fill": "none",
                               "stroke": scene.palette.ink, "stroke-width": pens.line(1.4)}))


def _title_block(scene: Scene, pens: Pens, layout: SheetLayout, frame: Bounds, number: int) -> str:
    """Under the frame: the plan's name and floor, the scale, units and sheet, a scale bar and north arrow."""
    fx0, _, fx1, fy1 = frame
    per_mm = layout.cm_per_mm
    top, bottom = fy1 + 2 * per_mm, fy1 + 16 * per_mm
    palette, opts = scene.palette, scene.options
    big, small = 3.2 * per_mm, 2.3 * per_mm
    plan_name = scene.title or "Plan"
    units = {"metric": "dimensions in metres", "imperial": "dimensions in feet and inches",
             "imperial_decimal": "dimensions in decimal feet"}[opts.units]
    sheet = f"sheet {number} of {layout.sheets}" if layout.sheets > 1 else ""
    notes = " \u00b7 ".join(part for part in (f"scale {opts.scale}", opts.paper, units, sheet) if part)
    lines = [element("text", {"x": fx0, "y": top + big, "font-size": big, "font-weight": "bold"}, text=plan_name),
             element("text", {"x": fx0, "y": top + big + small * 1.8, "font-size": small}, text=notes)]
    if scene.totals:
        areas = " \u00b7 ".join(f"{name} {area_text(area, opts.units)}" for name, area in totals_rows(scene.totals))
        lines.append(element("text", {"x": fx0, "y": top + big + small * 3.4, "font-size": small},
                             text=f"{RULE_TITLES[opts.area_rule]}: {areas}"))
    parts = [element("g", {"font-family": FONT, "fill": palette.ink, "text-anchor": "start"}, *lines)]
    if opts.branding is not None:
        # On a sheet the mark always goes in the title block, left of the scale bar.
        height, size = 9.0 * per_mm, 2.8 * per_mm
        width = brand_width(opts.branding, height, size)
        parts.append(brand_mark(opts.branding, fx1 - 83 * per_mm - width, (top + bottom) / 2, height, size,
                                palette.ink))
    if opts.scale_bar:
        parts.append(_scale_bar(scene, pens, fx1 - 75 * per_mm, bottom - 3 * per_mm, 50 * per_mm))
    if opts.north_arrow:
        radius = 4.0 * per_mm
        parts.append(_north_arrow(scene, pens, (fx1 - radius, (top + bottom) / 2), radius))
    return "".join(parts)
