"""3D renders through the whole service: submitted over HTTP, rendered by a worker's child, downloaded."""

from __future__ import annotations

import io

import httpx
import numpy as np
from PIL import Image

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, submit, wait_for


def test_a_3d_job_renders_each_camera_through_the_service(stack: Stack) -> None:
    cameras = ["dollhouse", "top", {"position": {"x": 100, "y": 300, "z": 160},
                                    "target": {"x": 300, "y": 100, "z": 100}, "fov": 60}]
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        jobs = [submit(client, plan_id, view="3d", format="jpeg", width=400, height=300,
                       options={"camera": camera, "door_state": "closed"})["id"] for camera in cameras]
        for job_id, camera in zip(jobs, cameras, strict=True):
            done = wait_for(client, job_id)
            assert done["state"] == "succeeded", (camera, done)
            assert done["attempts"] == 1
            data = httpx.get(done["result"]["url"], timeout=30).content
            with Image.open(io.BytesIO(data)) as picture:
                assert picture.format == "JPEG" and picture.size == (400, 300)
                pixels = np.asarray(picture.convert("L")).astype(float)
            assert pixels.std() > 10, f"{camera}: the image has a picture in it, not one flat colour"


def test_bad_3d_options_are_refused_at_submit(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for options in ({"camera": "fisheye"}, {"section_height": 0}, {"camera": {"position": {"x": 0}}},
                        {"finishes": {"kitchen": "lava"}}):
            response = client.post(f"/v1/plans/{plan_id}/renders", json={"view": "3d", "options": options})
            assert response.status_code == 422, (options, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_a_plan_that_would_take_minutes_in_3d_is_refused_at_submit_not_failed_later(stack: Stack) -> None:
    warehouse = {**SPEC_EXAMPLE, "floors": [{**SPEC_EXAMPLE["floors"][0], "items": [
        {"ref": "bookshelf", "x": 50 + i % 20, "y": 50, "width": 5000, "depth": 40, "height": 300}
        for i in range(600)]}]}
    with stack.client() as client:
        plan_id = create_plan(client, warehouse)
        response = client.post(f"/v1/plans/{plan_id}/renders", json={"view": "3d"})
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"] == "urn:floorplan:problem:output-too-large"
        assert body["errors"][0]["path"] == "options.floor"
        light = client.post(f"/v1/plans/{plan_id}/renders", json={"view": "3d", "options": {"furniture": False}})
        assert light.status_code == 202, light.text
        assert client.post(f"/v1/renders/{light.json()['id']}/cancel").status_code == 200
