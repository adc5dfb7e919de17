"""``kosodate-bot``: one console command for the module commands (installed by ``make install``).

kosodate-bot ingest [--check] [--rebuild]     = python ingest.py
kosodate-bot ask|chat|users ...               = python -m bot ...
kosodate-bot serve [--host H] [--port P]      = python -m web
"""

from __future__ import annotations

import sys

USAGE = __doc__ or ""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "ingest":
        import ingest

        return int(ingest.main(rest))
    if command == "serve":
        from web.__main__ import main as serve

        serve(rest)
        return 0
    if command in ("ask", "chat", "users"):
        from bot.__main__ import main as bot_main

        return bot_main([command, *rest])
    print(f"kosodate-bot: unknown command {command!r}\n\n{USAGE.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
