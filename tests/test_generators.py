"""openapi.yaml as integrators' tools read it: linters, validators and client generators, run for real.

The npm tools come from tests/package.json (`make test` runs `npm ci` there); a missing tool fails, never skips.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from tests.plans import example
from tests.stack import Stack, create_plan, submit, wait_for

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
NODE_BIN = ROOT / "tests" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
GENERATED = "floorplan_generated"


def tool(name: str, where: Path) -> str:
    """Find a tool that `make test` installs; a missing one fails the test."""
    path = where / name
    assert path.exists(), f"{path} is missing: run `make test` (it installs tests/package.json with npm ci)"
    return str(path)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a tool with the venv's tools (ruff, for openapi-python-client's formatting) on PATH."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def operations() -> dict[str, tuple[str, str]]:
    """Map every operationId in openapi.yaml to its method and path."""
    spec = yaml.safe_load(SPEC.read_text())
    return {op["operationId"]: (method, path) for path, ops in spec["paths"].items() for method, op in ops.items()}


def test_redocly_lint_finds_no_errors() -> None:
    """Redocly's recommended rules find no error in the spec."""
    result = run(tool("redocly", NODE_BIN), "lint", str(SPEC), "--format=json")
    report = json.loads(result.stdout)
    errors = [f"{p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
              for p in report["problems"] if p["severity"] == "error"]
    assert report["totals"]["errors"] == 0, "\n".join(errors)


def test_openapi_spec_validator_accepts_the_spec() -> None:
    """openapi-spec-validator finds the spec a valid OpenAPI 3.1 document."""
    validate(yaml.safe_load(SPEC.read_text()))  # raises on the first invalid part


def test_every_operation_says_whether_it_needs_the_bearer_key() -> None:
    """/v1 routes need the Bearer key; health, files with signed URLs and metrics say `security: []`."""
    spec = yaml.safe_load(SPEC.read_text())
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    public = {op for op, (_, path) in operations().items() if not path.startswith("/v1")}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            expected: list[dict[str, list[str]]] = [] if op["operationId"] in public else [{"bearerAuth": []}]
            assert op["security"] == expected, f"{method.upper()} {path}"


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Generate the package openapi-python-client makes of openapi.yaml, and import it."""
    where = tmp_path_factory.mktemp("python-client")
    result = run(tool("openapi-python-client", VENV_BIN), "generate", "--path", str(SPEC), "--meta", "none",
                 "--output-path", str(where / GENERATED))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "will not be generated" not in result.stdout, result.stdout
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(GENERATED)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == GENERATED or m.startswith(f"{GENERATED}.")]:
            del sys.modules[name]


def test_openapi_python_client_generates_a_function_for_every_operation(python_client: ModuleType) -> None:
    """No operation is dropped, and each generated module imports with its sync and async calls."""
    root = Path(python_client.__file__ or "").parent
    generated = {p.stem: p for p in (root / "api").glob("*/*.py") if p.stem != "__init__"}
    spec = yaml.safe_load(SPEC.read_text())
    assert sum(len(ops) for ops in spec["paths"].values()) == len(operations()), "operationIds are unique"
    assert set(generated) == set(operations())
    for op_id, path in generated.items():
        module = importlib.import_module(f"{GENERATED}.api.{path.parent.name}.{op_id}")
        assert callable(module.sync_detailed) and callable(module.asyncio_detailed), op_id


def test_openapi_python_client_names_each_editor_body(python_client: ModuleType) -> None:
    """Each media type of POST /v1/plans, and the render request with its options, is a model of its own."""
    models = importlib.import_module(f"{GENERATED}.models")
    for name in ("Plan", "Blueprint3DFile", "ReactPlannerFile", "FloorplannerFile", "RenderRequest", "Options2D",
                 "Options3D", "WebhookSubscription"):
        assert hasattr(models, name), name


def test_a_generated_python_client_submits_the_readme_render_and_downloads_its_result(
        python_client: ModuleType, stack: Stack) -> None:
    """The generated client runs the README's flow; its download percent-encodes the key's "/" and still gets it."""
    from_api = importlib.import_module(f"{GENERATED}.api.plans.create_plan")
    submit = importlib.import_module(f"{GENERATED}.api.renders.submit_render")
    get = importlib.import_module(f"{GENERATED}.api.renders.get_render")
    download = importlib.import_module(f"{GENERATED}.api.files.download")
    models = importlib.import_module(f"{GENERATED}.models")
    client = python_client.AuthenticatedClient(base_url=stack.url, token=stack.key("generated"),
                                               timeout=httpx.Timeout(60))

    plan = models.Plan.from_dict(json.loads((ROOT / "examples" / "flat-2b.json").read_text()))
    created = from_api.sync_detailed(client=client, body=plan)
    assert created.status_code == 201, created.content
    body = models.RenderRequest.from_dict({"view": "2d", "format": "png", "width": 320, "height": 240})
    submitted = submit.sync_detailed(plan_id=created.parsed.id, client=client, body=body)
    assert submitted.status_code == 202, submitted.content
    assert submitted.parsed.options.to_dict(), "the server filled in the view's default options"

    render: Any = submitted.parsed
    while render.state.value not in ("succeeded", "failed", "canceled"):
        render = get.sync(render_id=render.id, client=client, prefer="wait=30")
    assert render.state.value == "succeeded", render
    url = urllib.parse.urlsplit(render.result.url)
    query = dict(urllib.parse.parse_qsl(url.query))
    if stack.profile == "production":  # a presigned object-store URL: no /files route on the way
        assert not url.path.startswith("/files/")
        assert httpx.get(render.result.url, timeout=30).content.startswith(b"\x89PNG")
        return
    key = urllib.parse.unquote(url.path.removeprefix("/files/"))
    assert "/" in key
    # The generated client percent-encodes the key's "/" as %2F; the server takes it as the same key.
    got = download.sync_detailed(key=key, client=client, expires=int(query["expires"]), sig=query["sig"],
                                 filename=query.get("filename"))
    assert got.status_code == 200, got.content[:300]
    assert got.content.startswith(b"\x89PNG")


def test_openapi_typescript_types_compile_the_readme_requests_under_strict(tmp_path: Path) -> None:
    """The README's bodies (defaults left out) type-check with openapi-fetch, and a wrong view does not."""
    shutil.copytree(ROOT / "tests" / "ts", tmp_path, dirs_exist_ok=True)
    (tmp_path / "node_modules").symlink_to(ROOT / "tests" / "node_modules")
    result = run(tool("openapi-typescript", NODE_BIN), str(SPEC), "-o", str(tmp_path / "schema.d.ts"))
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads((ROOT / "examples" / "flat-2b.json").read_text())
    (tmp_path / "plan.ts").write_text('import type { components } from "./schema";\n\n'
                                      f'export const plan: components["schemas"]["Plan"] = {json.dumps(plan)};\n')
    result = run(tool("tsc", NODE_BIN), "-p", str(tmp_path / "tsconfig.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_result_link_redirects_or_with_accept_json_answers_the_link(stack: Stack) -> None:
    """GET /v1/renders/{id}/result answers as documented: 302 to the file, or 200 with the link for JSON clients."""
    with stack.client("result-link") as client:
        job = wait_for(client, submit(client, create_plan(client, example("flat-2b.json")), width=320,
                                      height=240, format="svg")["id"])
        assert job["state"] == "succeeded", job
        redirect = client.get(f"/v1/renders/{job['id']}/result")
        assert redirect.status_code == 302
        link = client.get(f"/v1/renders/{job['id']}/result", headers={"Accept": "application/json"})
        assert link.status_code == 200, link.text
        assert link.json()["content_type"] == "image/svg+xml"
        for url in (redirect.headers["location"], link.json()["url"]):
            assert b"<svg" in httpx.get(url, timeout=30).content[:300]
