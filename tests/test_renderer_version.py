"""The renderers' version names what they draw: results are reused only from the same version.

So a change of the renderers' sources must come with a new RENDERER_VERSION (shared/formats.py).

When this fails after a change to a renderer: bump RENDERER_VERSION and write the line it prints into
tests/renderer_sources.txt.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from shared.formats import RENDERER_VERSION

ROOT = Path(__file__).parent.parent
SOURCES = [*sorted((ROOT / "worker" / "render").rglob("*.py")),
           *(ROOT / "shared" / name for name in ("plan.py", "render_options.py", "paper.py"))]
RECORD = Path(__file__).parent / "renderer_sources.txt"


def sources_digest() -> str:
    """SHA-256 over the renderers' sources, by path and content."""
    digest = hashlib.sha256()
    for path in SOURCES:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def test_the_renderer_version_changes_with_the_renderers_sources() -> None:
    line = f"{RENDERER_VERSION} {sources_digest()}"
    recorded = RECORD.read_text().strip()
    assert recorded == line, (f"the renderers' sources or version changed: if what they draw changed, bump "
                              f"RENDERER_VERSION, then record this line in {RECORD.name}: {line}")
