"""The README's settings table, rendered from the Settings class, so that each setting is described once."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic.fields import FieldInfo

from shared.settings import Settings

START = "<!-- settings table: `floorplan settings-table -o README.md` writes it from shared/settings.py -->"
END = "<!-- end of the settings table -->"
HEADER = "| variable | default | |\n|---|---|---|"
# Read by the AWS SDK, not by Settings; a row all the same, since a deployment sets them beside ours.
AWS_ROW = "| `AWS_ENDPOINT_URL`, `AWS_DEFAULT_REGION`, ... | | the standard AWS variables; a moto_server or real " \
          "AWS is configuration |"


def shown_default(field: FieldInfo) -> str:
    """A field's default as the table shows it: `(empty)` for an empty string, `(computed)` for a factory."""
    if field.default_factory is not None:
        return "(computed)"
    value = field.default
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Path) and not value.is_absolute():
        text = f"./{value}"  # as written in Settings: Path drops the "./"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"))
    else:
        text = str(value)
    return f"`{text}`"


def render() -> str:
    """The table: one row per setting, in the order Settings declares them, then the AWS variables."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = [f"| `{prefix}{name.upper()}` | {shown_default(field)} | {field.description or ''} |"
            for name, field in Settings.model_fields.items()]
    return "\n".join([HEADER, *rows, AWS_ROW])


def current(readme: str) -> str:
    """The table between the README's markers, as it stands."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip("\n")


def rewrite(path: Path) -> None:
    """Put a fresh table between the markers of the README at `path`."""
    readme = path.read_text()
    start, end = readme.index(START) + len(START), readme.index(END)
    path.write_text(f"{readme[:start]}\n{render()}\n{readme[end:]}")
