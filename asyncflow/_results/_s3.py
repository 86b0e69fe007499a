"""S3Result: task results stored as objects in Amazon S3 or an S3-compatible store.

Built on aiobotocore (the ``s3`` extra). Clients are shared as described in
:mod:`asyncflow._results._clients`; values over ``multipart_threshold`` are uploaded in
parts of ``part_size`` bytes, each part a view of the one serialized buffer (no copies),
and an upload that fails is aborted so that no orphaned parts are billed.

Credentials come from the AWS SDK's default chain (environment variables, profiles,
instance roles), from explicit keys in ``client_options``, or from a named secret
(``credentials_secret="AWS_CREDENTIALS"``) holding ``{"ACCESS_KEY": ...,
"SECRET_ACCESS_KEY": ..., "SESSION_TOKEN": ...}``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import anyio
from anyio.abc import TaskGroup
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
from ._location import Location, check_bucket, format_location
from ._s3_client import KEY_OPTIONS, S3Store, require_sdk

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["S3Result"]

T = TypeVar("T")

logger = logging.getLogger("asyncflow.results")

#: S3's smallest part (all parts but the last).
MIN_PART_SIZE = 5 * 1024 * 1024
#: Parts of one multipart upload sent at the same time.
PART_CONCURRENCY = 4
#: Bound on aborting a failed multipart upload (shielded from cancellation).
ABORT_TIMEOUT = 10.0

_CLIENT_OPTIONS = frozenset(
    {
        "region_name",
        "api_version",
        "use_ssl",
        "verify",
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "aws_account_id",
    }
)
_RESERVED_UPLOAD_OPTIONS = frozenset({"Bucket", "Key", "Body", "UploadId", "PartNumber"})
#: put_object options that create_multipart_upload does not take.
_NOT_FOR_MULTIPART = frozenset(
    {
        "ContentMD5",
        "ContentLength",
        "ChecksumCRC32",
        "ChecksumCRC32C",
        "ChecksumCRC64NVME",
        "ChecksumSHA1",
        "ChecksumSHA256",
        "IfMatch",
        "IfNoneMatch",
    }
)
#: SSE-C options: every request on the object (parts, reads, heads) must repeat them.
_SSE_C = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5")

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "403",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AllAccessDisabled",
        "AccountProblem",
        "InvalidSecurity",
    }
)
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequests",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    }
)
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class S3Result(Result):
    """A Result stored as an object in an S3 bucket.

    ``location`` is the object key (a template, a callable or None for
    ``YYYY/MM/DD/<uuid4>.asyncflow_result``). ``client_options`` are the keyword
    arguments of aiobotocore's ``create_client`` (``endpoint_url``, ``region_name``,
    ``config``, explicit keys...); ``upload_options`` are extra ``put_object`` arguments
    (``ServerSideEncryption``, ``StorageClass``, ``Metadata``...). Name a secret holding
    the keys with ``credentials_secret``. Values larger than ``multipart_threshold``
    bytes go up in parts of ``part_size`` bytes. Each request is retried ``retries``
    times on throttling and connection failures, backing off from ``retry_backoff``
    seconds.
    """

    __slots__ = (
        "_scope",
        "bucket",
        "client_options",
        "credentials_secret",
        "multipart_threshold",
        "part_size",
        "retries",
        "retry_backoff",
        "upload_options",
    )

    persists = True

    bucket: str
    client_options: dict[str, Any]
    upload_options: dict[str, Any]
    credentials_secret: str | None
    multipart_threshold: int
    part_size: int
    retries: int
    retry_backoff: float
    _scope: ClientScope

    def __init__(
        self,
        bucket: str,
        location: Location = None,
        serializer: Serializer | None = None,
        client_options: Mapping[str, Any] | None = None,
        upload_options: Mapping[str, Any] | None = None,
        *,
        credentials_secret: str | None = None,
        multipart_threshold: int = DEFAULT_PART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        retries: int = DEFAULT_RETRIES,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        value: Any = None,
    ) -> None:
        require_sdk()
        super().__init__(value=value, location=location, serializer=serializer)
        if not isinstance(bucket, str) or not bucket:
            raise ValueError(f"S3Result needs a bucket name, got {bucket!r}")
        check_bucket(bucket, owner="S3Result")
        options = dict(client_options or {})
        unknown = sorted(set(options) - _CLIENT_OPTIONS)
        if unknown:
            raise ValueError(
                f"S3Result: unknown client_options {unknown}; the options are those of "
                f"aiobotocore's create_client: {sorted(_CLIENT_OPTIONS)}"
            )
        uploads = dict(upload_options or {})
        reserved = sorted(set(uploads) & _RESERVED_UPLOAD_OPTIONS)
        if reserved:
            raise ValueError(
                f"S3Result: upload_options cannot set {reserved}; S3Result sets them itself "
                "(give the key as location=)"
            )
        if credentials_secret is not None and (
            not isinstance(credentials_secret, str) or not credentials_secret
        ):
            raise ValueError(
                f"S3Result: credentials_secret is the name of a secret, got {credentials_secret!r}"
            )
        if credentials_secret is not None and any(k in options for k in KEY_OPTIONS):
            raise ValueError(
                "S3Result: give either credentials_secret or keys in client_options, not both"
            )
        if not isinstance(part_size, int) or part_size < MIN_PART_SIZE:
            raise ValueError(
                f"S3Result: part_size must be at least {MIN_PART_SIZE} bytes (5 MiB, S3's "
                f"smallest part), got {part_size!r}"
            )
        if not isinstance(multipart_threshold, int) or multipart_threshold < 0:
            raise ValueError(
                f"S3Result: multipart_threshold must be an int >= 0, got {multipart_threshold!r}"
            )
        check_retry_options("S3Result", retries, retry_backoff)
        self.bucket = bucket
        self.client_options = options
        self.upload_options = uploads
        self.credentials_secret = credentials_secret
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.retries = retries
        self.retry_backoff = float(retry_backoff)
        self._scope = ClientScope()

    # ---- the Result interface ------------------------------------------------------
    def _format_location(self, location: str | Callable[..., str], kwargs: Any) -> str:
        """Fill in the object key; task inputs cannot make an empty, ``..`` or leading ``/`` part."""
        return format_location(
            location, kwargs, owner=self._owner(), within=f"the bucket {self.bucket!r}"
        )

    async def write(self, value: Any, **kwargs: Any) -> Self:
        """Serialize ``value`` and store it at the formatted location; a new S3Result."""
        new = self.format(**kwargs)
        key = _key(new.location)
        data = await serialize(new, value, key)
        async with use_client(self._store(), self._scope) as client:
            if len(data) > self.multipart_threshold:
                await self._put_multipart(client, key, data)
            else:
                await self._call(
                    lambda: client.put_object(
                        Bucket=self.bucket, Key=key, Body=data, **self.upload_options
                    ),
                    action="write",
                    key=key,
                )
        new.value = value
        return new

    async def read(self, location: str) -> Self:
        """A new S3Result whose value is read from the object at ``location``."""
        key = _key(location)
        sse = self._sse_c()

        async def fetch(client: S3Client) -> bytes:
            response = await client.get_object(Bucket=self.bucket, Key=key, **sse)
            async with response["Body"] as body:
                data: bytes = await body.read()
            return data

        async with use_client(self._store(), self._scope) as client:
            data = await self._call(lambda: fetch(client), action="read", key=key)
        new = self.copy()
        new.location = location
        new.value = await anyio.to_thread.run_sync(new._deserialize, data, location)
        return new

    async def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether an object is stored at ``location`` (formatted with ``kwargs``)."""
        if kwargs:
            location = self._format_location(location, kwargs)
        key = _key(location)
        sse = self._sse_c()
        async with use_client(self._store(), self._scope) as client:
            try:
                await self._call(
                    lambda: client.head_object(Bucket=self.bucket, Key=key, **sse),
                    action="check",
                    key=key,
                )
            except ResultNotFoundError:
                return False
        return True

    async def __aenter__(self) -> Self:
        """Open one client for the block (inside a flow run: borrow the run's)."""
        await self._scope.enter(self._store())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._scope.exit()

    # ---- requests ---------------------------------------------------------------------
    def _sse_c(self) -> dict[str, Any]:
        return {k: self.upload_options[k] for k in _SSE_C if k in self.upload_options}

    async def _call(self, request: Callable[[], Awaitable[T]], *, action: str, key: str) -> T:
        """One request, retried on passing failures, its errors mapped to asyncflow's."""
        policy = RetryPolicy(self.retries, self.retry_backoff)
        try:
            return await call_with_retries(
                request,
                policy=policy,
                transient=_transient,
                what=f"S3Result: {action} of s3://{self.bucket}/{key}",
            )
        except Exception as exc:
            mapped = self._map_error(exc, action=action, key=key, attempts=policy.attempts)
            if mapped is None:
                raise
        raise mapped from None

    async def _put_multipart(self, client: S3Client, key: str, data: bytes) -> None:
        extra = {k: v for k, v in self.upload_options.items() if k not in _NOT_FOR_MULTIPART}
        created = await self._call(
            lambda: client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra),
            action="write",
            key=key,
        )
        upload_id = created["UploadId"]
        view = memoryview(data)
        size = self.part_size
        bounds = [(start, min(start + size, len(view))) for start in range(0, len(view), size)]
        etags: list[str] = [""] * len(bounds)
        errors: list[BaseException] = []
        sse = self._sse_c()
        limiter = anyio.Semaphore(PART_CONCURRENCY)

        async def send(index: int, start: int, end: int, tg: TaskGroup) -> None:
            def request() -> Awaitable[Any]:
                part = cast("IO[bytes]", _ViewReader(view[start:end]))  # a fresh reader each try
                return client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=index + 1,
                    Body=part,
                    **sse,
                )

            async with limiter:
                try:
                    response = await self._call(request, action="write", key=key)
                except Exception as exc:
                    errors.append(exc)
                    tg.cancel_scope.cancel()
                    return
                etags[index] = response["ETag"]

        try:
            async with anyio.create_task_group() as tg:
                for index, (start, end) in enumerate(bounds):
                    tg.start_soon(send, index, start, end, tg)
            if errors:
                raise errors[0]
            parts = [{"ETag": etag, "PartNumber": i + 1} for i, etag in enumerate(etags)]
            await self._call(
                lambda: client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                ),
                action="write",
                key=key,
            )
        except BaseException:
            await self._abort(client, key, upload_id)
            raise

    async def _abort(self, client: S3Client, key: str, upload_id: str) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(ABORT_TIMEOUT):
            try:
                await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                return
            except Exception as exc:
                reason = type(exc).__name__
            logger.warning(
                "S3Result: could not abort the failed multipart upload of s3://%s/%s (%s); "
                "its parts stay stored until aborted: add a lifecycle rule that aborts "
                "incomplete multipart uploads",
                self.bucket,
                key,
                reason,
            )

    # ---- clients and errors ---------------------------------------------------------
    def _store(self) -> S3Store:
        return S3Store(self.client_options, self.credentials_secret)

    def _credentials_source(self) -> str:
        if self.credentials_secret is not None:
            return f"the secret {self.credentials_secret!r}"
        if "aws_access_key_id" in self.client_options:
            return "the keys in client_options"
        return "the AWS SDK's default chain (environment, profile, instance role)"

    def _map_error(
        self, exc: Exception, *, action: str, key: str, attempts: int
    ) -> ResultError | None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )

        where = f"s3://{self.bucket}/{key}"
        endpoint = safe_url(self.client_options.get("endpoint_url"))
        at = f" (endpoint {endpoint})" if endpoint else ""
        error_type: type[ResultError] = (
            ResultReadError if action in ("read", "check") else (ResultWriteError)
        )
        reason = _transient(exc)
        if reason is not None:
            return error_type(
                f"S3Result: could not {action} {where} after {attempts} attempts: the "
                f"store{at} kept failing ({reason}). Check that it is reachable, or give "
                "more retries= / retry_backoff="
            )
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", "")) or code
            if code == "NoSuchBucket":
                done = "written" if action == "write" else "read"
                return error_type(
                    f"S3Result: the bucket {self.bucket!r} does not exist{at}, so {where} "
                    f"cannot be {done}. Create the bucket or fix bucket= (and check the "
                    "region and endpoint_url)"
                )
            if code in _NOT_FOUND_CODES and action != "write":
                return ResultNotFoundError(
                    f"S3Result: no object at {where}{at}. Check the location, or write the "
                    "value first (exists() tells whether it is there)"
                )
            if code in _DENIED_CODES:
                return error_type(
                    f"S3Result: access denied to {where}{at} ({code}: {message}). The "
                    f"credentials from {self._credentials_source()} may not "
                    f"{_permission(action)}; grant it in the bucket or IAM policy, or use "
                    "other credentials"
                )
            return error_type(f"S3Result: could not {action} {where}{at}: {code}: {message}")
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return error_type(
                f"S3Result: no usable AWS credentials to {action} {where}. Set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile), pass the keys "
                "in client_options, or name a secret with credentials_secret="
            )
        if isinstance(exc, ParamValidationError):
            text = re.sub(r"value: .*?, type:", "value: <not shown>, type:", str(exc))
            return error_type(
                f"S3Result: the request to {action} {where} was refused before sending: "
                f"{text}. Check upload_options"
            )
        if isinstance(exc, BotoCoreError):
            return error_type(f"S3Result: could not {action} {where}{at}: {type(exc).__name__}")
        return None


def _permission(action: str) -> str:
    if action == "write":
        return "s3:PutObject"
    if action == "check":
        return "s3:GetObject (and s3:ListBucket to tell a missing object from a denied one)"
    return "s3:GetObject"


def _key(location: Any) -> str:
    if not isinstance(location, str) or not location:
        raise ValueError(f"S3Result: an object key must be a non-empty str, got {location!r}")
    return location


def _transient(exc: BaseException) -> str | None:
    """A short reason when ``exc`` is worth retrying (throttling, 5xx, connection loss)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError as SDKConnectionError,
        HTTPClientError,
        ResponseStreamingError,
    )

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _TRANSIENT_CODES:
            return code
        if status in _TRANSIENT_STATUS:
            return f"HTTP {status}" + (f" {code}" if code and code != str(status) else "")
        return None
    if isinstance(exc, (HTTPClientError, SDKConnectionError, ResponseStreamingError)):
        return type(exc).__name__
    import aiohttp

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


class _ViewReader(io.RawIOBase):
    """A read-only, seekable file over a memoryview: one part sent without a copy."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._view)

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._view) - self._pos)
        target[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count

    def read(self, size: int | None = -1) -> bytes:
        end = (
            len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        )
        chunk = bytes(self._view[self._pos : end])
        self._pos = end
        return chunk

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos
