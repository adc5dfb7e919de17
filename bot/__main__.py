"""Command line: ``python -m bot ask`` (the contract other tools use) and ``python -m bot users`` (staff accounts)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from bot.config import Settings


def _print_readable(result_json: dict, text: str) -> None:  # type: ignore[type-arg]
    print(f"[{result_json['kind']}]")
    print(text)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.retrieval.index import IndexMismatch, IndexNotReady
    from bot.service import Bot

    try:
        bot = Bot(Settings())
    except (IndexNotReady, IndexMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.jsonl:
        for line in sys.stdin:
            q = line.strip()
            if not q:
                continue
            r = bot.ask(q)
            sys.stdout.write(json.dumps(r.to_contract(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if not args.question:
        print("error: give a question, or use --jsonl to read questions from stdin", file=sys.stderr)
        return 2
    r = bot.ask(" ".join(args.question))
    if args.json:
        print(json.dumps(r.to_contract(), ensure_ascii=False))
    else:
        _print_readable(r.to_contract(), r.text)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.answering.results import Turn
    from bot.service import Bot

    bot = Bot.build_if_missing(Settings())
    history: list[Turn] = []
    ward = bot.generation.kb.ward
    print(f"{ward.name if ward else ''} 子育てチャット(終了は Ctrl-D)".strip())
    for line in sys.stdin:
        q = line.strip()
        if not q:
            continue
        r = bot.ask(q, history)
        history.append(Turn(q, r.topic))
        print(r.text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot", description="Taito ward childcare bot")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, or many with --jsonl")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="read questions from stdin, write JSON lines")
    ask.set_defaults(func=cmd_ask)
    chat = sub.add_parser("chat", help="interactive terminal chat")
    chat.set_defaults(func=cmd_chat)
    try:
        from bot.staff.users_cli import add_user_commands
    except ImportError:
        pass
    else:
        add_user_commands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
