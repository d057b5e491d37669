"""Run the host exactly as `python -m host` does, with optional test instruments (no host change).

    python tests/stress/hostwrap.py [args as for `python -m host`]

STRESS_SLOW_DISK_S=<seconds>   a slow fake disk: every os.fsync and os.replace (the steps of
                               an atomic catalog write) first sleeps that long. This widens
                               the windows a SIGKILL must hit without any hook in the host.
STRESS_FAIL_FSYNC_AT=<n>       a full disk: the n-th os.fsync raises ENOSPC (1 = the first).
STRESS_AUDIT_LOG=<file>        log every file-system, process and socket audit event
                               (PEP 578) as one JSON line: what the host opened, created,
                               renamed or removed, with which mode.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _slow_disk(seconds: float) -> None:
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        time.sleep(seconds)
        real_fsync(fd)

    def replace(src: str, dst: str, **kwargs: object) -> None:
        time.sleep(seconds)
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]

    os.fsync = fsync
    os.replace = replace  # type: ignore[assignment]


def _fail_fsync(at: int) -> None:
    import errno

    real_fsync = os.fsync
    calls = [0]

    def fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] == at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    os.fsync = fsync


WATCHED = frozenset({
    "open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.link", "os.symlink",
    "os.truncate", "os.chmod", "os.chown", "os.utime", "os.listdir", "os.scandir", "os.chdir",
    "shutil.copyfile", "shutil.move", "shutil.rmtree", "sqlite3.connect", "os.system",
    "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen", "socket.bind",
    "socket.connect", "socket.getaddrinfo",
})


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return repr(value)


def _audit(log_path: str) -> None:
    out = open(log_path, "a", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event in WATCHED:
            out.write(json.dumps([event, [_plain(a) for a in args]]) + "\n")
            out.flush()

    sys.addaudithook(hook)


def main() -> int:
    slow = os.environ.get("STRESS_SLOW_DISK_S")
    if slow:
        _slow_disk(float(slow))
    fail_at = os.environ.get("STRESS_FAIL_FSYNC_AT")
    if fail_at:
        _fail_fsync(int(fail_at))
    audit_log = os.environ.get("STRESS_AUDIT_LOG")
    if audit_log:
        _audit(audit_log)
    from host.cli import main as host_main

    return host_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
