"""Storage clients for S3Result and GCSResult: created once per store, reused, closed on time.

Creating an S3 or GCS client costs milliseconds to hundreds of milliseconds (service
models, connection pools, credential lookups), so no write creates its own. Each
operation takes its client from, in order:

1. the Result itself, while it is open (``async with S3Result(...) as result:``);
2. the flow run, when called inside one: every task writing to the same store shares one
   client, kept in the run's :class:`~asyncflow._core._resources.RunResources` and
   closed when the run ends, also when it is cancelled;
3. otherwise, a client opened for this one call and closed after it.

A store is identified by a :class:`Store` key: the kind of store, the endpoint, the region
and where the credentials come from (the SDK's default chain, a secret's name, or a digest
of explicit keys). A secret's value never appears in a key, a repr or a log line.

:func:`call_with_retries` is the one retry loop of both backends: bounded attempts,
exponential backoff with jitter, and a warning naming the failure (never the request).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import random
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import anyio

from .._core._context import current_flow_run
from .._core._exceptions import MissingExtraError
from .._serializers._pickle import PickleSerializer
from ._base import Result

T = TypeVar("T")

logger = logging.getLogger("asyncflow.results")

#: Objects larger than this are uploaded in parts (S3 multipart, GCS resumable).
DEFAULT_PART_THRESHOLD = 8 * 1024 * 1024
#: The size of each part; S3 needs at least 5 MiB, GCS a multiple of 256 KiB.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
#: Retries after the first attempt of each request, and the first backoff delay (s).
DEFAULT_RETRIES = 4
DEFAULT_RETRY_BACKOFF = 0.25
MAX_RETRY_DELAY = 10.0
#: Bound on closing a client while cancelled.
CLOSE_TIMEOUT = 10.0
#: Flat values up to this size are pickled on the event loop (a copy, well under 1 ms);
#: everything else is serialized in a worker thread so that the loop never stalls.
INLINE_SERIALIZE_LIMIT = 256 * 1024
_FLAT_TYPES = (bytes, bytearray, str)
_SCALAR_TYPES = (int, float, bool)


def import_extra(module: str, *, feature: str, extra: str, package: str) -> ModuleType:
    """Import an optional dependency, or raise MissingExtraError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(feature, extra, package) from None


async def serialize(result: Result, value: Any, location: str) -> bytes:
    """``result._serialize(value, location)``, in a worker thread unless it is trivial.

    A thread hop costs more than pickling a short bytes, str or number; any other value,
    or any other serializer, may take long and goes to a thread.
    """
    kind = type(value)
    if type(result.serializer) is PickleSerializer and (
        kind in _SCALAR_TYPES or (kind in _FLAT_TYPES and len(value) <= INLINE_SERIALIZE_LIMIT)
    ):
        return result._serialize(value, location)
    return await anyio.to_thread.run_sync(result._serialize, value, location)


def digest(*parts: object) -> str:
    """A short, one-way fingerprint of ``parts`` (for keys that involve secrets)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def safe_url(url: str | None) -> str:
    """``url`` without user info, query or fragment, fit for messages and logs."""
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class Store:
    """How to open a client for one store, and the key under which clients are shared."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable) -> None:
        #: Shared-client key: no secret values, only where credentials come from.
        self.key = key

    @property
    def label(self) -> str:
        """For log lines and errors: the kind of store and its endpoint."""
        raise NotImplementedError

    def open(self) -> AbstractAsyncContextManager[Any]:
        """An async context manager whose ``__aenter__`` returns a ready client."""
        raise NotImplementedError


@asynccontextmanager
async def _logged(store: Store, scope: str) -> AsyncIterator[Any]:
    """``store.open()``, logged, and closed shielded and bounded in time."""
    logger.debug("opening a client for %s (%s)", store.label, scope)
    stack = AsyncExitStack()
    client = await stack.enter_async_context(store.open())
    try:
        yield client
    finally:
        logger.debug("closing the client for %s (%s)", store.label, scope)
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
            await stack.aclose()


class ClientScope:
    """The client a Result opened with ``async with``, shared by the Result's copies.

    Never pickled: a Result sent to another process arrives closed.
    """

    __slots__ = ("_client", "_depth", "_stack")

    def __init__(self) -> None:
        self._client: Any = None
        self._depth = 0
        self._stack: AsyncExitStack | None = None

    def __reduce__(self) -> tuple[type[ClientScope], tuple[()]]:
        return (ClientScope, ())

    @property
    def client(self) -> Any:
        """The open client, or None."""
        return self._client

    async def enter(self, store: Store) -> None:
        """Open (or, inside a flow run, borrow the run's) client; nested entries share it."""
        if self._depth == 0:
            stack = AsyncExitStack()
            run = current_flow_run()
            if run is not None:
                client = await run.resources.get(store.key, lambda: _logged(store, "flow run"))
            else:
                client = await stack.enter_async_context(_logged(store, "async with"))
            self._client, self._stack = client, stack
        self._depth += 1

    async def exit(self) -> None:
        """Close the client when the outermost ``async with`` ends."""
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                await stack.aclose()


@asynccontextmanager
async def use_client(store: Store, scope: ClientScope) -> AsyncIterator[Any]:
    """The client for one operation: the open Result's, the run's, or one for this call."""
    client = scope.client
    if client is not None:
        yield client
        return
    run = current_flow_run()
    if run is not None:
        yield await run.resources.get(store.key, lambda: _logged(store, "flow run"))
        return
    async with _logged(store, "one call") as client:
        yield client


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter."""

    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_RETRY_BACKOFF
    max_delay: float = MAX_RETRY_DELAY

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.backoff * 2.0 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)


def check_retry_options(owner: str, retries: int, retry_backoff: float) -> RetryPolicy:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ValueError(f"{owner}: retries must be an int >= 0, got {retries!r}")
    if not isinstance(retry_backoff, (int, float)) or retry_backoff < 0:
        raise ValueError(f"{owner}: retry_backoff must be a number >= 0, got {retry_backoff!r}")
    return RetryPolicy(retries, float(retry_backoff))


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    transient: Callable[[BaseException], str | None],
    what: str,
) -> T:
    """``await call()``, retried while ``transient(exc)`` names a passing failure.

    ``transient`` returns a short reason ("SlowDown", "connection refused") for errors
    worth retrying and None for the others, which are raised at once. After the last
    attempt the error is raised as it is; the caller maps it.
    """
    attempt = 1
    while True:
        try:
            return await call()
        except Exception as exc:
            reason = transient(exc)
            if reason is None or attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt)
            logger.warning(
                "%s failed (%s); retrying in %.2fs (attempt %d of %d)",
                what,
                reason,
                delay,
                attempt + 1,
                policy.attempts,
            )
            await anyio.sleep(delay)
            attempt += 1
