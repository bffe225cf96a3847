"""The 3D view: a floor of a plan, or its floors stacked, as a lit, shadowed image.

The camera is a dollhouse, top-down, or one in a room.

`render_3d` is a pure function of its input: scene meshes are built with numpy (`scene`), cameras with
`camera`, and drawn by `gpu` on a headless EGL context that the process creates once and reuses.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from pydantic import ValidationError
from shapely.geometry import LineString

from shared.formats import MAX_SIDE_BY_VIEW
from shared.plan import Plan, floor_elevations, json_path
from shared.render_options import CameraView, Options3D
from worker.render.errors import RenderError
from worker.render.view3d import camera as cam
from worker.render.view3d.gpu import GpuUnavailable, Lighting, acquire, draw
from worker.render.view3d.materials import hex_rgb, srgb_to_linear
from worker.render.view3d.scene import Scene, SceneOptions, Storey, build_scene

__all__ = ["MAX_SIDE", "View", "render_3d", "view_of"]

MAX_SIDE = MAX_SIDE_BY_VIEW["3d"]
DOLLHOUSE_SECTION = 150.0  # cm: through the windows, like a plan's cut, low enough to look into every room
LOSSY_QUALITY = 90  # as the 2D renderer's JPEG and WebP
PNG_COMPRESS_LEVEL = 1  # zlib level 1 is ~6x faster than Pillow's default 6 and a render only ~15% larger
HEIGHT_MAP_PX = 1024
# Linear light: sun and sky together bring a white wall facing the sun to just under full white, and the
# sky alone (shade) to about 60 % grey, which reads as a clear but soft day.
SUN_COLOR = (0.95, 0.9, 0.82)
SKY_COLOR = (0.47, 0.50, 0.55)
BOUNCE_COLOR = (0.30, 0.28, 0.26)
EXPOSURE = 1.0


@dataclass(frozen=True)
class View:
    """What one render draws: the scene, the camera, and the light (all in world cm)."""

    scene: Scene
    camera: cam.Camera
    sun: cam.Camera
    height_view: tuple[cam.Camera, np.ndarray, float]
    lighting: Lighting


def render_3d(plan: Plan, fmt: str, width: int, height: int, options: Mapping[str, Any]) -> bytes:
    """The plan's chosen floor in 3D as PNG, JPEG or WebP bytes; raises RenderError."""
    if width > MAX_SIDE or height > MAX_SIDE:
        raise RenderError("too_large", f"canvas {width}x{height} px is over the 3D limit of {MAX_SIDE} px a side")
    view = view_of(plan, width, height, options)
    try:
        acquire()
    except GpuUnavailable as exc:
        raise RenderError("unsupported_view", f"3D rendering is not available on this worker: {exc}") from None
    image = draw(view.scene, view.camera, view.sun, view.height_view, view.lighting, width, height)
    return encode(image, fmt)


def read_options(options: Mapping[str, Any]) -> Options3D:
    try:
        return Options3D.model_validate(dict(options))
    except ValidationError as exc:
        raise RenderError("invalid_option", "; ".join(
            f"option {json_path(e['loc'])}={e.get('input')!r}: {e['msg']}" for e in exc.errors())) from None


ARRIVAL_TOLERANCE = 40.0  # cm: a flight whose head is this close to a storey's floor climbs through its slab


def storeys(plan: Plan, opts: Options3D, section: float | None) -> list[Storey]:
    """The floors to draw, lowest first, at their elevations; the topmost is cut at `section`.

    One floor stands alone at 0; `floors: all` stacks every one; `cutaway` stacks the chosen floor on those
    below it. Each floor above another has the stairwells of the flights climbing to it cut out.
    """
    if not 0 <= opts.floor < len(plan.floors):
        raise RenderError("invalid_option", f"option floor={opts.floor!r} names no floor: the plan has floors 0 "
                                            f"to {len(plan.floors) - 1}")
    if opts.floors == "one" and not opts.cutaway:
        return [Storey(plan.floors[opts.floor], 0.0, section)]
    elevations = floor_elevations(plan)
    order = sorted(range(len(plan.floors)), key=lambda index: (elevations[index], plan.floors[index].level))
    if opts.floors != "all":
        order = [index for index in order if elevations[index] <= elevations[opts.floor]]
    stack = []
    for position, index in enumerate(order):
        voids = tuple(LineString([(p.x, p.y) for p in stair.run]).buffer(stair.width / 2, cap_style="flat",
                                                                         join_style="mitre")
                      for below in order[:position] for stair in plan.floors[below].stairs
                      if abs(elevations[below] + (stair.height or plan.floors[below].height) - elevations[index])
                      < ARRIVAL_TOLERANCE)
        cut = section if index == order[-1] else None
        stack.append(Storey(plan.floors[index], elevations[index], cut, voids))
    return stack


def view_of(plan: Plan, width: int, height: int, options: Mapping[str, Any]) -> View:
    """Everything a render draws, without GL: tests use it to know where things land in the image."""
    opts = read_options(options)
    named = opts.camera if isinstance(opts.camera, str) else None
    section = opts.section_height
    if section is None and named == "dollhouse":
        section = DOLLHOUSE_SECTION
    # Bearings are from north, which points `plan.north` degrees clockwise from the top of the page.
    sun_direction = cam.bearing_vector(opts.sun_azimuth + plan.north, opts.sun_elevation)
    scene = build_scene(storeys(plan, opts, section),
                        SceneOptions(doors_open=opts.door_state == "open", furniture=opts.furniture,
                                     finishes=tuple(opts.finishes.items()),
                                     sun=(sun_direction[0], sun_direction[1], sun_direction[2])))
    framing = scene.framing if len(scene.framing) else np.zeros((1, 3))
    extent = scene.extent if len(scene.extent) else framing
    aspect = width / height
    if isinstance(opts.camera, CameraView):
        if _world(opts.camera.position).tolist() == _world(opts.camera.target).tolist():
            raise RenderError("invalid_option", "option camera: position and target are the same point")
        camera = cam.eye_level(_world(opts.camera.position), _world(opts.camera.target), opts.camera.fov, aspect,
                               extent)
    elif named == "top":
        camera = cam.overview(framing, aspect, 180.0, 90.0, opts.projection != "perspective", extent)
    else:
        camera = cam.overview(framing, aspect, opts.azimuth, opts.elevation, opts.projection == "orthographic",
                              extent)
    sun = cam.sun_camera(sun_direction, framing, extent)
    height_view = cam.top_down(framing, HEIGHT_MAP_PX)
    background = tuple(float(c) for c in srgb_to_linear(np.array(hex_rgb(opts.background))))
    lighting = Lighting(sun_direction, SUN_COLOR, SKY_COLOR, BOUNCE_COLOR, background,  # type: ignore[arg-type]
                        opts.shadows, opts.ambient_occlusion, EXPOSURE)
    return View(scene, camera, sun, height_view, lighting)


def _world(point: Any) -> np.ndarray:
    """A plan point (x east, y south, z up) in world coordinates (x east, y up, z south)."""
    return np.array([point.x, point.z, point.y], np.float64)


def encode(image: np.ndarray, fmt: str) -> bytes:
    picture = Image.fromarray(image, "RGB")
    out = io.BytesIO()
    if fmt == "png":
        picture.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif fmt == "jpeg":
        picture.save(out, format="JPEG", quality=LOSSY_QUALITY)
    elif fmt == "webp":
        picture.save(out, format="WEBP", quality=LOSSY_QUALITY)
    else:
        raise RenderError("unsupported_format", f"format {fmt!r} is not one of png, jpeg, webp for view 3d")
    return out.getvalue()
