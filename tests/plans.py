"""Plans the tests draw: the example from the schema spec, and a heavy one that renders for a while."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SPEC_EXAMPLE: dict[str, Any] = {
    "name": "Flat 2B",
    "floors": [{
        "name": "Ground", "level": 0, "height": 280,
        "walls": [{"id": "w1", "a": {"x": 0, "y": 0}, "b": {"x": 500, "y": 0}, "thickness": 20, "height": 280,
                   "openings": [{"type": "door", "offset": 120, "width": 90, "height": 210, "hinge": "left",
                                 "swing": "in"},
                                {"type": "window", "offset": 350, "width": 120, "height": 120, "sill": 90}]},
                  {"id": "w2", "a": {"x": 500, "y": 0}, "b": {"x": 500, "y": 400}, "thickness": 20},
                  {"id": "w3", "a": {"x": 500, "y": 400}, "b": {"x": 0, "y": 400}, "thickness": 20},
                  {"id": "w4", "a": {"x": 0, "y": 400}, "b": {"x": 0, "y": 0}, "thickness": 20}],
        "rooms": [{"name": "Living", "type": "living",
                   "polygon": [{"x": 0, "y": 0}, {"x": 500, "y": 0}, {"x": 500, "y": 400}, {"x": 0, "y": 400}]}],
        "items": [{"ref": "sofa", "x": 250, "y": 300, "rotation": 0, "width": 200, "depth": 90, "height": 80}],
        "labels": [{"text": "Balcony", "x": 250, "y": -60}],
    }],
}


def heavy_plan(cells: int = 30) -> dict[str, Any]:
    """A grid of cells x cells rooms with walls, doors and furniture: seconds of rendering at a large size."""
    walls, rooms, items = [], [], []
    size = 300
    for i in range(cells + 1):
        walls.append({"a": {"x": 0, "y": i * size}, "b": {"x": cells * size, "y": i * size}, "thickness": 15,
                      "openings": [{"type": "door", "offset": j * size + 150, "width": 80} for j in range(cells)]})
        walls.append({"a": {"x": i * size, "y": 0}, "b": {"x": i * size, "y": cells * size}, "thickness": 15,
                      "openings": [{"type": "window", "offset": j * size + 150, "width": 100}
                                   for j in range(cells)]})
    for i in range(cells):
        for j in range(cells):
            x, y = i * size, j * size
            rooms.append({"name": f"Room {i}.{j}", "polygon": [{"x": x, "y": y}, {"x": x + size, "y": y},
                                                               {"x": x + size, "y": y + size},
                                                               {"x": x, "y": y + size}]})
            items.append({"ref": "table", "x": x + 150, "y": y + 150, "rotation": 15, "width": 120, "depth": 80})
    return {"name": "Heavy", "floors": [{"walls": walls, "rooms": rooms, "items": items}]}


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / name).read_text()))
