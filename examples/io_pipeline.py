"""A concurrent I/O pipeline: fetch hundreds of pages, with retries, a concurrency limit
and checkpointing, then aggregate.

Run: python examples/io_pipeline.py [n_pages] [results-dir]
 or: asyncflow run examples/io_pipeline.py -p n_pages=50

The flow starts its own small HTTP server on 127.0.0.1 (a random free port) that answers
slowly and fails some requests the first time, as real services do: a resource manager
sets it up, with the one ClientSession the fetches share, before the first task of its
block and cleans both up after the last.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from typing import Any, NamedTuple

from aiohttp import ClientSession, ClientTimeout, web

from asyncflow import Flow, Parameter, context, resource_manager, task, unmapped
from asyncflow.results import LocalResult

WORDS = ["async", "flow", "task", "state", "result", "retry", "limit", "map", "reduce", "page"]


def make_server() -> web.Application:
    """Pages /pages/{i}; every seventh page fails with 503 on its first request."""
    seen: set[int] = set()

    async def page(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        await asyncio.sleep(0.005)
        if i % 7 == 0 and i not in seen:
            seen.add(i)
            return web.Response(status=503, text="try again")
        text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(50))
        return web.Response(text=text)

    app = web.Application()
    app.router.add_get("/pages/{i}", page)
    return app


class Pages(NamedTuple):
    """Where the pages are served, and the session to fetch them with."""

    base_url: str
    session: ClientSession
    runner: web.AppRunner


@task
def page_urls(pages: Pages, n: int) -> list[str]:
    return [f"{pages.base_url}/pages/{i}" for i in range(n)]


@task(max_retries=3, retry_delay=0.01, tags=["http"])
async def fetch(url: str, pages: Pages) -> str:
    async with pages.session.get(url) as response:
        response.raise_for_status()
        return await response.text()


@task
def count_words(text: str) -> dict[str, int]:
    return dict(Counter(text.split()))


@task
def merge(counts: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    context.logger.info("merged %d pages", len(counts))
    return dict(total.most_common())


class PageServer:
    """The stand-in service for one run: the page server and one ClientSession for it."""

    async def setup(self) -> Pages:
        runner = web.AppRunner(make_server())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        session = ClientSession(timeout=ClientTimeout(total=10))
        return Pages(f"http://127.0.0.1:{port}", session, runner)

    async def cleanup(self, pages: Pages) -> None:
        await pages.session.close()
        await pages.runner.cleanup()


# Made by a call rather than as a class decorator: type checkers ignore what class
# decorators return, so they would not see the `with` support. The setup's result (a
# live session) is not checkpointed: it cannot be pickled, and it ends with the run.
local_pages = resource_manager(name="LocalPages",
                               setup_task_kwargs={"checkpoint": False})(PageServer)


def build(results_dir: str | None = None) -> Flow:
    result = LocalResult(dir=results_dir) if results_dir is not None else None
    with Flow("io-pipeline", result=result) as flow:
        n = Parameter("n_pages", default=300)
        with local_pages() as pages:
            urls = page_urls(pages, n)
            texts = fetch.map(urls, unmapped(pages))
            counts = count_words.map(texts)
            merge(counts)
    return flow


flow = build()


async def main(n_pages: int, results_dir: str) -> dict[str, Any]:
    pipeline = build(results_dir)
    state = await pipeline.run(parameters={"n_pages": n_pages},
                               task_concurrency_limits={"http": 50})
    by_name = {t.name: t for t in pipeline.tasks}
    fetched = state.result[by_name["fetch"]]
    retried = sum(1 for s in fetched.map_states if s.run_count > 1)
    return {"state": state, "merged": state.result[by_name["merge"]].result,
            "pages": len(fetched.result), "retried": retried,
            "location": state.result[by_name["merge"]]._result.location}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    target = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="asyncflow-io-")
    out = asyncio.run(main(n, target))
    print(f"{out['state']}: fetched {out['pages']} pages ({out['retried']} after a retry)")
    print(f"top words: {list(out['merged'].items())[:3]}")
    print(f"merged counts stored at {out['location']}")
