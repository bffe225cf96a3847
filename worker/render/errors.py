"""The one error a renderer raises for a request it will not draw; its code goes back to the client."""

from __future__ import annotations


class RenderError(Exception):
    """A render refused for a reason the client can fix or should know about.

    Codes: `unsupported_view`, `unsupported_format`, `invalid_option` (e.g. a floor index the plan lacks),
    `too_large` (a canvas beyond the limits).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
