"""What each view can produce, the media types of the formats, the canvas limits and the queue of each view.

One table for the API (checked at submit), the CLI and the renderers (checked again, since they are also called
directly).
"""

from __future__ import annotations

from typing import Literal, get_args

View = Literal["2d", "3d"]
Format = Literal["png", "svg", "pdf", "jpeg", "webp"]

FORMATS_BY_VIEW: dict[str, tuple[str, ...]] = {
    "2d": ("png", "svg", "pdf", "jpeg", "webp"),
    "3d": ("png", "jpeg", "webp"),
}
CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "jpeg": "image/jpeg",
                 "webp": "image/webp"}
# Beyond these a canvas (4 bytes a pixel, a few copies) would outgrow a render child's memory.
MAX_SIDE_BY_VIEW = {"2d": 8192, "3d": 4096}
MAX_PIXELS = 8192 * 8192

VIEWS: tuple[str, ...] = get_args(View)
FORMATS: tuple[str, ...] = get_args(Format)
assert set(FORMATS_BY_VIEW) == set(VIEWS) and {f for fs in FORMATS_BY_VIEW.values() for f in fs} == set(FORMATS)


def queue_for_view(view: str) -> str:
    """Each view has its own queue: 3D renders are slower and may run on GPU workers."""
    return f"render-{view}"


QUEUE_NAMES = tuple(queue_for_view(v) for v in VIEWS)

# The renderers' version: part of what makes two renders the same (results are reused only from the same
# version). Bump it with every change to what they draw; tests/test_renderer_version.py notices a change of
# the renderers' sources that did not.
RENDERER_VERSION = "2026.12.1"
