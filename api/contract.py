"""What openapi.yaml adds to FastAPI's schema so that linters and client generators read it as the API behaves.

Bearer auth as a security scheme (public routes say `security: []`), a relative server, a licence, and request
schemas whose defaults are documented rather than declared: generators (openapi-typescript, openapi-python-client)
treat a `default` on a property of a referenced schema as "always present", which is true of answers only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

BEARER = "bearerAuth"
SERVERS = [{"url": "/", "description": "The server that serves this document."}]
LICENSE = {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}
REF_PREFIX = "#/components/schemas/"


def operation_id(route: APIRoute) -> str:
    """Name an operation after its handler (`submit_render`): generated clients name their calls by it."""
    return route.name


def finish(schema: dict[str, Any]) -> dict[str, Any]:
    """Publish the schema: security, servers, licence, and request schemas without declared defaults."""
    schema["info"]["license"] = LICENSE
    schema["servers"] = SERVERS
    schema["security"] = [{BEARER: []}]
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation.setdefault("security", [])  # no Bearer dependency: a public route
    components = schema["components"]["schemas"]
    for name in sorted(_request_schemas(schema)):
        _document_defaults(components[name])
    for operations in schema["paths"].values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _document_defaults(media.get("schema", {}))
    return schema


def _refs(node: Any) -> Iterator[str]:
    """Yield the component names a schema (or any part of a document) refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX):]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _request_schemas(schema: dict[str, Any]) -> set[str]:
    """Find every component a request body reaches, directly or through other components."""
    components = schema["components"]["schemas"]
    bodies = [op["requestBody"] for ops in schema["paths"].values() for op in ops.values() if "requestBody" in op]
    todo, seen = list(_refs(bodies)), set[str]()
    while todo:
        name = todo.pop()
        if name not in seen and name in components:
            seen.add(name)
            todo.extend(_refs(components[name]))
    return seen


def _document_defaults(node: Any) -> None:
    """Move each property's `default` into its description, and into `examples` for Swagger UI's "Try it out"."""
    if isinstance(node, list):
        for value in node:
            _document_defaults(value)
        return
    if not isinstance(node, dict):
        return
    for prop in (node.get("properties") or {}).values():
        if isinstance(prop, dict) and "default" in prop:
            default = prop.pop("default")
            if default is not None:
                prop.setdefault("examples", [default])
                said = f"Default: `{json.dumps(default)}`."
                prop["description"] = f"{prop['description']} {said}" if prop.get("description") else said
    for key, value in node.items():
        if key != "properties":
            _document_defaults(value)
        else:
            for prop in value.values():
                _document_defaults(prop)
