"""Plans and their versions: the one place that reads and writes the `plans` and `plan_versions` tables.

Every version is kept: a render draws the version it was asked for, even after the plan changed or was
deleted (deletion is soft for that reason).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import PlanRow, PlanVersion
from shared.ids import new_id
from shared.plan import Plan


async def create(session: AsyncSession, tenant: str, plan: Plan, now: datetime) -> PlanRow:
    """Store a new plan at version 1."""
    row = PlanRow(id=new_id("pln"), tenant=tenant, name=plan.name, version=1, created_at=now, updated_at=now)
    session.add(row)
    session.add(PlanVersion(plan_id=row.id, version=1, body=plan.model_dump_json(), created_at=now))
    return row


async def get(session: AsyncSession, tenant: str, plan_id: str, *, for_update: bool = False) -> PlanRow | None:
    """The tenant's plan (None if it has none of that id, or deleted it)."""
    row = await session.get(PlanRow, plan_id, with_for_update=for_update or None)
    if row is None or row.tenant != tenant or row.deleted_at is not None:
        return None
    return row


async def body_text(session: AsyncSession, plan_id: str, version: int) -> str | None:
    """The stored JSON of one version of a plan."""
    return await session.scalar(
        sa.select(PlanVersion.body).where(PlanVersion.plan_id == plan_id, PlanVersion.version == version))


async def body(session: AsyncSession, row: PlanRow) -> Plan:
    """The current version of a plan, parsed."""
    text = await body_text(session, row.id, row.version)
    assert text is not None, f"plan {row.id} has no version {row.version}"
    return Plan.model_validate_json(text)


async def replace(session: AsyncSession, row: PlanRow, plan: Plan, now: datetime) -> None:
    """Store `plan` as the next version of `row` (locked by the caller)."""
    row.version += 1
    row.name, row.updated_at = plan.name, now
    session.add(PlanVersion(plan_id=row.id, version=row.version, body=plan.model_dump_json(), created_at=now))


def delete(row: PlanRow, now: datetime) -> None:
    """Soft-delete: renders already accepted still draw the version they were asked for."""
    row.deleted_at = now


async def page(session: AsyncSession, tenant: str, after: str | None, limit: int) -> list[PlanRow]:
    """Up to `limit` + 1 of the tenant's plans, newest first, after the id `after` (the extra says: more)."""
    query = sa.select(PlanRow).where(PlanRow.tenant == tenant, PlanRow.deleted_at.is_(None))
    if after:
        query = query.where(PlanRow.id < after)
    return list((await session.execute(query.order_by(PlanRow.id.desc()).limit(limit + 1))).scalars())


async def name(session: AsyncSession, plan_id: str) -> str | None:
    """A plan's name, deleted or not (for notifications)."""
    return await session.scalar(sa.select(PlanRow.name).where(PlanRow.id == plan_id))
