"""Entry status on disk and path containment."""

from __future__ import annotations

import os

from host.catalog.paths import dest_problem, entry_path, file_status


def test_present_missing_and_symlinked_folders(tmp_path):
    models = tmp_path / "models"
    (models / "loras").mkdir(parents=True)
    (models / "loras" / "a.safetensors").write_bytes(b"x")
    elsewhere = tmp_path / "big_disk" / "wan"
    elsewhere.mkdir(parents=True)
    (elsewhere / "w.safetensors").write_bytes(b"x")
    os.symlink(elsewhere, models / "diffusion_models", target_is_directory=True)
    (models / "root.safetensors").write_bytes(b"x")
    (models / "loras" / "folder.safetensors").mkdir()

    assert file_status(models, "loras", "a.safetensors") == "present"
    assert file_status(models, "diffusion_models", "w.safetensors") == "present"  # symlink followed
    assert file_status(models, "", "root.safetensors") == "present"
    assert file_status(models, None, "root.safetensors") == "present"
    assert file_status(models, "loras", "b.safetensors") == "missing"
    assert file_status(models, "loras", "folder.safetensors") == "missing"  # not a regular file
    assert file_status(None, "loras", "a.safetensors") == "missing"
    assert file_status(tmp_path / "nope", "loras", "a.safetensors") == "missing"


def test_unsafe_dest_or_file_is_never_looked_at(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (tmp_path / "secret.safetensors").write_bytes(b"x")
    assert file_status(models, "..", "secret.safetensors") == "missing"
    assert file_status(models, "", "../secret.safetensors") == "missing"
    assert file_status(models, str(tmp_path), "secret.safetensors") == "missing"
    assert entry_path(models, "loras/../..", "x") is None
    assert entry_path(models, "/etc", "passwd") is None
    assert entry_path(models, "loras", 5) is None


def test_dest_rules():
    assert dest_problem("") is None
    assert dest_problem("diffusion_models/WanVideo/2_2") is None
    assert dest_problem("loras\\sub") is None  # written on Windows: the folder loras/sub
    for bad in ("..", "a/../b", "a\\..\\b", "\\abs", "/abs", "a//b", "a\\\\b", "C:", "C:\\x", "a/", "a\\",
                "con", 3, None):
        assert dest_problem(bad) is not None, bad
