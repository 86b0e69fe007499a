"""GCSResult: task results stored as objects in Google Cloud Storage.

Built on gcloud-aio-storage (the ``gcs`` extra). Clients are shared as described in
:mod:`asyncflow._results._clients`: one aiohttp session per store, its connections
capped by ``max_connections``. Values over ``resumable_threshold`` go up as a resumable
upload in chunks of ``chunk_size`` bytes, each a view of the one serialized buffer; a
chunk that fails is resumed from the last byte the server acknowledged.

Credentials: Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, the
gcloud CLI's login, the metadata server), a service-account file (``service_file=``) or
a named secret holding the service-account JSON (``credentials_secret="GCP_CREDENTIALS"``).
Emulators: ``api_root="http://127.0.0.1:9023"`` or the ``STORAGE_EMULATOR_HOST``
environment variable; an emulator is used without credentials unless some are given.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio
from typing_extensions import Self

from .._core._exceptions import (
    ResultError,
    ResultNotFoundError,
    ResultReadError,
    ResultWriteError,
)
from .._serializers._base import Serializer
from ._base import Result
from ._clients import (
    DEFAULT_PART_SIZE,
    DEFAULT_PART_THRESHOLD,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    ClientScope,
    RetryPolicy,
    call_with_retries,
    check_retry_options,
    safe_url,
    serialize,
    use_client,
)
from ._gcs_client import (
    GCS_API_ROOT,
    GCSClient,
    GCSStore,
    check_api_root,
    object_metadata,
    require_sdk,
)
from ._location import Location, check_bucket, format_location

__all__ = ["GCSResult"]

T = TypeVar("T")

logger = logging.getLogger("asyncflow.results")

#: Resumable chunks must be multiples of this (except the last).
CHUNK_MULTIPLE = 256 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CANCEL_TIMEOUT = 10.0

_UPLOAD_OPTIONS = frozenset({"content_type", "metadata", "parameters"})
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class GCSResult(Result):
    """A Result stored as an object in a Google Cloud Storage bucket.

    ``location`` is the object name (a template, a callable or None for
    ``YYYY/MM/DD/<uuid4>.asyncflow_result``). ``api_root`` points at an emulator or
    another endpoint (default: ``STORAGE_EMULATOR_HOST``, else Google's API).
    ``service_file`` is a service-account JSON file; ``credentials_secret`` names a
    secret holding that JSON. ``upload_options`` may set ``content_type``, custom
    ``metadata`` (a dict) and query ``parameters`` (``{"ifGenerationMatch": "0"}``,
    ``{"kmsKeyName": ...}``). Values larger than ``resumable_threshold`` bytes go up in
    ``chunk_size`` chunks. ``max_connections`` caps the connections of the shared
    session (default 100, or 8 for an emulator); ``timeout`` bounds each request in
    seconds. Requests are retried ``retries`` times on throttling, 5xx answers and
    connection failures, backing off from ``retry_backoff`` seconds.
    """

    __slots__ = (
        "_scope",
        "api_root",
        "bucket",
        "chunk_size",
        "credentials_secret",
        "max_connections",
        "resumable_threshold",
        "retries",
        "retry_backoff",
        "service_file",
        "timeout",
        "upload_options",
    )

    persists = True

    bucket: str
    api_root: str | None
    service_file: str | None
    credentials_secret: str | None
    upload_options: dict[str, Any]
    resumable_threshold: int
    chunk_size: int
    max_connections: int | None
    timeout: int
    retries: int
    retry_backoff: float
    _scope: ClientScope

    def __init__(
        self,
        bucket: str,
        location: Location = None,
        serializer: Serializer | None = None,
        *,
        api_root: str | None = None,
        service_file: str | os.PathLike[str] | None = None,
        credentials_secret: str | None = None,
        upload_options: Mapping[str, Any] | None = None,
        resumable_threshold: int = DEFAULT_PART_THRESHOLD,
        chunk_size: int = DEFAULT_PART_SIZE,
        max_connections: int | None = None,
        timeout: int = 60,
        retries: int = DEFAULT_RETRIES,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        value: Any = None,
    ) -> None:
        require_sdk()
        super().__init__(value=value, location=location, serializer=serializer)
        if not isinstance(bucket, str) or not bucket:
            raise ValueError(f"GCSResult needs a bucket name, got {bucket!r}")
        if bucket.startswith("gs://"):
            raise ValueError(
                f"GCSResult: give the bucket name without gs:// (bucket={bucket[5:]!r})"
            )
        check_bucket(bucket, owner="GCSResult")
        if api_root is not None:
            api_root = check_api_root(api_root, "api_root")
        if service_file is not None and credentials_secret is not None:
            raise ValueError("GCSResult: give either service_file or credentials_secret, not both")
        if credentials_secret is not None and (
            not isinstance(credentials_secret, str) or not credentials_secret
        ):
            raise ValueError(
                f"GCSResult: credentials_secret is the name of a secret, got {credentials_secret!r}"
            )
        uploads = dict(upload_options or {})
        unknown = sorted(set(uploads) - _UPLOAD_OPTIONS)
        if unknown:
            raise ValueError(
                f"GCSResult: unknown upload_options {unknown}; use {sorted(_UPLOAD_OPTIONS)}"
            )
        if not isinstance(chunk_size, int) or chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
            raise ValueError(
                f"GCSResult: chunk_size must be a positive multiple of {CHUNK_MULTIPLE} bytes "
                f"(256 KiB), got {chunk_size!r}"
            )
        if not isinstance(resumable_threshold, int) or resumable_threshold < 0:
            raise ValueError(
                f"GCSResult: resumable_threshold must be an int >= 0, got {resumable_threshold!r}"
            )
        if max_connections is not None and (
            not isinstance(max_connections, int) or max_connections < 1
        ):
            raise ValueError(
                f"GCSResult: max_connections must be an int >= 1, got {max_connections!r}"
            )
        if not isinstance(timeout, int) or timeout <= 0:
            raise ValueError(
                f"GCSResult: timeout is a whole number of seconds > 0, got {timeout!r}"
            )
        check_retry_options("GCSResult", retries, retry_backoff)
        self.bucket = bucket
        self.api_root = api_root
        self.service_file = None if service_file is None else os.fspath(service_file)
        self.credentials_secret = credentials_secret
        self.upload_options = uploads
        self.resumable_threshold = resumable_threshold
        self.chunk_size = chunk_size
        self.max_connections = max_connections
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = float(retry_backoff)
        self._scope = ClientScope()

    # ---- the Result interface ------------------------------------------------------
    def _format_location(self, location: str | Callable[..., str], kwargs: Any) -> str:
        """Fill in the object name; task inputs cannot make an empty, ``..`` or leading ``/`` part."""
        return format_location(
            location, kwargs, owner=self._owner(), within=f"the bucket {self.bucket!r}"
        )

    async def write(self, value: Any, **kwargs: Any) -> Self:
        """Serialize ``value`` and store it at the formatted location; a new GCSResult."""
        new = self.format(**kwargs)
        name = _name(new.location)
        data = await serialize(new, value, name)
        async with use_client(self._store(), self._scope) as client:
            if data and len(data) > self.resumable_threshold:
                await self._upload_resumable(client, name, data)
            else:
                await self._call(
                    lambda: self._upload_simple(client, name, data), action="write", name=name
                )
        new.value = value
        return new

    async def read(self, location: str) -> Self:
        """A new GCSResult whose value is read from the object at ``location``."""
        name = _name(location)
        async with use_client(self._store(), self._scope) as client:
            try:
                data: bytes = await self._call(
                    lambda: client.storage.download(self.bucket, name, timeout=self.timeout),
                    action="read",
                    name=name,
                )
            except ResultNotFoundError:
                await self._check_bucket(client, name)
                raise
        new = self.copy()
        new.location = location
        new.value = await anyio.to_thread.run_sync(new._deserialize, data, location)
        return new

    async def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether an object is stored at ``location`` (formatted with ``kwargs``)."""
        if kwargs:
            location = self._format_location(location, kwargs)
        name = _name(location)
        async with use_client(self._store(), self._scope) as client:
            try:
                await self._call(
                    lambda: client.storage.download_metadata(
                        self.bucket, name, timeout=self.timeout
                    ),
                    action="check",
                    name=name,
                )
            except ResultNotFoundError:
                return False
        return True

    async def __aenter__(self) -> Self:
        """Open one session for the block (inside a flow run: borrow the run's)."""
        await self._scope.enter(self._store())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._scope.exit()

    # ---- requests ---------------------------------------------------------------------
    def _content_type(self) -> str:
        return str(self.upload_options.get("content_type") or DEFAULT_CONTENT_TYPE)

    async def _upload_simple(self, client: GCSClient, name: str, data: bytes) -> Any:
        return await client.storage.upload(
            self.bucket,
            name,
            data,
            content_type=self._content_type(),
            parameters=dict(self.upload_options.get("parameters") or {}),
            metadata=object_metadata(self.upload_options) or None,
            force_resumable_upload=False,
            timeout=self.timeout,
        )

    async def _upload_resumable(self, client: GCSClient, name: str, data: bytes) -> None:
        """A resumable upload in chunks; a failed chunk resumes where the server stopped."""
        total = len(data)
        content_type = self._content_type()
        session_uri: str = await self._call(
            lambda: client.start_resumable(
                self.bucket, name, total, content_type, self.upload_options, self.timeout
            ),
            action="write",
            name=name,
        )
        view = memoryview(data)
        offset, done, unsure = 0, False, False

        async def step() -> None:
            nonlocal offset, done, unsure
            if unsure:  # after a failure: ask how much the server kept
                committed = await client.resumable_status(session_uri, total, self.timeout)
                unsure = False
                if committed is None:
                    done = True
                    return
                offset = committed
            end = min(offset + self.chunk_size, total)
            try:
                committed = await client.put_chunk(
                    session_uri, view[offset:end], offset, total, self.timeout
                )
            except BaseException:
                unsure = True
                raise
            if committed is None:
                done = True
            else:
                offset = committed

        try:
            while not done:
                await self._call(step, action="write", name=name)
        except BaseException:
            with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_TIMEOUT):
                await client.cancel_resumable(session_uri)
            raise

    async def _check_bucket(self, client: GCSClient, name: str) -> None:
        """After a 404 on read: raise a clear error when the bucket itself is missing."""
        try:
            await client.storage.get_bucket_metadata(self.bucket, timeout=self.timeout)
        except Exception as exc:
            if _status(exc) == 404:
                raise self._missing_bucket("read", name) from None

    async def _call(self, request: Callable[[], Awaitable[T]], *, action: str, name: str) -> T:
        """One request, retried on passing failures, its errors mapped to asyncflow's."""
        policy = RetryPolicy(self.retries, self.retry_backoff)
        try:
            return await call_with_retries(
                request,
                policy=policy,
                transient=_transient,
                what=f"GCSResult: {action} of gs://{self.bucket}/{name}",
            )
        except Exception as exc:
            mapped = self._map_error(exc, action=action, name=name, attempts=policy.attempts)
            if mapped is None:
                raise
        raise mapped from None

    # ---- clients and errors ---------------------------------------------------------
    def _store(self) -> GCSStore:
        return GCSStore(
            self.api_root, self.service_file, self.credentials_secret, self.max_connections
        )

    def _credentials_source(self) -> str:
        if self.credentials_secret is not None:
            return f"the secret {self.credentials_secret!r}"
        if self.service_file is not None:
            return "the service_file"
        return "Application Default Credentials"

    def _missing_bucket(self, action: str, name: str) -> ResultError:
        error_type = ResultWriteError if action == "write" else ResultReadError
        done = "written" if action == "write" else "read"
        return error_type(
            f"GCSResult: the bucket {self.bucket!r} does not exist{self._at()}, so "
            f"gs://{self.bucket}/{name} cannot be {done}. Create the bucket or fix bucket="
        )

    def _at(self) -> str:
        endpoint = safe_url(self._store().api_root)
        return "" if endpoint == GCS_API_ROOT else f" (endpoint {endpoint})"

    def _map_error(
        self, exc: Exception, *, action: str, name: str, attempts: int
    ) -> ResultError | None:
        where = f"gs://{self.bucket}/{name}"
        error_type: type[ResultError] = (
            ResultReadError if action in ("read", "check") else (ResultWriteError)
        )
        reason = _transient(exc)
        if reason is not None:
            return error_type(
                f"GCSResult: could not {action} {where} after {attempts} attempts: the "
                f"store{self._at()} kept failing ({reason}). Check that it is reachable, or "
                "give more retries= / retry_backoff="
            )
        status = _status(exc)
        if status is None:
            return None
        message = _google_message(exc)
        if status == 404:
            if action == "write":
                return self._missing_bucket(action, name)
            return ResultNotFoundError(
                f"GCSResult: no object at {where}{self._at()}. Check the location, or write "
                "the value first (exists() tells whether it is there)"
            )
        if status in (401, 403):
            return error_type(
                f"GCSResult: access denied to {where}{self._at()} (HTTP {status}: {message}). "
                f"The credentials from {self._credentials_source()} may not "
                f"{_permission(action)}; grant it on the bucket, or use other credentials"
            )
        return error_type(
            f"GCSResult: could not {action} {where}{self._at()}: HTTP {status}: {message}"
        )


def _permission(action: str) -> str:
    return "storage.objects.create" if action == "write" else "storage.objects.get"


def _name(location: Any) -> str:
    if not isinstance(location, str) or not location:
        raise ValueError(f"GCSResult: an object name must be a non-empty str, got {location!r}")
    return location


def _status(exc: BaseException) -> int | None:
    import aiohttp

    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status
    return None


def _google_message(exc: BaseException) -> str:
    """Google's error message from a response error, without the request URL."""
    import aiohttp

    if not isinstance(exc, aiohttp.ClientResponseError):
        return type(exc).__name__
    reason, _, body = str(exc.message).partition(": ")
    try:
        text = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        text = body.strip()
    text = re.sub(r"https?://\S+", "<url>", str(text))[:300]
    return text or reason or "no message"


def _transient(exc: BaseException) -> str | None:
    """A short reason when ``exc`` is worth retrying (throttling, 5xx, connection loss)."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}" if exc.status in _TRANSIENT_STATUS else None
    if isinstance(
        exc,
        (
            aiohttp.ClientConnectionError,
            aiohttp.ClientPayloadError,
            asyncio.TimeoutError,
            ConnectionError,
        ),
    ):
        return type(exc).__name__
    return None
