"""An aiohttp service that triggers flows: start runs over HTTP, watch them live, cancel them.

Run: python examples/aiohttp_service.py [port]      (or: PORT=8080 python examples/aiohttp_service.py)

Then, from another terminal::

    curl -i -X POST localhost:8080/flows/word-stats/runs -d '{"text": "to be or not to be"}'
    curl localhost:8080/flows/runs/<run_id>               # the run and each task, as JSON
    curl -N localhost:8080/flows/runs/<run_id>/events     # every state change, live (SSE)
    curl -X POST localhost:8080/flows/link-check/runs -d '{"paths": ["/pages/a", "/pages/missing"]}'
    curl -X DELETE localhost:8080/flows/runs/<run_id>     # cancel a run
    curl 'localhost:8080/word-stats?text=a+b+a'           # a flow awaited inside a handler

``link-check`` checks pages of this very service, through the one ``ClientSession`` the app
opens at startup and closes at cleanup; its tasks reach it as ``context.http``.

The module defines both flows, so ``asyncflow run`` takes the variable's name:
``asyncflow run examples/aiohttp_service.py:word_stats -p text='to be or not to be'``
(``link_check`` needs the running service: its tasks read the session from the context).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from asyncflow import Flow, Parameter, context, task
from asyncflow.contrib.aiohttp import setup
from asyncflow.results import JSONResult

http_key = web.AppKey("http", aiohttp.ClientSession)


# ---- flow 1: word statistics ------------------------------------------------------------
@task
def split_words(text: str) -> list[str]:
    return text.lower().split()


@task(result=JSONResult())
def count_words(words: list[str]) -> int:
    return len(words)


@task(result=JSONResult())
def most_common(words: list[str], top: int) -> list[list[Any]]:
    return [[word, n] for word, n in Counter(words).most_common(top)]


with Flow("word-stats") as word_stats:
    words = split_words(Parameter("text"))
    word_count = count_words(words)
    top_words = most_common(words, Parameter("top", default=3))


# ---- flow 2: check links of this very service ------------------------------------------
@task(max_retries=2, retry_delay=0.1, result=JSONResult())
async def check(path: str) -> dict[str, Any]:
    session: aiohttp.ClientSession = context.http
    async with session.get(context.base_url + path) as response:
        if response.status >= 500:
            response.raise_for_status()  # retried: servers have bad moments
        return {"path": path, "status": response.status}


@task(result=JSONResult())
def summarize(checks: list[dict[str, Any]]) -> dict[str, Any]:
    broken = [c["path"] for c in checks if c["status"] >= 400]
    return {"checked": len(checks), "broken": broken}


with Flow("link-check") as link_check:
    summarize(check.map(Parameter("paths")))


# ---- the service --------------------------------------------------------------------------
async def page(request: web.Request) -> web.Response:
    """A page for link-check to find: names starting with "missing" are not found."""
    name = request.match_info["name"]
    if name.startswith("missing"):
        raise web.HTTPNotFound(text=f"no page {name!r}")
    return web.Response(text=f"This is page {name}.")


async def word_stats_now(request: web.Request) -> web.Response:
    """Run word-stats inside the handler and answer with its results (no background run)."""
    state = await word_stats.run(parameters={"text": request.query.get("text", "")})
    if not state.is_successful():
        return web.json_response({"state": state.name, "error": state.message}, status=500)
    return web.json_response({
        "words": state.result[word_count].result,
        "top": state.result[top_words].result,
    })


async def http_session(app: web.Application) -> AsyncIterator[None]:
    """One ClientSession for the whole app, shared with every run's tasks."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        app[http_key] = session
        yield


def run_context(request: web.Request) -> dict[str, Any]:
    """What each run started over HTTP finds in its context: the session, this service's URL."""
    return {"http": request.app[http_key], "base_url": str(request.url.origin())}


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(http_session)
    app.router.add_get("/pages/{name}", page)
    app.router.add_get("/word-stats", word_stats_now)
    setup(
        app,
        flows=[word_stats, link_check],
        prefix="/flows",
        max_concurrent_runs=8,
        run_context=run_context,
        run_options={"checkpointing": True},  # JSONResult values show in GET /flows/runs/{id}
    )
    return app


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8080"))
    web.run_app(create_app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
