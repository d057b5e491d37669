"""`ping`: who is answering, which folders it uses, and the catalogs' versions."""

from __future__ import annotations

import os

from host import HOST_NAME, PROTOCOL_VERSION, __version__
from host.catalog.summary import read_summary
from host.context import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _models_dir_report(context: Context) -> dict[str, Any]:
    models_dir = context.settings.models_dir
    if models_dir is None:
        return {
            "models_dir": None,
            "models_dir_exists": False,
            "models_dir_problem": "no models folder is configured (set models_dir); "
            "every entry shows as missing",
        }
    exists = os.path.isdir(models_dir)
    report: dict[str, Any] = {"models_dir": models_dir, "models_dir_exists": exists}
    if not exists:
        report["models_dir_problem"] = f"{models_dir} does not exist; every entry shows as missing"
    return report


def _model_folders_report(context: Context) -> dict[str, Any]:
    """The folders ComfyUI searches per folder name (main models folder and extra_model_paths),
    when ComfyUI's folder or extra paths are configured; without them every folder is
    `<models_dir>/<name>` and ping stays as light as it was."""
    settings = context.settings
    if settings.comfyui_dir is None and not settings.extra_model_paths:
        return {}
    from host.disk.folders import load_folders

    folders = load_folders(settings)
    report: dict[str, Any] = {"model_folders": folders.describe()}
    if folders.problems:
        report["model_paths_problems"] = folders.problems
    return report


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    settings = context.settings
    catalogs = read_summary(settings.catalog_dir)
    return {
        "host": "catalog-host",
        "name": HOST_NAME,
        "version": __version__,
        "protocol": PROTOCOL_VERSION,
        "catalog_dir": settings.catalog_dir,
        **_models_dir_report(context),
        **_model_folders_report(context),
        "catalogs": catalogs,
    }
