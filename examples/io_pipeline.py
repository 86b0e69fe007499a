"""A concurrent I/O pipeline: fetch hundreds of pages, with retries, a concurrency limit
and checkpointing, then aggregate.

Run: python examples/io_pipeline.py [n_pages] [results-dir]

The example starts its own small HTTP server on 127.0.0.1 (a random free port) that
answers slowly and fails some requests the first time, as real services do.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from asyncflow import Flow, Parameter, context, task, unmapped
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


@task
def page_urls(base: str, n: int) -> list[str]:
    return [f"{base}/pages/{i}" for i in range(n)]


@task(max_retries=3, retry_delay=0.01, tags=["http"])
async def fetch(url: str, session: ClientSession) -> str:
    async with session.get(url) as response:
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


def build(results_dir: str, session: ClientSession) -> Flow:
    with Flow("io-pipeline", result=LocalResult(dir=results_dir)) as flow:
        base = Parameter("base_url")
        n = Parameter("n_pages", default=300)
        urls = page_urls(base, n)
        pages = fetch.map(urls, unmapped(session))
        counts = count_words.map(pages)
        merge(counts)
    return flow


async def main(n_pages: int, results_dir: str) -> dict[str, Any]:
    runner = web.AppRunner(make_server())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            flow = build(results_dir, session)
            state = await flow.run(
                parameters={"base_url": f"http://127.0.0.1:{port}", "n_pages": n_pages},
                task_concurrency_limits={"http": 50},
            )
    finally:
        await runner.cleanup()
    by_name = {t.name: t for t in flow.tasks}
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
