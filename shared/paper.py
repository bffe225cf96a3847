"""Paper for plans drawn to scale: sheet sizes, and how a floor is laid out on one sheet or tiled on several.

Shared by the API, which counts the sheets at submit time to refuse oversized PDFs, and by the renderer,
which draws them: both take the floor's extent from `floor_extent`, so they always agree on the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.plan import Floor

PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0), "Letter": (215.9, 279.4)}  # portrait width, height
SCALES = {"1:50": 50, "1:100": 100}
SHEET_MARGIN_MM = 10.0
TITLE_MM = 18.0  # the title block along the bottom of every sheet
ANNOTATION_MM = 14.0  # room around the building for the dimension chains, on paper
Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class SheetLayout:
    """Sheets of `paper_mm` (as oriented) showing the plan at 1:`scale`, `columns` x `rows` of them.

    Each sheet's drawing frame, `frame_mm` (x, y, width, height on the sheet), shows a window of the plan;
    the windows tile the plan without gaps, starting at `origin_cm`, the plan point at the first frame's
    top-left corner.
    """

    paper_mm: tuple[float, float]
    scale: int
    frame_mm: tuple[float, float, float, float]
    columns: int
    rows: int
    origin_cm: tuple[float, float]

    @property
    def sheets(self) -> int:
        """How many sheets the layout takes."""
        return self.columns * self.rows

    @property
    def cm_per_mm(self) -> float:
        """Plan centimetres per millimetre of paper: 5 at 1:50."""
        return self.scale / 10

    def window_cm(self, column: int, row: int) -> tuple[float, float]:
        """The plan point at the top-left corner of the frame of sheet (column, row)."""
        _, _, width, height = self.frame_mm
        return (self.origin_cm[0] + column * width * self.cm_per_mm,
                self.origin_cm[1] + row * height * self.cm_per_mm)


def floor_extent(floor: Floor) -> Bounds | None:
    """A quick, generous extent of what a floor draws (walls, door swings, rooms, items, label anchors)."""
    xs: list[float] = []
    ys: list[float] = []
    for wall in floor.walls:
        half = wall.thickness / 2
        xs += [wall.a.x - half, wall.a.x + half, wall.b.x - half, wall.b.x + half]
        ys += [wall.a.y - half, wall.a.y + half, wall.b.y - half, wall.b.y + half]
        circle = wall.circle()
        if circle is not None:
            # A curved wall bulges beyond its ends: its outer face, every 10 degrees.
            steps = max(2, math.ceil(abs(math.degrees(circle.sweep)) / 10))
            for i in range(steps + 1):
                for across in (-half, half):
                    x, y = circle.point(wall.length * i / steps, across)
                    xs.append(x)
                    ys.append(y)
        # A door leaf swings out of the wall by its width (half of it for a pair), to its `swing` side.
        if wall.length:
            nx, ny = -(wall.b.y - wall.a.y) / wall.length, (wall.b.x - wall.a.x) / wall.length
            for opening in wall.openings:
                if opening.type in ("door", "double_door"):
                    reach = (half + opening.width / (2 if opening.type == "double_door" else 1)) * (
                        1 if opening.swing == "in" else -1)
                    xs += [wall.a.x + nx * reach, wall.b.x + nx * reach]
                    ys += [wall.a.y + ny * reach, wall.b.y + ny * reach]
    for room in floor.rooms:
        xs += [p.x for p in room.polygon]
        ys += [p.y for p in room.polygon]
    for item in floor.items:
        radius = math.hypot(item.width, item.depth) / 2
        xs += [item.x - radius, item.x + radius]
        ys += [item.y - radius, item.y + radius]
    for label in floor.labels:
        xs.append(label.x)
        ys.append(label.y)
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys))


def sheet_layout(floor: Floor, scale: str, paper: str, orientation: str) -> SheetLayout:
    """The sheets a floor needs at `scale` ("1:50") on `paper` ("A4").

    `orientation` auto picks the one with fewer sheets (landscape on a tie when the floor is wider than deep).
    """
    factor = SCALES[scale]
    extent = floor_extent(floor) or (0.0, 0.0, 100.0, 100.0)
    pad = ANNOTATION_MM * factor / 10
    minx, miny, maxx, maxy = extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad
    short, long_ = PAPER_MM[paper]
    choices = {"portrait": (short, long_), "landscape": (long_, short)}
    if orientation != "auto":
        choices = {orientation: choices[orientation]}
    layouts = [_layout(size, factor, (minx, miny, maxx, maxy)) for size in choices.values()]
    wide = (maxx - minx) >= (maxy - miny)
    return min(layouts, key=lambda layout: (layout.sheets, (layout.paper_mm[0] < layout.paper_mm[1]) == wide))


def _layout(paper_mm: tuple[float, float], factor: int, extent: Bounds) -> SheetLayout:
    frame = (SHEET_MARGIN_MM, SHEET_MARGIN_MM, paper_mm[0] - 2 * SHEET_MARGIN_MM,
             paper_mm[1] - 2 * SHEET_MARGIN_MM - TITLE_MM)
    window_w, window_h = frame[2] * factor / 10, frame[3] * factor / 10
    minx, miny, maxx, maxy = extent
    columns = max(1, math.ceil((maxx - minx) / window_w - 1e-9))
    rows = max(1, math.ceil((maxy - miny) / window_h - 1e-9))
    # Centre the plan on the sheets it needs.
    origin = ((minx + maxx) / 2 - columns * window_w / 2, (miny + maxy) / 2 - rows * window_h / 2)
    return SheetLayout(paper_mm, factor, frame, columns, rows, origin)
