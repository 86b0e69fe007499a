"""set_temporary_config: configuration overrides for the length of a `with` block."""

from __future__ import annotations

import threading

import anyio
import pytest

import asyncflow
from asyncflow import ConfigError, Flow, task
from asyncflow.config import load_config, set_temporary_config
from asyncflow.secrets import Secret

pytestmark = pytest.mark.anyio


def test_dotted_keys_override_until_the_block_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCFLOW__ENGINE__THREAD_LIMIT", "9")
    with set_temporary_config({"engine.thread_limit": 3, "flows.checkpointing": False}) as cfg:
        assert cfg.engine.thread_limit == 3  # over the environment too
        assert asyncflow.config.engine.thread_limit == 3
        assert load_config().flows.checkpointing is False
        assert load_config().flows.max_concurrency == 0  # the rest of the section stays
    assert load_config().engine.thread_limit == 9
    assert load_config().flows.checkpointing is True


def test_the_config_is_restored_when_the_block_raises() -> None:
    with pytest.raises(KeyError), set_temporary_config({"logging.level": "DEBUG"}):
        assert load_config().logging.level == "DEBUG"
        raise KeyError("boom")
    assert load_config().logging.level == "INFO"


def test_blocks_nest_and_the_innermost_wins() -> None:
    with set_temporary_config({"engine.thread_limit": 2, "logging.level": "DEBUG"}):
        with set_temporary_config({"engine.thread_limit": 5}):
            assert load_config().engine.thread_limit == 5
            assert load_config().logging.level == "DEBUG"
        assert load_config().engine.thread_limit == 2
    assert load_config().engine.thread_limit == 40


def test_new_keys_and_whole_sections() -> None:
    with set_temporary_config({"my_app.region": "eu", "notifications": {"timeout": 1.5}}) as cfg:
        assert cfg.my_app.region == "eu"
        assert cfg.notifications.timeout == 1.5
        assert cfg.notifications.max_attempts == 4  # a section given whole is merged
    assert "my_app" not in load_config()


def test_a_run_inside_the_block_uses_the_overrides() -> None:
    @task
    def read_secret() -> str:
        return str(Secret("API_TOKEN").get())

    with Flow("f") as flow:
        token = read_secret()
    with set_temporary_config({"context.secrets.API_TOKEN": "s3cr3t"}):
        state = flow.run_sync()
    assert state.result[token].result == "s3cr3t"
    assert flow.run_sync().result[token].is_failed()


async def test_the_override_is_seen_by_the_block_only_not_by_other_tasks() -> None:
    seen: dict[str, int] = {}
    inside = anyio.Event()
    done = anyio.Event()

    async def elsewhere() -> None:
        await inside.wait()
        seen["elsewhere"] = load_config().engine.thread_limit
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(elsewhere)
        with set_temporary_config({"engine.thread_limit": 1}):
            inside.set()
            await done.wait()
            seen["inside"] = load_config().engine.thread_limit
    assert seen == {"elsewhere": 40, "inside": 1}


def test_another_thread_does_not_see_the_override() -> None:
    seen: list[int] = []
    with set_temporary_config({"engine.thread_limit": 1}):
        worker = threading.Thread(target=lambda: seen.append(load_config().engine.thread_limit))
        worker.start()
        worker.join()
    assert seen == [40]


@pytest.mark.parametrize(("values", "message"), [
    ({"flows.checkpionting": False}, r"no configuration key 'flows.checkpionting'; the keys "
                                     r"of 'flows' are \['checkpointing', 'max_concurrency'\]"),
    ({"flows.checkpointing.strict": True}, "which is a value"),
    ({"flows..checkpointing": True}, "is not a dotted name"),
    ({3: True}, "is not a dotted name"),
    (["flows.checkpointing"], "takes a mapping of dotted keys"),
])
def test_bad_keys_are_refused_before_anything_changes(values: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info, \
            set_temporary_config(values):  # type: ignore[arg-type]
        pass
    assert isinstance(info.value, ValueError)
    assert load_config().flows.checkpointing is True

