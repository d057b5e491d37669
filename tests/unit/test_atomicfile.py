"""host.atomicfile: the guarantees its docstring states, on real files."""

from __future__ import annotations

import os

import pytest

from host.atomicfile import write_atomically


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_replaces_the_content_and_keeps_the_mode_of_the_replaced_file(tmp_path):
    path = tmp_path / "models.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_a_new_file_gets_the_umask_permissions_and_an_explicit_mode_wins(tmp_path):
    umask = os.umask(0o027)
    try:
        write_atomically(tmp_path / "a", b"x")
        write_atomically(tmp_path / "b", b"x", 0o755)
    finally:
        os.umask(umask)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o755


def test_a_failure_leaves_the_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_a_symlink_is_replaced_not_followed(tmp_path):
    target = tmp_path / "real.json"
    target.write_bytes(b"target")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomically(link, b"new", durable=False)
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert target.read_bytes() == b"target"


def test_temp_names_are_hidden_beside_the_file(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(os.path.basename(src)), real_replace(src, dst)))
    write_atomically(tmp_path / "models.json", b"1")
    write_atomically(tmp_path / ".catalog-host-index", b"2")
    assert seen[0].startswith(".models.json.") and seen[0].endswith(".tmp")
    assert seen[1].startswith(".catalog-host-index.") and not seen[1].startswith("..")


def test_before_rename_runs_once_the_data_is_written_and_a_failure_there_changes_nothing(tmp_path):
    path = tmp_path / "models.json"
    path.write_bytes(b"old")
    seen = []

    def step():  # the new data is complete in the temp file, `path` not yet replaced
        (temp,) = leftovers(tmp_path)
        seen.append(((tmp_path / temp).read_bytes(), path.read_bytes()))

    write_atomically(path, b"new", before_rename=step)
    assert seen == [(b"new", b"old")] and path.read_bytes() == b"new"

    def refuse():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(path, b"newer", before_rename=refuse)
    assert path.read_bytes() == b"new"
    assert leftovers(tmp_path) == []
