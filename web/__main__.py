"""``python -m web [--host H] [--port P]``: serve the chat with uvicorn."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import uvicorn

from bot.config import Settings
from web.app import create_app
from web.server import PROTOCOL


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m web", description="Taito ward childcare chat (web)")
    parser.add_argument("--host", default=settings.host, help=f"bind address (default {settings.host}, BOT_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port}, BOT_PORT)")
    parser.add_argument(
        "--workers", type=int, default=settings.workers, help=f"processes (default {settings.workers}, BOT_WORKERS)"
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # X-Forwarded-For is believed only from BOT_FORWARDED_ALLOW_IPS (the ward's reverse proxy): otherwise any local
    # process could pick the address the rate limit and the sign-in limit count. timeout_keep_alive drops idle
    # connections; limit_concurrency answers 503 rather than queueing without bound; PROTOCOL closes connections whose
    # headers do not arrive within BOT_HEADER_TIMEOUT (web/server.py).
    net: dict[str, Any] = {"proxy_headers": bool(settings.forwarded_allow_ips), "forwarded_allow_ips": settings.forwarded_allow_ips or None,
           "timeout_keep_alive": 5, "limit_concurrency": settings.max_connections, "http": PROTOCOL}  # fmt: skip
    if args.workers > 1:
        # Several processes need an import string; each worker builds its own app from the same BOT_* environment.
        # The rate limit is then per worker, and each worker swaps to a new index generation on its own.
        uvicorn.run("web.app:create_app", factory=True, workers=args.workers, host=args.host, port=args.port,
                    log_level=args.log_level, **net)  # fmt: skip
    else:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, **net)


if __name__ == "__main__":
    main()
