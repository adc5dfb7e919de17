"""``python -m web [--host H] [--port P]``: serve the chat with uvicorn."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.config import Settings
from web.app import create_app


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m web", description="Taito ward childcare chat (web)")
    parser.add_argument("--host", default=settings.host, help=f"bind address (default {settings.host}, BOT_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port}, BOT_PORT)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True)


if __name__ == "__main__":
    main()
