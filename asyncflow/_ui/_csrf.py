"""Per-session CSRF tokens for the dashboard's actions.

Every browser gets a random session id in a cookie (``asyncflow_session``: HttpOnly,
SameSite=Strict, gone when the browser closes). A form's token is an HMAC of that id
under a key the app draws when it is made, so the server keeps no table of sessions, a
token is good for one browser session of one app only, and restarting the dashboard
voids the forms it served. An action checks the token it is sent against the one its
session cookie gives, in constant time; a missing cookie or a token that does not match
is a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

SESSION_COOKIE = "asyncflow_session"
#: The hidden form field that carries the token.
TOKEN_FIELD = "csrf_token"
_SESSION = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, URL-safe base64
SESSION = web.RequestKey("asyncflow_session", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CsrfGuard:
    """Hands out and checks the forms' tokens of one dashboard app."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def __repr__(self) -> str:
        return "<CsrfGuard>"  # never the key

    def token_for(self, session: str) -> str:
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def check(self, request: web.Request, given: str | None) -> None:
        """Raise 403 unless ``given`` is the token of the request's session cookie."""
        session = request.cookies.get(SESSION_COOKIE, "")
        if _SESSION.fullmatch(session) is None:
            raise web.HTTPForbidden(text=(
                "403: this action needs the dashboard's session cookie, which the request "
                "did not carry; open the page again in a browser that accepts cookies, "
                "then submit its form"
            ))
        expected = self.token_for(session)
        if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise web.HTTPForbidden(text=(
                "403: the form's CSRF token is missing or does not match this session "
                "(the dashboard may have restarted since the page was loaded); reload "
                "the page and submit its form again"
            ))


def session_of(request: web.Request) -> str:
    """The request's session id (a new one when it has none; the response sets it)."""
    return request[SESSION]


def session_middleware(root: Callable[[web.Request], str]) -> Callable[..., Awaitable[
    web.StreamResponse
]]:
    """A middleware giving every browser a session id cookie, scoped to ``root(request)``
    (the path where the dashboard is mounted)."""

    @web.middleware
    async def with_session(request: web.Request, handler: Handler) -> web.StreamResponse:
        current = request.cookies.get(SESSION_COOKIE, "")
        fresh = None if _SESSION.fullmatch(current) else secrets.token_urlsafe(32)
        request[SESSION] = fresh or current
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if fresh is not None:
                _set(exc, request, fresh, root(request))
            raise
        if fresh is not None and not response.prepared:
            _set(response, request, fresh, root(request))
        return response

    return with_session


def _set(response: web.StreamResponse, request: web.Request, session: str, path: str) -> None:
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict",
                        secure=request.secure, path=path)
