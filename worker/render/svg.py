"""SVG text building: escaped elements, compact numbers and path data from shapely shapes.

Every client string reaches the document through `element`, which escapes it, so markup cannot be injected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape

from shapely.geometry.base import BaseGeometry

Attrs = Mapping[str, str | float]
FONT = "DejaVu Sans"  # installed with the worker; the SVG must not fetch fonts
ADVANCE = 0.6  # DejaVu Sans: mean advance of a character, in ems (bold is wider)
BOLD_ADVANCE = 0.66
LINE_HEIGHT = 1.2

_QUOTES = {'"': "&quot;", "'": "&apos;"}
# Characters XML 1.0 forbids even when escaped (NUL, most C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_text(text: str) -> str:
    """`text` as XML character data or attribute value; forbidden characters become U+FFFD."""
    return escape(_NOT_XML.sub("\ufffd", text), _QUOTES)


def num(value: float) -> str:
    """A number to 0.001 (of a cm: under a pixel at any allowed zoom), no trailing zeros: compact, stable."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def element(name: str, attrs: Attrs, *children: str, text: str | None = None) -> str:
    """One element; `children` are markup already built, `text` is raw client text and gets escaped."""
    rendered = "".join(f' {key}="{_attr(value)}"' for key, value in attrs.items())
    body = "".join(children) + (escape_text(text) if text is not None else "")
    if not body:
        return f"<{name}{rendered}/>"
    return f"<{name}{rendered}>{body}</{name}>"


def text_width(text: str, size: float, bold: bool) -> float:
    """About how wide `text` sets at `size` in DejaVu Sans: what layout decisions go by."""
    return len(text) * size * (BOLD_ADVANCE if bold else ADVANCE)


def _attr(value: str | float) -> str:
    if isinstance(value, str):
        return escape_text(value)
    return num(value)


def path_data(shape: BaseGeometry) -> str:
    """Polygons (holes included, for fill-rule evenodd) and line strings as one `d` attribute."""
    parts: list[str] = []
    for piece in _pieces(shape):
        if piece.geom_type == "Polygon":
            for ring in (piece.exterior, *piece.interiors):
                parts.append(_moves(ring.coords[:-1]) + "Z")
        elif piece.geom_type in ("LineString", "LinearRing"):
            parts.append(_moves(piece.coords))
    return "".join(parts)


def _pieces(shape: BaseGeometry) -> Iterable[BaseGeometry]:
    if shape.is_empty:
        return
    if hasattr(shape, "geoms"):
        for part in shape.geoms:
            yield from _pieces(part)
    else:
        yield shape


def _moves(coords: Iterable[tuple[float, ...]]) -> str:
    points = [f"{num(c[0])} {num(c[1])}" for c in coords]
    return "M" + "L".join(points) if points else ""
