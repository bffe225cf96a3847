"""Render options per view: what a client may ask of the 2D and the 3D renderer, validated at submit time.

The API validates `options` with the model of the request's view (so a typo is a 422, not a failed job), and
the renderers read the same fields from the stored dict.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    floor: Annotated[int, Field(ge=0, le=19, description="Index of the floor to draw.")] = 0


class Options2D(_Options):
    """Options of the 2D plan renderer."""

    areas: bool = Field(default=True, description="Show each room's area under its name.")


class Options3D(_Options):
    """Options of the 3D renderer."""


OPTIONS_BY_VIEW: dict[str, type[_Options]] = {"2d": Options2D, "3d": Options3D}
