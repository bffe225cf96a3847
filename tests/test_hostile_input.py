"""Inputs a stranger sends on purpose get a 4xx problem that says what is wrong, never a 500.

And the spec lists every status a route answers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan

PAGED = ("/v1/plans", "/v1/renders", "/v1/admin/renders")
JSON_MEDIA_TYPES = ("application/json", "application/vnd.blueprint3d+json", "application/vnd.react-planner+json",
                    "application/vnd.floorplanner.fml+json")
DEEP = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:floorplan:problem:{slug}", body
    return body


def _admin(stack: Stack) -> httpx.Client:
    key = stack.cli("keys", "create", "--tenant", "root-ops", "--admin").strip().splitlines()[-1]
    return httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.mark.parametrize("cursor", ["é", "null", "\u2603\u2603", "////", "cGxuXw"])
def test_a_cursor_this_api_did_not_hand_out_is_a_400_bad_cursor_on_every_list(stack: Stack, cursor: str) -> None:
    with _admin(stack) as client:
        for path in PAGED:
            body = _problem(client.get(path, params={"cursor": cursor}), 400, "bad-cursor")
            assert body["errors"][0]["path"] == "cursor"


@pytest.mark.parametrize("media_type", JSON_MEDIA_TYPES)
def test_json_nested_a_thousand_deep_is_refused_as_malformed_in_every_media_type(stack: Stack,
                                                                                 media_type: str) -> None:
    with stack.client() as client:
        for body in (DEEP, DEEP_OBJECT):
            response = client.post("/v1/plans", content=body, headers={"Content-Type": media_type})
            assert response.status_code in (400, 422), response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert "deep" in response.json()["detail"] or response.status_code == 422, response.text


def test_json_nested_a_thousand_deep_is_a_4xx_on_the_routes_fastapi_parses(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for method, path in (("PUT", f"/v1/plans/{plan_id}"), ("POST", f"/v1/plans/{plan_id}/renders"),
                             ("POST", "/v1/webhooks")):
            for body in (DEEP, DEEP_OBJECT):
                response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
                assert response.status_code in (400, 422), (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("body", [b"\xff", b"\x00", b"{\"view\": \"2d\"\xff}"])
def test_bytes_that_are_not_json_are_the_malformed_json_problem_on_every_body_route(stack: Stack,
                                                                                    body: bytes) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for method, path in (("POST", "/v1/plans"), ("PUT", f"/v1/plans/{plan_id}"),
                             ("POST", f"/v1/plans/{plan_id}/renders"), ("POST", "/v1/webhooks")):
            response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
            _problem(response, 400, "malformed-json")


BAD_HOSTS = ["https://a..b/hook", f"https://{'a' * 64}.example.com/hook", "https://.example.com/hook",
             f"https://{'abcdefghi.' * 26}com/hook"]
BAD_URLS = [*BAD_HOSTS, "https://user:secret@hooks.example.com/hook", "https://hooks.example.com@1.1.1.1/",
            "https://hooks.example.com:0/hook", "https://hooks.example.com:65536/hook"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_webhook_url_with_a_bad_host_userinfo_or_port_is_a_422_naming_it(stack: Stack, url: str) -> None:
    with stack.client() as client:
        endpoint = _problem(client.post("/v1/webhooks", json={"url": url}), 422, "invalid-request")
        assert endpoint["errors"][0]["path"] == "url", endpoint
        plan_id = create_plan(client, SPEC_EXAMPLE)
        render = _problem(client.post(f"/v1/plans/{plan_id}/renders", json={"webhook": {"url": url}}), 422,
                          "invalid-request")
        assert render["errors"][0]["path"] == "webhook.url", render


def _operations(stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    spec = httpx.get(f"{stack.url}/openapi.json", timeout=30).json()
    return {(method.upper(), path): op for path, ops in spec["paths"].items() for method, op in ops.items()}


def test_the_spec_lists_the_400s_415s_413s_and_503s_the_routes_answer(stack: Stack) -> None:
    operations = _operations(stack)
    for (method, path), op in operations.items():
        if not path.startswith("/v1"):
            continue
        responses = op["responses"]
        assert "503" in responses, (method, path)
        assert "401" in responses, (method, path)
        if "requestBody" in op:
            for status in ("400", "413", "415", "422"):
                assert status in responses, (method, path, status)
        if any(p["name"] == "cursor" for p in op.get("parameters", [])):
            assert "400" in responses, (method, path)
    assert "Retry-After" in operations[("POST", "/v1/plans/{plan_id}/renders")]["responses"]["503"]["headers"]
