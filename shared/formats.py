"""What each view can produce, the media types of the formats, and the canvas limits: one table for the API
(checked at submit) and the renderers (checked again, since they are also called directly)."""

from __future__ import annotations

FORMATS_BY_VIEW: dict[str, tuple[str, ...]] = {
    "2d": ("png", "svg", "pdf", "jpeg", "webp"),
    "3d": ("png", "jpeg", "webp"),
}
CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "jpeg": "image/jpeg",
                 "webp": "image/webp"}
# Beyond these a canvas (4 bytes a pixel, a few copies) would outgrow a render child's memory.
MAX_SIDE_BY_VIEW = {"2d": 8192, "3d": 4096}
MAX_PIXELS = 8192 * 8192
