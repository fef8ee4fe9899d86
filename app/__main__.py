"""Muse command line: `python -m app <command>`.

    serve       run the API (development: embedded MongoDB/Redis and in-process worker)
    worker      run the arq job worker (Procfile `worker:`)
    ...         further commands are registered by the modules in `app/commands/`
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys

if __name__ == "__main__":
    # Start-up creates some million objects that all live on (modules, classes, schemas): the
    # collector would walk them again and again for nothing (~15% of the import CPU, issue 12).
    # Back on once started, with them frozen out of its walks (`app.startup.startup_done`);
    # at once for the other commands.
    gc.disable()

from app.commands import COMMAND_MODULES  # noqa: E402
from app.config import ConfigurationError, load_settings  # noqa: E402


def _serve(args: argparse.Namespace) -> int:
    from app import create_app, embedded
    from app.server import serve

    settings = load_settings(**({"port": args.port} if args.port else {}))
    embedded.publish_servers = True  # `python -m app …` commands reuse this process's servers
    app = create_app(settings)
    own = settings.drain_timeout_s
    drain_s = own if own is not None else settings.ai_timeout_s
    print(f"Muse listening on http://{args.host}:{settings.port} "
          f"(env={settings.app_env}; docs at /docs)", flush=True)
    return serve(app, host=args.host, port=settings.port, drain_s=drain_s)


def _worker(args: argparse.Namespace) -> int:
    from app.logging import configure_logging
    from app.startup import startup_done
    from app.wiring import Container
    from app.worker import run_worker

    settings = load_settings(worker_in_process=False)
    configure_logging(settings.log_level)
    startup_done()
    asyncio.run(run_worker(Container(settings)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Muse command line")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_serve)
    worker = sub.add_parser("worker", help="run the background job worker")
    worker.set_defaults(handler=_worker)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.handler not in (_serve, _worker):  # those turn the collector back on once started
        gc.enable()
    try:
        return int(args.handler(args) or 0)
    except ConfigurationError as exc:
        print(f"muse: cannot start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
