"""What a plan carries beside the drawing: the table of floor areas, and a vendor's logo and line of text.

Pure SVG building in the drawing's own units (cm); `plan2d` decides where each goes. The logo reaches the
SVG as the data URI of the PNG the options validated: nothing outside the document is referred to.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence

from shared.render_options import Branding
from worker.render.measure import area_text
from worker.render.svg import FONT, LINE_HEIGHT, element, text_width

RULE_TITLES = {"net": "Net floor area", "gross": "Gross floor area"}
GAP = 0.6  # ems between a table's name column and its area column, and between logo and text


def totals_rows(totals: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """The rows of the areas table: each floor, then all of them, or only the total for a single floor."""
    if len(totals) <= 1:
        return [("Total", sum(area for _, area in totals))]
    return [*totals, ("Total", sum(area for _, area in totals))]


def totals_size(totals: Sequence[tuple[str, float]], units: str, size: float) -> tuple[float, float]:
    """The width and height the table takes at text `size` (a title line, then a line a row)."""
    rows = totals_rows(totals)
    names = max(text_width(name, size, True) for name, _ in rows)
    figures = max(text_width(area_text(area, units), size, False) for _, area in rows)
    title = text_width(RULE_TITLES["gross"], size, True)
    return max(names + figures + GAP * size, title), (len(rows) + 1) * size * LINE_HEIGHT


def totals_table(totals: Sequence[tuple[str, float]], rule: str, units: str, left: float, top: float,
                 size: float, ink: str) -> str:
    """The areas table with its top left corner at (left, top): names on the left, areas flush right."""
    width, _ = totals_size(totals, units, size)
    line = size * LINE_HEIGHT
    parts = [element("text", {"x": left, "y": top + size, "font-weight": "bold"}, text=RULE_TITLES[rule])]
    for row, (name, area) in enumerate(totals_rows(totals), start=1):
        baseline = top + line * row + size
        bold: dict[str, str | float] = {"font-weight": "bold"} if name == "Total" else {}
        parts.append(element("text", {"x": left, "y": baseline, **bold}, text=name))
        parts.append(element("text", {"x": left + width, "y": baseline, "text-anchor": "end", **bold},
                             text=area_text(area, units)))
    return element("g", {"font-family": FONT, "fill": ink, "font-size": size}, *parts)


def logo_aspect(branding: Branding) -> float:
    """The logo's width over its height, read from its PNG header (validated at submit)."""
    if branding.logo_png_base64 is None:
        return 0.0
    header = base64.b64decode(branding.logo_png_base64)[16:24]
    width, height = struct.unpack(">II", header)
    return width / height if height else 0.0


def brand_width(branding: Branding, height: float, size: float) -> float:
    """How wide the logo (at `height`) and the text (at `size`) are side by side."""
    logo = logo_aspect(branding) * height
    words = text_width(branding.text, size, True) if branding.text else 0.0
    return logo + words + (GAP * size if logo and words else 0.0)


def brand_mark(branding: Branding, left: float, middle: float, height: float, size: float, ink: str) -> str:
    """The logo, `height` tall, then the text, left to right from `left`, centred on the line `middle`."""
    parts: list[str] = []
    x = left
    if branding.logo_png_base64 is not None:
        width = logo_aspect(branding) * height
        parts.append(element("image", {"x": x, "y": middle - height / 2, "width": width, "height": height,
                                       "preserveAspectRatio": "xMidYMid meet",
                                       "href": f"data:image/png;base64,{branding.logo_png_base64}"}))
        x += width + GAP * size
    if branding.text:
        parts.append(element("text", {"x": x, "y": middle + size * 0.36, "font-family": FONT, "font-size": size,
                                      "font-weight": "bold", "fill": ink}, text=branding.text))
    return element("g", {}, *parts)

