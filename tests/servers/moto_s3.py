"""moto's S3 server in a thread of this process, on 127.0.0.1 and a free port.

Unlike ``moto.server.ThreadedMotoServer``, :meth:`MotoS3Server.stop` really takes the
server away: it closes the listening socket (so the port can be bound again and new
connections are refused) and every open keep-alive connection (so clients holding pooled
connections see them drop). A new server on the same port serves the same data, because
moto keeps its state in the process::

    server = MotoS3Server().start()
    server.create_bucket("results")
    ...
    server.stop()
    again = MotoS3Server(port=server.port).start()   # the "server comes back"

Used by the storage tests, the examples and the storage benchmark.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import urllib.request
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import ThreadedWSGIServer

REGION = "us-east-1"
ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"


def quiet_logging() -> None:
    """Silence werkzeug's per-request access log."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


class _TrackingServer(ThreadedWSGIServer):
    """A threaded WSGI server that remembers its open connections, to close them on stop."""

    def __init__(self, host: str, port: int, app: Any) -> None:
        self.connections: set[socket.socket] = set()
        self.accepted = 0
        self._lock = threading.Lock()
        super().__init__(host, port, app)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self.connections.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._lock:
            open_now = list(self.connections)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class MotoS3Server:
    """moto's server (all of moto, S3 included) on ``127.0.0.1:port``; port 0 picks one."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._boto3_clients: dict[str, Any] = {}
        self._server: _TrackingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MotoS3Server:
        """Bind and serve in a daemon thread; returns self."""
        quiet_logging()
        server = _TrackingServer(
            "127.0.0.1", self._requested_port, DomainDispatcherApplication(create_backend_app)
        )
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"moto-s3-{server.server_address[1]}",
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, free the port and drop every open connection."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()
        thread.join()
        server.server_close()
        server.drop_connections()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("MotoS3Server is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since start (a client per request shows up here)."""
        return self._server.accepted if self._server is not None else 0

    # ---- moto's control API -----------------------------------------------------------
    def _post(self, path: str, body: bytes = b"") -> bytes:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data: bytes = response.read()
            return data

    def reset(self) -> None:
        """Forget every bucket, object and IAM entity, and switch request auth off."""
        self._post("/moto-api/reset")
        self.enforce_auth(False)

    def enforce_auth(self, on: bool = True) -> None:
        """Check signatures and IAM policies on every request (moto skips them by default)."""
        self._post("/moto-api/reset-auth", b"0" if on else b"inf")

    def client_options(self) -> dict[str, Any]:
        """boto3/aiobotocore ``create_client`` options for this server with dummy keys."""
        return {
            "endpoint_url": self.url,
            "region_name": REGION,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        }

    def boto3_client(self, service: str = "s3", **options: Any) -> Any:
        """A synchronous boto3 client of this server, for setting up and checking."""
        import boto3

        if options:
            return boto3.client(service, **{**self.client_options(), **options})
        if service not in self._boto3_clients:
            self._boto3_clients[service] = boto3.client(service, **self.client_options())
        return self._boto3_clients[service]

    def create_bucket(self, name: str) -> None:
        self.boto3_client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in ``bucket`` (the equivalent of ``aws s3 ls --recursive``)."""
        paginator = self.boto3_client().get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found

    def __enter__(self) -> MotoS3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def dummy_credentials_env() -> dict[str, str]:
    """Environment variables that point the AWS SDKs' default chain at dummy keys."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }

