"""/files: downloads of locally stored results through URLs the API signed (embedded storage only)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ServicesDep
from api.problems import forbidden, not_found
from api.schemas import problem
from shared.storage.disposition import content_disposition
from shared.storage.local import LocalStorage

router = APIRouter(tags=["files"])

mimetypes.add_type("image/webp", ".webp")


@router.get("/files/{key:path}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/svg+xml": {}, "application/pdf": {},
                                         "image/jpeg": {}, "image/webp": {}}},
                       403: problem("The signature is wrong or has expired."),
                       404: problem("No such file."),
                       422: problem("`expires` or `sig` is missing or malformed.")})
async def download(key: str, services: ServicesDep, expires: Annotated[int, Query()],
                   sig: Annotated[str, Query(max_length=128)],
                   filename: Annotated[str | None, Query(max_length=255)] = None) -> Response:
    storage = services.storage
    if not isinstance(storage, LocalStorage):
        raise not_found("file", detail="results are served by the object store")
    if not storage.verify(key, expires, sig, filename):
        raise forbidden("the link is invalid or has expired", slug="bad-signature")
    try:
        data = await storage.get(key)
    except (KeyError, ValueError):
        raise not_found("file") from None
    headers = {"Cache-Control": "private, max-age=300"}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(data, media_type=content_type, headers=headers)
