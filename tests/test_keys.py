"""API keys have a lifecycle: they expire, are revoked (every API process refuses them within 2 s), rotate.

Only hashes are stored; a list shows a key's first characters, never the key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.services import free_port
from tests.stack import Stack

REVOCATION_BAR_S = 2.0


def _tenant() -> str:
    return f"k-{uuid.uuid4().hex[:10]}"


def _create(stack: Stack, tenant: str, *args: str) -> str:
    return stack.cli("keys", "create", "--tenant", tenant, *args).strip().splitlines()[-1]


def _listed(stack: Stack, tenant: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stack.cli("keys", "list", "--tenant", tenant).splitlines()]


def _status(url: str, key: str) -> int:
    return httpx.get(f"{url}/v1/queues", headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code


def _refused_within(url: str, key: str, seconds: float) -> bool:
    """Whether the key is answered 401 before `seconds` have passed (the bar the issue sets)."""
    deadline = time.monotonic() + seconds
    while True:
        if _status(url, key) == 401:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@contextmanager
def _second_api_process(stack: Stack) -> Iterator[str]:
    """One more `floorplan api` process on the stack's database, as a replica would be."""
    port = free_port()
    stack._spawn("api-2", "api", "--port", str(port), "--api-processes", "1")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, stack.log("api-2")
            time.sleep(0.1)
        yield url
    finally:
        stack.stop_process("api-2")


def test_a_revoked_key_is_refused_by_every_api_process_within_two_seconds(stack: Stack) -> None:
    tenant = _tenant()
    key = _create(stack, tenant)
    with _second_api_process(stack) as second:
        for url in (stack.url, second, stack.url, second):  # both processes have it cached now
            assert _status(url, key) == 200
        (listed,) = _listed(stack, tenant)
        revoked = json.loads(stack.cli("keys", "revoke", str(listed["id"])))
        assert revoked["revoked_at"] and revoked["active"] is False
        assert _refused_within(stack.url, key, REVOCATION_BAR_S)
        assert _refused_within(second, key, REVOCATION_BAR_S)


def test_an_admin_revokes_over_the_api_and_the_other_process_follows(stack: Stack) -> None:
    admin = _create(stack, _tenant(), "--admin")
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as client, \
            _second_api_process(stack) as second:
        created = client.post("/v1/admin/keys", json={"tenant": _tenant()})
        assert created.status_code == 201, created.text
        key, key_id = created.json()["key"], created.json()["id"]
        assert _status(second, key) == 200
        revoked = client.delete(f"/v1/admin/keys/{key_id}")
        assert revoked.status_code == 200 and revoked.json()["active"] is False
        assert _status(stack.url, key) == 401  # the process that revoked it forgets it at once
        assert _refused_within(second, key, REVOCATION_BAR_S)
        assert client.delete("/v1/admin/keys/999999999").status_code == 404


def test_a_key_with_an_expiry_works_until_it_passes(stack: Stack) -> None:
    tenant = _tenant()
    key = _create(stack, tenant, "--expires-in", "15s")  # long enough for the commands in between, if slow
    (listed,) = _listed(stack, tenant)
    assert listed["expires_at"] and listed["active"] is True
    assert _status(stack.url, key) == 200
    assert _refused_within(stack.url, key, 60)
    (listed,) = _listed(stack, tenant)
    assert listed["active"] is False and listed["revoked_at"] is None


def test_a_rotated_key_works_for_the_overlap_then_stops(stack: Stack) -> None:
    tenant = _tenant()
    old = _create(stack, tenant)
    rotated = httpx.post(f"{stack.url}/v1/keys/rotate", json={"overlap_s": 10},
                         headers={"Authorization": f"Bearer {old}"}, timeout=30)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["key"]
    assert rotated.json()["tenant"] == tenant and rotated.json()["previous"]["expires_at"]
    assert _status(stack.url, new) == 200
    assert _status(stack.url, old) == 200  # within the overlap, both work
    assert _refused_within(stack.url, old, 30)
    assert _status(stack.url, new) == 200
    assert {k["active"] for k in _listed(stack, tenant)} == {True, False}


def test_a_rotation_without_overlap_stops_the_old_key_at_once(stack: Stack) -> None:
    old = _create(stack, _tenant())
    rotated = httpx.post(f"{stack.url}/v1/keys/rotate", json={"overlap_s": 0},
                         headers={"Authorization": f"Bearer {old}"}, timeout=30)
    assert rotated.status_code == 201, rotated.text
    assert _status(stack.url, old) == 401
    assert _status(stack.url, rotated.json()["key"]) == 200


def test_keys_are_listed_by_prefix_never_in_full_and_revoked_by_the_key_itself(stack: Stack) -> None:
    tenant = _tenant()
    key = _create(stack, tenant, "--admin")
    (listed,) = _listed(stack, tenant)
    assert listed["admin"] is True and key.startswith(str(listed["prefix"])) and key not in json.dumps(listed)
    over_api = httpx.get(f"{stack.url}/v1/admin/keys", params={"tenant": tenant},
                         headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert over_api.status_code == 200 and [k["id"] for k in over_api.json()["items"]] == [listed["id"]]
    assert key not in over_api.text
    stack.cli("keys", "revoke", key)
    assert _refused_within(stack.url, key, REVOCATION_BAR_S)


def test_key_commands_refuse_what_they_cannot_do(stack: Stack) -> None:
    tenant = _tenant()
    for bad in ("30", "3w", "0d"):
        try:
            stack.cli("keys", "create", "--tenant", tenant, "--expires-in", bad)
        except RuntimeError as exc:
            assert "--expires-in" in str(exc)
        else:
            raise AssertionError(f"--expires-in {bad} was taken")
    try:
        stack.cli("keys", "revoke", "fp_no_such_key")
    except RuntimeError as exc:
        assert "no API key" in str(exc)
    else:
        raise AssertionError("revoking an unknown key succeeded")


def test_only_admins_manage_keys(stack: Stack) -> None:
    with stack.client(_tenant()) as client:
        assert client.get("/v1/admin/keys").status_code == 403
        assert client.post("/v1/admin/keys", json={"tenant": "x"}).status_code == 403
        assert client.delete("/v1/admin/keys/1").status_code == 403
