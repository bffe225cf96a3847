"""HTTP manners: `Allow` on OPTIONS and 405, HEAD on GET routes, Content-Encoding refused, CORS only when on."""

from __future__ import annotations

from collections.abc import Callable

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan


def _allow(value: str) -> set[str]:
    return {m.strip() for m in value.split(",")}


def test_options_and_405_name_every_method_the_path_takes(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        options = client.options(f"/v1/plans/{plan_id}")
        assert options.status_code == 204
        assert _allow(options.headers["Allow"]) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        refused = client.post(f"/v1/plans/{plan_id}", json={})
        assert refused.status_code == 405
        assert refused.headers["content-type"] == "application/problem+json"
        assert _allow(refused.headers["Allow"]) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        assert _allow(client.options("/v1/plans").headers["Allow"]) == {"GET", "HEAD", "POST", "OPTIONS"}
        assert _allow(client.delete("/v1/renders").headers["Allow"]) == {"GET", "HEAD", "OPTIONS"}
        assert client.options("/v1/nowhere").status_code == 404


def test_head_answers_a_get_route_with_its_headers_and_no_body(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        got = client.get(f"/v1/plans/{plan_id}")
        head = client.head(f"/v1/plans/{plan_id}")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["ETag"] == got.headers["ETag"]
        assert head.headers["content-type"] == got.headers["content-type"]
        assert client.head("/v1/plans/pln_00000000000000000000000000").status_code == 404
        assert client.head("/healthz").status_code == 200


def test_a_compressed_body_is_refused_with_415_and_nothing_is_stored(stack: Stack) -> None:
    with stack.client("gzip-sender") as client:
        refused = client.post("/v1/plans", content=b"\x1f\x8b\x08\x00", headers={
            "Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert refused.status_code == 415
        assert refused.json()["type"] == "urn:floorplan:problem:unsupported-content-encoding"
        assert client.get("/v1/plans").json()["items"] == []
        plain = client.post("/v1/plans", json=SPEC_EXAMPLE, headers={"Content-Encoding": "identity"})
        assert plain.status_code == 201


def test_cors_is_off_by_default(stack: Stack) -> None:
    with stack.client() as client:
        answer = client.get("/v1/plans", headers={"Origin": "https://app.example"})
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers
        preflight = client.options("/v1/plans", headers={"Origin": "https://app.example",
                                                         "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_let_the_named_browser_apps_call(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, env={"FLOORPLAN_CORS_ORIGINS": "https://app.example, https://other.example"})
    with stack.client() as client:
        preflight = client.options("/v1/plans", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        answer = client.get("/v1/plans", headers={"Origin": "https://other.example"})
        assert answer.headers["access-control-allow-origin"] == "https://other.example"
        assert "Location" in answer.headers["access-control-expose-headers"]
        stranger = client.get("/v1/plans", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
