"""The README's settings table is the one the Settings class renders, as openapi.yaml is the app's own spec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api import settings_table
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FLOORPLAN = str(Path(sys.executable).parent / "floorplan")


def test_the_readme_settings_table_is_rendered_from_the_settings_class() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table.current(readme) == settings_table.render(), (
        "README.md's settings table is stale: run `floorplan settings-table -o README.md`")


def test_every_setting_has_a_row_with_its_variable_default_and_description() -> None:
    rows = settings_table.render().splitlines()[2:]
    for name, field in Settings.model_fields.items():
        (row,) = [r for r in rows if r.startswith(f"| `FLOORPLAN_{name.upper()}` |")]
        assert field.description and row.endswith(f"| {field.description} |"), name
    assert "| `FLOORPLAN_DATA_DIR` | `./var` |" in rows[0] and "| `FLOORPLAN_LEASE_S` | `30` |" in "\n".join(rows)


def test_the_command_rewrites_a_stale_table_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{settings_table.START}\n| old | table |\n{settings_table.END}\n\nAfter.\n")
    environment = {**os.environ, "FLOORPLAN_MAX_ATTEMPTS": "7"}  # the environment does not leak into the defaults
    subprocess.run([FLOORPLAN, "settings-table", "-o", str(readme)], check=True, env=environment, cwd=tmp_path,
                   timeout=60)
    text = readme.read_text()
    assert settings_table.current(text) == settings_table.render()
    assert text.startswith("# Title\n\n") and text.endswith(f"{settings_table.END}\n\nAfter.\n")
    assert "| old | table |" not in text
