"""Top-view furniture symbols: one parametric drawing per catalog `kind`, sized by the item's width and depth.

A symbol is SVG path data in the item's own frame, in cm: origin at the item's centre, x along its width,
y along its depth with the back at -depth/2 and the front at +depth/2 (a sofa's seat faces +y, a bed's
head is at -y). The renderer places it with the item's position and clockwise rotation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from worker.render.catalog import lookup
from worker.render.svg import num


@dataclass(frozen=True)
class Symbol:
    """Path data in three pens: `body`, `detail` and `hidden`.

    `body` is outlined and filled (it hides what lies under it), `detail` is thin lines on top, `hidden` is
    dashed (parts out of sight from above: drawers, rails, upper cabinets).
    """

    body: str
    detail: str = ""
    hidden: str = ""
    filled: bool = True  # a rug is an outline only: the floor shows through it


def lies_flat(ref: str) -> bool:
    """Whether the item is a floor covering (a rug): drawn first, and no obstacle for room names."""
    entry = lookup(ref)
    return entry is not None and entry.kind == "rug"


def symbol_for(ref: str, width: float, depth: float) -> Symbol:
    """The symbol of a catalog ref at the given size; a ref the catalog does not know is a plain box."""
    entry = lookup(ref)
    draw = SYMBOLS.get(entry.kind) if entry is not None else None
    if draw is None:
        return Symbol(rect(-width / 2, -depth / 2, width / 2, depth / 2))
    return draw(width, depth)


# Path pieces, all in the item frame.

def rect(x0: float, y0: float, x1: float, y1: float) -> str:
    """An SVG path of a rectangle."""
    return f"M{num(x0)} {num(y0)}H{num(x1)}V{num(y1)}H{num(x0)}Z"


def rounded(x0: float, y0: float, x1: float, y1: float, radius: float) -> str:
    """An SVG path of a rectangle with rounded corners."""
    r = min(radius, (x1 - x0) / 2, (y1 - y0) / 2)
    if r <= 0.05:
        return rect(x0, y0, x1, y1)
    arc = f"A{num(r)} {num(r)} 0 0 1 "
    return (f"M{num(x0 + r)} {num(y0)}H{num(x1 - r)}{arc}{num(x1)} {num(y0 + r)}V{num(y1 - r)}"
            f"{arc}{num(x1 - r)} {num(y1)}H{num(x0 + r)}{arc}{num(x0)} {num(y1 - r)}V{num(y0 + r)}"
            f"{arc}{num(x0 + r)} {num(y0)}Z")


def ellipse(cx: float, cy: float, rx: float, ry: float) -> str:
    """An SVG path of an ellipse."""
    rx, ry = max(rx, 0.05), max(ry, 0.05)
    arc = f"A{num(rx)} {num(ry)} 0 1 1 "
    return f"M{num(cx - rx)} {num(cy)}{arc}{num(cx + rx)} {num(cy)}{arc}{num(cx - rx)} {num(cy)}Z"


def line(x0: float, y0: float, x1: float, y1: float) -> str:
    """An SVG path of a straight line."""
    return f"M{num(x0)} {num(y0)}L{num(x1)} {num(y1)}"


def polyline(points: Iterable[tuple[float, float]], closed: bool = False) -> str:
    """An SVG path through `points`, closed when asked."""
    listed = list(points)
    if not listed:
        return ""
    data = "M" + "L".join(f"{num(x)} {num(y)}" for x, y in listed)
    return data + ("Z" if closed else "")


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _splits(start: float, end: float, share: float) -> list[float]:
    """Positions that divide start..end into parts of about `share` each (none for a single part)."""
    count = max(1, round((end - start) / share))
    return [start + (end - start) * i / count for i in range(1, count)]


# One drawing per kind. w is the width (x), d the depth (y); the back is at -d/2.

def bed(w: float, d: float) -> Symbol:
    """A bed: headboard, mattress and one or two pillows."""
    hw, hd = w / 2, d / 2
    board = _clamp(d * 0.03, 2, 6)  # headboard
    inset = _clamp(w * 0.06, 3, 10)
    pillows = 2 if w >= 120 else 1
    gap = 6.0
    pillow_w = (w - 2 * inset - (pillows - 1) * gap) / pillows
    pillow_d = _clamp(d * 0.17, 12, 45)
    top = -hd + board + inset * 0.6
    detail = line(-hw, -hd + board, hw, -hd + board)
    for i in range(pillows):
        x0 = -hw + inset + i * (pillow_w + gap)
        detail += rounded(x0, top, x0 + pillow_w, top + pillow_d, 5)
    # The duvet: its turned-down edge across the bed, and a folded corner.
    fold = top + pillow_d + _clamp(d * 0.05, 3, 12)
    fold_depth = _clamp(d * 0.08, 4, 18)
    detail += line(-hw, fold, hw, fold) + line(-hw, fold + fold_depth, hw, fold + fold_depth)
    corner = min(w * 0.3, (hd - fold - fold_depth) * 0.8)
    if corner > 4:
        detail += line(hw - corner, hd, hw, hd - corner)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def crib(w: float, d: float) -> Symbol:
    """A crib: a railed box."""
    hw, hd = w / 2, d / 2
    rail = _clamp(min(w, d) * 0.07, 2, 5)
    detail = rect(-hw + rail, -hd + rail, hw - rail, hd - rail)
    detail += "".join(line(x, -hd, x, -hd + rail) + line(x, hd - rail, x, hd) for x in _splits(-hw, hw, 8))
    pillow_d = _clamp(d * 0.15, 6, 20)
    detail += rounded(-hw + 2 * rail, -hd + 2 * rail, hw - 2 * rail, -hd + 2 * rail + pillow_d, 3)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def _seat(w: float, d: float, cushions_each: float) -> Symbol:
    """A sofa or armchair: back along the rear, an arm on each side, cushions between."""
    hw, hd = w / 2, d / 2
    back = _clamp(d * 0.22, 6, 25)
    arm = _clamp(w * 0.1, 5, 22) if w >= 3 * _clamp(w * 0.1, 5, 22) else 0.0
    detail = line(-hw + arm, -hd + back, hw - arm, -hd + back)
    if arm:
        detail += line(-hw + arm, -hd + back * 0.5, -hw + arm, hd) + line(hw - arm, -hd + back * 0.5, hw - arm, hd)
    detail += "".join(line(x, -hd + back, x, hd - 1) for x in _splits(-hw + arm, hw - arm, cushions_each))
    return Symbol(rounded(-hw, -hd, hw, hd, _clamp(min(w, d) * 0.08, 1, 8)), detail)


def sofa(w: float, d: float) -> Symbol:
    """A sofa: seat, back and arms."""
    return _seat(w, d, 65)


def armchair(w: float, d: float) -> Symbol:
    """An armchair: a one-seat sofa."""
    return _seat(w, d, 1000)


def sofa_corner(w: float, d: float) -> Symbol:
    """An L: one run along the back, one down the left side, sharing the corner seat."""
    hw, hd = w / 2, d / 2
    seat = _clamp(min(w, d) * 0.42, 40, 100)
    back = _clamp(seat * 0.25, 6, 25)
    arm = _clamp(seat * 0.2, 5, 20)
    outline = polyline([(-hw, -hd), (hw, -hd), (hw, -hd + seat), (-hw + seat, -hd + seat), (-hw + seat, hd),
                        (-hw, hd)], closed=True)
    detail = polyline([(hw - arm, -hd + back), (-hw + back, -hd + back), (-hw + back, hd - arm)])
    detail += line(hw - arm, -hd + back, hw - arm, -hd + seat) + line(-hw + back, hd - arm, -hw + seat, hd - arm)
    detail += line(-hw + seat, -hd + back, -hw + seat, -hd + seat) + line(-hw + back, -hd + seat, -hw + seat,
                                                                           -hd + seat)
    detail += "".join(line(x, -hd + back, x, -hd + seat) for x in _splits(-hw + seat, hw - arm, 65))
    detail += "".join(line(-hw + back, y, -hw + seat, y) for y in _splits(-hd + seat, hd - arm, 65))
    return Symbol(outline, detail)


def table(w: float, d: float) -> Symbol:
    """A rectangular table."""
    hw, hd = w / 2, d / 2
    return Symbol(rect(-hw, -hd, hw, hd))


def round_table(w: float, d: float) -> Symbol:
    """A round or oval table."""
    return Symbol(ellipse(0, 0, w / 2, d / 2))


def desk(w: float, d: float) -> Symbol:
    """A desk, with its pedestal hidden under the top."""
    hw, hd = w / 2, d / 2
    pedestal = min(40.0, w * 0.3)
    hidden = rect(hw - pedestal, -hd + 2, hw - 2, hd - 2) if w >= 80 else ""
    return Symbol(rect(-hw, -hd, hw, hd), "", hidden)


def chair(w: float, d: float) -> Symbol:
    """A chair: seat and back."""
    hw, hd = w / 2, d / 2
    back = _clamp(d * 0.18, 3, 10)
    seat = rounded(-hw + w * 0.04, -hd + back * 0.6, hw - w * 0.04, hd, _clamp(w * 0.12, 1, 6))
    return Symbol(seat + rounded(-hw, -hd, hw, -hd + back, back / 2))


def stool(w: float, d: float) -> Symbol:
    """A round stool."""
    return Symbol(ellipse(0, 0, w / 2, d / 2), ellipse(0, 0, w * 0.3, d * 0.3))


def wardrobe(w: float, d: float) -> Symbol:
    """A rail along the middle with hangers across it, and the doors' joints along the front."""
    hw, hd = w / 2, d / 2
    reach = min(hd * 0.75, 22.0)
    detail = "".join(line(x - reach * 0.35, -reach, x + reach * 0.35, reach) for x in _splits(-hw, hw, 12))
    detail += "".join(line(x, hd - 4, x, hd) for x in _splits(-hw, hw, 50))
    return Symbol(rect(-hw, -hd, hw, hd), detail, line(-hw + 3, 0, hw - 3, 0))


def _fronted(w: float, d: float, front_share: float, door: float) -> Symbol:
    """A box with its fronts along the front edge, divided into doors about `door` wide."""
    hw, hd = w / 2, d / 2
    front = hd - _clamp(d * front_share, 1.5, 4)
    detail = line(-hw, front, hw, front) + "".join(line(x, front, x, hd) for x in _splits(-hw, hw, door))
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def cabinet(w: float, d: float) -> Symbol:
    """A cabinet: a box with its front marked."""
    return _fronted(w, d, 0.1, 45)


def shelf(w: float, d: float) -> Symbol:
    """A shelf: a box with its bays."""
    hw, hd = w / 2, d / 2
    detail = "".join(line(x, -hd, x, hd) for x in _splits(-hw, hw, 40))
    detail += line(-hw, -hd + d * 0.15, hw, -hd + d * 0.15)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def counter(w: float, d: float) -> Symbol:
    """A kitchen counter: a box with its front marked."""
    return _fronted(w, d, 0.06, 60)


def kitchen_sink(w: float, d: float) -> Symbol:
    """A kitchen sink with one or two bowls."""
    hw, hd = w / 2, d / 2
    margin = _clamp(min(w, d) * 0.1, 2, 8)
    bowls = 2 if w >= 110 else 1
    bowl_w = min((w - 2 * margin - (bowls - 1) * margin) / bowls, 50.0)
    top, bottom = -hd + margin * 1.6, hd - margin
    detail = ""
    start = -(bowls * bowl_w + (bowls - 1) * margin) / 2
    for i in range(bowls):
        x0 = start + i * (bowl_w + margin)
        detail += rounded(x0, top, x0 + bowl_w, bottom, 4)
        detail += ellipse(x0 + bowl_w / 2, (top + bottom) / 2, 2, 2)
    detail += ellipse(0, -hd + margin * 0.8, 1.6, 1.6) + line(0, -hd + margin * 0.8, 0, top + 4)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def stove(w: float, d: float) -> Symbol:
    """A stove with four burners."""
    hw, hd = w / 2, d / 2
    detail = ""
    for i, (fx, fy) in enumerate(((-0.25, -0.22), (0.25, -0.22), (-0.25, 0.25), (0.25, 0.25))):
        radius = min(w, d) * (0.16 if i in (0, 3) else 0.12)
        detail += ellipse(fx * w, fy * d, radius, radius)
    detail += line(-hw, hd - _clamp(d * 0.06, 1.5, 4), hw, hd - _clamp(d * 0.06, 1.5, 4))
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def fridge(w: float, d: float) -> Symbol:
    """A fridge: a crossed box, with its door and handle."""
    hw, hd = w / 2, d / 2
    door = hd - _clamp(d * 0.08, 2, 6)
    detail = line(-hw, door, hw, door) + line(-hw + 3, door - 3, -hw + 3, door - 3 - d * 0.3)
    detail += line(-hw, -hd, hw, door) + line(hw, -hd, -hw, door)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def appliance(w: float, d: float) -> Symbol:
    """An appliance: a crossed box."""
    hw, hd = w / 2, d / 2
    inset = _clamp(min(w, d) * 0.08, 1, 5)
    detail = line(-hw + inset, -hd + inset, hw - inset, hd - inset) + line(hw - inset, -hd + inset, -hw + inset,
                                                                           hd - inset)
    return Symbol(rect(-hw, -hd, hw, hd), rect(-hw + inset, -hd + inset, hw - inset, hd - inset) + detail)


def washer(w: float, d: float) -> Symbol:
    """A washing machine: its panel and drum."""
    hw, hd = w / 2, d / 2
    panel = _clamp(d * 0.16, 2, 10)
    radius = min(w, d - panel) * 0.38
    centre = (-hd + panel + hd) / 2
    detail = line(-hw, -hd + panel, hw, -hd + panel)
    detail += ellipse(0, centre, radius, radius) + ellipse(0, centre, radius * 0.72, radius * 0.72)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def toilet(w: float, d: float) -> Symbol:
    """A cistern against the wall and an oval bowl in front of it."""
    hw, hd = w / 2, d / 2
    tank = _clamp(d * 0.28, 5, 22)
    bowl_ry = (d - tank) / 2
    cy = -hd + tank + bowl_ry
    body = rounded(-hw, -hd, hw, -hd + tank, 2) + ellipse(0, cy, hw * 0.86, bowl_ry)
    return Symbol(body, ellipse(0, cy + bowl_ry * 0.08, hw * 0.58, bowl_ry * 0.7))


def basin(w: float, d: float) -> Symbol:
    """A wash basin with one or two bowls."""
    hw, hd = w / 2, d / 2
    bowls = 2 if w >= 100 else 1
    each = w / bowls
    detail = ""
    for i in range(bowls):
        cx = -hw + each * (i + 0.5)
        detail += ellipse(cx, hd * 0.12, each * 0.34, hd * 0.6)
        detail += ellipse(cx, -hd * 0.72, 1.5, 1.5)
    return Symbol(rounded(-hw, -hd, hw, hd, _clamp(min(w, d) * 0.1, 1, 6)), detail)


def bathtub(w: float, d: float) -> Symbol:
    """A bathtub: rim, tub and drain."""
    hw, hd = w / 2, d / 2
    rim = _clamp(min(w, d) * 0.08, 2, 8)
    inner = rounded(-hw + rim, -hd + rim, hw - rim, hd - rim, (d - 2 * rim) * 0.4)
    drain_x = -hw + rim + _clamp(w * 0.1, 3, 15)
    return Symbol(rounded(-hw, -hd, hw, hd, 4), inner + ellipse(drain_x, 0, 2, 2))


def shower(w: float, d: float) -> Symbol:
    """A shower tray: a crossed box with its drain."""
    hw, hd = w / 2, d / 2
    detail = line(-hw, -hd, hw, hd) + line(hw, -hd, -hw, hd) + ellipse(0, 0, 3, 3)
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def plant(w: float, d: float) -> Symbol:
    """A pot seen from above with leaves fanning out of it."""
    rx, ry = w / 2, d / 2
    detail = ellipse(0, 0, rx * 0.25, ry * 0.25)
    for i in range(8):
        angle = math.pi * 2 * i / 8 + math.pi / 8
        cos, sin = math.cos(angle), math.sin(angle)
        tip = (cos * rx * 0.95, sin * ry * 0.95)
        side = (-sin * rx * 0.14, cos * ry * 0.14)
        mid = (cos * rx * 0.6, sin * ry * 0.6)
        detail += polyline([(cos * rx * 0.25, sin * ry * 0.25), (mid[0] + side[0], mid[1] + side[1]), tip,
                            (mid[0] - side[0], mid[1] - side[1])], closed=True)
    return Symbol(ellipse(0, 0, rx, ry), detail)


def rug(w: float, d: float) -> Symbol:
    """A rug: border and fringe."""
    hw, hd = w / 2, d / 2
    border = _clamp(min(w, d) * 0.06, 2, 12)
    fringe = _clamp(w * 0.03, 1, 5)
    detail = rect(-hw + border, -hd + border, hw - border, hd - border)
    detail += "".join(line(-hw, y, -hw - fringe, y) + line(hw, y, hw + fringe, y) for y in _splits(-hd, hd, 6))
    return Symbol(rect(-hw, -hd, hw, hd), detail, filled=False)


def piano(w: float, d: float) -> Symbol:
    """A piano: its body and keyboard."""
    hw, hd = w / 2, d / 2
    keys = _clamp(d * 0.25, 4, 18)
    detail = rect(-hw + 4, hd - keys, hw - 4, hd) + "".join(
        line(x, hd - keys, x, hd) for x in _splits(-hw + 4, hw - 4, 2.35 * 4))
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def fireplace(w: float, d: float) -> Symbol:
    """A fireplace: its firebox."""
    hw, hd = w / 2, d / 2
    box_back, box_front = -hd + _clamp(d * 0.2, 2, 12), hd
    detail = polyline([(-hw * 0.7, box_front), (-hw * 0.4, box_back), (hw * 0.4, box_back), (hw * 0.7, box_front)])
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def stairs(w: float, d: float) -> Symbol:
    """Treads across the flight, a walking line up it (up is towards the back), and the cut-plane break."""
    hw, hd = w / 2, d / 2
    treads = "".join(line(-hw, y, hw, y) for y in _splits(-hd, hd, 27))
    head = min(w * 0.12, 10.0)
    walk = polyline([(0, hd - 4), (0, -hd + 6)]) + polyline([(-head / 2, -hd + 6 + head), (0, -hd + 6),
                                                            (head / 2, -hd + 6 + head)])
    cut = -hd + d * 0.45
    detail = treads + walk + polyline([(-hw, cut + w * 0.15), (-hw * 0.1, cut + w * 0.05), (hw * 0.1, cut - w * 0.05),
                                       (hw, cut - w * 0.15)])
    return Symbol(rect(-hw, -hd, hw, hd), detail)


def lamp(w: float, d: float) -> Symbol:
    """A lamp: a circle with a cross."""
    rx, ry = w / 2, d / 2
    detail = line(-rx * 0.7, 0, rx * 0.7, 0) + line(0, -ry * 0.7, 0, ry * 0.7) + ellipse(0, 0, rx * 0.3, ry * 0.3)
    return Symbol(ellipse(0, 0, rx, ry), detail)


SYMBOLS: dict[str, Callable[[float, float], Symbol]] = {
    "appliance": appliance, "armchair": armchair, "basin": basin, "bathtub": bathtub, "bed": bed,
    "cabinet": cabinet, "chair": chair, "counter": counter, "crib": crib, "desk": desk, "fireplace": fireplace,
    "fridge": fridge, "kitchen_sink": kitchen_sink, "lamp": lamp, "piano": piano, "plant": plant,
    "round_table": round_table, "rug": rug, "shelf": shelf, "shower": shower, "sofa": sofa,
    "sofa_corner": sofa_corner, "stairs": stairs, "stool": stool, "stove": stove, "table": table,
    "toilet": toilet, "wardrobe": wardrobe, "washer": washer,
}
