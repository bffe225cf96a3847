"""Whole buildings in 2D: every floor of a plan side by side on one canvas, each under its name, one scale.

The floors are laid out in the number of columns that draws them largest. All share one scale and one
frame: each panel shows the same window of the plan, so the floors' outlines line up from one to the next
as they stand over each other, under one scale bar and one north arrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from worker.render.geometry import Bounds, union_bounds
from worker.render.plan2d import (
    HEADING,
    HEADING_LINES,
    MARGIN_SHARE,
    MIN_MARGIN_PX,
    NAME_UNITS,
    Pens,
    Scene,
    annotation_pads,
    drawing,
    floor_name,
    label_box,
    legend,
    strip_units,
    text_block,
    top_band,
    top_brand,
)
from worker.render.svg import FONT, element, num

GAP_UNITS = 40.0  # between floors, in drawing units (px on a 1000 px canvas)


@dataclass(frozen=True)
class Panel:
    """Where one floor goes: its drawing's extent (cm), the px kept around it, and its cell (px)."""

    scene: Scene
    bounds: Bounds
    pads: tuple[float, float, float, float]  # left, top, right, bottom, px


def building_svg(scenes: Sequence[Scene], width: int, height: int) -> str:
    """Every scene (a floor each) on one width x height px canvas, side by side, each under its name."""
    opts = scenes[0].options
    unit_px = min(width, height) / 1000
    margin = float(opts.margin) if opts.margin is not None else max(MIN_MARGIN_PX, MARGIN_SHARE * min(width, height))
    strip = strip_units(scenes[0]) * unit_px
    band = top_band(opts) * unit_px
    heading_px = NAME_UNITS * HEADING * unit_px * HEADING_LINES
    gap = GAP_UNITS * unit_px
    panels = _aligned([_panel(scene, unit_px, heading_px) for scene in scenes])
    area = (width - 2 * margin, height - 2 * margin - strip - band)
    columns, px_per_cm = max(((c, _scale(panels, c, area, gap)) for c in range(1, len(panels) + 1)),
                             key=lambda choice: choice[1])
    rows = math.ceil(len(panels) / columns)
    cell_w = (area[0] - gap * (columns - 1)) / columns
    cell_h = (area[1] - gap * (rows - 1)) / rows
    pens = Pens(px_per_cm, unit_px)
    body = [element("rect", {"x": 0, "y": 0, "width": width / px_per_cm, "height": height / px_per_cm,
                             "fill": scenes[0].palette.paper})]
    for index, panel in enumerate(panels):
        row, column = divmod(index, columns)
        left, top = margin + column * (cell_w + gap), margin + band + row * (cell_h + gap)
        body.append(_floor(panel, pens, (left, top, left + cell_w, top + cell_h), heading_px))
    if strip:
        top = pens.px(height - margin - strip)
        body.append(legend(scenes[0], pens, pens.px(margin), pens.px(width - margin), top, top + pens.px(strip)))
    if band:
        body.append(top_brand(scenes[0], pens, pens.px(margin), pens.px(width - margin), pens.px(margin)))
    title = scenes[0].title.split(" - ")[0]
    return element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "version": "1.1", "width": str(width), "height": str(height),
        "viewBox": " ".join(num(v) for v in (0, 0, width / px_per_cm, height / px_per_cm)),
        "preserveAspectRatio": "xMidYMid meet",
    }, element("title", {}, text=title) if title else "", *body) + "\n"


def _panel(scene: Scene, unit_px: float, heading_px: float) -> Panel:
    # Text labels have a size in px: their extent in cm is taken at the scale of a lone floor on the canvas,
    # which is near enough for the few labels a plan has.
    drawn = scene.bounds() or (0.0, 0.0, 1000.0, 1000.0)
    labels = scene.floor.labels if scene.options.labels else []
    guess = Pens(1000 * unit_px / max(drawn[2] - drawn[0], drawn[3] - drawn[1], 100.0), unit_px)
    bounds = union_bounds([drawn, *(label_box(label, guess) for label in labels)]) or drawn
    left, top, right, bottom = annotation_pads(scene, unit_px)
    return Panel(scene, bounds, (left, top + heading_px, right, bottom))


def _aligned(panels: list[Panel]) -> list[Panel]:
    """The panels with one extent and the same room around it: that of all of them together."""
    bounds = union_bounds(panel.bounds for panel in panels) or panels[0].bounds
    pads = tuple(max(panel.pads[side] for panel in panels) for side in range(4))
    return [Panel(panel.scene, bounds, (pads[0], pads[1], pads[2], pads[3])) for panel in panels]


def _scale(panels: Sequence[Panel], columns: int, area: tuple[float, float], gap: float) -> float:
    """The px per cm that fits every panel in cells of `columns` columns."""
    rows = math.ceil(len(panels) / columns)
    cell_w = (area[0] - gap * (columns - 1)) / columns
    cell_h = (area[1] - gap * (rows - 1)) / rows
    fits = []
    for panel in panels:
        minx, miny, maxx, maxy = panel.bounds
        pad_x, pad_y = panel.pads[0] + panel.pads[2], panel.pads[1] + panel.pads[3]
        fits.append(min(max(cell_w - pad_x, 1.0) / max(maxx - minx, 100.0),
                        max(cell_h - pad_y, 1.0) / max(maxy - miny, 100.0)))
    return min(fits)


def _floor(panel: Panel, pens: Pens, cell: tuple[float, float, float, float], heading_px: float) -> str:
    """One floor's drawing centred in its cell (px) under its name, moved from plan coordinates."""
    left, top, right, bottom = cell
    pad_l, pad_t, pad_r, pad_b = panel.pads
    minx, miny, maxx, maxy = panel.bounds
    # The drawing's centre goes to the centre of what the cell leaves after the pads.
    centre_x = pens.px((left + pad_l + right - pad_r) / 2)
    centre_y = pens.px((top + pad_t + bottom - pad_b) / 2)
    dx, dy = centre_x - (minx + maxx) / 2, centre_y - (miny + maxy) / 2
    name = floor_name(panel.scene.floor)
    size = pens.text(HEADING)
    heading_y = dy + miny - pens.px(pad_t - heading_px) - pens.px(heading_px) / 2
    return element("g", {},
                   element("g", {"transform": f"translate({num(dx)} {num(dy)})"}, *drawing(panel.scene, pens)),
                   element("g", {"font-family": FONT, "fill": panel.scene.palette.ink, "text-anchor": "middle"},
                           text_block([(name, size, True)], centre_x, heading_y)))
