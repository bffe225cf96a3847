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


class Point3D(BaseModel):
    """A point in the plan's frame, cm: x east, y south (as in the plan), z up from the floor."""

    model_config = ConfigDict(extra="forbid")
    x: Annotated[float, Field(ge=-100_000, le=100_000)]
    y: Annotated[float, Field(ge=-100_000, le=100_000)]
    z: Annotated[float, Field(ge=-10_000, le=10_000)]


class CameraView(BaseModel):
    """An eye-level (or any) camera: where it stands, what it looks at, and its vertical field of view."""

    model_config = ConfigDict(extra="forbid")
    position: Point3D
    target: Point3D
    fov: Annotated[float, Field(gt=10, lt=120, description="Vertical field of view, degrees.")] = 60


Finish = Literal["wood", "dark_wood", "tiles", "small_tiles", "carpet", "concrete"]


class Options3D(_Options):
    """Options of the 3D renderer."""

    camera: Literal["dollhouse", "top"] | CameraView = Field(default="dollhouse", description=(
        "`dollhouse`: a 3/4 view from above with the walls cut at `section_height`; `top`: a top-down 3D plan; "
        "or a camera object, e.g. at eye level inside a room. The two named views frame the whole floor."))
    projection: Literal["perspective", "orthographic"] | None = Field(default=None, description=(
        "For `dollhouse` and `top`; by default the dollhouse is in perspective and the top view orthographic."))
    azimuth: Annotated[float, Field(ge=-360, le=360, description=(
        "Compass bearing the dollhouse camera looks from, degrees clockwise from north (180: from the south)."
    ))] = 200
    elevation: Annotated[float, Field(ge=10, le=90, description=(
        "Height of the dollhouse camera above the horizon, degrees."))] = 55
    section_height: Annotated[float, Field(gt=0, le=2_000, description=(
        "Height in cm at which walls are cut. Default: 150 for `dollhouse`, none for `top` and cameras."
    ))] | None = None
    shadows: bool = Field(default=True, description="Cast soft sun shadows.")
    ambient_occlusion: bool = Field(default=True, description="Darken corners, wall bases and spaces under "
                                                                "furniture, as ambient light does.")
    door_state: Literal["open", "closed"] = Field(default="open", description="Draw door leaves open or closed.")
    furniture: bool = Field(default=True, description="Draw the plan's furniture.")
    sun_azimuth: Annotated[float, Field(ge=-360, le=360, description=(
        "Compass bearing of the sun, degrees clockwise from north."))] = 150
    sun_elevation: Annotated[float, Field(ge=5, le=90, description="Height of the sun, degrees.")] = 55
    background: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Background colour, #rrggbb.")] \
        = "#f2f2f0"
    finishes: Annotated[dict[Annotated[str, Field(max_length=200)], Finish], Field(max_length=1_000, description=(
        "Floor finish by room name or room type, e.g. {\"kitchen\": \"concrete\"}; others follow their type."
    ))] = {}


OPTIONS_BY_VIEW: dict[str, type[_Options]] = {"2d": Options2D, "3d": Options3D}
