"""Hostile names and paths: nothing outside the catalog and models folders is ever read,
created or changed.

File names and dests that try to escape reach the host three ways: in CivitAI's answer (the
file name `add` would catalog), in a message (`remove {file, dest}`), and in a catalog file
(an entry whose dest or file is hostile, or whose dest folder is a symlink to elsewhere).
Everything runs through one real host process under an audit hook (PEP 578, see
hostwrap.py) that logs every file the host opens (with its mode), creates, renames or
removes, every process it would start and every socket it opens; then the log is checked
against the folders the host may use, and a sentinel tree outside them against its bytes.

On symlinks: SPEC §4 has the host follow them on purpose (people symlink model folders to
other disks), so an entry whose dest folder is a symlink is reported `present` when its
file is there. That costs one stat(); the file is never opened, created, changed or
deleted (remove refuses with file_on_disk), which is what the audit log proves.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.stress.helpers import (
    STUB_ORIGIN,
    figure,
    run_host,
    strict_frames,
    synth_version,
)
from tests.support.catalogs import civitai_entry, studio_catalogs
from tests.support.fake_civitai import fixture_names, load_fixture
from tests.support.frames import frame

pytestmark = pytest.mark.stress

ROOT = Path(__file__).resolve().parents[2]

ESCAPES = [
    "..", ".", "...", "../x.safetensors", "..\\x.safetensors", "a/b.safetensors", "a\\b.safetensors",
    "/etc/passwd", "\\\\server\\share\\x", "\\\\?\\C:\\x", "C:x.safetensors", "c:", "C:\\x", "C:/x",
    "x\x00.safetensors", "\x00", "x\x07", "x\x7f", "x\x85y", "x\r\n", "x\t", "x:stream", "x*?.safetensors",
    "CON", "con.safetensors", "NUL.txt", "aux.tar.gz", "COM1", "com9.bin", "LPT1.safetensors",
    "COM\u00b9.safetensors", "name.", "name ", " ", "x" * 256, "é" * 128, "x/", "/",
]
DEST_ESCAPES = [
    "..", "../outside", "loras/../../outside", "loras/..", "/etc", "/", "//server/share",
    "loras\\..\\..", "C:", "C:/x", "c:\\x", "loras/", "/loras", "loras//x", "a/./b", "CON/x", "loras/nul",
    "x\x00", "\x00", "loras ", "loras.", "a" * 2000,
]


def tree(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = ("link", os.readlink(path))
        elif path.is_file():
            out[key] = (st.st_size, st.st_mtime_ns, path.read_bytes())
        else:
            out[key] = ("dir", st.st_mtime_ns)
    return out


def hostile_world(host_env: Any, civitai: Any) -> tuple[list[dict[str, Any]], list[str], Path]:
    """Catalogs, folders and CivitAI answers that all try to get out; the requests to send."""
    outside = host_env.root / "outside"
    (outside / "loras").mkdir(parents=True)
    (outside / "secret.safetensors").write_bytes(b"do not touch")
    (outside / "loras" / "linked.safetensors").write_bytes(b"model on another disk")
    (outside / "etc").mkdir()
    (outside / "etc" / "passwd").write_bytes(b"root:x:0:0")
    # a dest folder inside the models dir that is a symlink to a folder outside it
    (host_env.models_dir / "loras").mkdir()
    os.symlink(outside / "loras", host_env.models_dir / "loras" / "elsewhere")
    os.symlink(outside / "secret.safetensors", host_env.models_dir / "loras" / "secret_link.safetensors")

    models, loras = studio_catalogs()
    rel_out = os.path.relpath(outside, host_env.models_dir)
    models["categories"].append({"id": "hostile", "name": "Hostile", "models": [
        civitai_entry(8_800_001, 1, "secret.safetensors", rel_out),  # dest "../outside"
        civitai_entry(8_800_002, 1, f"../{rel_out}/secret.safetensors", "loras"),
        civitai_entry(8_800_003, 1, "passwd", str(outside / "etc")),  # absolute dest
        civitai_entry(8_800_004, 1, "linked.safetensors", "loras/elsewhere"),  # symlinked folder
        civitai_entry(8_800_005, 1, "secret_link.safetensors", "loras"),  # symlinked file
        civitai_entry(8_800_006, 1, "x.safetensors", "loras\\..\\..\\outside"),
        civitai_entry(8_800_007, 1, "CON", "loras"),
    ]})
    host_env.write_catalogs(models, loras)

    requests: list[dict[str, Any]] = []
    expected: list[str] = []
    # 1. CivitAI names: the hostile fixtures, then more escapes on a real payload
    for name in fixture_names():
        if name.startswith("hostile_"):
            civitai.add_fixture(name)
            requests.append({"op": "add", "version_id": load_fixture(name)["id"]})
            expected.append("unsafe_filename")
    for number, name in enumerate(ESCAPES):
        version_id = 8_900_000 + number
        civitai.add_version(synth_version("sdxl_lora", version_id, 1, file_name=name))
        requests.append({"op": "add", "version_id": version_id})
        expected.append("unsafe_filename")
    # 2. messages: hostile file names and dests
    for name in ESCAPES:
        requests.append({"op": "remove", "file": name})
        expected.append("unsafe_filename")
    for dest in DEST_ESCAPES:
        requests.append({"op": "remove", "file": "secret.safetensors", "dest": dest})
        expected.append("unsafe_path")
    # 3. catalog entries that point outside: reported missing (never stat'ed outside), and
    #    the ones really on disk through a symlink are refused by remove
    requests.append({"op": "lookup", "version_ids": [8_800_000 + n for n in range(1, 8)]})
    expected.append("lookup")
    requests.append({"op": "map"})
    expected.append("map")
    for file, dest, code in [("linked.safetensors", "loras/elsewhere", "file_on_disk"),
                             ("secret_link.safetensors", "loras", "file_on_disk")]:
        requests.append({"op": "remove", "file": file, "dest": dest})
        expected.append(code)
    return requests, expected, outside


def audit_events(path: Path) -> list[tuple[str, list[Any]]]:
    return [tuple(json.loads(line)) for line in path.read_text("utf-8").splitlines()]  # type: ignore[misc]


def inside(path: str, *roots: Path) -> bool:
    real = os.path.realpath(path)
    return any(real == str(r) or real.startswith(str(r) + os.sep) for r in roots)


WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def test_hostile_names_and_paths_never_leave_the_folders(host_env, civitai):
    requests, expected, outside = hostile_world(host_env, civitai)
    before_outside, before_models = tree(outside), tree(host_env.models_dir)
    before_catalog = host_env.snapshot()
    audit = host_env.root / "audit.jsonl"
    env = dict(host_env.env, STRESS_AUDIT_LOG=str(audit))
    data = b"".join(frame({**request, "id": n}) for n, request in enumerate(requests))
    proc = run_host(env, data, STUB_ORIGIN, wrapped=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    replies = strict_frames(proc.stdout)
    assert [r["id"] for r in replies] == list(range(len(requests)))

    for request, reply, want in zip(requests, replies, expected):
        if want in ("lookup", "map"):
            assert reply["ok"], reply
            records = reply["result"]["by_version"]
            for n in (1, 2, 3, 6, 7):  # unsafe dest or file: missing, whatever is out there
                assert records[str(8_800_000 + n)]["status"] == "missing", (n, records[str(8_800_000 + n)])
            for n in (4, 5):  # symlinks inside the models dir are followed (SPEC §4)
                assert records[str(8_800_000 + n)]["status"] == "present"
        else:
            assert not reply["ok"] and reply["error"]["code"] == want, (request, reply)
    assert host_env.snapshot() == before_catalog, "a refused request changed the catalog"
    assert tree(outside) == before_outside, "a file outside the folders was read, created or changed"
    assert tree(host_env.models_dir) == before_models, "the models folder changed"

    # the audit log: where the host opened, created, renamed, removed; what it started
    log_dir = host_env.root / "home"
    allowed_writes = (host_env.catalog_dir.resolve(), log_dir.resolve())
    allowed_reads = (*allowed_writes, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                     ROOT / "host", host_env.config_path.parent.resolve(), Path("/etc"), Path("/dev"),
                     Path("/proc"), Path("/sys"), Path("/usr"), Path("/lib"))
    events = audit_events(audit)
    problems = []
    for event, args in events:
        paths = [a for a in args[:2] if isinstance(a, str) and (a.startswith("/") or os.sep in a)]
        if any(inside(p, outside) for p in paths):
            problems.append(f"touched outside: {event} {args}")
        if event == "open":
            path, mode, flags = [*args, None, None][:3]
            if not isinstance(path, str) or path.startswith("__editable__"):  # pip's import hook, no file
                continue
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing and not inside(path, *allowed_writes):
                problems.append(f"opened for writing: {args}")
            if not writing and not inside(path, *allowed_reads):
                problems.append(f"opened for reading: {args}")
        elif event in ("os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.link", "os.symlink",
                       "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.move"):
            if not all(inside(p, *allowed_writes) for p in paths):
                problems.append(f"{event} outside the catalog/log folders: {args}")
        elif event in ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen"):
            problems.append(f"{event}: {args}")
        elif event == "socket.bind":  # urllib3 probes IPv6 support by binding ::1 port 0, no listen
            if args[1] not in (["::1", 0], ["127.0.0.1", 0]):
                problems.append(f"{event}: {args}")
        elif event == "socket.connect":
            address = args[1] if len(args) > 1 else None
            if not (isinstance(address, list) and address[:2] == ["127.0.0.1", civitai.port]):
                problems.append(f"connected to {address}")
    assert not problems, "\n".join(problems[:20])
    opened = sum(1 for e, _ in events if e == "open")
    figure(f"hostile names/paths: {len(requests)} requests ({sum(e == 'unsafe_filename' for e in expected)} "
           f"unsafe file names from CivitAI and messages, {len(DEST_ESCAPES)} unsafe dests, 7 hostile catalog "
           f"entries incl. symlinks out of the models dir); {len(events)} audited events ({opened} opens): "
           f"0 outside the catalog/models/log folders, 0 files outside read/created/changed")
