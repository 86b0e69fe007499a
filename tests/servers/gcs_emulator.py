"""gcp-storage-emulator in a thread of this process, in memory, on 127.0.0.1 and a free port.

The emulator's HTTP server handles one request at a time and answers in HTTP/1.0, so
every request is a new connection; its listen backlog is raised from 5 to 128 here so
that bursts of concurrent clients queue instead of being refused. :meth:`stop` closes the
listening socket; :meth:`start` again (same object) serves the same in-memory data on the
same port, which is how tests make the server go away and come back::

    emulator = GCSEmulator().start()
    emulator.create_bucket("results")
    print(emulator.url)          # for GCSResult(api_root=...) or STORAGE_EMULATOR_HOST
    emulator.stop(); emulator.start()

Used by the storage tests, the examples and the storage benchmark.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import urllib.parse
import urllib.request
from functools import partial
from types import TracebackType
from typing import Any

from gcp_storage_emulator.server import APIThread, RequestHandler, create_server

PROJECT = "asyncflow-test"


class _HTTPServer(http.server.HTTPServer):
    request_queue_size = 128


class _APIThread(APIThread):  # type: ignore[misc]
    """The emulator's API thread with a listen backlog of 128 instead of 5."""

    def run(self) -> None:
        self._httpd = _HTTPServer((self._host, self._port), partial(RequestHandler, self._storage))
        self.is_running.set()
        self._httpd.serve_forever(poll_interval=0.05)


class GCSEmulator:
    """The emulator on ``127.0.0.1:port`` (port 0 picks one, then restarts keep it)."""

    def __init__(self, port: int = 0) -> None:
        logging.getLogger("gcp_storage_emulator").setLevel(logging.CRITICAL)
        self._port = port
        self._server: Any = create_server("127.0.0.1", 0, in_memory=True)
        # In memory, the emulator still rewrites a JSON snapshot of every object's
        # metadata after each write (O(objects) per write) that it only ever reads back
        # when it starts; skip it so that writes cost the same at the 1st and 1,000th.
        self._server._storage._write_config_to_file = lambda: None
        self._running = False

    def start(self) -> GCSEmulator:
        """Serve in a daemon thread; returns self."""
        if self._running:
            return self
        api = _APIThread("127.0.0.1", self._port, self._server._storage, daemon=True)
        self._server._api = api
        self._server.start()
        self._port = int(api._httpd.server_address[1])
        self._running = True
        return self

    def stop(self) -> None:
        """Stop serving and free the port; the stored data stays for a later start()."""
        if self._running:
            self._running = False
            self._server.stop()
            threading.Thread.join(self._server._api, timeout=10)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The API root: give it as ``api_root`` or as ``STORAGE_EMULATOR_HOST``."""
        return f"http://127.0.0.1:{self._port}"

    def wipe(self) -> None:
        """Forget every bucket and object."""
        self._server.wipe()

    def _fetch(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            content: bytes = response.read()
        return content

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        text = self._fetch(method, path, body)
        return json.loads(text) if text else None

    def download(self, bucket: str, name: str) -> bytes:
        """The stored bytes of ``name``."""
        quoted = urllib.parse.quote(name, safe="")
        return self._fetch("GET", f"/storage/v1/b/{urllib.parse.quote(bucket)}/o/{quoted}?alt=media")

    def create_bucket(self, name: str) -> None:
        """Create ``name`` through the JSON API (gcloud-aio-storage has no such call)."""
        self._request("POST", f"/storage/v1/b?project={PROJECT}", {"name": name})

    def metadata(self, bucket: str, name: str) -> dict[str, Any]:
        """The object resource of ``name`` (size, contentType, metadata...)."""
        quoted = urllib.parse.quote(name, safe="")
        found: dict[str, Any] = self._request(
            "GET", f"/storage/v1/b/{urllib.parse.quote(bucket)}/o/{quoted}"
        )
        return found

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object name in ``bucket`` (the equivalent of ``gsutil ls -r``)."""
        names: list[str] = []
        token = ""
        while True:
            query = urllib.parse.urlencode({"prefix": prefix, "pageToken": token})
            page = self._request("GET", f"/storage/v1/b/{urllib.parse.quote(bucket)}/o?{query}")
            names.extend(item["name"] for item in page.get("items", []))
            token = page.get("nextPageToken") or ""
            if not token:
                return sorted(names)

    def __enter__(self) -> GCSEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
