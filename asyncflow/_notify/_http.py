"""HTTP for notifiers: one shared aiohttp session per flow run, and a retrying JSON POST.

Inside a flow run every notifier uses the same ``aiohttp.ClientSession``, created on the
first notification and closed when the run ends (through the run's
:class:`~asyncflow._core._resources.RunResources`). Outside a run, a session is opened
for the one call and closed after it.

:func:`post_json` retries the way webhook receivers such as Slack expect:

- 2xx: delivered.
- 429: wait for ``Retry-After`` (at most ``notifications.max_retry_after`` seconds, else
  give up at once), then try again.
- 5xx, connection errors and timeouts: exponential backoff, up to
  ``notifications.max_attempts`` attempts in all.
- any other status (400, 403, 404, 410, ...): not retried.

A final failure raises :class:`NotificationDeliveryError` naming the status and the
receiver's short answer (Slack's ``invalid_payload``, ``channel_not_found``...). The URL
is a secret (a Slack webhook URL is its own credential): it never appears in an error
message, a log line or an exception's context.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import functools
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

import anyio

from .._core._context import current_flow_run
from .._core._exceptions import MissingExtraError, NotificationError
from .._secrets import SecretStr, redact
from ._notifier import NotificationDeliveryError, NotificationSettings

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

logger = logging.getLogger("asyncflow.notifications")

SESSION_KEY = ("asyncflow.notifications", "aiohttp.ClientSession")
USER_AGENT = "asyncflow-notifier"
MAX_BACKOFF = 30.0
MAX_CONNECTIONS = 200
_BODY_READ_LIMIT = 64 * 1024
_BODY_SHOWN = 120


def _aiohttp() -> Any:
    try:
        return import_module("aiohttp")
    except ImportError:
        raise MissingExtraError("HTTP notifiers", "notify", "aiohttp") from None


def _new_session(settings: NotificationSettings) -> aiohttp.ClientSession:
    http = _aiohttp()
    session: aiohttp.ClientSession = http.ClientSession(
        timeout=http.ClientTimeout(total=settings.timeout),
        connector=http.TCPConnector(limit=MAX_CONNECTIONS),
        headers={"User-Agent": USER_AGENT},
    )
    return session


@asynccontextmanager
async def http_session(settings: NotificationSettings) -> AsyncIterator[aiohttp.ClientSession]:
    """The run's shared session, or inside no run a session for this block only."""
    run = current_flow_run()
    if run is not None:
        yield await run.resources.get(SESSION_KEY, lambda: _new_session(settings))
        return
    async with _new_session(settings) as session:
        yield session


@dataclass(frozen=True)
class Target:
    """A parsed endpoint, and every form in which it could leak into a message."""

    url: URL
    secret_forms: tuple[str, ...]


def target(url: SecretStr, service: str) -> Target:
    """``url`` parsed (cached); an error that does not show it when it is not usable."""
    found = _parse(url.get_secret_value())
    if isinstance(found, str):
        raise NotificationError(
            f"the {service} URL is not usable: {found} (the URL is a secret and is not "
            "shown; check the value you passed or the secret it comes from)"
        )
    return found


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> Target | str:
    _aiohttp()
    yarl = import_module("yarl")  # installed with aiohttp
    try:
        parsed: URL = yarl.URL(text)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return "it is not an absolute http(s) URL"
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except (ValueError, TypeError):
        return "it cannot be parsed"
    forms = [text, str(parsed), parsed.human_repr(), parsed.raw_path_qs, parsed.path_qs]
    if parsed.password:
        forms.append(parsed.password)
    if parsed.raw_path not in ("", "/"):
        forms.append(parsed.raw_path)
    return Target(parsed, tuple(dict.fromkeys(forms)))


@dataclass(frozen=True)
class _Answer:
    status: int | None  # None: no HTTP answer (connection error or timeout)
    body: str | None
    retry_after: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def outcome(self, service: str) -> str:
        """``Slack webhook answered 404 channel_not_found``, or what went wrong instead."""
        if self.status is None:
            return f"{service} could not be reached: {self.body or 'no answer'}"
        answer = f"{self.status} {self.body}" if self.body else str(self.status)
        return f"{service} answered {answer}"


def _short_body(raw: bytes, secrets: tuple[str, ...]) -> str | None:
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    line = text.splitlines()[0]
    if len(line) > _BODY_SHOWN:
        line = line[: _BODY_SHOWN - 1] + "…"
    return redact(line, *secrets)


async def _post_once(
    session: aiohttp.ClientSession,
    url: URL,
    body: bytes,
    headers: Mapping[str, str],
    settings: NotificationSettings,
    secrets: tuple[str, ...],
) -> _Answer:
    http = _aiohttp()
    timeout = settings.timeout
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            timeout=http.ClientTimeout(total=timeout),
            allow_redirects=False,  # never carry the payload somewhere else
        ) as response:
            raw = await response.content.read(_BODY_READ_LIMIT)
            return _Answer(
                response.status, _short_body(raw, secrets), response.headers.get("Retry-After")
            )
    except asyncio.TimeoutError:
        return _Answer(None, f"no answer within {timeout:g}s")
    except http.ClientError as exc:
        # Only a redacted description leaves this function: aiohttp's errors can hold the
        # URL, and returning (not raising) keeps them out of any exception's context.
        text = redact(str(exc), *secrets)
        return _Answer(None, f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    remaining = when - datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, float(remaining.total_seconds()))


def _backoff(attempt: int, settings: NotificationSettings) -> float:
    delay = min(MAX_BACKOFF, settings.backoff * 2.0 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)  # spread retries of many tasks apart


async def post_json(
    url: SecretStr,
    body: bytes,
    *,
    service: str,
    headers: Mapping[str, str] | None = None,
    also_secret: tuple[str, ...] = (),
) -> None:
    """POST ``body`` (JSON text) to ``url``, retrying as the module docstring describes.

    ``also_secret``: more texts (header tokens) to keep out of messages, besides the URL.
    """
    settings = NotificationSettings.current()
    endpoint = target(url, service)
    secrets = endpoint.secret_forms + also_secret
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    attempts = settings.max_attempts
    answer = _Answer(None, None)
    attempt = 0
    reason = ""
    async with http_session(settings) as session:
        while attempt < attempts:
            attempt += 1
            answer = await _post_once(
                session, endpoint.url, body, all_headers, settings, secrets
            )
            if answer.delivered:
                return
            if answer.status == 429:
                delay = _retry_after_seconds(answer.retry_after)
                if delay is None:
                    delay = _backoff(attempt, settings)
                elif delay > settings.max_retry_after:
                    reason = (
                        f"; it asked to retry after {delay:g}s, more than "
                        f"notifications.max_retry_after ({settings.max_retry_after:g}s)"
                    )
                    break
            elif answer.status is None or answer.status >= 500:
                delay = _backoff(attempt, settings)
            else:
                break  # other 4xx (and 3xx): the request itself is wrong, do not retry
            if attempt == attempts:
                break
            logger.warning(
                "%s; retrying in %.2fs (attempt %d of %d)",
                answer.outcome(service), delay, attempt + 1, attempts,
            )
            await anyio.sleep(delay)
    tries = f" (gave up after {attempt} attempts)" if attempt > 1 else ""
    raise NotificationDeliveryError(
        f"{answer.outcome(service)}{reason}{tries}",
        status=answer.status,
        body=answer.body,
        attempts=attempt,
    )


def encode_json(payload: Any, what: str) -> bytes:
    """``payload`` as UTF-8 JSON, or a NotificationError saying what produced it."""
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise NotificationError(
            f"{what} returned a payload that is not JSON: {exc}; return dicts, lists, "
            "strings, numbers, booleans and None only"
        ) from exc
