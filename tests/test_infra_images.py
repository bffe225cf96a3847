"""The two images: Dockerfiles clean under hadolint, and a worker image with no API code in it.

The pinned requirements.lock that both install from still covers pyproject.toml's dependencies.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCKERFILES = ("Dockerfile.api", "Dockerfile.worker")


def test_dockerfiles_pass_hadolint() -> None:
    out = subprocess.run([str(BIN / "hadolint"), "--config", str(ROOT / ".hadolint.yaml"), "--no-color",
                          *(str(ROOT / f) for f in DOCKERFILES)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def _lock() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(m.group(1)): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE)}


def test_lock_pins_every_dependency_within_its_range() -> None:
    pins = _lock()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    stale = []
    for dep in map(Requirement, deps):
        name = canonicalize_name(dep.name)
        if name not in pins or not dep.specifier.contains(pins[name], prereleases=True):
            stale.append(f"{dep} (locked: {pins.get(name)})")
    assert not stale, f"requirements.lock is behind pyproject.toml, run `make lock`: {stale}"


def test_lock_pins_with_hashes_for_both_images() -> None:
    text = (ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    for name in DOCKERFILES:
        dockerfile = (ROOT / name).read_text()
        assert "COPY requirements.lock" in dockerfile
        assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile


def test_worker_image_copies_no_api_and_runs_floorplan_worker() -> None:
    dockerfile = (ROOT / "Dockerfile.worker").read_text()
    copies = re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.MULTILINE)
    assert "api" not in copies and "worker" in copies and "shared" in copies
    assert 'CMD ["floorplan-worker", "run"' in dockerfile
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["floorplan-worker"] == "worker.cli:main"


def test_worker_runs_from_worker_and_shared_alone(tmp_path: Path) -> None:
    """What the worker image holds (worker/ and shared/, no api/) imports every module and renders a plan."""
    for package in ("worker", "shared"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    probe = (
        "import importlib, pkgutil, sys\n"
        "assert importlib.util.find_spec('api') is None or sys.exit('api/ is importable')\n"
        "import worker, shared\n"
        "for pkg in (worker, shared):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' not in m.name and not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "from worker.cli import main\n"
        "sys.exit(main(['render', sys.argv[1], '--view', '2d', '-o', sys.argv[2]]))\n"
    )
    # -I keeps the repository off the path, and the editable install's finder goes: only the copy is there
    setup = ("import sys\n"
             "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')]\n"
             f"sys.path.insert(0, {str(tmp_path)!r})\n")
    out = subprocess.run([sys.executable, "-I", "-c", setup + probe,
                          str(ROOT / "examples" / "flat-2b.json"), str(tmp_path / "out.png")],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
