"""2D output formats: the plan's SVG as it is, rasterised to PNG, or as a PDF of one or more pages.

cairosvg gets only bytes we built (never a URL) and runs with `unsafe` off, so an SVG cannot make it read a
file or fetch anything; the SVG references nothing outside itself anyway. Text stays text: cairo embeds
the subset of the font that the PDF uses.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import cairocffi
import cairosvg.parser
import cairosvg.surface
import numpy as np

from shared.paper import sheet_layout
from shared.plan import Plan
from shared.render_limits import MAX_ELEMENTS, MAX_SHEETS, element_estimate, request_problems
from worker.render.building2d import building_svg
from worker.render.errors import RenderError
from worker.render.plan2d import Scene, fitted_svg, read_options, scenes_of, sheet_svgs

# cairo stamps PDFs with the time of rendering; a fixed date keeps the bytes a function of the input.
PDF_DATE = "2000-01-01T00:00:00Z"
DPI = 96  # cairosvg's CSS pixel: a fitted PDF page is width x height px at this resolution


def render_vector(plan: Plan, fmt: str, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """SVG or PDF: fitted to width x height px, or to scale on sheets of paper (`scale`, `paper`).

    A PDF of `floor: all` has a page (or its sheets) per floor.
    """
    scenes = _scenes(plan, fmt, options)
    opts = scenes[0].options
    if opts.scale == "fit":
        if fmt == "svg":
            return _fitted(scenes, width, height).encode()
        return pdf_document([fitted_svg(scene, width, height, heading=len(scenes) > 1).encode() for scene in scenes],
                            (width, height))
    layouts = [sheet_layout(scene.floor, opts.scale, opts.paper, opts.orientation) for scene in scenes]
    sheets = sum(layout.sheets for layout in layouts)
    _check_size(scenes, [layout.sheets for layout in layouts])
    if fmt == "svg" and sheets > 1:
        raise RenderError("too_large", f"at {opts.scale} on {opts.paper} the drawing needs {sheets} sheets and an "
                                       "SVG holds one: ask for a PDF")
    pages = [svg.encode() for scene, layout in zip(scenes, layouts, strict=True) for svg in sheet_svgs(scene, layout)]
    return pages[0] if fmt == "svg" else pdf_document(pages, None)


def render_png(plan: Plan, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """The plan fitted to a width x height px PNG."""
    svg = _fitted(_scenes(plan, "png", options), width, height).encode()
    tree = cairosvg.parser.Tree(bytestring=svg, unsafe=False)
    surface = cairosvg.surface.PNGSurface(tree, None, DPI, output_width=width, output_height=height).cairo
    surface.flush()
    return _png_rgb(surface)


def plan_to_svg(plan: Plan, width: int, height: int, options: Mapping[str, Any]) -> str:
    """The chosen floor, or all floors side by side, fitted to a width x height px canvas, as SVG text."""
    return _fitted(_scenes(plan, "svg", options), width, height)


def _fitted(scenes: list[Scene], width: int, height: int) -> str:
    if scenes[0].options.floor == "all":
        return building_svg(scenes, width, height)
    return fitted_svg(scenes[0], width, height)


def _png_rgb(surface: cairocffi.ImageSurface) -> bytes:
    """An RGB PNG of an opaque cairo image (the plan always paints its paper first).

    cairo's own PNG writer keeps an alpha channel the plan never uses and compresses hard; rows stored
    unfiltered at zlib level 1 encode several times faster, for files about a fifth larger.
    """
    width, height, stride = surface.get_width(), surface.get_height(), surface.get_stride()
    # cairo stores a pixel as a native-endian 32-bit ARGB word: bytes B, G, R, A on little-endian machines.
    # Keep R, G, B, and put the filter type byte (0, none) in front of each row.
    red, green, blue = (2, 1, 0) if sys.byteorder == "little" else (1, 2, 3)
    pixels = np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(height, stride)[:, : width * 4]
    argb = pixels.reshape(height, width, 4)
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)
    rgb = rows[:, 1:].reshape(height, width, 3)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = argb[..., red], argb[..., green], argb[..., blue]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) \
        + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scenes(plan: Plan, fmt: str, options: Mapping[str, Any]) -> list[Scene]:
    opts = read_options(options)
    problems = request_problems("2d", fmt, opts.model_dump())
    if problems:
        raise RenderError("invalid_option", problems[0]["message"])
    scenes = scenes_of(plan, opts)
    if opts.scale == "fit":
        _check_size(scenes, [1] * len(scenes))
    return scenes


def _check_size(scenes: list[Scene], sheets: list[int]) -> None:
    """Refuse drawings over the limits: every sheet of a floor draws all of it."""
    options = scenes[0].options
    if sum(sheets) > MAX_SHEETS:
        raise RenderError("too_large", f"the drawing needs {sum(sheets)} sheets at {options.scale} on "
                                       f"{options.paper}, more than {MAX_SHEETS}")
    elements = sum(element_estimate(scene.floor, options) * count for scene, count in zip(scenes, sheets, strict=True))
    if elements > MAX_ELEMENTS:
        raise RenderError("too_large", f"the drawing would have about {elements} elements, more than {MAX_ELEMENTS}")


def pdf_document(pages: Sequence[bytes], size_px: tuple[int, int] | None) -> bytes:
    """One PDF page per SVG document, each page the size of its SVG (or `size_px`), dated PDF_DATE."""
    output = io.BytesIO()
    shared: list[cairocffi.PDFSurface] = []  # the one cairo surface that all pages are drawn on

    class Page(cairosvg.surface.PDFSurface):  # type: ignore[misc]
        def _create_surface(self, width: float, height: float) -> tuple[Any, float, float]:
            if not shared:
                surface = cairocffi.PDFSurface(output, width, height)
                surface.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, PDF_DATE)
                shared.append(surface)
            else:
                shared[0].set_size(width, height)
            return shared[0], width, height

    width, height = size_px if size_px else (None, None)
    for page in pages:
        tree = cairosvg.parser.Tree(bytestring=page, unsafe=False)
        Page(tree, None, DPI, output_width=width, output_height=height).cairo.show_page()
    shared[0].finish()
    return output.getvalue()
