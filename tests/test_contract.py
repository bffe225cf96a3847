"""openapi.yaml is the contract third-party apps code against: it must equal what the app serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from api.app import create_app
from tests.stack import Stack

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def test_openapi_yaml_equals_the_schema_the_app_generates() -> None:
    committed = yaml.safe_load(SPEC.read_text())
    assert committed == create_app().openapi(), "run `make openapi` and commit openapi.yaml"


def test_openapi_yaml_equals_the_schema_a_running_server_serves(stack: Stack) -> None:
    served = httpx.get(f"{stack.url}/openapi.json", timeout=10).json()
    assert served == yaml.safe_load(SPEC.read_text())


def test_every_v1_operation_documents_its_problem_responses() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            assert "401" in operation["responses"], f"{method.upper()} {path} documents no 401"
            limited = operation["responses"].get("429", {})
            assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(limited.get("headers", {})), \
                f"{method.upper()} {path} documents no rate limit"
