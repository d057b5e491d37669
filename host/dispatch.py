"""One frame body in, one reply object out: the only place exceptions become error replies.

Finds the op's handler by name (importing it only when first used, so a `lookup` never
imports the CivitAI client), runs it, and wraps the result in the envelope. A HostError
becomes its stable code; anything unexpected is logged with its traceback (to the log file,
never stdout) and answered as `internal_error`.
"""

from __future__ import annotations

from host.context import Context
from host.errors import HostError
from host.protocol import OPS, decode_message, parse_request, request_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def ok_reply(req_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"id": req_id, "ok": True, "result": result}


def error_reply(req_id: Any, error: HostError) -> dict[str, Any]:
    return {"id": req_id, "ok": False, "error": error.to_wire()}


def handle_message(body: bytes, context: Context) -> dict[str, Any]:
    req_id = None
    try:
        try:
            message = decode_message(body)
        except HostError as exc:
            undecodable: HostError | None = exc
        else:
            undecodable = None
            req_id = request_id(message)  # echoed even to a forbidden caller
        # Before anything else is answered (a config error, a parse error): a forbidden caller
        # learns nothing. The id is the one thing it is told back.
        context.check_origin()
        if undecodable is not None:
            raise undecodable
        request = parse_request(message)
        # __import__ rather than importlib: one import less in every cold start
        module = __import__(f"host.handlers.{OPS[request.op].handler}", fromlist=["handle"])
        result: dict[str, Any] = module.handle(request.params, context)
        return ok_reply(req_id, result)
    except HostError as exc:
        if exc.code not in ("invalid_request", "invalid_json", "unknown_op"):
            from host.log import get_logger

            get_logger().info("op failed: %s: %s", exc.code, exc.message)
        return error_reply(req_id, exc)
    except Exception as exc:
        from host.log import get_logger

        get_logger().exception("unexpected error while handling a message")
        return error_reply(req_id, HostError(f"internal error ({type(exc).__name__}); see the host log"))
