"""Where a request may ask to be told: webhook URLs the SSRF guard passes, e-mail when it is configured."""

from __future__ import annotations

from api.problems import invalid_request
from api.schemas import RenderRequest
from shared.notify import guard
from shared.settings import Settings


async def check_url(url: str, settings: Settings, path: str) -> None:
    """Refuse, with a 422 naming `path`, a URL the SSRF guard would never send to."""
    try:
        await guard.check(url, settings.webhooks_allow_private)
    except guard.Refused as exc:
        raise invalid_request(f"{path}: {exc}", [{"path": path, "message": str(exc)}]) from None


async def check_render_subscriptions(request: RenderRequest, settings: Settings) -> None:
    """What a render request asks to be told can be told: a webhook URL the guard passes, e-mail that is on."""
    if request.webhook is not None:
        await check_url(request.webhook.url, settings, "webhook.url")
    if request.notify_email is not None and not settings.smtp_host:
        raise invalid_request("notify_email: e-mail notifications are not configured here",
                              [{"path": "notify_email", "message": "e-mail notifications are not configured"}])
