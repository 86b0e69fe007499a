"""HTTP for notifiers: the channel that POSTs JSON to a webhook, one request at a time.

Every HTTP channel of an event loop shares one ``aiohttp.ClientSession`` (from the
loop's :class:`~asyncflow._notify._sender.Hub`), opened with the first request and
closed once no sender and no run needs it. The paced sender decides what to do with
each answer, which :func:`outcome_of` classifies:

- 2xx: delivered.
- 429: slow down, after ``Retry-After`` (not a failure).
- 5xx, connection errors and timeouts: retried with backoff.
- 403, 404, 410: the webhook is gone; everything queued for it fails.
- any other status (400, 3xx...): this message fails.

The URL is a secret (a Slack webhook URL is its own credential): it never appears in
an error message, a log line or an exception's context.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .._core._exceptions import MissingExtraError, NotificationError
from .._secrets import SecretStr, redact
from ._sender import Alert, Outcome, Verdict, current_hub
from ._settings import NotificationSettings

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

USER_AGENT = "asyncflow-notifier"
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


GONE = frozenset({401, 403, 404, 410})


def outcome_of(answer: _Answer, service: str) -> Outcome:
    """What the paced sender should make of ``answer``."""
    description = answer.outcome(service)
    status = answer.status
    if answer.delivered:
        verdict = Verdict.DELIVERED
    elif status == 429:
        return Outcome(
            Verdict.SLOW_DOWN, description, status, answer.body,
            wait=_retry_after_seconds(answer.retry_after),
        )
    elif status is None or status >= 500:
        verdict = Verdict.RETRY
    else:
        verdict = Verdict.FAILED
    return Outcome(verdict, description, status, answer.body, receiver_gone=status in GONE)


Digest = Callable[[Sequence[Alert], NotificationSettings], bytes]


class HttpChannel:
    """A JSON endpoint reached through the loop's shared session (see the docstring)."""

    def __init__(
        self,
        *,
        kind: str,
        service: str,
        url: SecretStr,
        headers: Mapping[str, str] | None = None,
        also_secret: tuple[str, ...] = (),
        interval: Callable[[NotificationSettings], float] | None = None,
        digest: Digest | None = None,
    ) -> None:
        self.kind = kind
        self.service = service
        self.endpoint = target(url, service)
        self.secrets = self.endpoint.secret_forms + also_secret
        self.headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        self._interval = interval
        self._digest = digest
        self.batches = digest is not None

    def interval(self, settings: NotificationSettings) -> float:
        return self._interval(settings) if self._interval is not None else 0.0

    async def send(self, alerts: Sequence[Alert], settings: NotificationSettings) -> Outcome:
        if len(alerts) == 1 or self._digest is None:
            body: bytes = alerts[0].message
        else:
            body = self._digest(alerts, settings)
        session = current_hub().session(lambda: _new_session(settings))
        answer = await _post_once(
            session, self.endpoint.url, body, self.headers, settings, self.secrets
        )
        return outcome_of(answer, self.service)

    def __repr__(self) -> str:
        return f"HttpChannel({self.service})"  # never the URL


def encode_json(payload: Any, what: str) -> bytes:
    """``payload`` as UTF-8 JSON, or a NotificationError saying what produced it."""
    try:
        return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise NotificationError(
            f"{what} returned a payload that is not JSON: {exc}; return dicts, lists, "
            "strings, numbers, booleans and None only"
        ) from exc
