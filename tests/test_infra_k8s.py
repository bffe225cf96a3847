"""infra/k8s as a cluster would take it, rendered by kustomize.

Core objects are valid for Kubernetes, KEDA objects valid for KEDA's CRDs, and the scaling files exactly what
`floorplan k8s-manifests` renders from the settings.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.scaling import rules
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "infra" / "k8s"
BIN = Path(sys.executable).parent
CRDS = Path(__file__).resolve().parent / "schemas" / "keda-2.20.1"
KUBERNETES_VERSION = "1.33.0"
DEPLOY_ENV = {  # what `terraform output -raw k8s_deploy_env` writes, with made-up values
    "AWS_REGION": "eu-west-1", "PUBLIC_URL": "https://renders.example.com", "S3_BUCKET": "fp-results",
    "S3_PREFIX": "renders/", "SQS_QUEUE_PREFIX": "fp", "QUEUE_MAX_RECEIVES": "10",
    "QUEUE_URL_RENDER_2D": "https://sqs.eu-west-1.amazonaws.com/123456789012/fp-render-2d",
    "QUEUE_URL_RENDER_3D": "https://sqs.eu-west-1.amazonaws.com/123456789012/fp-render-3d",
    "API_ROLE_ARN": "arn:aws:iam::123456789012:role/fp-api",
    "WORKER_ROLE_ARN": "arn:aws:iam::123456789012:role/fp-worker",
    "MIGRATE_ROLE_ARN": "arn:aws:iam::123456789012:role/fp-migrate",
}


def _clean_env() -> dict[str, str]:
    """This environment without FLOORPLAN_* settings: the manifests are rendered from the defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FLOORPLAN_")}


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FLOORPLAN_* setting in this process's environment: Settings() gives the defaults."""
    import os

    for name in [n for n in os.environ if n.startswith("FLOORPLAN_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """`kubectl kustomize infra/k8s` with a deploy.env, as documents."""
    folder = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, folder)
    (folder / "deploy.env").write_text("".join(f"{k}={v}\n" for k, v in DEPLOY_ENV.items()))
    out = subprocess.run([str(BIN / "kubectl"), "kustomize", str(folder)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_committed_scaling_manifests_are_a_fresh_render(tmp_path: Path) -> None:
    out = subprocess.run([str(BIN / "floorplan"), "k8s-manifests", "-o", str(tmp_path)], capture_output=True,
                         text=True, env=_clean_env(), check=False)
    assert out.returncode == 0, out.stderr
    for name in ("keda.yaml", "worker-scaling.yaml"):
        assert (tmp_path / name).read_text() == (K8S / name).read_text(), \
            f"infra/k8s/{name} is stale: run `floorplan k8s-manifests` (with no FLOORPLAN_* set) and commit it"


def test_a_setting_changes_the_render(tmp_path: Path) -> None:
    env = {**_clean_env(), "FLOORPLAN_DRAIN_S": "50", "FLOORPLAN_SCALE_BACKLOG_PER_WORKER": '{"render-2d": 7}'}
    out = subprocess.run([str(BIN / "floorplan"), "k8s-manifests", "-o", str(tmp_path)], capture_output=True,
                         text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    keda = _by_kind(list(yaml.safe_load_all((tmp_path / "keda.yaml").read_text())), "ScaledObject")
    assert keda["floorplan-worker-2d"]["spec"]["triggers"][0]["metadata"]["queueLength"] == str(7 * 4)
    patch = list(yaml.safe_load_all((tmp_path / "worker-scaling.yaml").read_text()))
    assert {d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] for d in patch} == {55}


def test_core_objects_are_valid_kubernetes(rendered: list[dict[str, Any]]) -> None:
    core = [d for d in rendered if not d["apiVersion"].startswith("keda.sh/")]
    assert {d["kind"] for d in core} >= {"Deployment", "Service", "ConfigMap", "Job", "HorizontalPodAutoscaler"}
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def _strict(schema: Any) -> Any:
    """The CRD's schema as the API server's strict field validation reads it: an unknown field is an error."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    return [_strict(v) for v in schema] if isinstance(schema, list) else schema


def _crd_schema(name: str, version: str) -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / name).read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = _strict(served["schema"]["openAPIV3Schema"])
    return schema


def test_keda_objects_match_keda_crds(rendered: list[dict[str, Any]]) -> None:
    schemas = {"ScaledObject": _crd_schema("keda.sh_scaledobjects.yaml", "v1alpha1"),
               "TriggerAuthentication": _crd_schema("keda.sh_triggerauthentications.yaml", "v1alpha1")}
    keda = [d for d in rendered if d["apiVersion"].startswith("keda.sh/")]
    assert sorted(d["kind"] for d in keda) == ["ScaledObject", "ScaledObject", "TriggerAuthentication"]
    for doc in keda:
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        jsonschema.validate(doc, schemas[doc["kind"]])
    # the schemas catch a wrong type and a misspelt field
    good = _by_kind(keda, "ScaledObject")["floorplan-worker-2d"]
    for spec in ({**good["spec"], "minReplicaCount": "one"}, {**good["spec"], "maxReplicas": 3}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "spec": spec}, schemas["ScaledObject"])


def test_keda_and_grace_periods_follow_the_scaling_rule(rendered: list[dict[str, Any]], defaults: None) -> None:
    settings = Settings()  # the defaults (see the fixture): the committed files are rendered from them
    scaled = _by_kind(rendered, "ScaledObject")
    deployments = _by_kind(rendered, "Deployment")
    for rule in rules(settings):
        name = f"floorplan-worker-{rule.queue.removeprefix('render-')}"
        spec, pod = scaled[name]["spec"], deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        slots = int(container["args"][container["args"].index("--concurrency") + 1])
        assert container["args"][:2] == ["floorplan-worker", "run"]
        assert container["args"][container["args"].index("--queues") + 1] == rule.queue
        trigger = spec["triggers"][0]["metadata"]
        assert int(trigger["queueLength"]) == rule.backlog_per_worker * slots
        assert trigger["queueURL"] == DEPLOY_ENV[f"QUEUE_URL_{rule.queue.upper().replace('-', '_')}"]
        assert spec["minReplicaCount"] == rule.min_workers
        assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
            "stabilizationWindowSeconds"] == math.ceil(rule.cooldown_s)
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert float(env["FLOORPLAN_DRAIN_S"]) == settings.drain_s
        assert settings.drain_s < pod["terminationGracePeriodSeconds"] <= 30  # Kubernetes' default, as the issue says
        assert "replicas" not in deployments[name]["spec"]  # KEDA owns the count
