"""The model library: one stored path per model role of every architecture in the task table.

Roles come from `server.training.task_types.TASK_TYPES` (each type's `ModelFile` entries), never
from a list of our own. How they map to stored paths ("slots"):

- A role read by a caching stage (VAE, text encoders, CLIP) is shared by every task type that runs the
  same caching script: Qwen-Image and Qwen-Image-Edit use one VAE slot, Wan 2.1 and 2.2 one T5 slot.
  Slot id: `<first task type with that script>.<role>`, e.g. `qwen-image-lora.vae`.
- A role only the training stage reads (the DiT, Wan 2.2's high-noise DiT) belongs to its task type,
  and to each variant when the type has several (Qwen-Image-Edit 2509 and 2511 are different DiTs):
  `kontext-lora.dit`, `qwen-image-edit-lora@edit-2511.dit`.
- Any role may also be set for one variant only, `<type>@<variant>.<role>` (FLUX.2 dev and klein use
  different text encoders); the variant's slot wins over the shared one.

Paths live in the setting `model_library` ({slot id: absolute path}).

`defaults(store, task_type, variant)` -> {role: path} is what the create-task form pre-fills
(GET /api/models/defaults?task_type=...&variant=...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .. import settings
from ..errors import NotFound, ValidationError
from ..paths import user_path
from ..training import task_types as tt

SETTING = "model_library"


@dataclass(frozen=True)
class Role:
    task_type: str
    key: str
    required: bool
    shared_slot: str | None        # slot for every variant (None: per-variant slots only)
    variants: tuple[str, ...]      # variants this role applies to
    stages: tuple[str, ...]
    per_variant: bool              # the UI shows one field per variant

    def slot_for(self, variant: str) -> str:
        return variant_slot(self.task_type, variant, self.key)


def variant_slot(task_type: str, variant: str, role: str) -> str:
    return f"{task_type}@{variant}.{role}"


def _share_stage(m: tt.ModelFile) -> str | None:
    for stage in tt.STAGES:
        if stage != "train" and stage in m.flags:
            return stage
    return None


def roles() -> list[Role]:
    owners: dict[tuple[str, str], str] = {}
    out = []
    for ttype in tt.TASK_TYPES.values():
        for m in ttype.models:
            variants = tuple(v.key for v in ttype.variants
                             if any(m.applies(v.key, e) for e in (None, "both", "low", "high")))
            stage = _share_stage(m)
            if stage:
                owner = owners.setdefault((ttype.scripts[stage], m.key), ttype.id)
                shared, per_variant = f"{owner}.{m.key}", False
            elif len(ttype.variants) == 1:
                shared, per_variant = f"{ttype.id}.{m.key}", False
            else:
                shared, per_variant = None, True
            out.append(Role(ttype.id, m.key, m.required, shared, variants, tuple(m.flags), per_variant))
    return out


def _roles_of(task_type: str) -> list[Role]:
    tt.get(task_type)  # NotFound for an unknown type
    return [r for r in roles() if r.task_type == task_type]


def slot_ids() -> set[str]:
    ids = set()
    for r in roles():
        if r.shared_slot:
            ids.add(r.shared_slot)
        ids.update(r.slot_for(v) for v in r.variants)
    return ids


def validate_paths(value) -> dict:
    """Validator of the `model_library` setting."""
    if not isinstance(value, dict):
        raise ValueError("must be an object of slot: path")
    known = slot_ids()
    out = {}
    for slot, path in value.items():
        if slot not in known:
            raise ValueError(f"has no model slot '{slot}'")
        if path in (None, ""):
            continue
        if not isinstance(path, str):
            raise ValueError(f"{slot} must be a file path")
        path = user_path(path)
        if path and not os.path.isabs(path):
            raise ValueError(f"{slot} must be an absolute path")
        if path:
            out[slot] = path
    return out



# Edited by the settings page's model library section (ModelLibrary.svelte, /api/models), not a generic field.
settings.register(settings.Setting(SETTING, "object", {}, validate_paths, group="models"))

def stored(store) -> dict[str, str]:
    return dict(store.get_setting(SETTING, {}) or {})


def set_paths(store, changes: dict) -> dict[str, str]:
    """Merge {slot: path or ""} into the stored library ("" removes)."""
    if not isinstance(changes, dict):
        raise ValidationError("Send an object of slot: path.", field=SETTING)
    current = stored(store)
    for slot, path in changes.items():
        if path in (None, ""):
            current.pop(slot, None)
        else:
            current[slot] = path
    try:
        cleaned = validate_paths(current)
    except ValueError as exc:
        raise ValidationError(f"Model library {exc}.", field=SETTING) from None
    settings.update(store, {SETTING: cleaned})
    return cleaned


def resolve(paths: dict[str, str], role: Role, variant: str) -> tuple[str, str | None]:
    """(path, slot it came from) for `role` in `variant`; ("", None) when nothing is set."""
    for slot in (role.slot_for(variant), role.shared_slot):
        if slot and paths.get(slot):
            return paths[slot], slot
    return "", None


def defaults(store, task_type: str, variant: str | None = None, *, with_checks: bool = False) -> dict:
    ttype = tt.get(task_type)
    try:
        variant = ttype.variant(variant).key
    except KeyError:
        raise NotFound(f"{task_type} has no variant '{variant}'.", code="unknown_variant") from None
    paths = stored(store)
    models, sources, checks = {}, {}, {}
    for r in _roles_of(task_type):
        if variant not in r.variants:
            continue
        path, slot = resolve(paths, r, variant)
        if not path:
            continue
        models[r.key] = path
        sources[r.key] = slot
        if with_checks:
            from .checks import check_file

            result = check_file(path, task_type, r.key)
            checks[r.key] = {"status": result["status"], "problems": result["problems"]}
    body = {"task_type": task_type, "variant": variant, "models": models, "sources": sources}
    if with_checks:
        body["checks"] = checks
    return body


def all_defaults(store) -> dict:
    return {t.id: {v.key: defaults(store, t.id, v.key)["models"] for v in t.variants} for t in tt.TASK_TYPES.values()}


def library(store, *, check: bool = True) -> dict:
    """Everything the settings page shows: per task type its variants and roles, each slot's path and check."""
    from .checks import check_file

    paths = stored(store)
    cache: dict[tuple, dict] = {}

    def checked(path, task_type, role):
        if not path or not check:
            return None
        key = (path, task_type, role)
        if key not in cache:
            cache[key] = check_file(path, task_type, role)
        return cache[key]

    types = []
    for ttype in tt.TASK_TYPES.values():
        entries = []
        for r in _roles_of(ttype.id):
            shared_path = paths.get(r.shared_slot, "") if r.shared_slot else ""
            per_variant = {}
            for v in r.variants:
                slot = r.slot_for(v)
                own = paths.get(slot, "")
                per_variant[v] = {"slot": slot, "path": own, "check": checked(own, ttype.id, r.key)}
            entries.append({
                "role": r.key, "required": r.required, "stages": list(r.stages), "per_variant": r.per_variant,
                "variants": list(r.variants),
                "shared": ({"slot": r.shared_slot, "path": shared_path,
                            "check": checked(shared_path, ttype.id, r.key),
                            "owner": r.shared_slot.split(".", 1)[0]} if r.shared_slot else None),
                "by_variant": per_variant,
            })
        types.append({"id": ttype.id, "variants": [v.key for v in ttype.variants], "roles": entries})
    return {"types": types, "paths": paths}
