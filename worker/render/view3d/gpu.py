"""The GL side of the 3D view: a headless EGL context with compiled programs, kept per process, and the passes.

Why a module-level cache: creating the EGL context, compiling the programs and generating the textures take
a good part of a second, about as long as a render. The render child lives across jobs, so the first 3D job
builds them and every later one reuses them. (Not at the child's start-up: they add some 130 MB to every
child, 2D-only ones included, whose memory limit counts it.) The cache holds no render's data: each render
uploads its own vertices and releases them, so the output depends only on the input. It also keeps the
framebuffers of the last image size (about 110 MB at 1920x1080), since allocating them costs ~50 ms a render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import moderngl
import numpy as np

from worker.render.view3d import shaders
from worker.render.view3d.camera import Camera
from worker.render.view3d.materials import GLASS_ALPHA, texture_layers
from worker.render.view3d.scene import Scene

SAMPLES = 4  # MSAA
SHADOW_PX = 2048
HEIGHT_PX = 1024
TILE_PX = 2048  # larger images are drawn in tiles of at most this size, to bound the memory a render takes
VERTEX_LAYOUT = (("in_position", 3), ("in_normal", 3), ("in_color", 4), ("in_uv", 2), ("in_layer", 1))


class GpuUnavailable(RuntimeError):
    """No GL context could be made on this machine (no EGL, no driver)."""


@dataclass(frozen=True)
class Lighting:
    """The sun, sky and bounce light of a 3D render."""

    sun_direction: np.ndarray  # unit vector towards the sun
    sun_color: tuple[float, float, float]
    sky_color: tuple[float, float, float]
    bounce_color: tuple[float, float, float]
    background: tuple[float, float, float]  # linear
    shadows: bool
    occlusion: bool
    exposure: float


@dataclass
class _Targets:
    """Framebuffers of one tile size: multisampled colour and depth, and the 8-bit output.

    The colour is a texture the output pass resolves.
    """

    size: tuple[int, int]
    msaa: moderngl.Framebuffer
    msaa_color: moderngl.Texture
    output: moderngl.Framebuffer
    resources: list[Any] = field(default_factory=list)

    def release(self) -> None:
        for resource in self.resources:
            resource.release()


class _Gpu:
    def __init__(self) -> None:
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl")  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - any failure here means the same thing to the caller
            raise GpuUnavailable(f"no EGL context: {exc}") from exc
        ctx = self.ctx
        self.main = ctx.program(vertex_shader=shaders.VERTEX, fragment_shader=shaders.MAIN_FRAGMENT)
        self.glass = ctx.program(vertex_shader=shaders.VERTEX, fragment_shader=shaders.GLASS_FRAGMENT)
        self.shadow = ctx.program(vertex_shader=shaders.DEPTH_VERTEX, fragment_shader=shaders.SHADOW_FRAGMENT)
        self.height = ctx.program(vertex_shader=shaders.DEPTH_VERTEX, fragment_shader=shaders.HEIGHT_FRAGMENT)
        self.output = ctx.program(vertex_shader=shaders.OUTPUT_VERTEX, fragment_shader=shaders.OUTPUT_FRAGMENT)
        corners = np.array([-1, -1, 1, -1, -1, 1, 1, 1], np.float32)
        self.quad = ctx.vertex_array(self.output, [(ctx.buffer(corners.tobytes()), "2f", "in_corner")])

        layers = texture_layers()
        self.textures = ctx.texture_array((layers.shape[2], layers.shape[1], layers.shape[0]), 4,
                                          layers.tobytes(), dtype="f2")
        self.textures.build_mipmaps()
        self.textures.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)

        self.shadow_map = ctx.depth_texture((SHADOW_PX, SHADOW_PX))
        self.shadow_map.compare_func = "<="
        self.shadow_map.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.shadow_map.repeat_x = self.shadow_map.repeat_y = False
        self.shadow_fbo = ctx.framebuffer(depth_attachment=self.shadow_map)

        self.heights = ctx.texture((HEIGHT_PX, HEIGHT_PX), 1, dtype="f4")
        self.heights.repeat_x = self.heights.repeat_y = False
        self.heights.filter = (moderngl.LINEAR_MIPMAP_NEAREST, moderngl.LINEAR)  # read at whole levels only
        self.height_fbo = ctx.framebuffer(self.heights, ctx.depth_renderbuffer((HEIGHT_PX, HEIGHT_PX)))
        self._targets: _Targets | None = None

    def targets(self, width: int, height: int) -> _Targets:
        """Framebuffers for this size; the last size's are kept, since a service renders few sizes over and over."""
        if self._targets is not None and self._targets.size == (width, height):
            return self._targets
        if self._targets is not None:
            self._targets.release()
            self._targets = None
        ctx, size = self.ctx, (width, height)
        color = ctx.texture(size, 4, samples=SAMPLES, dtype="f2")
        depth = ctx.depth_renderbuffer(size, samples=SAMPLES)
        msaa = ctx.framebuffer(color, depth)
        out_color = ctx.renderbuffer(size, 4)
        output = ctx.framebuffer(out_color)
        self._targets = _Targets(size, msaa, color, output, [msaa, color, depth, output, out_color])
        return self._targets


_GPU: _Gpu | None = None


def acquire() -> _Gpu:
    """The process's GL context and programs, made on first use."""
    global _GPU
    if _GPU is None:
        _GPU = _Gpu()
    return _GPU


def _vertex_array(ctx: moderngl.Context, program: moderngl.Program, vbo: moderngl.Buffer) -> moderngl.VertexArray:
    """Bind the interleaved vertex block, skipping the attributes this program does not read."""
    parts, names = [], []
    for name, count in VERTEX_LAYOUT:
        if name in program:
            parts.append(f"{count}f")
            names.append(name)
        else:
            parts.append(f"{count * 4}x")
    return ctx.vertex_array(program, [(vbo, " ".join(parts), *names)])


def _matrix(m: np.ndarray) -> bytes:
    return np.asarray(m, np.float32).T.tobytes()  # GL reads matrices column by column


def _set(program: moderngl.Program, name: str, value: Any) -> None:
    """Set a uniform if the program kept it (the GLSL compiler drops the ones a shader does not use)."""
    if name not in program:
        return
    uniform = program[name]
    assert isinstance(uniform, moderngl.Uniform)
    if isinstance(value, np.ndarray) and value.shape == (4, 4):
        uniform.write(_matrix(value))
    elif isinstance(value, np.ndarray):
        uniform.value = tuple(float(v) for v in value)
    else:
        uniform.value = value


def draw(scene: Scene, camera: Camera, sun: Camera, height_view: tuple[Camera, np.ndarray, float],
         lighting: Lighting, width: int, height: int) -> np.ndarray:
    """The scene seen by `camera` as a (height, width, 3) uint8 sRGB image, top row first."""
    g = acquire()
    ctx = g.ctx
    # An empty floor still gets its background; GL wants a buffer, so it gets one degenerate triangle.
    data = scene.opaque.interleaved() if len(scene.opaque) else np.zeros((3, 13), np.float32)
    vbo = ctx.buffer(data.tobytes())
    glass_vbo = ctx.buffer(scene.glass.interleaved().tobytes()) if len(scene.glass) else None
    resources: list[Any] = [vbo] + ([glass_vbo] if glass_vbo is not None else [])
    try:
        main_vao = _vertex_array(ctx, g.main, vbo)
        shadow_vao = _vertex_array(ctx, g.shadow, vbo)
        height_vao = _vertex_array(ctx, g.height, vbo)
        resources += [main_vao, shadow_vao, height_vao]
        glass_vao = None
        if glass_vbo is not None:
            glass_vao = _vertex_array(ctx, g.glass, glass_vbo)
            resources.append(glass_vao)
        ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        ctx.disable(moderngl.BLEND)
        ctx.cull_face = "back"
        if lighting.shadows:
            _shadow_pass(g, shadow_vao, sun, scene.casters)
        height_camera, corner, side = height_view
        if lighting.occlusion:
            _height_pass(g, height_vao, height_camera, scene.solids, scene.ground_y)
        for program in (g.main, g.glass):
            _lighting_uniforms(program, camera, sun, corner, side, lighting)
        image = np.empty((height, width, 3), np.uint8)
        for px0, py0, px1, py1 in _tiles(width, height):
            view = camera if (px1 - px0, py1 - py0) == (width, height) else camera.tile(
                px0 / width * 2 - 1, 1 - py1 / height * 2, px1 / width * 2 - 1, 1 - py0 / height * 2)
            image[py0:py1, px0:px1] = _draw_tile(g, view, main_vao, glass_vao, len(scene.opaque), lighting,
                                                 px1 - px0, py1 - py0)
        return image
    finally:
        for resource in reversed(resources):
            resource.release()


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    cols, rows = math.ceil(width / TILE_PX), math.ceil(height / TILE_PX)
    xs = [round(i * width / cols) for i in range(cols + 1)]
    ys = [round(j * height / rows) for j in range(rows + 1)]
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]


def _shadow_pass(g: _Gpu, vao: moderngl.VertexArray, sun: Camera, casters: int) -> None:
    g.shadow_fbo.use()
    g.shadow_fbo.clear(depth=1.0)
    _set(g.shadow, "u_view_projection", sun.view_projection)
    # Slope-scaled offset keeps lit faces from shadowing themselves (acne) without a large constant bias
    # that would detach shadows from their casters (peter-panning).
    g.ctx.polygon_offset = (2.0, 2.0)
    if casters:
        vao.render(moderngl.TRIANGLES, vertices=casters)
    g.ctx.polygon_offset = (0.0, 0.0)


def _height_pass(g: _Gpu, vao: moderngl.VertexArray, camera: Camera, solids: int, ground_y: float) -> None:
    g.height_fbo.use()
    g.height_fbo.clear(ground_y, 0.0, 0.0, 0.0, depth=1.0)
    _set(g.height, "u_view_projection", camera.view_projection)
    g.ctx.disable(moderngl.CULL_FACE)  # a height map wants the highest surface, whichever way it faces
    if solids:
        vao.render(moderngl.TRIANGLES, vertices=solids)
    g.ctx.enable(moderngl.CULL_FACE)
    g.heights.build_mipmaps()


def _lighting_uniforms(program: moderngl.Program, camera: Camera, sun: Camera, corner: np.ndarray,
                       side: float, lighting: Lighting) -> None:
    _set(program, "u_light_view_projection", sun.view_projection)
    _set(program, "u_sun_direction", lighting.sun_direction)
    _set(program, "u_sun_color", lighting.sun_color)
    _set(program, "u_sky_color", lighting.sky_color)
    _set(program, "u_bounce_color", lighting.bounce_color)
    _set(program, "u_background", lighting.background)
    _set(program, "u_eye", camera.eye)
    forward = -camera.view[2, :3]
    _set(program, "u_view_direction", forward)
    _set(program, "u_orthographic", camera.orthographic)
    _set(program, "u_shadows", lighting.shadows)
    _set(program, "u_occlusion", lighting.occlusion)
    sun_extent = 2 / sun.projection[0, 0]  # cm the shadow map spans
    _set(program, "u_shadow_radius", 1.2 / SHADOW_PX)
    _set(program, "u_shadow_bias", 0.0005)
    _set(program, "u_normal_offset", 1.5 * sun_extent / SHADOW_PX)
    _set(program, "u_height_corner", corner)
    _set(program, "u_height_side", side)
    texel = side / HEIGHT_PX
    # A whole level per distance d, one whose texels are about 2d wide: a single bilinear read each.
    _set(program, "u_occlusion_lods", np.array([max(0, round(math.log2(2 * d / texel))) for d in (10, 30, 80)]))
    _set(program, "u_floor_y", 0.0)
    _set(program, "u_exposure", lighting.exposure)
    _set(program, "u_alpha", GLASS_ALPHA)
    _set(program, "u_shadow_map", 1)
    _set(program, "u_heights", 2)
    _set(program, "u_textures", 0)


def _draw_tile(g: _Gpu, camera: Camera, main_vao: moderngl.VertexArray, glass_vao: moderngl.VertexArray | None,
               vertices: int, lighting: Lighting, width: int, height: int) -> np.ndarray:
    ctx = g.ctx
    targets = g.targets(width, height)
    targets.msaa.use()
    targets.msaa.depth_mask = True
    targets.msaa.clear(*lighting.background, 1.0, depth=1.0)
    g.textures.use(0)
    g.shadow_map.use(1)
    g.heights.use(2)
    _set(g.main, "u_view_projection", camera.view_projection)
    ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
    if vertices:
        main_vao.render(moderngl.TRIANGLES, vertices=vertices)
    if glass_vao is not None:
        _set(g.glass, "u_view_projection", camera.view_projection)
        ctx.disable(moderngl.CULL_FACE)
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        targets.msaa.depth_mask = False
        glass_vao.render(moderngl.TRIANGLES)
        targets.msaa.depth_mask = True
        ctx.disable(moderngl.BLEND)
        ctx.enable(moderngl.CULL_FACE)
    targets.output.use()
    ctx.disable(moderngl.DEPTH_TEST)
    targets.msaa_color.use(0)
    _set(g.output, "u_image", 0)
    _set(g.output, "u_samples", SAMPLES)
    g.quad.render(moderngl.TRIANGLE_STRIP)
    ctx.enable(moderngl.DEPTH_TEST)
    pixels = targets.output.read(components=3, alignment=1)
    return np.frombuffer(pixels, np.uint8).reshape(height, width, 3)
