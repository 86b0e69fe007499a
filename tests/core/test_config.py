"""Configuration is layered and read at run time."""

from __future__ import annotations

from pathlib import Path

import pytest

import asyncflow
from asyncflow import Flow, context, task
from asyncflow._core._exceptions import ConfigError
from asyncflow.config import load_config


def test_defaults_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[flows]\ncheckpointing = false\n[engine]\nthread_limit = 7\n')
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(cfg))
    config = load_config()
    assert config.flows.checkpointing is False
    assert config.engine.thread_limit == 7
    monkeypatch.setenv("ASYNCFLOW__FLOWS__CHECKPOINTING", "true")
    monkeypatch.setenv("ASYNCFLOW__ENGINE__THREAD_LIMIT", "9")
    monkeypatch.setenv("ASYNCFLOW__CONTEXT__SECRETS__MY_KEY", '{"a": 1}')
    config = load_config()
    assert config.flows.checkpointing is True
    assert config.engine.thread_limit == 9
    assert config.context.secrets["MY_KEY"] == {"a": 1}


def test_module_attribute_reads_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCFLOW__FLOWS__CHECKPOINTING", "false")
    assert asyncflow.config.flows.checkpointing is False
    monkeypatch.setenv("ASYNCFLOW__FLOWS__CHECKPOINTING", "true")
    assert asyncflow.config.flows.checkpointing is True


def test_a_broken_config_file_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[flows\n")
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(cfg))
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config()


def test_runs_read_config_when_they_start(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []

    @task
    def look() -> None:
        seen.append(context.config.engine.thread_limit)

    with Flow("f") as flow:
        look()
    monkeypatch.setenv("ASYNCFLOW__ENGINE__THREAD_LIMIT", "3")
    flow.run_sync()
    monkeypatch.setenv("ASYNCFLOW__ENGINE__THREAD_LIMIT", "4")
    flow.run_sync()
    assert seen == [3, 4]
