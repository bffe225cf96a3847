"""Render options per view: what a client may ask of the 2D and the 3D renderer, validated at submit time.

The API validates `options` with the model of the request's view (so a typo is a 422, not a failed job), and
the renderers read the same fields from the stored dict.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from typing import Annotated, Literal, get_args

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


FloorIndex = Annotated[int, Field(ge=0, le=19, description="Index of the floor to draw.")]
RoomType = Annotated[str, Field(max_length=40)]
HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
MAX_LOGO_BYTES = 32 * 1024  # a logo, not a photograph; a job's options are a TEXT column (64 KB on MySQL)
MAX_LOGO_SIDE = 1024  # px; checked in the PNG's header, before anything is decompressed
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Branding(BaseModel):
    """A vendor's mark on the plan: a logo (inline PNG only: nothing is ever fetched), a line of text, where."""

    model_config = ConfigDict(extra="forbid")
    logo_png_base64: Annotated[str, Field(max_length=(MAX_LOGO_BYTES * 4) // 3 + 4, description=(
        f"The logo as a base64 PNG, at most {MAX_LOGO_BYTES // 1024} KB and {MAX_LOGO_SIDE} px a side. A URL is "
        "refused: renders never fetch anything."))] | None = None
    text: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "title-block"] = Field(
        default="bottom-right", description="A corner of the canvas, or the title block of a sheet drawn to scale "
                                            "(a fitted render puts it bottom right).")

    @field_validator("logo_png_base64")
    @classmethod
    def _a_small_png(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64: the logo is sent inline as a base64 PNG, never as a URL") from None
        if len(data) > MAX_LOGO_BYTES:
            raise ValueError(f"the logo is {len(data)} bytes, more than {MAX_LOGO_BYTES}")
        if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
            raise ValueError("the logo is not a PNG")
        width, height = struct.unpack(">II", data[16:24])
        if max(width, height) > MAX_LOGO_SIDE or min(width, height) < 1:
            raise ValueError(f"the logo is {width}x{height} px: 1 to {MAX_LOGO_SIDE} a side")
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()  # the whole stream decodes, without holding its pixels
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValueError(f"the logo is not a readable PNG: {exc}") from None
        return value


class Options2D(_Options):
    """Options of the 2D plan renderer, modelled on Floorplanner's export settings."""

    floor: FloorIndex | Literal["all"] = Field(default=0, description=(
        "Index of the floor to draw, or `all`: every floor from the lowest level up, side by side under their "
        "names in SVG and PNG, and a page (or the sheets) each in PDF."))
    areas: bool = Field(default=True, description="Show each room's area under its name (m², or ft² in imperial).")
    labels: bool = Field(default=True, description="Show room names and the plan's text labels.")
    furniture: bool = Field(default=True, description="Draw furniture as top-view symbols.")
    dims: bool = Field(default=True, description="Outer dimension chains along the building.")
    inner_dims: bool = Field(default=False, description="A dimension along each wall inside every room.")
    dim_marks: Literal["ticks", "arrows"] = Field(default="ticks", description="Ends of dimension lines.")
    scale_bar: bool = Field(default=True, description="Draw a scale bar.")
    north_arrow: bool = Field(default=True, description="Draw a north arrow.")
    north: Annotated[float, Field(ge=-360, le=360, description=(
        "Where north points, in degrees clockwise from the top of the page; by default the plan's `north`."
    ))] | None = None
    style: Literal["color", "bw", "blueprint"] = Field(default="color", description=(
        "`color`: tinted rooms; `bw`: black on white for print; `blueprint`: white on blue."))
    units: Literal["metric", "imperial", "imperial_decimal"] = Field(default="metric", description=(
        "`metric`: metres and m²; `imperial`: feet and inches (12' 6\"), ft²; `imperial_decimal`: decimal feet "
        "(12.50'), ft²."))
    area_rule: Literal["net", "gross"] = Field(default="net", description=(
        "How room areas are measured. `net`: the floor inside the walls; `gross`: that plus half of each wall "
        "between rooms and all of each wall on the outside, close to the gross internal area."))
    totals: bool = Field(default=False, description=(
        "A block with the area of each floor and of all of them together, by `area_rule`."))
    room_colors: Annotated[dict[RoomType, HexColour], Field(max_length=100, description=(
        "Fill colour by room type, e.g. {\"bedroom\": \"#dde6f2\"}, over the style's own palette."))] = {}
    hide_labels_for: Annotated[list[RoomType], Field(max_length=100, description=(
        "Room types whose rooms show no name, area or inner dimensions, e.g. [\"closet\", \"shaft\"]."))] = []
    branding: Branding | None = Field(default=None, description="A logo and a line of text on the plan.")
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
FINISHES: tuple[str, ...] = get_args(Finish)


class Options3D(_Options):
    """Options of the 3D renderer."""

    floor: FloorIndex = 0
    floors: Literal["one", "all"] = Field(default="one", description=(
        "`one`: the chosen floor alone; `all`: every floor stacked at its elevation with slabs between, the top "
        "one cut at `section_height`."))
    cutaway: bool = Field(default=False, description=(
        "Stack the floors below the chosen one, whole, under it (cut at `section_height` as a dollhouse), and "
        "leave out those above."))
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
        "Compass bearing of the sun, degrees clockwise from north (the plan's `north`)."))] = 150
    sun_elevation: Annotated[float, Field(ge=5, le=90, description="Height of the sun, degrees.")] = 55
    background: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="Background colour, #rrggbb.")] \
        = "#f2f2f0"
    finishes: Annotated[dict[Annotated[str, Field(max_length=200)], Finish], Field(max_length=1_000, description=(
        "Floor finish by room name or room type, e.g. {\"kitchen\": \"concrete\"}; others follow their type."
    ))] = {}


OPTIONS_BY_VIEW: dict[str, type[_Options]] = {"2d": Options2D, "3d": Options3D}
