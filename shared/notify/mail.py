"""The notification e-mail: its text (the plan, the state, the expiring result link) and sending it over SMTP."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from shared.notify.deliveries import Outcome
from shared.settings import Settings

STATE_WORDS = {"succeeded": "is ready", "failed": "failed", "canceled": "was canceled",
               "running": "has started", "queued": "is queued"}


def message(settings: Settings, *, to: str, msg_id: str, plan_name: str, data: dict[str, Any]) -> EmailMessage:
    """The e-mail for a render as GET /v1/renders/{id} shows it (`data`)."""
    state = str(data["state"])
    lines = [f"Your render {data['id']} of the plan \"{plan_name}\" (version {data['plan_version']}, "
             f"{data['view']} {data['format']}, {data['width']}x{data['height']}) {STATE_WORDS.get(state, state)}.",
             "", f"State: {state}"]
    result, error = data.get("result"), data.get("error")
    if result:
        lines += ["", f"Download ({result['content_type']}, {result['bytes']} bytes):", result["url"], "",
                  f"This link expires at {_when(result['expires_at'])}. For a fresh one, GET "
                  f"/v1/renders/{data['id']}/result with your API key."]
    if error:
        lines += ["", f"Error: {error['code']}: {error['message']}"]
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = to
    mail["Subject"] = f"Render of \"{plan_name}\" {STATE_WORDS.get(state, state)}"
    mail["Date"] = format_datetime(datetime.now(UTC))
    # The delivery id names the message on every attempt, so a mail client can drop a duplicate.
    domain = settings.smtp_from.rpartition("@")[2] or "floorplan"
    mail["Message-ID"] = f"<{msg_id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Floorplan-Render"] = str(data["id"])
    mail.set_content("\n".join(lines) + "\n")
    return mail


def _when(value: Any) -> str:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def send(settings: Settings, mail: EmailMessage) -> Outcome:
    """Hand the message to the configured SMTP server; a 5xx refusal is permanent, anything else is retried."""
    try:
        await aiosmtplib.send(
            mail, hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user or None,
            password=settings.smtp_password or None, use_tls=settings.smtp_tls == "tls",
            start_tls=True if settings.smtp_tls == "starttls" else (False if settings.smtp_tls == "tls" else None),
            timeout=settings.notify_timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        return Outcome(ok=False, status_code=codes[0] if codes else None, error=f"SMTP: {exc}"[:1000],
                       permanent=all(c >= 500 for c in codes))
    except aiosmtplib.SMTPResponseException as exc:
        return Outcome(ok=False, status_code=exc.code, error=f"SMTP {exc.code}: {exc.message}"[:1000],
                       permanent=exc.code >= 500)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Outcome(ok=False, error=f"SMTP: {type(exc).__name__}: {exc}"[:1000])
    return Outcome(ok=True, status_code=250)
