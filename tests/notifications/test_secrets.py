"""Secret(name).get(): run context, then environment, then the configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncflow._core._context import FlowRunContext
from asyncflow._secrets import redact
from asyncflow.secrets import Secret, SecretNotFoundError, SecretStr

pytestmark = pytest.mark.anyio

ENV = "ASYNCFLOW__CONTEXT__SECRETS__"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration file holding the secret TOKEN."""
    path = tmp_path / "config.toml"
    path.write_text('[context.secrets]\nTOKEN = "from-file"\n')
    monkeypatch.setenv("ASYNCFLOW__USER_CONFIG_PATH", str(path))
    return path


async def test_the_run_context_comes_first(
    flow_run: FlowRunContext, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    flow_run.values["secrets"]["TOKEN"] = "from-run"
    monkeypatch.setenv(ENV + "TOKEN", "from-env")

    assert Secret("TOKEN").get() == "from-run"


def test_the_environment_comes_before_the_file(
    monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    secret = Secret("TOKEN")
    assert secret.get() == "from-file"

    monkeypatch.setenv(ENV + "TOKEN", "from-env")  # read at call time

    assert secret.get() == "from-env"


def test_values_are_json_decoded_when_they_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV + "CREDS", '{"user": "bot", "port": 25}')
    monkeypatch.setenv(ENV + "URL", "https://hooks.slack.com/services/T/B/X")

    assert Secret("CREDS").get() == {"user": "bot", "port": 25}
    assert Secret("URL").get() == "https://hooks.slack.com/services/T/B/X"


def test_get_text_does_not_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV + "PIN", "001234")

    assert Secret("PIN").get_text() == SecretStr("001234")  # not the number 1234


def test_a_missing_secret_says_how_to_set_it() -> None:
    with pytest.raises(SecretNotFoundError) as caught:
        Secret("SLACK_WEBHOOK_URL").get()

    message = str(caught.value)
    assert "ASYNCFLOW__CONTEXT__SECRETS__SLACK_WEBHOOK_URL" in message
    assert "[context.secrets]" in message
    assert isinstance(caught.value, KeyError)


def test_secret_str_never_shows_its_value() -> None:
    secret = SecretStr("hunter2")

    shown = [repr(secret), str(secret), f"{secret}", repr([secret]), repr(Secret("PW"))]

    assert all("hunter2" not in text for text in shown)
    assert secret.get_secret_value() == "hunter2"


def test_redact_masks_every_occurrence_longest_first() -> None:
    text = "token abc and abcdef"

    assert redact(text, "abc", SecretStr("abcdef"), None) == "token ********** and **********"
