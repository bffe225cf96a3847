"""The REST contract: plans with versions and ETags, renders, tenants, idempotency and problem bodies."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, events, submit, wait_for


def _plan(**floor_changes: Any) -> dict[str, Any]:
    floor = {**SPEC_EXAMPLE["floors"][0], **floor_changes}
    return {"name": "Test", "floors": [floor]}


def test_plans_are_created_versioned_guarded_by_etags_and_deleted(stack: Stack) -> None:
    with stack.client() as client:
        created = client.post("/v1/plans", json=SPEC_EXAMPLE)
        assert created.status_code == 201
        plan_id = created.json()["id"]
        assert created.headers["Location"] == f"/v1/plans/{plan_id}"
        first_etag = created.headers["ETag"]
        got = client.get(f"/v1/plans/{plan_id}")
        assert got.json()["plan"] == created.json()["plan"]
        assert got.headers["ETag"] == first_etag

        renamed = {**SPEC_EXAMPLE, "name": "Flat 2B, revised"}
        updated = client.put(f"/v1/plans/{plan_id}", json=renamed, headers={"If-Match": first_etag})
        assert updated.status_code == 200
        assert updated.json()["version"] == 2 and updated.headers["ETag"] != first_etag
        stale = client.put(f"/v1/plans/{plan_id}", json=SPEC_EXAMPLE, headers={"If-Match": first_etag})
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"

        job = submit(client, plan_id, width=200, height=150)
        assert job["plan_version"] == 2
        assert client.delete(f"/v1/plans/{plan_id}").status_code == 204
        assert client.get(f"/v1/plans/{plan_id}").status_code == 404
        assert wait_for(client, job["id"])["state"] == "succeeded", "an accepted render outlives its plan"


def test_plan_list_pages_with_a_cursor(stack: Stack) -> None:
    with stack.client("pager") as client:
        ids = [create_plan(client, SPEC_EXAMPLE) for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            page = client.get("/v1/plans", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            seen += [p["id"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)


def test_render_list_filters_by_state_and_shows_the_event_history(stack: Stack) -> None:
    with stack.client("historian") as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = submit(client, plan_id, width=300, height=200)
        assert job["options"]["floor"] == 0, "options are stored with their defaults filled in"
        wait_for(client, job["id"])
        listed = client.get("/v1/renders", params={"state": "succeeded"}).json()["items"]
        assert [j["id"] for j in listed] == [job["id"]]
        assert client.get("/v1/renders", params={"state": "queued"}).json()["items"] == []
        history = events(client, job["id"])
        assert [e["state"] for e in history] == ["queued", "running", "succeeded"]
        assert history[1]["worker"] and history[1]["attempt"] == 1


def test_tenants_see_only_their_own_plans_renders_and_results(stack: Stack) -> None:
    with stack.client("tenant-a") as a, stack.client("tenant-b") as b:
        plan_id = create_plan(a, SPEC_EXAMPLE)
        job = submit(a, plan_id, width=300, height=200)
        assert wait_for(a, job["id"])["state"] == "succeeded"
        assert a.get(f"/v1/renders/{job['id']}/result").status_code == 302
        for method, path in [
            ("GET", f"/v1/plans/{plan_id}"), ("PUT", f"/v1/plans/{plan_id}"), ("DELETE", f"/v1/plans/{plan_id}"),
            ("POST", f"/v1/plans/{plan_id}/renders"), ("GET", f"/v1/renders/{job['id']}"),
            ("POST", f"/v1/renders/{job['id']}/cancel"), ("GET", f"/v1/renders/{job['id']}/events"),
            ("GET", f"/v1/renders/{job['id']}/result"),
        ]:
            body = SPEC_EXAMPLE if method == "PUT" else ({} if method == "POST" else None)
            response = b.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        assert b.get("/v1/plans").json()["items"] == []
        assert b.get("/v1/renders").json()["items"] == []


def test_the_same_idempotency_key_returns_the_same_job(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        request = {"view": "2d", "format": "svg", "width": 800, "height": 600}
        first = client.post(f"/v1/plans/{plan_id}/renders", json=request, headers={"Idempotency-Key": "k-1"})
        again = client.post(f"/v1/plans/{plan_id}/renders", json=request, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 202
        assert first.json()["id"] == again.json()["id"]
        other = client.post(f"/v1/plans/{plan_id}/renders", json={**request, "width": 801},
                            headers={"Idempotency-Key": "k-1"})
        assert other.status_code == 422
        assert other.json()["type"].endswith("idempotency-key-reused")


def test_a_3d_render_succeeds_and_downloads_as_a_png_of_the_asked_size(stack: Stack) -> None:
    with stack.client() as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), view="3d", format="png", width=320, height=240)
        done = wait_for(client, job["id"])
        assert done["state"] == "succeeded", done
        data = httpx.get(done["result"]["url"], timeout=30).content
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) == done["result"]["bytes"]
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (320, 240)


def test_results_download_in_every_2d_format(stack: Stack) -> None:
    magic = {"png": b"\x89PNG", "svg": b"<svg", "pdf": b"%PDF", "jpeg": b"\xff\xd8\xff", "webp": b"RIFF"}
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        jobs = {fmt: submit(client, plan_id, format=fmt, width=400, height=300)["id"] for fmt in magic}
        for fmt, job_id in jobs.items():
            done = wait_for(client, job_id)
            assert done["state"] == "succeeded", done
            data = httpx.get(done["result"]["url"], timeout=30).content
            assert magic[fmt] in data[:200], fmt
            assert len(data) == done["result"]["bytes"]


def test_queues_report_depth_and_workers(stack: Stack) -> None:
    with stack.client() as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), width=200, height=150)
        wait_for(client, job["id"])
        deadline = time.monotonic() + 5  # queue figures are computed at most once a second per API process
        while True:
            queues = {q["name"]: q for q in client.get("/v1/queues").json()["items"]}
            if queues["render-2d"]["completed_last_minute"] >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert set(queues) == {"render-2d", "render-3d"}
        assert queues["render-2d"]["active_workers"] >= 1
        assert queues["render-2d"]["completed_last_minute"] >= 1


def test_health_and_readiness(stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{stack.url}/readyz").json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


def test_plan_schema_is_served_as_json_schema(stack: Stack) -> None:
    with stack.client() as client:
        schema = client.get("/v1/schema/plan").json()
        assert schema["title"] == "Plan" and "floors" in schema["properties"]


BAD_PLANS = [
    ("wrong type", {"name": "x", "floors": "none"}, "floors"),
    ("negative thickness", _plan(walls=[{"a": {"x": 0, "y": 0}, "b": {"x": 100, "y": 0}, "thickness": -5}]),
     "floors[0].walls[0].thickness"),
    ("two-point polygon", _plan(rooms=[{"name": "r", "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}]),
     "floors[0].rooms[0].polygon"),
    ("zero-length wall", _plan(walls=[{"a": {"x": 5, "y": 5}, "b": {"x": 5, "y": 5}}]), "floors[0].walls[0].b"),
    ("opening outside its wall", _plan(walls=[{"a": {"x": 0, "y": 0}, "b": {"x": 100, "y": 0},
                                               "openings": [{"type": "door", "offset": 90, "width": 80}]}]),
     "floors[0].walls[0].openings[0].offset"),
    ("overlapping openings", _plan(walls=[{"a": {"x": 0, "y": 0}, "b": {"x": 400, "y": 0}, "openings": [
        {"type": "door", "offset": 100, "width": 90}, {"type": "window", "offset": 150, "width": 90}]}]),
     "floors[0].walls[0].openings[1].offset"),
    ("self-intersecting room", _plan(rooms=[{"name": "bow", "polygon": [
        {"x": 0, "y": 0}, {"x": 100, "y": 100}, {"x": 100, "y": 0}, {"x": 0, "y": 100}]}]),
     "floors[0].rooms[0].polygon"),
    ("coordinate out of range", _plan(labels=[{"text": "far", "x": 1e12, "y": 0}]), "floors[0].labels[0].x"),
    ("unknown field", {**SPEC_EXAMPLE, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("case", "plan", "path"), BAD_PLANS, ids=[c[0] for c in BAD_PLANS])
def test_a_bad_plan_gets_a_422_naming_the_json_path(stack: Stack, case: str, plan: dict[str, Any],
                                                    path: str) -> None:
    with stack.client() as client:
        response = client.post("/v1/plans", json=plan)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and problem["title"]
        assert path in [e["path"] for e in problem["errors"]], problem


def test_malformed_input_gets_a_4xx_problem_never_a_500(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        renders = f"/v1/plans/{plan_id}/renders"
        nan_plan = '{"name": "n", "floors": [{"walls": [{"a": {"x": NaN, "y": 0}, "b": {"x": 1, "y": 0}}]}]}'
        cases: list[tuple[str, str, dict[str, Any], int]] = [
            ("POST", "/v1/plans", {"content": b'{"name": "x", "floors": [', "headers": {"content-type":
                                                                                      "application/json"}}, 400),
            ("POST", "/v1/plans", {"content": nan_plan.encode(), "headers": {"content-type": "application/json"}},
             422),
            ("POST", "/v1/plans", {"content": b"x" * (10 * 1024 * 1024),
                                   "headers": {"content-type": "application/json"}}, 413),
            ("POST", renders, {"json": {"width": 100000}}, 422),
            ("POST", renders, {"json": {"width": "wide"}}, 422),
            ("POST", renders, {"json": {"view": "3d", "format": "svg"}}, 422),
            ("POST", renders, {"json": {"view": "4d"}}, 422),
            ("POST", renders, {"json": {"options": {"floor": 3}}}, 422),
            ("POST", renders, {"json": {"options": {"sparkles": True}}}, 422),
            ("GET", "/v1/renders/rnd_nope", {}, 404),
            ("GET", "/v1/renders?cursor=%%%", {}, 400),
            ("GET", "/v1/renders?limit=0", {}, 422),
            ("GET", "/v1/nowhere", {}, 404),
        ]
        for method, path, kwargs, status in cases:
            response = client.request(method, path, **kwargs)
            assert response.status_code == status, (method, path, response.status_code, response.text[:500])
            assert response.headers["content-type"] == "application/problem+json", path
            assert response.json()["status"] == status
        nan = client.post("/v1/plans", content=nan_plan.encode(), headers={"content-type": "application/json"})
        assert "floors[0].walls[0].a.x" in [e["path"] for e in nan.json()["errors"]]


def test_requests_without_a_valid_key_are_unauthorized(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer fp_not-a-key"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{stack.url}/v1/plans", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
