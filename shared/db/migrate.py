"""Bring the schema up to date with Alembic (both SQLite and MySQL/MariaDB)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration for our migrations, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade() -> None:
    """Run in a thread or a plain process: env.py drives its own event loop."""
    command.upgrade(alembic_config(), "head")
