"""POST /v1/plans takes other editors' files by media type or ?format=, and refuses oversized drawings at submit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, submit, wait_for

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


IMPORTS = [
    ("blueprint3d-example-furnished.json", "application/vnd.blueprint3d+json", 8, 2),
    ("react-planner-test_doors.json", "application/vnd.react-planner+json", 5, 0),
    ("react-planner-flat-m.json", "application/vnd.react-planner+json", 7, 2),
    ("fml-one-bedroom.json", "application/vnd.floorplanner.fml+json", 7, 3),
]


@pytest.mark.parametrize(("name", "media", "walls", "rooms"), IMPORTS, ids=[case[0] for case in IMPORTS])
def test_a_foreign_file_is_imported_by_its_media_type(stack: Stack, name: str, media: str, walls: int,
                                                     rooms: int) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", content=sample(name), headers={"content-type": media})
        assert response.status_code == 201, response.text
        floor = response.json()["plan"]["floors"][0]
        assert (len(floor["walls"]), len(floor["rooms"])) == (walls, rooms)
        # What was stored is an ordinary plan v1: fetching it gives the same document back.
        assert client.get(response.headers["Location"]).json()["plan"] == response.json()["plan"]


@pytest.mark.parametrize(("name", "media", "walls"), [
    ("sh3d-studio-Home.xml", "application/vnd.sweethome3d+xml", 16),
    ("ifc4-project0-openings.ifc", "application/x-step", 5),
], ids=["sweet-home-3d", "ifc"])
def test_sweet_home_3d_and_ifc_files_are_imported_by_media_type(stack: Stack, name: str, media: str,
                                                               walls: int) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", content=sample(name), headers={"content-type": media})
        assert response.status_code == 201, response.text
        assert len(response.json()["plan"]["floors"][0]["walls"]) == walls
        # ?format= overrides a media type that says nothing, such as application/octet-stream.
        fmt = "sh3d" if "sweethome3d" in media else "ifc"
        again = client.post("/v1/plans", params={"format": fmt}, content=sample(name),
                            headers={"content-type": "application/octet-stream"})
        assert again.status_code == 201, again.text


def test_the_answer_says_what_the_import_changed(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", content=sample("react-planner-myscene-px.json"),
                               headers={"content-type": "application/vnd.react-planner+json"})
        assert response.status_code == 201, response.text
        report = response.json()["import"]
        assert report["format"] == "react-planner"
        assert [w["kind"] for w in report["warnings"]] == ["merged"] * 6
        assert report["warnings"][0]["path"] == "layers.layer-1.holes.w2"
        plain = client.post("/v1/plans", json=SPEC_EXAMPLE)
        assert plain.json()["import"] is None


def test_a_broken_sweet_home_3d_file_is_a_422_naming_the_place(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", content=b"<home><wall xStart='0'></home>",
                               headers={"content-type": "application/vnd.sweethome3d+xml"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["path"] == "Home.xml:1:26"  # line 1, at "home>"


def test_format_query_selects_the_importer_for_plain_json(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", params={"format": "fml"}, content=sample("fml-one-bedroom.json"),
                               headers={"content-type": "application/json"})
        assert response.status_code == 201, response.text
        names = [room["name"] for room in response.json()["plan"]["floors"][0]["rooms"]]
        assert names == ["Living room", "Bedroom", "Bathroom"]


def test_plan_v1_json_is_still_the_default(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", json=SPEC_EXAMPLE)
        assert response.status_code == 201
        assert response.json()["plan"]["name"] == SPEC_EXAMPLE["name"]


def test_a_file_that_cannot_be_imported_gets_a_422_saying_why(stack: Stack) -> None:
    broken: dict[str, Any] = json.loads(sample("blueprint3d-example-furnished.json"))
    broken["floorplan"]["walls"][0]["corner1"] = "no-such-corner"
    with stack.client() as client:
        response = client.post("/v1/plans", json=broken, params={"format": "blueprint3d"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("import-failed")
        assert problem["errors"][0]["path"] == "floorplan.walls[0]"
        assert "corner" in problem["errors"][0]["message"]


def test_unknown_media_type_is_415_and_bad_json_is_400(stack: Stack) -> None:
    with stack.client() as client:
        wrong = client.post("/v1/plans", content=b"<plan/>", headers={"content-type": "application/xml"})
        assert wrong.status_code == 415
        assert wrong.headers["content-type"] == "application/problem+json"
        bad = client.post("/v1/plans", content=b"{", headers={"content-type": "application/vnd.blueprint3d+json"})
        assert bad.status_code == 400
        unknown_format = client.post("/v1/plans", params={"format": "dxf"}, json=SPEC_EXAMPLE)
        assert unknown_format.status_code == 422


def test_an_imported_plan_renders(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", content=sample("react-planner-test_doors.json"),
                               headers={"content-type": "application/vnd.react-planner+json"})
        job = submit(client, response.json()["id"], format="svg", width=400, height=300)
        assert wait_for(client, job["id"])["state"] == "succeeded"


def test_drawings_over_the_output_limits_are_refused_at_submit(stack: Stack) -> None:
    long_wall = {"a": {"x": 0, "y": 0}, "b": {"x": 20000, "y": 0}, "thickness": 30}
    with stack.client() as client:
        plan_id = create_plan(client, {"name": "warehouse", "floors": [{"walls": [long_wall]}]})
        sheets = client.post(f"/v1/plans/{plan_id}/renders",
                             json={"format": "pdf", "options": {"scale": "1:50", "paper": "A4"}})
        assert sheets.status_code == 422, sheets.text
        assert sheets.json()["errors"][0]["path"] == "options.scale"
        assert "sheets" in sheets.json()["errors"][0]["message"]
        raster = client.post(f"/v1/plans/{plan_id}/renders", json={"format": "png", "options": {"scale": "1:100"}})
        assert raster.status_code == 422
        fits = client.post(f"/v1/plans/{plan_id}/renders",
                           json={"format": "pdf", "options": {"scale": "1:100", "paper": "A3"}})
        assert fits.status_code == 202, fits.text


def test_render_options_for_floors_and_branding_are_checked_at_submit(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        url_logo = client.post(f"/v1/plans/{plan_id}/renders", json={
            "format": "png", "options": {"branding": {"logo_png_base64": "https://example.com/logo.png"}}})
        assert url_logo.status_code == 422
        assert "base64" in url_logo.text
        every_floor = client.post(f"/v1/plans/{plan_id}/renders",
                                  json={"format": "pdf", "options": {"floor": "all", "totals": True}})
        assert every_floor.status_code == 202, every_floor.text
        stacked = client.post(f"/v1/plans/{plan_id}/renders",
                              json={"view": "3d", "options": {"floors": "all", "cutaway": True}})
        assert stacked.status_code == 202, stacked.text
