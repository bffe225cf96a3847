"""Render options per view: what a client may ask of the 2D and the 3D renderer, validated at submit time.

The API validates `options` with the model of the request's view (so a typo is a 422, not a failed job), and
the renderers read the same fields from the stored dict.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    floor: Annotated[int, Field(ge=0, le=19, description="Index of the floor to draw.")] = 0


class Options2D(_Options):
    """Options of the 2D plan renderer, modelled on Floorplanner's export settings."""

    areas: bool = Field(default=True, description="Show each room's area under its name (m², or ft² in imperial).")
    labels: bool = Field(default=True, description="Show room names and the plan's text labels.")
    furniture: bool = Field(default=True, description="Draw furniture as top-view symbols.")
    dims: bool = Field(default=True, description="Outer dimension chains along the building.")
    inner_dims: bool = Field(default=False, description="A dimension along each wall inside every room.")
    dim_marks: Literal["ticks", "arrows"] = Field(default="ticks", description="Ends of dimension lines.")
    scale_bar: bool = Field(default=True, description="Draw a scale bar.")
    north_arrow: bool = Field(default=True, description="Draw a north arrow.")
    north: Annotated[float, Field(ge=-360, le=360, description=(
        "Where north points, in degrees clockwise from the top of the page."))] = 0
    style: Literal["color", "bw", "blueprint"] = Field(default="color", description=(
        "`color`: tinted rooms; `bw`: black on white for print; `blueprint`: white on blue."))
    units: Literal["metric", "imperial"] = Field(default="metric", description=(
        "Metric: metres and m²; imperial: feet and inches, ft²."))
    scale: Literal["fit", "1:50", "1:100"] = Field(default="fit", description=(
        "`fit` fills the width x height canvas; 1:50 and 1:100 draw to scale on `paper` (PDF and SVG only)."))
    paper: Literal["A4", "A3", "Letter"] = Field(default="A4", description="Sheet size when drawn to scale.")
    orientation: Literal["auto", "portrait", "landscape"] = Field(default="auto", description=(
        "Sheet orientation when drawn to scale; `auto` picks the one needing fewer sheets."))
    margin: Annotated[int, Field(ge=0, le=2000, description=(
        "Margin around the drawing, px, when fitted to the canvas; default 5% of the shorter side."))] | None = None


class Options3D(_Options):
    """Options of the 3D renderer."""


OPTIONS_BY_VIEW: dict[str, type[_Options]] = {"2d": Options2D, "3d": Options3D}
