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
from worker.render.errors import RenderError
from worker.render.plan2d import Scene, fitted_svg, read_options, scene_of, sheet_svgs

# cairo stamps PDFs with the time of rendering; a fixed date keeps the bytes a function of the input.
PDF_DATE = "2000-01-01T00:00:00Z"
DPI = 96  # cairosvg's CSS pixel: a fitted PDF page is width x height px at this resolution


def render_vector(plan: Plan, fmt: str, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """SVG or PDF: fitted to width x height px, or to scale on sheets of paper (`scale`, `paper`)."""
    scene = _scene(plan, fmt, options)
    if scene.options.scale == "fit":
        svg = fitted_svg(scene, width, height).encode()
        return svg if fmt == "svg" else pdf_document([svg], (width, height))
    layout = sheet_layout(scene.floor, scene.options.scale, scene.options.paper, scene.options.orientation)
    _check_size(scene, layout.sheets)
    if fmt == "svg" and layout.sheets > 1:
        raise RenderError("too_large", f"at {scene.options.scale} on {scene.options.paper} the floor needs "
                                       f"{layout.sheets} sheets and an SVG holds one: ask for a PDF")
    pages = [svg.encode() for svg in sheet_svgs(scene, layout)]
    return pages[0] if fmt == "svg" else pdf_document(pages, None)


def render_png(plan: Plan, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """The plan fitted to a width x height px PNG."""
    scene = _scene(plan, "png", options)
    svg = fitted_svg(scene, width, height).encode()
    tree = cairosvg.parser.Tree(bytestring=svg, unsafe=False)
    surface = cairosvg.surface.PNGSurface(tree, None, DPI, output_width=width, output_height=height).cairo
    surface.flush()
    return _png_rgb(surface)


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


def _scene(plan: Plan, fmt: str, options: Mapping[str, Any]) -> Scene:
    opts = read_options(options)
    problems = request_problems("2d", fmt, opts.model_dump())
    if problems:
        raise RenderError("invalid_option", problems[0]["message"])
    scene = scene_of(plan, opts)
    if opts.scale == "fit":
        _check_size(scene, 1)
    return scene


def _check_size(scene: Scene, sheets: int) -> None:
    if sheets > MAX_SHEETS:
        raise RenderError("too_large", f"the floor needs {sheets} sheets at {scene.options.scale} on "
                                       f"{scene.options.paper}, more than {MAX_SHEETS}")
    elements = element_estimate(scene.floor, scene.options) * sheets
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
