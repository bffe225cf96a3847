"""infra/prometheus's alert rules and infra/grafana's dashboard, checked with the real tools.

They are valid for promtool and the dashboard schema, each alert fires on the figures it is about, and every series
they name is one that /metrics really exports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "infra" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "infra" / "grafana" / "floorplan.json"
SCHEMA = Path(__file__).resolve().parent / "schemas" / "grafana-dashboard.schema.json"
ALERTS = {"FloorplanBacklogOld", "FloorplanFailureRate", "FloorplanDeadLetters", "FloorplanNoWorkers"}
SERIES = re.compile(r"\bfloorplan_[a-z0-9_]+")


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    assert path, "promtool is missing: `make promtool` installs Debian's prometheus package"
    return subprocess.run([path, *args], capture_output=True, text=True, cwd=cwd, check=False)


def _dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def _rule_queries() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_alert_rules_pass_promtool_and_fire_in_their_unit_tests() -> None:
    names = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert names >= ALERTS  # backlog age, failure rate, dead letters, no workers
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts_test.yml", cwd=RULES.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tested_alerts = set(re.findall(r"alertname: (\w+)", (RULES.parent / "alerts_test.yml").read_text()))
    assert tested_alerts >= ALERTS


def test_dashboard_matches_the_schema_and_its_queries_parse(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))
    jsonschema.validate(dashboard, json.loads(SCHEMA.read_text()))
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for subject in ("queue depth", "wait", "workers", "failures", "dead-letter"):
        assert subject in titles
    # promtool parses PromQL in rule files: the dashboard's queries as recording rules
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"floorplan:panel_{i}", "expr": expr} for i, expr in enumerate(_dashboard_queries())]}]}
    (tmp_path / "dashboard.rules.yml").write_text(yaml.safe_dump(rules))
    checked = promtool("check", "rules", str(tmp_path / "dashboard.rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # ... and a query that is not PromQL would fail that check
    (tmp_path / "bad.rules.yml").write_text(yaml.safe_dump(
        {"groups": [{"name": "bad", "rules": [{"record": "x:y", "expr": "max by (queue floorplan_queue_depth"}]}]}))
    assert promtool("check", "rules", str(tmp_path / "bad.rules.yml")).returncode != 0


def _exported(text: str) -> set[str]:
    """Every series name a scrape offers, also for families that have no sample yet (a labelled counter)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(s.name for s in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


@pytest.fixture
def autoscaled(make_stack: Callable[..., Stack]) -> Stack:
    """A service whose fleet autoscales, so that the scaling series are exported too."""
    return make_stack(serve_args=("--workers", "auto", "--max-workers", "1"))


def test_every_series_the_rules_and_dashboard_name_is_exported(autoscaled: Stack) -> None:
    response = httpx.get(f"{autoscaled.url}/metrics", timeout=10)
    assert response.status_code == 200
    exported = _exported(response.text)
    named = {name for query in [*_rule_queries(), *_dashboard_queries()] for name in SERIES.findall(query)}
    assert len(named) >= 10
    assert not named - exported, f"not exported by /metrics: {sorted(named - exported)}"
