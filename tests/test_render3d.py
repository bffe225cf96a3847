"""The 3D renderer: meshes checked without GL, then decoded images checked where our own camera math puts things."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from shared.plan import Item, Plan, parse_plan
from worker.render import RenderError, render
from worker.render.catalog import CATALOG, KINDS
from worker.render.view3d import gpu, materials, view_of
from worker.render.view3d.mesh import Shape, triangle_areas
from worker.render.view3d.models import MODELS, item_model
from worker.render.view3d.walls import build_walls

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden3d"
UPDATE_GOLDEN = os.environ.get("FLOORPLAN_UPDATE_GOLDEN") == "1"
REQUIRED_KINDS = ("bed", "sofa", "table", "chair", "wardrobe", "counter", "toilet", "bathtub", "basin", "shower")


def one_floor(**floor: Any) -> Plan:
    return parse_plan({"name": "test", "floors": [{"height": 280, **floor}]})


def wall(a: tuple[float, float], b: tuple[float, float], thickness: float = 20, **extra: Any) -> dict[str, Any]:
    return {"a": {"x": a[0], "y": a[1]}, "b": {"x": b[0], "y": b[1]}, "thickness": thickness, **extra}


def room(x0: float, y0: float, x1: float, y1: float, kind: str = "living") -> dict[str, Any]:
    return {"name": kind, "type": kind, "polygon": [{"x": x, "y": y} for x, y in
                                                    ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]}


def box_room(openings_north: list[dict[str, Any]] | None = None, items: list[dict[str, Any]] | None = None) -> Plan:
    """A 500 x 400 cm room, walls 20 cm thick on its outline."""
    return one_floor(walls=[wall((0, 0), (500, 0), openings=openings_north or []), wall((500, 0), (500, 400)),
                            wall((500, 400), (0, 400)), wall((0, 400), (0, 0))],
                     rooms=[room(10, 10, 490, 390)], items=items or [])


def item(ref: str, x: float, y: float, rotation: float = 0, **size: float) -> dict[str, Any]:
    entry = CATALOG[ref]
    return {"ref": ref, "x": x, "y": y, "rotation": rotation, "width": size.get("width", entry.width),
            "depth": size.get("depth", entry.depth), "height": size.get("height", entry.height)}


def image_of(plan: Plan, options: dict[str, Any] | None = None, width: int = 320, height: int = 240,
             fmt: str = "png") -> np.ndarray:
    data = render(plan, "3d", fmt, width, height, options or {})
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (width, height)
        return np.asarray(picture.convert("RGB")).astype(np.int32)


def pixel_of(plan: Plan, options: dict[str, Any], point: tuple[float, float, float], width: int = 320,
             height: int = 240) -> tuple[int, int]:
    """Where a plan point (x, y, height above the floor; cm) lands in the image, by the renderer's camera."""
    camera = view_of(plan, width, height, options).camera
    px = camera.to_pixels(np.array([[point[0], point[2], point[1]]]), width, height)[0]
    return int(px[0]), int(px[1])


def patch(image: np.ndarray, at: tuple[int, int], reach: int = 2) -> np.ndarray:
    """The mean colour of the (2 reach + 1)^2 pixels around `at`."""
    x, y = at
    mean: np.ndarray = image[y - reach:y + reach + 1, x - reach:x + reach + 1].reshape(-1, 3).mean(axis=0)
    return mean


def lum(color: np.ndarray) -> float:
    return float(0.2126 * color[0] + 0.7152 * color[1] + 0.0722 * color[2])


def srgb255(hex_color: str) -> np.ndarray:
    return np.array(materials.hex_rgb(hex_color)) * 255


def faces(shape: Shape, normal: tuple[float, float, float]) -> Shape:
    """The triangles of `shape` whose normal is `normal`."""
    tris = shape.normals.reshape(-1, 3, 3)[:, 0]
    keep = np.repeat(np.abs(tris - np.array(normal)).max(axis=1) < 1e-3, 3)
    return Shape(shape.positions[keep], shape.normals[keep])


def area(shape: Shape) -> float:
    return float(triangle_areas(shape).sum())


def as_shape(mesh: Any) -> Shape:
    return Shape(mesh.positions, mesh.normals)


# --- Meshes, without GL ------------------------------------------------------------------------------------------


DOOR = {"type": "door", "offset": 200, "width": 90, "height": 210}


def test_a_wall_with_a_door_has_a_hole_the_size_of_the_door() -> None:
    floor = one_floor(walls=[wall((0, 0), (400, 0), openings=[DOOR])]).floors[0]
    walls = as_shape(build_walls(floor, None, doors_open=True).walls.mesh())
    # The wall runs east, so its two faces look south (+z) and north (-z).
    for normal in ((0, 0, 1), (0, 0, -1)):
        face = faces(walls, normal)
        assert area(face) == pytest.approx(400 * 280 - 90 * 210, rel=1e-3)
        assert np.allclose(np.abs(face.positions[:, 2]), 10), "a face lies in the wall's face plane"
    assert area(faces(walls, (1, 0, 0))) == pytest.approx(20 * 280 + 20 * 210, rel=1e-3), "end + jamb"
    assert area(faces(walls, (0, -1, 0))) == pytest.approx(90 * 20, rel=1e-3), "the door head's soffit"
    assert area(faces(walls, (0, 1, 0))) == pytest.approx(400 * 20, rel=1e-3), "the cap"
    # No triangle of the north face covers the middle of the door.
    north = faces(walls, (0, 0, -1)).positions.reshape(-1, 3, 3)
    inside = [_in_triangle((200, 100), tri[:, [0, 1]]) for tri in north]
    assert not any(inside)


def _in_triangle(p: tuple[float, float], tri: np.ndarray) -> bool:
    (ax, ay), (bx, by), (cx, cy) = tri
    d1 = (p[0] - bx) * (ay - by) - (ax - bx) * (p[1] - by)
    d2 = (p[0] - cx) * (by - cy) - (bx - cx) * (p[1] - cy)
    d3 = (p[0] - ax) * (cy - ay) - (cx - ax) * (p[1] - ay)
    return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))


def test_a_section_below_the_door_head_cuts_the_cap_open_at_the_door() -> None:
    floor = one_floor(walls=[wall((0, 0), (400, 0), openings=[DOOR])]).floors[0]
    walls = as_shape(build_walls(floor, 150, doors_open=True).walls.mesh())
    assert walls.positions[:, 1].max() == pytest.approx(150)
    assert area(faces(walls, (0, 1, 0))) == pytest.approx((400 - 90) * 20, rel=1e-3)
    assert area(faces(walls, (0, -1, 0))) == 0, "no head left to have a soffit"


def test_a_window_has_a_sill_a_frame_and_glass_inside_its_hole() -> None:
    window = {"type": "window", "offset": 200, "width": 120, "height": 100, "sill": 90}
    floor = one_floor(walls=[wall((0, 0), (400, 0), openings=[window])]).floors[0]
    built = build_walls(floor, None, doors_open=True)
    walls = as_shape(built.walls.mesh())
    assert area(faces(walls, (0, 0, 1))) == pytest.approx(400 * 280 - 120 * 100, rel=1e-3)
    up = faces(walls, (0, 1, 0))
    assert area(up) == pytest.approx(400 * 20 + 120 * 20, rel=1e-3), "cap and sill"
    glass = built.glass.positions
    assert len(glass) > 0
    assert glass[:, 0].min() >= 140 - 1e-3 and glass[:, 0].max() <= 260 + 1e-3
    assert glass[:, 1].min() >= 90 and glass[:, 1].max() <= 190
    assert len(built.fittings.mesh()) > 0, "a frame"


def test_doors_open_into_the_room_on_their_swing_side_or_close_in_the_wall() -> None:
    floor = one_floor(walls=[wall((0, 0), (400, 0), openings=[{**DOOR, "swing": "in"}])]).floors[0]
    opened = built_leaf_bounds(floor, True)
    closed = built_leaf_bounds(floor, False)
    # `in` swings to the right of a->b, which for a wall running east is south (+z).
    assert opened[1][2] > 80, "an open leaf stands out of the wall, into the room"
    assert closed[1][2] <= 10 and closed[0][2] >= -10, "a closed leaf stays within the wall's thickness"


def built_leaf_bounds(floor: Any, doors_open: bool) -> tuple[np.ndarray, np.ndarray]:
    fittings = build_walls(floor, None, doors_open=doors_open).fittings.mesh()
    leaf = fittings.positions[np.isclose(fittings.colors[:, :3], materials.DOOR.vertex_color[:3]).all(axis=1)]
    return leaf.min(axis=0), leaf.max(axis=0)


@pytest.mark.parametrize("kind", KINDS)
def test_every_catalog_kind_has_a_model_that_fills_the_item_s_box(kind: str) -> None:
    entry = next(e for e in CATALOG.values() if e.kind == kind)
    model = item_model(Item(ref=entry.ref, x=0, y=0, width=entry.width, depth=entry.depth, height=entry.height))
    mesh = model.solid.mesh()
    lo, hi = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    slack = 6.0  # handles and taps stand a little proud of a body
    assert lo[0] >= -entry.width / 2 - slack and hi[0] <= entry.width / 2 + slack
    assert lo[2] >= -entry.depth / 2 - slack and hi[2] <= entry.depth / 2 + slack
    assert lo[1] >= -1e-3 and hi[1] >= 0.5 * entry.height
    assert hi[0] - lo[0] >= 0.8 * entry.width and hi[2] - lo[2] >= 0.8 * entry.depth, "it fills its footprint"


def test_the_required_kinds_are_models_of_their_own_not_boxes() -> None:
    plain = len(item_model(Item(ref="mystery", x=0, y=0, width=100, depth=100, height=100)).solid.mesh())
    counts = {}
    for kind in REQUIRED_KINDS:
        entry = next(e for e in CATALOG.values() if e.kind == kind)
        assert kind in MODELS
        counts[kind] = len(item_model(Item(ref=entry.ref, x=0, y=0, width=entry.width, depth=entry.depth,
                                           height=entry.height)).solid.mesh())
        assert counts[kind] >= 2 * plain, kind
    assert len(set(counts.values())) == len(counts), "each kind is a shape of its own"


def test_an_unknown_ref_is_a_box_of_the_item_s_size() -> None:
    mesh = item_model(Item(ref="jacuzzi-9000", x=0, y=0, width=120, depth=80, height=60)).solid.mesh()
    assert np.allclose(mesh.positions.min(axis=0), [-60, 0, -40])
    assert np.allclose(mesh.positions.max(axis=0), [60, 60, 40])


def test_items_are_turned_clockwise_in_plan_and_placed_at_their_centre() -> None:
    plan = one_floor(items=[item("wardrobe", 300, 200, rotation=90)])
    scene = view_of(plan, 320, 240, {"camera": "top"}).scene
    body = scene.opaque.positions[:scene.casters]
    lo, hi = body.min(axis=0), body.max(axis=0)
    # 200 wide, 60 deep: turned a quarter its width runs north-south, and its back (north at 0) faces east.
    assert hi[0] - lo[0] == pytest.approx(60, abs=6) and hi[2] - lo[2] == pytest.approx(200, abs=6)
    assert (lo[0] + hi[0]) / 2 == pytest.approx(300, abs=4) and (lo[2] + hi[2]) / 2 == pytest.approx(200, abs=4)
    handles = scene.opaque.positions[:scene.casters][np.isclose(
        scene.opaque.colors[:scene.casters, :3], materials.METAL.vertex_color[:3]).all(axis=1)]
    assert len(handles) == 0 or handles[:, 0].mean() < 300


def test_each_room_gets_its_floor_and_finish() -> None:
    plan = one_floor(rooms=[room(0, 0, 300, 200, "kitchen"), room(300, 0, 600, 200, "bedroom")])
    scene = view_of(plan, 320, 240, {"finishes": {"bedroom": "dark_wood"}}).scene
    floors = scene.opaque
    layer = floors.layers[scene.casters:scene.solids]
    kept = floors.positions[scene.casters:scene.solids]
    kitchen = (kept[:, 0] < 300) & (np.abs(kept[:, 1]) < 1e-6)
    assert set(layer[kitchen]) == {materials.LAYER["tiles"]}
    assert set(layer[(kept[:, 0] > 300) & (np.abs(kept[:, 1]) < 1e-6)]) == {materials.LAYER["dark_wood"]}


def test_the_default_camera_frames_the_whole_floor() -> None:
    plan = parse_plan(json.loads((EXAMPLES / "furnished-apartment.json").read_text()))
    for options in ({}, {"camera": "top"}, {"projection": "orthographic", "azimuth": 45}):
        view = view_of(plan, 640, 360, options)
        ndc = view.camera.ndc(view.scene.framing)
        assert np.abs(ndc[:, :2]).max() <= 1.0, options
        assert np.abs(ndc[:, :2]).max() >= 0.9, f"{options}: the floor fills the frame"
        assert (np.abs(ndc[:, 2]) < 1).all(), "between the near and far planes"


def test_the_top_view_has_north_up_and_the_dollhouse_looks_from_the_south() -> None:
    plan = box_room()
    centre, north, east = (pixel_of(plan, TOP, p) for p in ((250, 200, 0), (250, 0, 0), (500, 200, 0)))
    assert north[1] < centre[1] and abs(north[0] - centre[0]) <= 1
    assert east[0] > centre[0] and abs(east[1] - centre[1]) <= 1
    south, north = pixel_of(plan, {}, (250, 400, 0)), pixel_of(plan, {}, (250, 0, 0))
    assert south[1] > north[1], "the south wall is nearer, lower in the picture"


def test_bad_options_and_canvases_are_refused_with_a_reason() -> None:
    plan = box_room()
    same_point = {"x": 100, "y": 100, "z": 100}
    for options in ({"camera": "sideways"}, {"section_height": -1}, {"sparkles": True}, {"floor": 3},
                    {"camera": {"position": {"x": 0, "y": 0, "z": 0}}},
                    {"camera": {"position": same_point, "target": same_point}}):
        with pytest.raises(RenderError) as refused:
            render(plan, "3d", "png", 100, 100, options)
        assert refused.value.code == "invalid_option", options
    with pytest.raises(RenderError) as refused:
        render(plan, "3d", "png", 4097, 100, {})
    assert refused.value.code == "too_large"


# --- Images ------------------------------------------------------------------------------------------------------

TOP = {"camera": "top", "section_height": 250}


def test_the_image_has_content_where_the_plan_projects_and_background_elsewhere() -> None:
    plan = box_room()
    width, height = 480, 160  # wide, so that the frame reaches well away from the building on both sides
    image = image_of(plan, TOP, width, height)
    background = srgb255("#f2f2f0")
    for point in ((-400, 200), (-300, 50), (900, 200), (800, 350)):
        at = pixel_of(plan, TOP, (*point, 0), width, height)
        assert 0 <= at[0] < width and 0 <= at[1] < height
        assert np.abs(patch(image, at) - background).max() <= 2, f"{point} is background"
    for point in ((250, 200), (100, 100), (400, 300)):
        at = pixel_of(plan, TOP, (*point, 0), width, height)
        assert np.abs(patch(image, at) - background).max() > 20, f"floor at {point} is drawn"
    # The building's outline lands where the camera math says: on the wall's centre line the section colour.
    on_wall = pixel_of(plan, TOP, (250, 0, 250), width, height)
    assert np.abs(patch(image, on_wall, 1) - srgb255(materials.SECTION.color)).max() <= 4


def test_a_walls_projected_pixels_are_wall_coloured() -> None:
    plan = box_room()
    # Top-down, a wall shows its cap: the flat section colour.
    image = image_of(plan, TOP)
    for point in ((250, 0), (500, 200), (0, 200)):
        at = pixel_of(plan, TOP, (*point, 250))
        assert np.abs(patch(image, at, 1) - srgb255(materials.SECTION.color)).max() <= 4, point
    # At eye level, looking north at the wall: its face is a light neutral, the floor below a warm wood.
    eye = {"camera": {"position": {"x": 250, "y": 330, "z": 150}, "target": {"x": 250, "y": 0, "z": 110},
                      "fov": 60}}
    image = image_of(plan, eye)
    face = patch(image, pixel_of(plan, eye, (250, 10, 170)))
    assert face.min() > 150 and face.max() - face.min() < 20, face
    floor = patch(image, pixel_of(plan, eye, (250, 80, 0)))
    assert floor[0] - floor[2] > 20, f"wood is warm: {floor}"


def test_shadowed_floor_is_darker_than_lit_floor() -> None:
    # A tall wardrobe on open floor, the sun due south at 45 degrees: its shadow reaches 220 cm north.
    plan = one_floor(rooms=[room(0, 0, 800, 800, "garage")], items=[item("wardrobe", 400, 400)])
    options = {**TOP, "sun_azimuth": 180, "sun_elevation": 45}
    image = image_of(plan, options)
    shaded = lum(patch(image, pixel_of(plan, options, (400, 370 - 80, 0)), 3))
    lit = lum(patch(image, pixel_of(plan, options, (400, 430 + 80, 0)), 3))
    assert shaded < 0.8 * lit, (shaded, lit)
    # The shadow starts at the wardrobe's foot (no peter-panning) and ends where the sun says it does.
    assert lum(patch(image, pixel_of(plan, options, (400, 370 - 6, 0)), 1)) < 0.8 * lit
    assert lum(patch(image, pixel_of(plan, options, (400, 370 - 220 - 40, 0)), 3)) > 0.9 * lit
    # The same spots without shadows are alike: the difference above is the shadow's. And open floor in full
    # sun is the same with shadows on as off: no acne.
    unshadowed = image_of(plan, {**options, "shadows": False})
    shaded = lum(patch(unshadowed, pixel_of(plan, options, (400, 370 - 80, 0)), 3))
    lit = lum(patch(unshadowed, pixel_of(plan, options, (400, 430 + 80, 0)), 3))
    assert abs(shaded - lit) < 0.08 * lit
    x0, y0 = pixel_of(plan, options, (100, 550, 0))
    x1, y1 = pixel_of(plan, options, (250, 750, 0))
    assert np.abs(image[y0:y1, x0:x1] - unshadowed[y0:y1, x0:x1]).max() <= 2


def test_openings_show_what_is_behind_them() -> None:
    # From inside the room, looking north at the wall: behind it, outside, stands a mustard armchair.
    window = {"type": "window", "offset": 250, "width": 110, "height": 150, "sill": 40}
    chair = item("armchair", 250, -60)
    eye = {"camera": {"position": {"x": 250, "y": 330, "z": 110}, "target": {"x": 250, "y": -60, "z": 60},
                      "fov": 50}, "shadows": False}
    seen = box_room([window], [chair])
    at = pixel_of(seen, eye, (250, -20, 45))
    through = patch(image_of(seen, eye), at)
    assert through[0] - through[2] > 30, f"the armchair shows through the window: {through}"
    behind_wall = patch(image_of(box_room([], [chair]), eye), at)
    assert behind_wall.max() - behind_wall.min() < 20, f"without the window, the wall hides it: {behind_wall}"


def test_an_empty_floor_is_all_background() -> None:
    image = image_of(one_floor(), {}, 64, 48)
    assert (np.abs(image - srgb255("#f2f2f0")) <= 2).all()


def test_the_same_input_gives_the_same_bytes() -> None:
    plan = box_room([{"type": "window", "offset": 250, "width": 120}], [item("sofa", 250, 300)])
    first = render(plan, "3d", "png", 256, 192, {})
    assert render(plan, "3d", "png", 256, 192, {}) == first


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lossy_formats_decode_at_the_asked_size(fmt: str) -> None:
    data = render(box_room(), "3d", fmt, 300, 200, {})
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == fmt.upper() and picture.size == (300, 200)


def test_a_tiled_render_matches_one_drawn_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = box_room([{"type": "window", "offset": 250, "width": 120}], [item("bed", 250, 250)])
    whole = image_of(plan, {}, 300, 200)
    monkeypatch.setattr(gpu, "TILE_PX", 128)
    tiled = image_of(plan, {}, 300, 200)
    difference = np.abs(whole - tiled).max(axis=2)
    assert (difference > 24).mean() < 0.002 and difference.mean() < 0.5


GOLDENS: dict[str, tuple[str, dict[str, Any], int, int]] = {
    "furnished-dollhouse": ("furnished-apartment.json", {}, 480, 300),
    "flat-top": ("flat-2b.json", {"camera": "top"}, 400, 320),
    "flat-eye-level": ("flat-2b.json", {"camera": {"position": {"x": 120, "y": 400, "z": 160},
                                                   "target": {"x": 450, "y": 100, "z": 100}, "fov": 60}}, 400, 260),
    "two-storey-cutaway": ("two-storey-house.json", {"floor": 1, "cutaway": True}, 480, 340),
    "two-storey-ground-floor": ("two-storey-house.json", {"floor": 0}, 480, 340),
    "curved-bay": ("curved-bay.json", {}, 400, 300),
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_renders_match_their_golden_images(name: str, tmp_path: Path) -> None:
    example, options, width, height = GOLDENS[name]
    # The plans are copies pinned beside the images: an example edited for another reason must not move them.
    plan = parse_plan(json.loads((GOLDEN / example).read_text()))
    actual = image_of(plan, options, width, height)
    golden = GOLDEN / f"{name}.png"
    if UPDATE_GOLDEN:
        GOLDEN.mkdir(exist_ok=True)
        Image.fromarray(actual.astype(np.uint8)).save(golden)
    expected = np.asarray(Image.open(golden).convert("RGB")).astype(np.int32)
    difference = np.abs(actual - expected).max(axis=2)
    # Another Mesa or CPU may round a few edge pixels differently; a changed scene moves many pixels a lot.
    if (difference > 32).mean() > 0.005 or difference.mean() > 1.5:
        Image.fromarray(actual.astype(np.uint8)).save(tmp_path / f"{name}.actual.png")
        Image.fromarray(np.minimum(difference * 4, 255).astype(np.uint8)).save(tmp_path / f"{name}.diff.png")
        pytest.fail(f"{name} differs from {golden}: mean {difference.mean():.2f}, "
                    f"{(difference > 32).mean():.2%} of pixels by more than 32; actual and diff in {tmp_path} "
                    "(FLOORPLAN_UPDATE_GOLDEN=1 regenerates the golden images)")


# Whole buildings

HOUSE = parse_plan(json.loads((EXAMPLES / "two-storey-house.json").read_text()))


def heights(scene: Any) -> np.ndarray:
    ys: np.ndarray = scene.opaque.positions[: scene.solids, 1]
    return ys


def test_one_floor_stands_alone_and_floors_all_stacks_them_at_their_elevations() -> None:
    alone = view_of(HOUSE, 320, 240, {"floor": 1, "furniture": False}).scene
    stacked = view_of(HOUSE, 320, 240, {"floors": "all", "furniture": False}).scene
    # Alone, the first floor stands on the ground, cut at the dollhouse's 150 cm.
    assert heights(alone).max() == pytest.approx(150, abs=1)
    # Stacked, it stands on the ground floor's 280 cm and is cut 150 cm above that; the ground floor is whole.
    assert heights(stacked).max() == pytest.approx(280 + 150, abs=1)
    assert stacked.ground_y == pytest.approx(-15)
    # The ground floor's walls reach its full height, under the slab.
    below = stacked.opaque.positions[: stacked.casters]
    assert ((below[:, 1] > 270) & (below[:, 1] < 281)).any()


def test_a_cutaway_shows_the_floors_below_the_chosen_one_and_none_above() -> None:
    ground = view_of(HOUSE, 320, 240, {"floor": 0, "cutaway": True, "furniture": False}).scene
    assert heights(ground).max() == pytest.approx(150, abs=1)
    first = view_of(HOUSE, 320, 240, {"floor": 1, "cutaway": True, "furniture": False}).scene
    assert heights(first).max() == pytest.approx(430, abs=1)


def test_the_slab_over_a_flight_leaves_its_stairwell_open() -> None:
    scene = view_of(HOUSE, 320, 240, {"floors": "all", "furniture": False}).scene
    positions = scene.opaque.positions[: scene.solids].reshape(-1, 3, 3)
    # Triangles lying flat at the first floor's level: its slab top and room floors.
    level = positions[np.all(np.abs(positions[:, :, 1] - 280) < 0.5, axis=1)]
    assert len(level)

    def covered(x: float, z: float) -> bool:
        a, b, c = level[:, 0, [0, 2]], level[:, 1, [0, 2]], level[:, 2, [0, 2]]
        p = np.array([x, z])

        def side(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            sides: np.ndarray = (v[:, 0] - u[:, 0]) * (p[1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (p[0] - u[:, 0])
            return sides

        s1, s2, s3 = side(a, b), side(b, c), side(c, a)
        return bool((((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))).any())

    assert not covered(835, 600)  # over the flight's first leg
    assert covered(700, 620)  # the landing's floor beside it
    assert covered(300, 200)  # a bedroom


def test_stairs_are_solid_steps_up_to_the_next_floor_cut_by_the_section() -> None:
    from worker.render.view3d.scene import stair_steps

    stair = HOUSE.floors[0].stairs[0]
    whole = stair_steps(stair, 280, None).mesh()
    assert whole.positions[:, 1].max() == pytest.approx(280)
    assert len(np.unique(np.round(whole.positions[:, 1], 3))) == 17  # the floor and 16 treads
    cut = stair_steps(stair, 280, 150).mesh()
    assert cut.positions[:, 1].max() == pytest.approx(150.05, abs=0.01)
    assert (cut.colors[:, :3] == materials.SECTION.vertex_color[:3]).all(axis=1).any()


def test_the_stacked_house_renders_with_the_upper_floor_over_the_lower() -> None:
    stacked = image_of(HOUSE, {"floors": "all"}, 320, 240)
    alone = image_of(HOUSE, {"floor": 1}, 320, 240)
    assert np.abs(stacked - alone).mean() > 5
