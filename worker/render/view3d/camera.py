"""Camera math for the 3D view (numpy, no GL): view and projection matrices, framing, the sun's shadow camera.

World frame: x east, y up, z south, in cm (plan y becomes z). Matrices are OpenGL's: column vectors,
clip space -1..1. Framing zooms and shifts the image in clip space, which keeps the camera's direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray
MARGIN = 0.06  # of the half-frame, kept clear around the framed scene
DOLLHOUSE_FOV = 30.0  # degrees, vertical: long enough a lens that walls do not splay
EYE_NEAR = 5.0  # cm: an eye-level camera may stand close to a wall


@dataclass(frozen=True)
class Camera:
    """Where a 3D view looks from and how it projects."""

    view: FloatArray  # 4x4
    projection: FloatArray  # 4x4, framing included
    eye: FloatArray  # world position; for orthographic cameras a point far back along the view direction
    orthographic: bool

    @property
    def view_projection(self) -> FloatArray:
        """World to clip space in one matrix."""
        both: FloatArray = self.projection @ self.view
        return both

    def ndc(self, points: FloatArray) -> FloatArray:
        """(n, 3) world points to (n, 3) normalised device coordinates."""
        clip = _homogeneous(points) @ self.view_projection.T
        ndc: FloatArray = clip[:, :3] / clip[:, 3:4]
        return ndc

    def to_pixels(self, points: FloatArray, width: int, height: int) -> FloatArray:
        """(n, 3) world points to (n, 2) image pixel coordinates: x right, y down, (0, 0) the top-left corner."""
        ndc = self.ndc(points)
        return np.stack([(ndc[:, 0] + 1) / 2 * width, (1 - ndc[:, 1]) / 2 * height], axis=1)

    def tile(self, x0: float, y0: float, x1: float, y1: float) -> Camera:
        """The same camera seeing only the image window [x0, x1] x [y0, y1] in NDC, stretched to the frame."""
        sx, sy = 2 / (x1 - x0), 2 / (y1 - y0)
        window = np.array([[sx, 0, 0, -sx * (x0 + x1) / 2], [0, sy, 0, -sy * (y0 + y1) / 2],
                           [0, 0, 1, 0], [0, 0, 0, 1]])
        return Camera(self.view, window @ self.projection, self.eye, self.orthographic)


def _homogeneous(points: FloatArray) -> FloatArray:
    points = np.asarray(points, np.float64).reshape(-1, 3)
    return np.concatenate([points, np.ones((len(points), 1))], axis=1)


def look_at(eye: FloatArray, target: FloatArray, up: FloatArray) -> FloatArray:
    """The view matrix of an eye looking at `target`, `up` pointing up."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    side = np.cross(forward, up)
    if np.linalg.norm(side) < 1e-9:  # looking straight along `up`: any side will do, pick a stable one
        side = np.cross(forward, np.array([0.0, 0.0, -1.0]))
    side = side / np.linalg.norm(side)
    true_up = np.cross(side, forward)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = side, true_up, -forward
    view[:3, 3] = -view[:3, :3] @ eye
    return view


def perspective(fov_y: float, aspect: float, near: float, far: float) -> FloatArray:
    """An OpenGL perspective projection, `fov_y` in degrees."""
    f = 1 / math.tan(math.radians(fov_y) / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]])


def orthographic(left: float, right: float, bottom: float, top: float, near: float, far: float) -> FloatArray:
    """An OpenGL orthographic projection of the given box."""
    return np.array([[2 / (right - left), 0, 0, -(right + left) / (right - left)],
                     [0, 2 / (top - bottom), 0, -(top + bottom) / (top - bottom)],
                     [0, 0, -2 / (far - near), -(far + near) / (far - near)], [0, 0, 0, 1]])


def bearing_vector(bearing: float, elevation: float) -> FloatArray:
    """Unit vector towards a compass bearing (degrees clockwise from north) at an elevation above the horizon."""
    b, e = math.radians(bearing), math.radians(elevation)
    return np.array([math.sin(b) * math.cos(e), math.sin(e), -math.cos(b) * math.cos(e)])


def _depth_range(view: FloatArray, points: FloatArray, near_floor: float) -> tuple[float, float]:
    depth = -(_homogeneous(points) @ view.T)[:, 2]
    near = max(near_floor, float(depth.min()) * 0.9 - 10)
    far = max(near + 1, float(depth.max()) * 1.05 + 10)
    return near, far


def _framed(view: FloatArray, projection: FloatArray, points: FloatArray, margin: float) -> FloatArray:
    """`projection` zoomed and shifted in clip space so that `points` fill the frame, aspect kept."""
    clip = _homogeneous(points) @ (projection @ view).T
    ndc = clip[:, :2] / clip[:, 3:4]
    lo, hi = ndc.min(axis=0), ndc.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    zoom = float(np.min(2 * (1 - margin) / span))
    centre = (lo + hi) / 2
    fit = np.array([[zoom, 0, 0, -zoom * centre[0]], [0, zoom, 0, -zoom * centre[1]], [0, 0, 1, 0], [0, 0, 0, 1]])
    framed: FloatArray = fit @ projection
    return framed


def overview(points: FloatArray, aspect: float, bearing: float, elevation: float, ortho: bool,
             scene: FloatArray | None = None) -> Camera:
    """A camera looking at `points` from a bearing and elevation, framed so all of them show.

    `scene` (default: `points`) is everything that must lie between the near and far planes.
    """
    scene = points if scene is None else scene
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 50.0)
    direction = bearing_vector(bearing, elevation)
    up = np.array([0.0, 1.0, 0.0]) if elevation < 89.9 else -bearing_vector(bearing, 0.0)
    fov = DOLLHOUSE_FOV
    distance = radius / math.sin(math.radians(fov) / 2) * 1.05
    eye = centre + direction * distance
    view = look_at(eye, centre, up)
    near, far = _depth_range(view, np.concatenate([points, scene]), 1.0)
    if ortho:
        projection = orthographic(-radius * aspect, radius * aspect, -radius, radius, near, far)
    else:
        projection = perspective(fov, aspect, near, far)
    return Camera(view, _framed(view, projection, points, MARGIN), eye, ortho)


def eye_level(position: FloatArray, target: FloatArray, fov: float, aspect: float, scene: FloatArray) -> Camera:
    """A camera standing at `position` looking at `target` (world cm), `fov` degrees vertically."""
    view = look_at(position, target, np.array([0.0, 1.0, 0.0]))
    _, far = _depth_range(view, scene, EYE_NEAR)
    return Camera(view, perspective(fov, aspect, EYE_NEAR, max(far, EYE_NEAR + 100)), position, False)


def sun_camera(direction: FloatArray, casters: FloatArray, receivers: FloatArray) -> Camera:
    """An orthographic camera looking along the sunlight, fitted to the casters (shadows fall where they do)."""
    lo, hi = casters.min(axis=0), casters.max(axis=0)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 50.0)
    eye = centre + direction * radius * 4
    up = np.array([0.0, 1.0, 0.0]) if abs(direction[1]) < 0.999 else np.array([0.0, 0.0, -1.0])
    view = look_at(eye, centre, up)
    local = _homogeneous(casters) @ view.T
    x0, y0 = local[:, 0].min() - 2, local[:, 1].min() - 2
    x1, y1 = local[:, 0].max() + 2, local[:, 1].max() + 2
    near, far = _depth_range(view, np.concatenate([casters, receivers]), 1.0)
    return Camera(view, orthographic(x0, x1, y0, y1, near, far), eye, True)


def top_down(points: FloatArray, resolution: int) -> tuple[Camera, FloatArray, float]:
    """An orthographic camera straight down over `points`' (x, z) extent, square texels.

    Returns the camera, the (x, z) of the image's north-west corner and its side in cm; the AO height map
    is rendered with it, and the shader turns world (x, z) into its texture coordinates with the last two.
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    side = float(max(hi[0] - lo[0], hi[2] - lo[2])) + 200.0  # room around for the contact shading
    side *= resolution / (resolution - 2)
    corner = np.array([(lo[0] + hi[0]) / 2 - side / 2, (lo[2] + hi[2]) / 2 - side / 2])
    top, bottom = float(hi[1]) + 100, float(lo[1]) - 100
    eye = np.array([corner[0] + side / 2, top, corner[1] + side / 2])
    view = look_at(eye, eye - np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]))
    projection = orthographic(-side / 2, side / 2, -side / 2, side / 2, 0.0, top - bottom)
    return Camera(view, projection, eye, True), corner, side
