"""CivitAI faults: every failure gives its documented code, in bounded time, retried only where
it should be, and changes nothing.

All cases run at once (each its own version id on one local fake CivitAI, or its own
unreachable URL), through the real dispatcher with the real client and its real timeouts
(15 s read timeout, 25 s budget), so the whole battery takes about as long as its slowest case.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stress.helpers import (
    figure,
    in_process,
    strict_json,
    sub_env,
    synth_version,
)
from tests.support.catalogs import studio_catalogs
from tests.support.fake_civitai import FakeCivitai, Response, load_error
from tests.support.frames import frame

BOUND_S = 40.0  # a generous upper bound: the budget is 25 s (+ one read timeout at worst)
BACKOFF = (0.5, 1.5, 3.0)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Case:
    name: str
    code: str  # expected error code, or "added" for the retry-then-succeed cases
    requests: tuple[int, int] | None = (1, 1)  # how many requests CivitAI may see (min, max)
    gaps: tuple[float, ...] = ()  # least seconds between successive requests
    url: str | None = None  # instead of the fake
    script: Any = None  # callable(fake, version_id)
    status: int | None = None  # the `status` the error must carry
    # filled in by the run
    reply: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    seen: list[float] = field(default_factory=list)


def payload(version_id: int) -> dict[str, Any]:
    return synth_version("sdxl_lora", version_id, 5_555_555)


def body_of(version_id: int) -> bytes:
    return json.dumps(payload(version_id)).encode()


def respond(status: int, body: Any = b"", headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return lambda fake, vid: fake.set_response(vid, status, body, headers, **kw)


def mutate(change: Any) -> Any:
    def script(fake: FakeCivitai, vid: int) -> None:
        data = payload(vid)
        change(data)
        fake.set_response(vid, 200, data)

    return script


def raw200(make: Any, headers: dict[str, str] | None = None) -> Any:
    return lambda fake, vid: fake.set_response(vid, 200, make(vid), headers)


def sequence(*items: Any) -> Any:
    return lambda fake, vid: fake.set_sequence(vid, [item(vid) if callable(item) else item for item in items])


def http_date(seconds_ahead: float) -> Any:
    """A Retry-After HTTP date `seconds_ahead` from when the fake *answers* (not from now: the
    cases start together with 40 others, and the request may arrive seconds later). The date has
    1 s resolution and is rounded up, so the wait it asks for is at least `seconds_ahead - 1`."""
    import email.utils
    import math

    return lambda: email.utils.formatdate(math.ceil(time.time() + seconds_ahead), usegmt=True)


def gzip_bomb(mebibytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    block = b" " * (1 << 20)
    return packer.compress(b"{") + b"".join(packer.compress(block) for _ in range(mebibytes)) + \
        packer.compress(b"}") + packer.flush()


def huge_json(vid: int) -> bytes:
    data = payload(vid)
    data["description"] = "x" * (10 * 1024 * 1024)
    return json.dumps(data).encode()


CASES = [
    Case("connection refused", "civitai_unreachable", None, url=f"http://127.0.0.1:{closed_port()}"),
    Case("DNS failure (.invalid)", "civitai_unreachable", None, url="http://nonexistent.invalid"),
    Case("read timeout (answer after 20 s)", "civitai_unreachable",
         script=lambda fake, vid: fake.set_response(vid, 200, payload(vid), delay=20)),
    Case("slow drip (8 bytes / 0.5 s)", "civitai_unreachable",
         script=lambda fake, vid: fake.set_response(vid, 200, payload(vid), drip=(8, 0.5))),
    Case("slow drip (1 byte / 2 s)", "civitai_unreachable",
         script=lambda fake, vid: fake.set_response(vid, 200, payload(vid), drip=(1, 2.0))),
    Case("404 JSON", "civitai_not_found", script=respond(404, load_error("404_model_not_found")), status=404),
    Case("404 HTML", "civitai_not_found", script=respond(404, "<html>Not found</html>"), status=404),
    Case("400 JSON", "civitai_http_error", script=respond(400, load_error("400_bad_id")), status=400),
    Case("401", "civitai_http_error", script=respond(401, {"error": "Unauthorized"}), status=401),
    Case("403 HTML", "civitai_http_error", script=respond(403, "<html>denied</html>"), status=403),
    Case("429 HTML, no Retry-After", "civitai_http_error", (4, 4), BACKOFF,
         script=respond(429, load_error("429.html")), status=429),
    Case("429, Retry-After: 2", "civitai_http_error", (4, 4), (2, 2, 2),
         script=respond(429, "slow down", {"Retry-After": "2"}), status=429),
    Case("429, Retry-After: HTTP date in 3 s", "civitai_http_error", (2, 4), (2.0, 2.0, 2.0),
         script=lambda fake, vid: fake.set_response(vid, 429, "slow", {"Retry-After": http_date(3)}), status=429),
    Case("429, Retry-After: 3600 (too long to wait)", "civitai_http_error",
         script=respond(429, "later", {"Retry-After": "3600"}), status=429),
    Case("429, Retry-After: garbage", "civitai_http_error", (4, 4), BACKOFF,
         script=respond(429, "x", {"Retry-After": "soon, maybe"}), status=429),
    Case("429, Retry-After: '\u00b2' (a digit to str.isdigit, not to float)", "civitai_http_error", (1, 4),
         script=respond(429, "x", {"Retry-After": "\u00b2"}), status=429),
    Case("500 JSON", "civitai_http_error", (4, 4), BACKOFF, script=respond(500, load_error("500")), status=500),
    Case("502 HTML", "civitai_http_error", (4, 4), BACKOFF, script=respond(502, load_error("502.html")), status=502),
    Case("503 then 504 then 502 then 500", "civitai_http_error", (4, 4), BACKOFF,
         script=sequence(Response(503, "a"), Response(504, "b"), Response(502, "c"), Response(500, "d")),
         status=500),
    Case("301 redirect (never followed)", "civitai_http_error",
         script=respond(301, "", {"Location": "http://127.0.0.1:9/elsewhere"}), status=301),
    Case("truncated body", "civitai_unreachable", script=lambda fake, vid: fake.set_response(
        vid, 200, payload(vid), truncate=True)),
    Case("connection dropped", "civitai_unreachable", script=respond(200, drop=True)),
    Case("200 HTML", "civitai_bad_response", script=raw200(lambda vid: b"<html>maintenance</html>")),
    Case("200 empty", "civitai_bad_response", script=raw200(lambda vid: b"")),
    Case("200 non-UTF-8", "civitai_bad_response", script=raw200(lambda vid: b'{"id": "\xff\xfe"}')),
    Case("200 truncated JSON", "civitai_bad_response", script=raw200(lambda vid: body_of(vid)[:-20])),
    Case("200 JSON list", "civitai_bad_response", script=raw200(lambda vid: b"[1, 2, 3]")),
    Case("200 JSON string", "civitai_bad_response", script=raw200(lambda vid: b'"hello"')),
    Case("200 deep JSON", "civitai_bad_response", script=raw200(lambda vid: b"[" * 200_000 + b"]" * 200_000)),
    Case("200 another version's id", "civitai_bad_response", script=mutate(lambda d: d.update(id=d["id"] + 1))),
    Case("200 id is a string", "civitai_bad_response", script=mutate(lambda d: d.update(id="abc"))),
    Case("200 files is a string", "civitai_bad_response", script=mutate(lambda d: d.update(files="x"))),
    Case("200 model is a list", "civitai_bad_response", script=mutate(lambda d: d.update(model=[]))),
    Case("200 file name is a number", "civitai_bad_response",
         script=mutate(lambda d: d["files"][0].update(name=12))),
    Case("200 sizeKB is NaN", "civitai_bad_response",
         script=raw200(lambda vid: body_of(vid).replace(b'"sizeKB": 223110.4609375', b'"sizeKB": NaN'))),
    Case("200 sizeKB is 1e400", "civitai_bad_response",
         script=raw200(lambda vid: body_of(vid).replace(b'"sizeKB": 223110.4609375', b'"sizeKB": 1e400'))),
    Case("200 10 MB body", "civitai_bad_response", script=raw200(huge_json)),
    Case("200 gzip bomb (256 MiB inflated)", "civitai_bad_response",
         script=raw200(lambda vid: gzip_bomb(256), {"Content-Encoding": "gzip"})),
    # retrying is right here: after a transient error, the version is added
    Case("429 then 200", "added", (2, 2), (0.5,),
         script=sequence(Response(429, "x"), lambda vid: Response(200, payload(vid)))),
    Case("200 gzip-encoded JSON", "added",
         script=raw200(lambda vid: gzip.compress(body_of(vid)), {"Content-Encoding": "gzip"})),
    Case("503 then 200", "added", (2, 2), (0.5,),
         script=sequence(Response(503, "x"), lambda vid: Response(200, payload(vid)))),
]


def run_case(case: Case, env: dict[str, str], version_id: int, fake: FakeCivitai) -> None:
    if case.url:
        env = dict(env, CATALOG_HOST_CIVITAI_URL=case.url)
    started = time.monotonic()
    case.reply = in_process(env, frame({"op": "add", "version_id": version_id})[4:])
    case.elapsed = time.monotonic() - started
    case.seen = [r.time for r in fake.requests_for(version_id)]


@pytest.mark.stress
def test_civitai_faults(host_env, civitai):
    host_env.write_catalogs(*studio_catalogs())
    before = host_env.snapshot()
    threads = []
    envs = {}
    for number, case in enumerate(CASES):
        version_id = 7_700_000 + number
        env = host_env.env
        if case.code == "added":  # these change their catalog: give them their own
            sub = sub_env(host_env, f"case{number}")
            sub.write_catalogs(*studio_catalogs())
            envs[number] = sub
            env = sub.env
        if case.script:
            case.script(civitai, version_id)
        threads.append(threading.Thread(target=run_case, args=(case, env, version_id, civitai)))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND_S + 20)
    elapsed = time.monotonic() - started

    problems = []
    for number, case in enumerate(CASES):
        reply = case.reply
        if not reply:
            problems.append(f"{case.name}: no answer within {BOUND_S + 20} s")
            continue
        got = reply["result"]["status"] if reply["ok"] else reply["error"]["code"]
        if got != case.code:
            problems.append(f"{case.name}: {got} ({reply}) instead of {case.code}")
        if case.status is not None and not reply["ok"] and reply["error"].get("status") != case.status:
            problems.append(f"{case.name}: status {reply['error'].get('status')} instead of {case.status}")
        if case.elapsed > BOUND_S:
            problems.append(f"{case.name}: took {case.elapsed:.1f} s")
        if case.requests is not None:
            low, high = case.requests
            if not low <= len(case.seen) <= high:
                problems.append(f"{case.name}: CivitAI saw {len(case.seen)} requests, not {low}..{high}")
        for gap, least in zip((b - a for a, b in zip(case.seen, case.seen[1:])), case.gaps):
            if gap < least - 0.1:
                problems.append(f"{case.name}: retried after {gap:.2f} s, before {least} s")
        if case.code == "added":
            models = strict_json(envs[number].models_json.read_bytes())
            assert models["version"] == 42
    assert host_env.snapshot() == before, "a CivitAI failure changed the catalog"
    assert not [p.name for p in host_env.catalog_dir.iterdir() if p.name.endswith((".bak", ".tmp"))]
    slowest = max(CASES, key=lambda c: c.elapsed)
    assert not problems, "\n".join(problems)
    figure(f"CivitAI faults: {len(CASES)} cases run at once in {elapsed:.1f} s (slowest: {slowest.name}, "
           f"{slowest.elapsed:.1f} s); every one its documented code, retries only for 429/5xx; "
           f"catalog changed 0 times by a failure")


def test_a_drip_is_cut_at_the_budget_plus_at_most_one_read_timeout(host_env, civitai, monkeypatch):
    """The bound behind the 25 s budget, at a small scale: a body that drips one byte just
    inside the read timeout is cut within budget + one read timeout, not when it ends."""
    import host.civitai.client as client

    monkeypatch.setattr(client, "TOTAL_BUDGET_S", 2.0)
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 1.0)
    civitai.set_response(7_799_001, 200, payload(7_799_001), drip=(1, 0.9))  # ~40 minutes in all
    before = host_env.snapshot()
    started = time.monotonic()
    error = host_env.error("add", version_id=7_799_001)
    assert error["code"] == "civitai_unreachable"
    assert time.monotonic() - started < 2.0 + 1.0 + 3.0  # budget + one read timeout + slack
    assert host_env.snapshot() == before


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(alphabet=st.characters(max_codepoint=255)), st.from_regex(r"\s*\d{1,30}\s*"),
                 st.builds(lambda s: "Mon, 01 Jan " + s, st.text(alphabet=st.characters(max_codepoint=255)))))
def test_any_retry_after_header_is_a_wait_or_nothing(value):
    """Header values arrive as latin-1 text from whoever answers: never an exception."""
    from host.civitai.http_rules import retry_after

    wait = retry_after(value)
    assert wait is None or wait >= 0


@pytest.mark.parametrize("where", ["catalog", "indexed entry", "civitai"])
def test_a_lone_surrogate_escape_never_breaks_a_write(host_env, civitai, where):
    """JSON may escape half a surrogate pair ("\\ud800"): Python's json.dump writes one for
    such a string, and CivitAI's JSON can carry one. Neither may turn a write into an
    internal error (nothing could ever be added to that catalog again), lose the value, or
    stop lookups from answering."""
    models, loras = studio_catalogs()
    if where == "catalog":  # a field the index does not hold
        models["categories"][0]["models"][0]["name"] = "Wan \ud800 half a pair"
    elif where == "indexed entry":  # the name of a CivitAI entry: lookup reports it
        models["categories"][1]["models"][0]["name"] = "DreamShaper \ud800 half a pair"
    host_env.catalog_dir.mkdir()
    host_env.models_json.write_bytes(json.dumps(models, indent=2).encode())  # json.dump's style: \u escapes
    host_env.loras_json.write_bytes(json.dumps(loras, indent=2).encode())
    version_id = 7_950_001
    body = json.dumps(payload(version_id)).encode()
    if where == "civitai":
        body = body.replace(b'"name": "v1.0"', b'"name": "v1.0 \\udc80 broken"')
    civitai.set_response(version_id, 200, body)
    reply = host_env.call("add", version_id=version_id)
    saved = strict_json(host_env.models_json.read_bytes())
    assert saved["version"] == models["version"] + 1, "the write itself must go through"
    assert reply["ok"] and reply["result"]["status"] == "added", reply
    if where == "catalog":
        assert saved["categories"][0]["models"][0]["name"] == "Wan \ud800 half a pair"
    for vid in (128713, version_id):
        found = host_env.ok("lookup", version_ids=[vid])["by_version"][str(vid)]
        assert found["catalog"] == "models"
    assert host_env.ok("promote", version_id=200001)["status"] == "promoted"  # and the next write too
