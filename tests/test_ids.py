"""Ids sort by creation: lists are newest first by id, so ids made one after another must sort that way."""

from __future__ import annotations

import pytest

from shared import ids


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.ids.time.time", lambda: 1_800_000_000.0)
    made = [ids.new_id("pln") for _ in range(500)]
    assert made == sorted(made) and len(set(made)) == len(made)


def test_ids_still_sort_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([1_800_000_001.0, 1_800_000_000.5, 1_800_000_000.0, 1_800_000_002.0])
    monkeypatch.setattr("shared.ids.time.time", lambda: next(clock))
    made = [ids.new_id("rnd") for _ in range(4)]
    assert made == sorted(made)


def test_ids_are_a_prefix_and_26_crockford_characters() -> None:
    made = ids.new_id("whk")
    prefix, _, body = made.partition("_")
    assert prefix == "whk" and len(body) == 26 and set(body) <= set("0123456789abcdefghjkmnpqrstvwxyz")
