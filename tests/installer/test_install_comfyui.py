"""install --comfyui-dir / --extra-model-paths: what the config file gets (in its own style),
what is refused before anything is written, and what doctor then shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.launcher import Interpreter
from tests.installer.world import FakeWorld

World = Callable[..., FakeWorld]


def comfyui_folder(root: Path) -> Path:
    """A ComfyUI checkout as it lies on disk: main.py, its models folder, its own YAML."""
    comfy = root / "Comfy UI"
    (comfy / "models" / "loras").mkdir(parents=True)
    (comfy / "main.py").write_text("# ComfyUI\n", "utf-8")
    (comfy / "extra_model_paths.yaml").write_text(
        "shared:\n  base_path: ../shared disk\n  loras: style loras\n", "utf-8")
    return comfy


def desktop_yaml(root: Path, name: str = "desktop.yaml") -> Path:
    path = root / "desktop config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"comfyui_desktop:\n  base_path: {root / 'disk3'}\n  checkpoints: ckpt\n"
                    "  unet: |\n    big\n    more\n", "utf-8")
    return path


def read_config(world: FakeWorld) -> dict[str, object]:
    data: dict[str, object] = json.loads(world.machine.config_path.read_text("utf-8"))
    return data


def test_comfyui_dir_and_yaml_files_are_written_and_doctor_shows_the_folders(
    world_factory: World, real_interp: Interpreter, tmp_path: Path
) -> None:
    world = world_factory("linux", interp=real_interp)
    comfy = comfyui_folder(tmp_path)
    desktop = desktop_yaml(tmp_path)
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text(json.dumps(
        {"civitai_api_key": "sk-secret-5678", "my_own": {"a": 1}}, indent=2), "utf-8")

    status, out = world.run("install", "--browser", "chromium", "--comfyui-dir", str(comfy),
                            "--extra-model-paths", str(desktop))
    assert status == 0, out
    assert read_config(world) == {
        "civitai_api_key": "sk-secret-5678", "my_own": {"a": 1},
        "extension_ids": ["jpiddlinckgdlidmojineffgcdpfoacg"],
        "comfyui_dir": str(comfy), "extra_model_paths": [str(desktop)],
        "catalog_dir": str(world.machine.data_dir / "catalogs"),
    }
    assert f"Models:     {comfy / 'models'}\n" in out
    assert f"ComfyUI:    {comfy}\n" in out
    assert f"YAML:       {comfy / 'extra_model_paths.yaml'}, {desktop}\n" in out
    assert ": OK: catalog-host" in out and "Note:" not in out

    status, out = world.run("doctor", "--browser", "chromium")
    assert status == 0, out
    assert f"  comfyui dir      {comfy} (exists)\n" in out
    assert f"models dir       {comfy / 'models'} (exists)" in out
    assert f"model paths      {comfy / 'extra_model_paths.yaml'}, {desktop}" in out
    loras = next(line for line in out.splitlines() if line.strip().startswith("loras "))
    assert f"{comfy / 'models' / 'loras'}; {tmp_path / 'shared disk' / 'style loras'} (absent)" in loras
    unet = next(line for line in out.splitlines() if line.strip().startswith("diffusion_models"))
    assert f"{tmp_path / 'disk3' / 'big'} (absent); {tmp_path / 'disk3' / 'more'} (absent)" in unet
    assert "Result: OK" in out


def test_yaml_files_repeat_or_join_with_the_path_separator_and_replace_the_list(
    world_factory: World, tmp_path: Path
) -> None:
    world = world_factory("linux")
    one, two, three = (desktop_yaml(tmp_path, f"{n}.yaml") for n in ("one", "two", "three"))
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--extra-model-paths", f"{one}:{two}", "--extra-model-paths", str(three),
                            "--extra-model-paths", str(one))
    assert status == 0, out
    assert read_config(world)["extra_model_paths"] == [str(one), str(two), str(three)]
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--extra-model-paths", str(two))
    assert status == 0, out
    assert read_config(world)["extra_model_paths"] == [str(two)]
    # Re-installing without the options keeps what is configured.
    status, out = world.run("install", "--browser", "chromium", "--no-check")
    assert status == 0, out
    assert read_config(world)["extra_model_paths"] == [str(two)]


def test_on_windows_the_list_separator_is_the_semicolon(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("windows")
    one, two = desktop_yaml(tmp_path, "one.yaml"), desktop_yaml(tmp_path, "two.yaml")
    status, out = world.run("install", "--browser", "chrome", "--no-check",
                            "--extra-model-paths", f"{one};{two}")
    assert status == 0, out
    assert read_config(world)["extra_model_paths"] == [str(one), str(two)]


def test_relative_paths_are_saved_absolute(
    world_factory: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = world_factory("linux")
    comfy = comfyui_folder(tmp_path)
    desktop = desktop_yaml(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--comfyui-dir", comfy.name,
                            "--extra-model-paths", str(desktop.relative_to(tmp_path)))
    assert status == 0, out
    config = read_config(world)
    assert config["comfyui_dir"] == str(comfy)
    assert config["extra_model_paths"] == [str(desktop)]


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: ["--comfyui-dir", str(tmp / "no such ComfyUI")], "no such ComfyUI does not exist"),
    (lambda tmp: ["--comfyui-dir", str(tmp / "main.py")], "main.py is not a folder"),
    (lambda tmp: ["--extra-model-paths", str(tmp / "gone.yaml")], "gone.yaml is not a file"),
    (lambda tmp: ["--extra-model-paths", str(tmp / "Comfy UI")], "Comfy UI is not a file"),
    (lambda tmp: ["--extra-model-paths", str(tmp / "broken.yaml")], "broken.yaml is not valid YAML"),
    (lambda tmp: ["--extra-model-paths", str(tmp / "list.yaml")], "the top level must map group"),
    (lambda tmp: ["--extra-model-paths", ":"], "--extra-model-paths names no file"),
])
def test_a_folder_or_yaml_file_that_cannot_be_used_stops_the_install_untouched(
    world_factory: World, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], list[str]], message: str,
) -> None:
    world = world_factory("linux")
    (tmp_path / "main.py").write_text("", "utf-8")
    (tmp_path / "broken.yaml").write_text("loras: [unclosed\n", "utf-8")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", "utf-8")
    (tmp_path / "Comfy UI").mkdir()
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text('{"models_dir": "/m"}', "utf-8")
    before = world.snapshot()
    status, out = world.run("install", "--browser", "chromium", "--no-check", *make(tmp_path))
    assert status == 1, out
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err
    assert world.snapshot() == before


def test_system_install_refuses_them(
    world_factory: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_factory("linux", system_venv=True)
    comfy = comfyui_folder(tmp_path)
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "chromium", "--system", "--no-check",
                          "--comfyui-dir", str(comfy))
    assert status == 1
    assert "--comfyui-dir" in capsys.readouterr().err
    assert world.snapshot() == before


def test_a_configured_models_dir_is_kept_and_said_to_win(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux")
    comfy = comfyui_folder(tmp_path)
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text('{"models_dir": "/elsewhere/models"}', "utf-8")
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--comfyui-dir", str(comfy))
    assert status == 0, out
    assert read_config(world)["models_dir"] == "/elsewhere/models"
    assert "Models:     /elsewhere/models\n" in out
    assert ("Note: models_dir /elsewhere/models in the config file is kept and wins over "
            f"{comfy / 'models'}") in out


def test_a_comfyui_folder_without_models_gets_a_note(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux")
    bare = tmp_path / "not ComfyUI"
    bare.mkdir()
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--comfyui-dir", str(bare))
    assert status == 0, out
    assert f"Note: {bare} has no models folder" in out


def test_dry_run_checks_them_and_writes_nothing(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux")
    comfy = comfyui_folder(tmp_path)
    before = world.snapshot()
    status, out = world.run("install", "--browser", "chromium", "--dry-run",
                            "--comfyui-dir", str(comfy))
    assert status == 0, out
    assert f"ComfyUI:    {comfy}" in out and world.snapshot() == before
    status, _ = world.run("install", "--browser", "chromium", "--dry-run",
                          "--comfyui-dir", str(tmp_path / "typo"))
    assert status == 1 and world.snapshot() == before


# --- the config file keeps its style -------------------------------------------------------------

@pytest.mark.parametrize(("original", "indent", "newline", "final", "bom"), [
    ('{\r\n    "civitai_api_key": "k",\r\n    "models_dir": "/m"\r\n}', "    ", "\r\n", False, False),
    ('\ufeff{\n\t"models_dir": "/m"\n}\n', "\t", "\n", True, True),
    ('{"models_dir": "/m"}', None, "\n", False, False),
    ('{}\r\n', "  ", "\r\n", True, False),
    ('{\n  "models_dir": "/m"\n}\n', "  ", "\n", True, False),
])
def test_the_config_file_is_written_back_in_its_own_style(
    world_factory: World, tmp_path: Path, original: str, indent: str | None, newline: str,
    final: bool, bom: bool,
) -> None:
    world = world_factory("linux")
    comfy = comfyui_folder(tmp_path)
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_bytes(original.encode("utf-8"))
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--comfyui-dir", str(comfy))
    assert status == 0, out
    raw = world.machine.config_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") is bom
    text = raw.decode("utf-8-sig")
    config = json.loads(text)
    expected = json.dumps(config, indent=indent, ensure_ascii=False) + ("\n" if final else "")
    assert text == expected.replace("\n", newline)
    assert config["comfyui_dir"] == str(comfy) and config.get("models_dir", "/m") == "/m"
    # The person's lines are unchanged: what was there is a prefix of what is there.
    old_lines = original.lstrip("\ufeff").rstrip("\r\n").split(newline)
    kept = max(len(old_lines) - 2, 0)  # all but the last key's line and the closing brace
    assert text.split(newline)[:kept] == old_lines[:kept]
