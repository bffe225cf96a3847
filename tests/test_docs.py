"""/docs and /redoc work where the service runs: every asset comes from the service, and "Try it out" is authorized.

A real headless Chromium (Debian's, driven by Playwright, as in tests/test_dashboard.py) loads the pages and
records every request it makes; any request to another host fails the test.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from playwright.sync_api import Page, Request, Route, expect

from tests.stack import Stack
from tests.test_dashboard import chromium, screenshot

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def offline(page: Page, stack: Stack) -> list[Request]:
    """Take the page offline: anything not on the service is refused.

    Returns every request the page makes from now on, refused ones included.
    """
    requests: list[Request] = []

    def seen(request: Request) -> None:
        requests.append(request)

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(f"{stack.url}/"):
            route.continue_()
        else:
            route.abort("internetdisconnected")

    page.on("request", seen)
    page.route("**/*", only_the_service)
    return requests


def elsewhere(requests: list[Request], stack: Stack) -> list[str]:
    """List what the page asked of other hosts, as kind and URL (data: and blob: URLs are in the page itself)."""
    return [f"{r.resource_type} {r.url}" for r in requests
            if not r.url.startswith((f"{stack.url}/", "data:", "blob:"))]


def test_docs_list_every_operation_with_nothing_loaded_from_elsewhere(stack: Stack, tmp_path: Path) -> None:
    """Swagger UI comes from the service and shows one block per operation of openapi.yaml."""
    spec = yaml.safe_load(SPEC.read_text())
    count = sum(len(ops) for ops in spec["paths"].values())
    with chromium() as page:
        requests = offline(page, stack)
        page.goto(f"{stack.url}/docs")
        expect(page.locator(".opblock")).to_have_count(count, timeout=20_000)
        expect(page.locator(".btn.authorize")).to_be_visible()
        screenshot(page, tmp_path, f"{stack.profile}-docs.png")
        assert any(u.startswith(f"{stack.url}/docs/assets/swagger-ui-bundle.js") for u in [r.url for r in requests])
        assert elsewhere(requests, stack) == []


def test_redoc_renders_with_nothing_loaded_from_elsewhere(stack: Stack, tmp_path: Path) -> None:
    """ReDoc comes from the service and renders the operations offline, with no web fonts from elsewhere."""
    with chromium() as page:
        requests = offline(page, stack)
        page.goto(f"{stack.url}/redoc")
        expect(page.locator("h1").first).to_contain_text("Floorplan Render API", timeout=20_000)
        expect(page.get_by_text("Submit Render").first).to_be_attached()
        screenshot(page, tmp_path, f"{stack.profile}-redoc.png")
        assert any(u.startswith(f"{stack.url}/docs/assets/redoc.standalone.js") for u in [r.url for r in requests])
        # The ReDoc bundle's "API docs by Redocly" footer logo is the one thing it asks for elsewhere; refused, it
        # hides itself. No script, style sheet, font or data comes from elsewhere.
        assert [r for r in elsewhere(requests, stack) if not r.startswith("image ")] == []


def test_docs_assets_are_served_by_the_service(stack: Stack) -> None:
    """The HTML names assets under /docs/assets, and the service answers them itself."""
    html = httpx.get(f"{stack.url}/docs", timeout=10).text
    assert "cdn.jsdelivr.net" not in html and "/docs/assets/swagger-ui-bundle.js" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        answer = httpx.get(f"{stack.url}/docs/assets/{asset}", timeout=10)
        assert answer.status_code == 200 and len(answer.content) > 10_000, asset


def test_try_it_out_with_an_authorized_key_answers_200(stack: Stack, tmp_path: Path) -> None:
    """Authorize with a key, then "Try it out" on GET /v1/queues: the browser's call carries it and gets a 200."""
    key = stack.key("docs")
    with chromium() as page:
        requests = offline(page, stack)
        page.goto(f"{stack.url}/docs")
        page.locator(".btn.authorize").first.click()
        page.locator("input[aria-label='auth-bearer-value']").fill(key)
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.locator(".auth-btn-wrapper button.btn-done").click()
        expect(page.locator(".btn.authorize.locked").first).to_be_visible()

        operation = page.locator("#operations-queues-list_queues")
        operation.locator(".opblock-summary-control").click()
        operation.locator(".try-out__btn").click()
        with page.expect_response(lambda r: r.url == f"{stack.url}/v1/queues") as answer:
            operation.locator(".execute").click()
        assert answer.value.status == 200
        assert answer.value.request.headers["authorization"] == f"Bearer {key}"
        expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
        screenshot(page, tmp_path, f"{stack.profile}-docs-try-it-out.png")
        assert elsewhere(requests, stack) == []
