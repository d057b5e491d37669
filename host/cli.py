"""Command line: serve native messages (what the browser runs), or one op for a person.

`catalog-host` / `python -m host [chrome-extension://<id>/] [--parent-window=N]` (Chrome) or
`python -m host <manifest path> <add-on id>` (Firefox) serves frames on stdin/stdout until EOF.
`catalog-host ping|map|lookup|add|promote|remove ...` runs one op
and prints its JSON result; `install`, `uninstall` and `doctor` belong to host.installer.
Kept free of heavy imports: this module runs in every cold host start.
"""

from __future__ import annotations

import sys

# `typing` is imported for type checkers only: it costs milliseconds in every cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OP_COMMANDS = ("ping", "map", "lookup", "add", "promote", "remove", "download", "jobs", "cancel", "adopt")
INSTALLER_COMMANDS = ("install", "uninstall", "doctor")
USAGE = """\
usage: catalog-host                              serve native messages on stdin/stdout
       catalog-host ping
       catalog-host map [--all]
       catalog-host lookup VERSION_ID [VERSION_ID ...] [--model MODEL_ID ...]
       catalog-host add VERSION_ID
       catalog-host promote VERSION_ID
       catalog-host remove FILE [--dest DEST]
       catalog-host download VERSION_ID [--file-id N] [--wait]
       catalog-host jobs
       catalog-host cancel VERSION_ID | --scan
       catalog-host scan [--wait] [--here] [--quiet]
       catalog-host adopt VERSION_ID
       catalog-host install|uninstall|doctor [...]   (see `catalog-host install --help`)
"""


def caller_of(args: list[str]) -> str | None:
    """Who started the host, from the browser's arguments (never by their count or order):
    Chrome passes its origin `chrome-extension://<id>/` (on Windows also `--parent-window=N`),
    Firefox the absolute path of our manifest then the add-on's id. "" is a Firefox caller
    that named no add-on (never allowed); None is a person running it from a terminal."""
    words = [a for a in args if not a.startswith("--")]
    for word in words:
        if word.startswith("chrome-extension://"):
            return word
    for index, word in enumerate(words):
        if word.endswith(".json"):
            return words[index + 1] if index + 1 < len(words) else ""
    return None


def _serve(args: list[str]) -> int:
    from host.context import Context
    from host.server import serve

    origin = caller_of(args)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if sys.platform == "win32":  # frames are binary: no CRLF translation
        import msvcrt
        import os

        msvcrt.setmode(stdin.fileno(), os.O_BINARY)
        msvcrt.setmode(stdout.fileno(), os.O_BINARY)
    # From here on, a stray print() anywhere goes to stderr instead of corrupting the stream.
    sys.stdout = sys.stderr
    return serve(stdin, stdout, Context(origin=origin))


def _op_request(command: str, args: list[str]) -> dict[str, Any]:
    import argparse

    parser = argparse.ArgumentParser(prog=f"catalog-host {command}")
    if command in ("add", "promote", "adopt"):
        parser.add_argument("version_id")
    elif command == "cancel":
        parser.add_argument("version_id", nargs="?", help="the version whose download to cancel")
        parser.add_argument("--scan", action="store_true", help="cancel the scan instead")
    elif command == "download":
        parser.add_argument("version_id")
        parser.add_argument("--file-id", dest="file_id", help="which of the version's files (its CivitAI id)")
        parser.add_argument("--wait", action="store_true", help="show a progress bar until it ends")
    elif command == "lookup":
        parser.add_argument("version_ids", nargs="+")
        parser.add_argument("--model", dest="model_ids", action="append")
    elif command == "remove":
        parser.add_argument("file")
        parser.add_argument("--dest")
    elif command == "map":
        parser.add_argument("--all", action="store_true", help="follow every page")
    parsed = vars(parser.parse_args(args))
    if parsed.pop("scan", False):
        if parsed["version_id"] is not None:
            parser.error("give a VERSION_ID or --scan, not both")
        parsed["kind"] = "scan"
    elif command == "cancel" and parsed["version_id"] is None:
        parser.error("give the VERSION_ID whose download to cancel, or --scan")
    flags = ("all", "wait")
    request = {"op": command, **{k: v for k, v in parsed.items() if v is not None and k not in flags}}
    for flag in flags:
        if parsed.get(flag):
            request[flag] = True
    return request


def _run_op(command: str, args: list[str]) -> int:
    import json

    from host.context import Context
    from host.dispatch import handle_message
    from host.redaction import scrub_reply
    from host.server import wake_jobs

    request = _op_request(command, args)
    follow = request.pop("all", False)
    wait = request.pop("wait", False)
    context = Context()
    while True:
        reply = scrub_reply(handle_message(json.dumps(request).encode(), context))
        if not reply["ok"]:
            print(json.dumps({"error": reply["error"]}, indent=2, ensure_ascii=False))
            return 1
        print(json.dumps(reply["result"], indent=2, ensure_ascii=False), flush=True)
        context.run_after_reply()
        wake_jobs(context)
        if wait and reply["result"].get("status") in ("queued", "already_queued"):
            from host.download.progress import wait_for

            status, job = wait_for(context.settings.catalog_dir, request["version_id"])
            print(json.dumps({"job": job}, indent=2, ensure_ascii=False))
            return status
        nxt = reply["result"].get("next")
        if not (follow and nxt):
            return 0
        request["cursor"] = nxt


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else None
    if command in OP_COMMANDS:
        return _run_op(command, args[1:])
    if command == "scan":
        from host.disk.scan_cli import main as scan_main

        return scan_main(args[1:])
    if command in INSTALLER_COMMANDS:
        from host.installer.cli import main as installer_main

        return int(installer_main(args))
    if command in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if (command is None or command.startswith(("chrome-extension://", "--parent-window"))
            or command.endswith(".json")):  # Firefox: <manifest path> <add-on id>
        return _serve(args)
    print(f"catalog-host: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
    return 2
