"""infra/terraform parsed with python-hcl2.

Every file parses, and the ECS workers' target-tracking policy tracks the metric the workers publish, at the target
the scaling settings give.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from api.k8s import POD_SLOTS
from shared.settings import Settings
from worker.cloudwatch import DIMENSION, METRIC_NAME

TERRAFORM = Path(__file__).resolve().parent.parent / "infra" / "terraform"


def _plain(value: Any) -> Any:
    """python-hcl2's output without the quotes it keeps around keys and strings, nor its bookkeeping keys."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FLOORPLAN_* setting in this process's environment: Settings() gives the defaults."""
    import os

    for name in [n for n in os.environ if n.startswith("FLOORPLAN_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    """Every block of every .tf file, merged by block type."""
    merged: dict[str, list[Any]] = {}
    files = sorted(TERRAFORM.glob("*.tf"))
    assert len(files) >= 4
    for path in files:
        with path.open() as f:
            for kind, blocks in _plain(hcl2.load(f)).items():
                merged.setdefault(kind, []).extend(blocks)
    return merged


def _resource(tf: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    (found,) = [b[kind][name] for b in tf["resource"] if kind in b and name in b[kind]]
    return dict(found)


def _defaults(tf: dict[str, Any]) -> dict[str, Any]:
    return {name: body.get("default") for block in tf["variable"] for name, body in block.items()}


def test_policy_tracks_the_published_metric_at_the_rules_target(terraform: dict[str, Any], defaults: None) -> None:
    settings = Settings()  # the defaults (see the fixture): the committed files are rendered from them
    policy = _resource(terraform, "aws_appautoscaling_policy", "backlog")
    assert policy["policy_type"] == "TargetTrackingScaling"
    (config,) = policy["target_tracking_scaling_policy_configuration"]
    (metric,) = config["customized_metric_specification"]
    assert metric["metric_name"] == METRIC_NAME
    assert metric["namespace"] == "${var.cloudwatch_namespace}"
    assert [d["name"] for d in metric["dimensions"]] == [DIMENSION]
    assert metric["statistic"] == "Average"  # several workers publish the same value
    assert config["target_value"] == "${var.scale_backlog_per_worker[each.key] * var.ecs_worker_slots[each.key]}"
    assert config["scale_in_cooldown"] == "${var.scale_cooldown_s}"

    variables = _defaults(terraform)
    assert variables["cloudwatch_namespace"] == settings.cloudwatch_namespace
    assert variables["scale_backlog_per_worker"] == settings.scale_backlog_per_worker
    assert variables["ecs_worker_slots"] == POD_SLOTS  # the same task shape as the Kubernetes pods
    assert variables["scale_cooldown_s"] == settings.scale_cooldown_s
    assert variables["drain_s"] == settings.drain_s
    targets = {q: variables["scale_backlog_per_worker"][q] * variables["ecs_worker_slots"][q] for q in POD_SLOTS}
    assert targets == {"render-2d": 16, "render-3d": 4}


def test_worker_tasks_run_floorplan_worker_and_publish_the_metric(terraform: dict[str, Any]) -> None:
    (locals_,) = [b for b in terraform["locals"] if "ecs_env" in b]
    env = locals_["ecs_env"]
    assert env["FLOORPLAN_CLOUDWATCH_METRICS"] == "true"
    assert env["FLOORPLAN_CLOUDWATCH_NAMESPACE"] == "${var.cloudwatch_namespace}"
    assert env["FLOORPLAN_DRAIN_S"] == "${tostring(var.drain_s)}"
    task = _resource(terraform, "aws_ecs_task_definition", "worker")
    assert "floorplan-worker" in task["container_definitions"]
    permission = [b["aws_iam_policy_document"]["ecs_worker_metric"] for b in terraform["data"]
                  if "ecs_worker_metric" in b.get("aws_iam_policy_document", {})]
    (statement,) = permission[0]["statement"]
    assert statement["actions"] == ["cloudwatch:PutMetricData"]


def test_terraform_files_are_formatted_like_terraform_fmt() -> None:
    """The rules of `terraform fmt` we follow, checked here: no terraform binary comes from our registries.

    Two-space indents, no tabs or trailing blanks, and the `=` of consecutive one-line attributes aligned.
    """
    for path in TERRAFORM.glob("*.tf"):
        lines = path.read_text().split("\n")
        assert lines[-1] == "" and lines[-2] != "", f"{path.name}: one newline at the end"
        group: list[tuple[int, int]] = []
        for number, line in enumerate([*lines, ""], 1):
            assert "\t" not in line and line == line.rstrip(), f"{path.name}:{number}: tab or trailing blank"
            assert (len(line) - len(line.lstrip(" "))) % 2 == 0, f"{path.name}:{number}: odd indent"
            one_line = re.match(r"^( *)([A-Za-z0-9_\"-]+)( +)= (?!.*[{\[(]$)", line)
            if one_line and (not group or group[-1][0] == len(one_line.group(1))):
                group.append((len(one_line.group(1)), one_line.end(3)))
                continue
            assert len({end for _, end in group}) <= 1, f"{path.name}:{number - 1}: `=` not aligned in its group"
            group = [(len(one_line.group(1)), one_line.end(3))] if one_line else []
