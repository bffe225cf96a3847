"""The operators' dashboard and the /v1/admin API behind it.

Admin keys only, every tenant's jobs with their place in line, and a real headless Chromium (Debian's, driven by
Playwright) watching a queue drain.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from tests.plans import SPEC_EXAMPLE, example, heavy_plan
from tests.stack import Stack, create_plan, submit, wait_for

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/browser installs it); never a downloaded browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ADMIN_PATHS = ["/v1/admin/overview", "/v1/admin/renders", "/v1/admin/tenants"]
# Every expectation waits on a condition; Playwright's 5 s default is too short for a machine whose other core is
# busy (the dashboard polls, and Chromium itself starts slowly there). A passing check still returns at once.
BROWSER_WAIT_MS = 30_000
expect.set_options(timeout=BROWSER_WAIT_MS)


def admin_key(stack: Stack) -> str:
    return stack.cli("keys", "create", "--tenant", "ops", "--admin").strip().splitlines()[-1]


@contextlib.contextmanager
def chromium() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(BROWSER_WAIT_MS)
            yield page
        finally:
            browser.close()


def screenshot(page: Page, directory: Path, name: str) -> Path:
    """Save a full-page screenshot under the test's directory and, if set, FLOORPLAN_SCREENSHOT_DIR."""
    path = directory / name
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("FLOORPLAN_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


# -- the admin API ------------------------------------------------------------------------------------------


def test_admin_data_needs_an_admin_key(stack: Stack) -> None:
    with stack.client("acme") as tenant, httpx.Client(base_url=stack.url, timeout=10) as anonymous:
        for path in ADMIN_PATHS:
            refused = tenant.get(path)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"] == "urn:floorplan:problem:forbidden"
            assert anonymous.get(path).status_code == 401
        key = admin_key(stack)
        for path in ADMIN_PATHS:
            assert anonymous.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 200, path
    page = httpx.get(f"{stack.url}/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page.text), "the page loads something from elsewhere"
    assert httpx.get(f"{stack.url}/dashboard/app.js", timeout=10).headers["content-type"].startswith("text/javascript")


def test_admins_see_every_tenants_jobs_filtered_by_state_tenant_and_queue(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    key = admin_key(stack)
    with stack.client("acme") as acme, stack.client("globex") as globex, \
            httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as ops:
        acme_jobs = [submit(acme, create_plan(acme, SPEC_EXAMPLE), cache=False)["id"] for _ in range(3)]
        globex_jobs = [submit(globex, create_plan(globex, SPEC_EXAMPLE), cache=False)["id"] for _ in range(2)]
        assert acme.post(f"/v1/renders/{acme_jobs[0]}/cancel").status_code == 200

        def ids(**query: str) -> list[str]:
            response = ops.get("/v1/admin/renders", params=query)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert ids() == [*reversed(acme_jobs + globex_jobs)]  # newest first, every tenant
        assert ids(tenant="globex") == globex_jobs[::-1]
        assert ids(state="queued", tenant="acme") == acme_jobs[:0:-1]
        assert ids(state="canceled") == [acme_jobs[0]]
        assert ids(queue="render-3d") == []
        assert len(ids(limit="2")) == 2
        page = ops.get("/v1/admin/renders", params={"limit": "3"}).json()
        rest = ops.get("/v1/admin/renders", params={"limit": "3", "cursor": page["next_cursor"]}).json()
        assert [i["id"] for i in page["items"] + rest["items"]] == ids()

        newest = ops.get("/v1/admin/renders", params={"state": "queued"}).json()["items"][0]
        assert (newest["id"], newest["tenant"], newest["queue_name"]) == (globex_jobs[-1], "globex", "render-2d")
        assert newest["queue"]["ahead"] == 3  # acme's two queued ones and globex's first
        assert newest["queue"]["eta_seconds"] is None  # no worker serves the queue

        detail = ops.get(f"/v1/admin/renders/{acme_jobs[0]}").json()
        assert (detail["tenant"], detail["state"]) == ("acme", "canceled")
        assert [e["state"] for e in detail["events"]] == ["queued", "canceled"]
        assert ops.get("/v1/admin/renders/rnd_00000000000000000000000000").status_code == 404

        deadline = time.monotonic() + 30  # queue figures are computed at most once a second per API process
        while True:
            overview = ops.get("/v1/admin/overview").json()
            queue = {q["name"]: q for q in overview["queues"]}["render-2d"]
            if queue["queued"] == 4 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert (queue["queued"], queue["running"], queue["active_workers"]) == (4, 0, 0)
        assert queue["oldest_age_seconds"] is not None and queue["oldest_age_seconds"] >= 0
        assert len(queue["succeeded_per_minute"]) == len(queue["failed_per_minute"]) == 60
        assert overview["workers"] == []
        assert {t["name"] for t in ops.get("/v1/admin/tenants").json()["items"]} >= {"acme", "globex", "ops"}
        lanes = {(t["tenant"], t["queue"]): t for t in overview["tenants"]}
        assert (lanes[("acme", "render-2d")]["queued"], lanes[("globex", "render-2d")]["queued"]) == (2, 2)
        assert overview["scheduler"] == "fair"

        changed = ops.patch("/v1/admin/tenants/globex", json={"weight": 3, "max_running": 2})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["weight"], changed.json()["effective_max_running"]) == (3, 2)
        assert acme.patch("/v1/admin/tenants/acme", json={"weight": 9}).status_code == 403
        assert ops.patch("/v1/admin/tenants/globex", json={"weight": 0}).status_code == 422
        # globex's second render now comes before acme's second: three of globex's slots to one of acme's.
        assert globex.get(f"/v1/renders/{globex_jobs[-1]}").json()["queue"]["ahead"] == 2


# -- the page in a real browser -----------------------------------------------------------------------------


def test_the_dashboard_shows_a_queued_jobs_place_falling_as_a_worker_drains_the_queue(
        make_stack: Callable[..., Stack], tmp_path: Path, profile: str) -> None:
    stack = make_stack(workers=0)
    key = admin_key(stack)
    with stack.client("acme") as acme, stack.client("globex") as globex:
        heavy = create_plan(acme, heavy_plan(12))  # about half a second per render: the drain takes a while
        flat = create_plan(globex, example("flat-2b.json"))
        submit(globex, flat, width=1200, height=900, cache=False)
        submit(globex, flat, width=1200, height=900, cache=False)
        # acme's last of eight: globex's two take their fair turns before it, so it is last of ten.
        last = [submit(acme, heavy, width=2400, height=2400, cache=False) for _ in range(8)][-1]["id"]

    with chromium() as page:
        page.goto(f"{stack.url}/dashboard")
        page.fill("#key", stack.key("acme"))  # a tenant's key does not open it
        page.click("#signin button[type=submit]")
        expect(page.locator("#signin-error")).to_contain_text("admin")
        page.fill("#key", key)
        page.click("#signin button[type=submit]")

        queue = page.locator('#queues [data-queue="render-2d"]')
        expect(queue.locator('[data-field="depth"]')).to_have_text("10", timeout=15_000)
        row = page.locator(f'#jobs tr[data-job-id="{last}"]')
        expect(row.locator('[data-field="ahead"]')).to_have_text("9 ahead")
        expect(page.locator("#jobs tbody tr")).to_have_count(10)
        expect(page.locator('#tenants tr[data-tenant="acme"] [data-field="queued"]')).to_have_text("8")
        expect(page.locator('#tenants tr[data-tenant="globex"] [data-field="queued"]')).to_have_text("2")
        screenshot(page, tmp_path, f"{profile}-dashboard-queued.png")

        page.select_option("#f-tenant", "globex")
        expect(page.locator("#jobs tbody tr")).to_have_count(2)
        page.select_option("#f-tenant", "")
        expect(page.locator("#jobs tbody tr")).to_have_count(10)

        row.locator("a").click()
        ahead = page.locator('#job-facts [data-field="ahead"]')
        expect(ahead).to_have_text("9 ahead")

        stack.restart_workers(1)
        seen: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = page.locator("#job-state").get_attribute("data-state")
            if state != "queued":
                break
            with contextlib.suppress(Exception):
                text = ahead.inner_text(timeout=500)
                if not seen or seen[-1] != text:
                    seen.append(text)
                    if len(seen) > 1:  # the place fell: a worker drains the queue (the last such view is kept)
                        screenshot(page, tmp_path, f"{profile}-dashboard-job-queued.png")
            time.sleep(0.1)
        places = [int(text.split()[0]) for text in seen]
        assert places == sorted(places, reverse=True), places
        assert any(0 <= p < 9 for p in places), f"never saw the place fall while queued: {places}"

        expect(page.locator("#job-state")).to_have_text("succeeded", timeout=120_000)
        # A function, not an expression: Playwright evals an expression in the page on every poll, which the
        # dashboard's CSP (no 'unsafe-eval') refuses whenever the image is not loaded at the first check.
        page.wait_for_function("() => document.getElementById('result-image')?.naturalWidth > 0",
                               timeout=30_000)
        history = page.locator("#job-events tbody tr td:nth-child(2)")
        expect(history).to_have_text(["queued", "running", "succeeded"])
        screenshot(page, tmp_path, f"{profile}-dashboard-job.png")

        page.click("a.back")
        expect(queue.locator('[data-field="depth"]')).to_have_text("0", timeout=30_000)
        expect(queue.locator('[data-field="throughput"]')).to_contain_text("10 done", timeout=30_000)
        expect(page.locator("#workers tbody tr")).to_have_count(1)
        shot = screenshot(page, tmp_path, f"{profile}-dashboard-drained.png")
        assert shot.stat().st_size > 10_000

    with stack.client("acme") as acme:
        assert wait_for(acme, last)["state"] == "succeeded"
