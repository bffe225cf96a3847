"""The contract against the real service: schemathesis sends what strangers would, with a key, on both profiles.

The bar is no server error and no answer the spec does not describe (status, media type, body, headers).
The run is bounded by count, not by time (10 cases per operation and phase, a fixed seed), so a slow machine
makes it slower, never smaller; what it sent and found is printed (pytest -s shows it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.stack import Stack

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")
RUN_TIMEOUT_S = 1200  # a backstop only: the run ends when every operation has had its cases
SIGNED_URLS = {"GET /files/{key}", "HEAD /files/{key}"}
# Rotating the key in use (overlap 0 stops it at once) or revoking it would leave the rest of the run without
# a key; tests/test_keys.py specifies both.
LEAVE_OUT = r"^(POST /v1/keys/rotate|DELETE /v1/admin/keys/\{key_id\})$"


def test_no_server_error_and_no_answer_the_spec_does_not_describe(make_stack: Callable[..., Stack],
                                                                  tmp_path: Path) -> None:
    stack = make_stack(workers=1, env={"FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE": "false"})
    key = stack.cli("keys", "create", "--tenant", "stranger", "--admin").strip().splitlines()[-1]
    report = tmp_path / "report.json"
    done = subprocess.run(
        [SCHEMATHESIS, "run", f"{stack.url}/openapi.json", "--header", f"Authorization: Bearer {key}",
         "--checks", ",".join(CHECKS), "--phases", "examples,coverage,fuzzing", "--max-examples", "10",
         "--workers", "2", "--request-timeout", "40", "--seed", "10",
         "--exclude-name-regex", LEAVE_OUT, "--report", "json",
         "--report-json-path", str(report), "--output-truncate", "false"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=stack.env, cwd=tmp_path)  # its cache: there
    assert report.exists(), done.stdout[-6000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    failures = {f["code"] + " " + f["title"]: f["count"] for f in result["failures"]}
    print(f"\nschemathesis [{stack.profile}]: {result['test_cases']['generated']} requests over "
          f"{result['operations']['tested']} operations; failures by check: {failures or 'none'}")
    assert result["operations"]["tested"] > 30
    assert not result["errors"], f"{result['errors']}\n{done.stdout[-12000:]}"
    assert not result["failures"], done.stdout[-12000:]
    # /files/{key} takes no key: a signed URL is its credential, and an unsigned one is refused (403).
    refused = [name for name in result["warnings"].get("missing_auth", []) if name not in SIGNED_URLS]
    assert not refused, f"the key was not accepted: {refused}"
