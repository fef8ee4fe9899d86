"""The reference of `make bench`: a bare Quart hello on Hypercorn (one asyncio worker, in this process).

python bench/hello_app.py PORT
"""

from __future__ import annotations

import asyncio
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

app = Quart("hello")


@app.get("/")
async def hello() -> str:
    return "hello"


@app.get("/health")
async def health() -> str:
    return "ok"


if __name__ == "__main__":
    config = Config()
    config.bind = [f"127.0.0.1:{int(sys.argv[1])}"]
    config.accesslog = None
    asyncio.run(serve(app, config))  # type: ignore[arg-type]
