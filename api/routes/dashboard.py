"""/dashboard: the operators' page (plain HTML, JS and CSS; its data comes from /v1/admin with an admin key)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.problems import not_found

router = APIRouter(include_in_schema=False)

PAGE_DIR = Path(__file__).resolve().parent.parent / "dashboard"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
# Everything the page loads comes from this server; result images come from signed storage URLs.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: http: https:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/dashboard")
async def dashboard() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/dashboard/{name}")
async def dashboard_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise not_found("file")
    return FileResponse(PAGE_DIR / name, media_type=ASSETS[name], headers=HEADERS)
