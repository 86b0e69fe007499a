"""S3 clients for S3Result: one store per endpoint and credentials, sessions, credentials
read from secrets, and credentials kept out of the AWS SDK's debug logs.

A store is what :mod:`asyncflow._results._clients` shares clients by: results with the
same endpoint, region, options and credentials use one client.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .._core._exceptions import ConfigError
from ._clients import Store, digest, import_extra, safe_url

#: Client options that carry credentials.
KEY_OPTIONS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def require_sdk() -> Any:
    return import_extra(
        "aiobotocore.session", feature="S3Result", extra="s3", package="aiobotocore"
    )


class S3Store(Store):
    """An S3 endpoint with one set of options and credentials."""

    __slots__ = ("options", "secret")

    def __init__(self, options: dict[str, Any], secret: str | None) -> None:
        self.options = options
        self.secret = secret
        if secret is not None:
            identity: tuple[Any, ...] = ("secret", secret)
        elif "aws_access_key_id" in options:
            identity = ("keys", digest(*(options.get(k) for k in KEY_OPTIONS)))
        else:
            identity = ("default chain",)
        others = tuple(
            (name, id(value) if name == "config" else value)
            for name, value in sorted(options.items())
            if name not in KEY_OPTIONS and name not in ("endpoint_url", "region_name")
        )
        super().__init__(
            (
                "asyncflow.results.s3",
                options.get("endpoint_url"),
                options.get("region_name"),
                identity,
                others,
            )
        )

    @property
    def label(self) -> str:
        region = self.options.get("region_name")
        return f"S3 {safe_url(self.options.get('endpoint_url')) or 'AWS'}" + (
            f" ({region})" if region else ""
        )

    def open(self) -> AbstractAsyncContextManager[Any]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Any]:
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        options = dict(self.options)
        if self.secret is not None:
            options.update(_secret_keys(self.secret))
        # asyncflow retries (call_with_retries): one attempt per botocore call, unless
        # the user's own config asks for botocore's retries.
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
        user_config = options.get("config")
        options["config"] = config.merge(user_config) if user_config is not None else config
        _hide_credentials_in_sdk_logs()
        creating = _session().create_client("s3", **options)
        try:
            client = await creating.__aenter__()
        except (BotoCoreError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"S3Result: could not create an S3 client for {self.label}: "
                f"{type(exc).__name__}: {_without_user_info(str(exc))}. Check client_options "
                "and the AWS settings (profile, region, endpoint)"
            ) from None
        try:
            yield client
        finally:
            await creating.__aexit__(None, None, None)


def _without_user_info(text: str) -> str:
    """``text`` with any ``user:password@`` in URLs removed."""
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1", text)


def _secret_keys(name: str) -> dict[str, str]:
    from ..secrets import Secret

    value = Secret(name).get()
    if isinstance(value, Mapping):
        access = value.get("ACCESS_KEY", value.get("aws_access_key_id"))
        secret = value.get("SECRET_ACCESS_KEY", value.get("aws_secret_access_key"))
        token = value.get("SESSION_TOKEN", value.get("aws_session_token"))
        if isinstance(access, str) and isinstance(secret, str):
            keys = {"aws_access_key_id": access, "aws_secret_access_key": secret}
            if isinstance(token, str) and token:
                keys["aws_session_token"] = token
            return keys
    raise ConfigError(
        f"S3Result: the secret {name!r} must be a JSON object with ACCESS_KEY and "
        "SECRET_ACCESS_KEY (and optionally SESSION_TOKEN) text values; its value is not "
        "shown here"
    )


_local = threading.local()
_loader_lock = threading.Lock()
_shared_loader: list[Any] = []


def _session() -> Any:
    """This thread's aiobotocore session; every session shares one loader of service models.

    A new session costs about 0.6 s (loading the S3 model); a client from an existing
    session about 10 ms. Sessions are not thread-safe, hence one per thread.
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = require_sdk().get_session()
        with _loader_lock:
            if _shared_loader:
                session.register_component("data_loader", _shared_loader[0])
            else:
                _shared_loader.append(session.get_component("data_loader"))
        _local.session = session
    return session


# ---- keeping credentials out of the SDK's debug logs --------------------------------------
_SECRET_PATTERNS = [
    (
        re.compile(
            r"((?:Authorization|X-Amz-Security-Token)['\"]?\s*[:=]\s*b?['\"])[^'\"]*", re.IGNORECASE
        ),
        r"\1**********",
    ),
    (re.compile(r"(x-amz-security-token[:=]\s*)[^\s&'\"]+", re.IGNORECASE), r"\1**********"),
    (re.compile(r"((?:X-Amz-)?Credential=)[^,\s&'\"]+", re.IGNORECASE), r"\1**********"),
    (re.compile(r"((?:X-Amz-)?Signature(?:=|:)\s*)[0-9a-fA-F]+", re.IGNORECASE), r"\1**********"),
]
_FILTERED_LOGGERS = (
    "botocore.auth",
    "botocore.endpoint",
    "aiobotocore.endpoint",
    "botocore.httpsession",
    "aiobotocore.httpsession",
)
_filter_installed: list[bool] = []


class _RedactCredentials(logging.Filter):
    """Masks signatures, access key ids and session tokens in botocore's debug records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        masked = text
        for pattern, replacement in _SECRET_PATTERNS:
            masked = pattern.sub(replacement, masked)
        if masked != text:
            record.msg, record.args = masked, None
        return True


def _hide_credentials_in_sdk_logs() -> None:
    """Install the redacting filter on botocore's request-signing loggers, once."""
    if _filter_installed:
        return
    with _loader_lock:
        if not _filter_installed:
            redact = _RedactCredentials()
            for name in _FILTERED_LOGGERS:
                logging.getLogger(name).addFilter(redact)
            _filter_installed.append(True)
