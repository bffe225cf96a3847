"""Lengths and areas as an architect writes them: metres and m², or feet and inches (or decimal feet) and ft²."""

from __future__ import annotations

CM_PER_INCH = 2.54
CM_PER_FOOT = 30.48
CM2_PER_FT2 = CM_PER_FOOT * CM_PER_FOOT
# Scale bar lengths to choose from, in cm: 1-2-5 steps of metres, or of feet.
_METRIC_STEPS = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0)
_IMPERIAL_STEPS = tuple(feet * CM_PER_FOOT for feet in (1, 2, 5, 10, 20, 50, 100, 200, 500))


def imperial(units: str) -> bool:
    """Whether `units` measures in feet."""
    return units.startswith("imperial")


def length_text(cm: float, units: str) -> str:
    """3.62 (metres, to the cm), 11' 10" (feet and whole inches) or 11.83' (decimal feet)."""
    if units == "imperial":
        inches = round(cm / CM_PER_INCH)
        feet, rest = divmod(inches, 12)
        return f"{feet}' {rest}\"" if feet else f'{rest}"'
    if units == "imperial_decimal":
        return f"{cm / CM_PER_FOOT:.2f}'"
    return f"{cm / 100:.2f}"


def area_text(cm2: float, units: str) -> str:
    """33.8 m² or 364 ft²."""
    if imperial(units):
        return f"{cm2 / CM2_PER_FT2:.0f} ft\u00b2"
    return f"{cm2 / 10_000:.1f} m\u00b2"


def scale_bar(units: str, longest_cm: float) -> tuple[float, int, str]:
    """A round bar length no longer than `longest_cm`, how many parts to divide it in, and its label."""
    steps = _IMPERIAL_STEPS if imperial(units) else _METRIC_STEPS
    length = max((step for step in steps if step <= longest_cm), default=steps[0])
    if imperial(units):
        feet = round(length / CM_PER_FOOT)
        return length, 5 if feet % 5 == 0 else 4 if feet % 4 == 0 else 2 if feet % 2 == 0 else 1, f"{feet} ft"
    metres = length / 100
    label = f"{metres:g} m"
    first = f"{metres:g}"[0]
    return length, {"1": 5, "2": 4, "5": 5}.get(first, 1), label
