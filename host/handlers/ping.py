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


# What the model folders and the YAML problems may take in a ping reply (YAML files can list
# any number of paths): ComfyUI's own ~25 names with a few folders each take ~5 KB.
MODEL_FOLDERS_BUDGET_BYTES = 128 * 1024
MAX_PATHS_PROBLEMS = 20


def _model_folders_report(context: Context) -> dict[str, Any]:
    """The folders ComfyUI searches per folder name (main models folder and extra_model_paths),
    when ComfyUI's folder or extra paths are configured; without them every folder is
    `<models_dir>/<name>` and ping stays as light as it was. Bounded: the first folders that fit
    MODEL_FOLDERS_BUDGET_BYTES, the first MAX_PATHS_PROBLEMS problems (cut as record text is),
    and how many of each were left out."""
    settings = context.settings
    if settings.comfyui_dir is None and not settings.extra_model_paths:
        return {}
    from host.disk.folders import load_folders
    from host.reply_budget import bounded, fit_folders

    folders = load_folders(settings)
    shown, left_out = fit_folders(folders.describe(), MODEL_FOLDERS_BUDGET_BYTES)
    report: dict[str, Any] = {"model_folders": shown}
    if left_out:
        report["model_folders_left_out"] = left_out
    if folders.problems:
        report["model_paths_problems"] = bounded(folders.problems[:MAX_PATHS_PROBLEMS])
        if len(folders.problems) > MAX_PATHS_PROBLEMS:
            report["model_paths_problems_left_out"] = len(folders.problems) - MAX_PATHS_PROBLEMS
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
