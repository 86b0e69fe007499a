"""GCS clients for GCSResult: one store per endpoint, credentials and connection cap, each
a gcloud-aio Storage on its own aiohttp session, plus the resumable-upload calls that
gcloud-aio does not make.

A store is what :mod:`asyncflow._results._clients` shares clients by. An emulator
(``api_root=`` or ``STORAGE_EMULATOR_HOST``, without credentials) takes no token.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .._core._exceptions import ConfigError, ResultWriteError
from ._clients import Store, import_extra, safe_url

logger = logging.getLogger("asyncflow.results")

GCS_API_ROOT = "https://storage.googleapis.com"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
#: Connection caps: Google's API takes many; emulators are often single-threaded.
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_EMULATOR_CONNECTIONS = 8


def object_metadata(options: Mapping[str, Any]) -> dict[str, Any]:
    custom = options.get("metadata")
    return {"metadata": dict(custom)} if custom else {}


def check_api_root(url: str, what: str) -> str:
    if not isinstance(url, str) or not url:
        raise ValueError(f"GCSResult: {what} must be a URL such as http://127.0.0.1:9023")
    if "://" not in url:
        url = f"http://{url}"
    return url.rstrip("/")


def require_sdk() -> Any:
    import_extra("aiohttp", feature="GCSResult", extra="gcs", package="gcloud-aio-storage")
    return import_extra(
        "gcloud.aio.storage", feature="GCSResult", extra="gcs", package="gcloud-aio-storage"
    )


class GCSClient:
    """A gcloud-aio Storage on a shared aiohttp session, plus the resumable-upload calls."""

    __slots__ = ("api_root", "dev", "http", "storage")

    def __init__(self, storage: Any, http: Any, api_root: str, dev: bool) -> None:
        self.storage = storage
        self.http = http
        self.api_root = api_root
        self.dev = dev

    async def _headers(self) -> dict[str, str]:
        if self.dev:
            return {}
        token = await self.storage.token.get()
        return {"Authorization": f"Bearer {token}"}

    async def _checked(self, response: Any) -> Any:
        import aiohttp

        if response.status >= 400:
            body = await response.text(errors="replace")
            response.release()
            raise aiohttp.ClientResponseError(
                response.request_info,
                response.history,
                status=response.status,
                message=f"{response.reason}: {body}",
                headers=response.headers,
            )
        return response

    async def start_resumable(
        self,
        bucket: str,
        name: str,
        total: int,
        content_type: str,
        options: Mapping[str, Any],
        request_timeout: int,
    ) -> str:
        """Open a resumable upload session; its URI (a capability: never logged)."""
        import aiohttp

        url = f"{self.api_root}/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o"
        params = {**dict(options.get("parameters") or {}), "uploadType": "resumable", "name": name}
        body = {"name": name, "contentType": content_type, **object_metadata(options)}
        headers = {
            **await self._headers(),
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Type": content_type,
            "X-Upload-Content-Length": str(total),
        }
        async with self.http.post(
            url,
            params=params,
            data=json.dumps(body),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as response:
            await self._checked(response)
            location: str = response.headers["Location"]
            return location

    async def put_chunk(
        self, uri: str, chunk: memoryview, start: int, total: int, request_timeout: int
    ) -> int | None:
        """Send ``chunk`` at ``start``; the committed size, or None when the object is done."""
        import aiohttp

        headers = {
            **await self._headers(),
            "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}",
        }
        async with self.http.put(
            uri,
            data=chunk,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as response:
            return await self._progress(response)

    async def resumable_status(self, uri: str, total: int, request_timeout: int) -> int | None:
        """How many bytes the server holds, or None when the object is complete."""
        import aiohttp

        headers = {**await self._headers(), "Content-Range": f"bytes */{total}"}
        async with self.http.put(
            uri,
            data=b"",
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as response:
            return await self._progress(response)

    async def _progress(self, response: Any) -> int | None:
        if response.status == 308:
            committed = response.headers.get("Range", "")
            match = re.fullmatch(r"bytes=0-(\d+)", committed.strip())
            return int(match.group(1)) + 1 if match else 0
        if response.status in (404, 410):
            raise ResultWriteError(
                f"GCSResult: the resumable upload session is gone (HTTP {response.status}: "
                "expired or cancelled); write the value again"
            )
        await self._checked(response)
        await response.read()
        return None

    async def cancel_resumable(self, uri: str) -> None:
        """Best effort: tell the server to drop a failed upload's bytes."""
        import aiohttp

        try:
            async with self.http.delete(
                uri,
                headers=await self._headers(),
                timeout=aiohttp.ClientTimeout(total=10),
            ):
                pass
        except Exception as exc:
            logger.debug("GCSResult: cancelling a resumable upload failed (%s)", type(exc).__name__)


class GCSStore(Store):
    """A GCS endpoint with one set of credentials and one connection cap."""

    __slots__ = ("api_root", "dev", "max_connections", "secret", "service_file")

    def __init__(
        self,
        api_root: str | None,
        service_file: str | None,
        secret: str | None,
        max_connections: int | None,
    ) -> None:
        emulator = os.environ.get(EMULATOR_ENV)
        if api_root is None and emulator:
            api_root = check_api_root(emulator, EMULATOR_ENV)
        custom = api_root is not None
        self.api_root = api_root or GCS_API_ROOT
        self.service_file = service_file
        self.secret = secret
        # An emulator (a custom root without credentials) takes no token.
        self.dev = custom and service_file is None and secret is None
        if max_connections is None:
            max_connections = (
                DEFAULT_EMULATOR_CONNECTIONS if self.dev else (DEFAULT_MAX_CONNECTIONS)
            )
        self.max_connections = max_connections
        if secret is not None:
            identity: tuple[Any, ...] = ("secret", secret)
        elif service_file is not None:
            identity = ("service file", service_file)
        else:
            identity = ("default credentials",) if not self.dev else ("none",)
        super().__init__(("asyncflow.results.gcs", self.api_root, identity, max_connections))

    @property
    def label(self) -> str:
        return f"GCS {safe_url(self.api_root)}"

    def open(self) -> AbstractAsyncContextManager[Any]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[GCSClient]:
        import aiohttp

        storage_module = require_sdk()
        service: Any = self.service_file
        if self.secret is not None:
            service = io.StringIO(json.dumps(_service_account(self.secret)))
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_connections),
        )
        try:
            try:
                storage = storage_module.Storage(
                    service_file=service,
                    session=session,
                    api_root=self.api_root,
                    api_is_dev=self.dev,
                    token=_NoToken() if self.dev else None,
                )
            except Exception as exc:
                source = (
                    "service_file"
                    if self.service_file
                    else (
                        f"the secret {self.secret!r}"
                        if self.secret
                        else "GOOGLE_APPLICATION_CREDENTIALS or the gcloud CLI's login"
                    )
                )
                raise ConfigError(
                    f"GCSResult: could not load Google credentials from {source}: "
                    f"{type(exc).__name__}. Check that the file exists and holds a "
                    "service-account key or authorized-user credentials"
                ) from None
            try:
                yield GCSClient(storage, session, self.api_root, self.dev)
            finally:
                await storage.close()
        finally:
            await session.close()


class _NoToken:
    """An emulator takes no token: nothing to load (not even GOOGLE_APPLICATION_CREDENTIALS)."""

    async def get(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _service_account(name: str) -> dict[str, Any]:
    from ..secrets import Secret

    value = Secret(name).get()
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return dict(value)
    raise ConfigError(
        f"GCSResult: the secret {name!r} must hold a service-account key as JSON (an object "
        'with "type": "service_account", as downloaded from the Cloud console); its '
        "value is not shown here"
    )
