"""Where the figures of dimension chains go, so that every one can be read and none sits on another.

A figure goes on its segment, above the line, when it fits there; else below the line, then beside its
segment with a leader, then out beyond the chains with a leader. A jog of a few centimetres is merged into
its shorter neighbour (its station dropped), and so is a segment whose figure finds no free place at all:
a merged figure is longer and fits better. Pure layout in plan cm; `plan2d` draws the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from worker.render.dimensions import Chain
from worker.render.geometry import Bounds, Pt
from worker.render.svg import LINE_HEIGHT, text_width

MIN_JOG = 10.0  # cm: shorter segments are steps in a wall's face, not lengths worth a figure
FITS = 0.96  # a figure fits its segment when it takes up to this share of it
SHIFTS = 3  # places beside a segment tried on either side, and levels out beyond the chains


@dataclass(frozen=True)
class Figure:
    """One figure: its text centred at (x, y), and a leader from its segment when it stands away.

    The text is turned -90 degrees on a vertical chain.
    """

    text: str
    x: float
    y: float
    rotate: float
    leader: tuple[Pt, Pt] | None = None


@dataclass(frozen=True)
class Level:
    """One dimension line of a chain: where it runs across, the stations it marks and their figures."""

    chain: Chain
    across: float
    stations: tuple[float, ...]
    figures: tuple[Figure, ...]


@dataclass
class FigurePlacer:
    """Places the figures of all chains of a drawing against each other (and against `taken` boxes)."""

    size: float  # text height, cm
    lift: float  # from the line to the near edge of a figure
    step: float  # from one level of a chain to the next
    label: Callable[[float], str]  # a length's figure, e.g. "3.62"
    taken: list[Bounds]

    def chain(self, chain: Chain, first: float) -> list[Level]:
        """The chain's levels from `first` outwards: the segments', then the overall one when it has more."""
        stations = merge_jogs(chain.stations)
        overall = first + chain.outward * self.step
        outer = [self._level(chain, overall, (stations[0], stations[-1]), overall)] if len(stations) > 2 else []
        limit = overall if outer else first
        while True:
            placed = self._figures(chain, first, stations, limit)
            if isinstance(placed, tuple):
                return [Level(chain, first, stations, placed), *outer]
            if len(stations) <= 2:
                return [Level(chain, first, stations, ()), *outer]  # nowhere left: no figure rather than two in one
            stations = _merged(stations, placed)

    def _level(self, chain: Chain, across: float, stations: tuple[float, ...], limit: float) -> Level:
        placed = self._figures(chain, across, stations, limit)
        return Level(chain, across, stations, placed if isinstance(placed, tuple) else ())

    def _figures(self, chain: Chain, across: float, stations: tuple[float, ...],
                 limit: float) -> tuple[Figure, ...] | int:
        """The figures of one level, or the index of a segment whose figure found no place."""
        segments = sorted(range(len(stations) - 1), key=lambda i: stations[i] - stations[i + 1])
        before = len(self.taken)
        figures: dict[int, Figure] = {}
        for index in segments:
            figure = self._place(chain, across, stations[index], stations[index + 1], limit)
            if figure is None:
                del self.taken[before:]
                return index
            figures[index] = figure
        return tuple(figures[i] for i in sorted(figures))

    def _place(self, chain: Chain, across: float, low: float, high: float, limit: float) -> Figure | None:
        text = self.label(high - low)
        length = text_width(text, self.size, bold=False)
        depth = self.size * LINE_HEIGHT
        middle = (low + high) / 2
        above = across - self.lift - self.size * 0.5
        below = across + self.lift + self.size * 0.5
        candidates: list[tuple[float, float, bool]] = []  # along, across, with a leader
        if length <= (high - low) * FITS:
            candidates.append((middle, above, False))
        candidates.append((middle, below, False))
        for k in range(1, SHIFTS + 1):
            for sign in (1.0, -1.0):
                candidates.append((middle + sign * k * (length + self.size), below, True))
        for k in range(1, SHIFTS + 1):
            candidates.append((middle, limit + chain.outward * (k * self.step + self.size), True))
        for along, place, leader in candidates:
            box = _box(chain, along, place, length, depth)
            if not any(_overlap(box, other) for other in self.taken):
                self.taken.append(box)
                return Figure(text, *_point(chain, along, place), 0.0 if chain.horizontal else -90.0,
                              (_point(chain, middle, across), _near_edge(chain, along, place, depth, across))
                              if leader else None)
        return None


def merge_jogs(stations: Sequence[float]) -> tuple[float, ...]:
    """The stations without those that cut off a segment shorter than MIN_JOG.

    Such a segment is merged into its shorter neighbour; a chain keeps its two ends.
    """
    kept = list(stations)
    while len(kept) > 2:
        gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
        shortest = min(range(len(gaps)), key=gaps.__getitem__)
        if gaps[shortest] >= MIN_JOG:
            break
        kept = list(_merged(tuple(kept), shortest))
    return tuple(kept)


def _merged(stations: tuple[float, ...], segment: int) -> tuple[float, ...]:
    """The stations with segment `segment` merged into its shorter neighbour."""
    if len(stations) <= 2:
        return stations
    last = len(stations) - 2
    if segment == 0:
        drop = 1
    elif segment == last:
        drop = last
    else:
        left = stations[segment] - stations[segment - 1]
        right = stations[segment + 2] - stations[segment + 1]
        drop = segment if left <= right else segment + 1
    return stations[:drop] + stations[drop + 1:]


def _point(chain: Chain, along: float, across: float) -> Pt:
    return (along, across) if chain.horizontal else (across, along)


def _box(chain: Chain, along: float, across: float, length: float, depth: float) -> Bounds:
    """The figure's extent on the plan: along the line by its text's length, across by a line's height."""
    if chain.horizontal:
        return (along - length / 2, across - depth / 2, along + length / 2, across + depth / 2)
    return (across - depth / 2, along - length / 2, across + depth / 2, along + length / 2)


def _near_edge(chain: Chain, along: float, across: float, depth: float, line: float) -> Pt:
    """Where a leader from the line meets the figure: the middle of its edge facing the line."""
    edge = across - depth / 2 if across > line else across + depth / 2
    return _point(chain, along, edge)


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
