"""The stored form of a batch of transitions: what is packed comes back, damage is told."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from asyncflow import Flow, history as history_api, task
from asyncflow._core._states import Failed, Pending, Running, Success
from asyncflow._history._errors import HistoryError
from asyncflow._history._packing import Transition, pack, unpack
from asyncflow.history import Recorder

pytestmark = pytest.mark.anyio


def _packed(**overrides: object) -> str:
    columns: dict[str, object] = {
        "at": [1.5, 2.25, 1e9 + 0.123456],
        "task": [0, -1, 70_000],
        "map_index": [None, 3, 2**40],
        "old": [Pending, Running, Running],
        "new": [Running, Success, Failed],
        "message": ["Starting task run.", None, "bad\n\"input\" é"],
        "run_count": [1, 1, 300],
        "extra": [(2, "id-2", "/tmp/x.pkl", None, "Traceback ...")],
    }
    columns.update(overrides)
    return pack(**columns)  # type: ignore[arg-type]


def test_every_column_comes_back_as_packed() -> None:
    assert unpack(10, 3, _packed()) == [
        Transition(10, 0, None, 1.5, "Pending", "Running", "Starting task run.", 1,
                   None, None, None, None),
        Transition(11, None, 3, 2.25, "Running", "Success", None, 1, None, None, None, None),
        Transition(12, 70_000, 2**40, 1e9 + 0.123456, "Running", "Failed",
                   "bad\n\"input\" é", 300, "id-2", "/tmp/x.pkl", None, "Traceback ..."),
    ]


def test_a_batch_without_map_indexes_leaves_the_column_out() -> None:
    data = _packed(map_index=[None, None, None])
    assert "map_index" not in json.loads(data)
    assert [t.map_index for t in unpack(1, 3, data)] == [None, None, None]


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("at"),
    lambda d: d.update(task=[1, "AA=="]),  # one value for three transitions
    lambda d: d.update(states=["Pending"]),
    lambda d: d.update(extra=[[0, "too short"]]),
    lambda d: d.update(run_count=[9, "not base64!"]),
])
def test_a_damaged_batch_is_reported_not_half_read(damage: object) -> None:
    document = json.loads(_packed())
    damage(document)  # type: ignore[operator]
    with pytest.raises(HistoryError, match="from number 5\\) is damaged"):
        unpack(5, 3, json.dumps(document))
    with pytest.raises(HistoryError, match="is damaged"):
        unpack(5, 4, _packed())  # more transitions than the columns hold


@task
async def step(x: int) -> int:
    return x


async def test_a_run_with_a_damaged_batch_still_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    with Flow("two") as flow:
        step(1)
        step(2)
    await flow.run(history=url)
    conn = sqlite3.connect(tmp_path / "history.db")
    try:
        (rows,) = conn.execute("SELECT COUNT(*) FROM transition_batches").fetchone()
        assert rows >= 1
        conn.execute("UPDATE transition_batches SET data = 'not json'")
        conn.commit()
    finally:
        conn.close()
    with caplog.at_level(logging.WARNING, logger="asyncflow.history"):
        run = await history_api.get_run(1, url=url)
    assert run.run.state == "Success"  # the flow run's own row is intact
    assert run.task_runs == ()  # what the damaged batches held is left out, and said
    assert "is damaged" in caplog.text


async def test_transitions_after_a_number_skip_nothing_when_a_batch_is_damaged(
    tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    with Flow("three") as flow:
        step(1)
        step(2)
        step(3)
    await flow.run(history=Recorder(url, batch_size=2))  # 8 transitions, 2 per batch at most
    conn = sqlite3.connect(tmp_path / "history.db")
    try:
        counts = [n for (n,) in conn.execute(
            "SELECT transition_count FROM transition_batches ORDER BY first_seq")]
        conn.execute("UPDATE transition_batches SET data = 'not json' WHERE first_seq = 1")
        conn.commit()
    finally:
        conn.close()
    assert sum(counts) == 8 and max(counts) <= 2
    lost = counts[0]
    async with history_api.connect(url) as db:
        assert [t.id for t in await db.transitions(1)] == list(range(lost + 1, 9))
        assert [t.id for t in await db.transitions(1, after=5)] == [6, 7, 8]
