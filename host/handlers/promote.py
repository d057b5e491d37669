"""`promote`: move a LoRA entry from models.json to the style-LoRA catalog (loras.json).

Both files are saved under one lock, loras.json first: a crash between the two writes leaves
the entry in both (never in neither), and the next promote of that version removes the
leftover from models.json.
"""

from __future__ import annotations

from host.catalog import document
from host.catalog.paths import dest_parts
from host.catalog.transaction import transaction
from host.catalog.views import base_model_of, reply_safe
from host.civitai.routing import lora_category
from host.context import Context
from host.errors import NotALoraError, NotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

def is_lora(entry: dict[str, Any]) -> bool:
    dest = entry.get("dest")
    return isinstance(dest, str) and dest_parts(dest)[:1] == ["loras"]


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    version_id: str = params["version_id"]
    with transaction(context.settings.catalog_dir, context.after_reply) as txn:
        models, loras = txn.docs["models"], txn.docs["loras"]
        in_models = document.find_by_version(models, version_id)
        in_loras = document.find_by_version(loras, version_id)
        if in_models is None:
            if in_loras is not None:
                category, entry = in_loras
                return {"status": "already_exists", "file": reply_safe(entry.get("file")),
                        "category": reply_safe(category.get("id"))}
            raise NotFoundError(f"version {version_id} is not in models.json", version_id=version_id)
        _, entry = in_models
        if in_loras is not None:
            # finish a promote that was cut between its two writes
            document.remove_entries(models, [entry])
            txn.mark_changed("models")
            category_id = in_loras[0].get("id")
        else:
            if not is_lora(entry):
                raise NotALoraError(
                    f"version {version_id} is in {reply_safe(entry.get('dest'))!r}, not a LoRA folder "
                    "('loras' or below it)",
                    version_id=version_id,
                )
            category_id, category_name = lora_category(base_model_of(entry))
            document.append_entry(loras, category_id, category_name, entry)
            txn.mark_changed("loras")  # destination first: never lose the entry
            document.remove_entries(models, [entry])
            txn.mark_changed("models")
    # catalog text of any length: bounded like a record's (the change is saved already, and a
    # reply over Chrome's limit would tell the person it failed)
    return {"status": "promoted", "file": reply_safe(entry.get("file")), "category": reply_safe(category_id)}
