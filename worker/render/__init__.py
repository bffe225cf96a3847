"""Renderers: pure functions from a plan and render options to image bytes (no I/O, deterministic)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from PIL import Image

from shared.formats import CONTENT_TYPES, FORMATS_BY_VIEW, MAX_PIXELS, MAX_SIDE_BY_VIEW
from shared.plan import Plan
from worker.render.errors import RenderError
from worker.render.output2d import plan_to_svg, render_png, render_vector
from worker.render.view3d import render_3d

__all__ = [
    "CONTENT_TYPES", "FORMATS_BY_VIEW", "MAX_PIXELS", "MAX_SIDE", "RenderError", "plan_to_svg", "render",
]

MAX_SIDE = MAX_SIDE_BY_VIEW["2d"]  # the API's limits, checked again: renderers are also called directly
LOSSY_QUALITY = 90


def render(plan: Plan, view: str, fmt: str, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """`plan` drawn as `view` ("2d" or "3d") in `fmt`, on a width x height px canvas; raises RenderError."""
    formats = FORMATS_BY_VIEW.get(view)
    if formats is None:
        raise RenderError("unsupported_view", f"view {view!r} is not one of {', '.join(FORMATS_BY_VIEW)}")
    if fmt not in formats:
        raise RenderError("unsupported_format",
                          f"format {fmt!r} is not one of {', '.join(formats)} for view {view}")
    _check_canvas(width, height)
    if view == "3d":
        return render_3d(plan, fmt, width, height, options)
    if fmt in ("svg", "pdf"):
        return render_vector(plan, fmt, width, height, options)
    png = render_png(plan, width, height, options)
    if fmt == "png":
        return png
    return _lossy(png, fmt)


def _check_canvas(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise RenderError("invalid_option", f"canvas {width}x{height} px: both sides must be at least 1 px")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise RenderError("too_large", f"canvas {width}x{height} px is over the limit of {MAX_SIDE} px "
                                       f"a side and {MAX_PIXELS} px in all")


def _lossy(png: bytes, fmt: str) -> bytes:
    """JPEG or WebP from the PNG, flattened onto white since JPEG has no alpha and WebP's would be wasted."""
    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="JPEG" if fmt == "jpeg" else "WEBP", quality=LOSSY_QUALITY)
    return out.getvalue()
