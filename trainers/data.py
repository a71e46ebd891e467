"""Training/evaluation data: ReXrank-style JSON (+ image root) or CSV/JSONL/Parquet → prompt records.

Each record has ``study_id``, ``reference`` (the reward target), ``text`` (the user turn: the
indication / comparison context and, longitudinally, the prior report), ``image_paths`` (the current
study's films, then up to ``max_prior_images`` films of the prior study) and ``n_prior_images``.

The schema, one study per row (a ReXrank JSON object keyed by study id, or a table):

- ``section_findings`` / ``findings`` (the reference for ``target: findings``), ``section_impression`` /
  ``impression``, or ``report``;
- ``context`` (or ``indication`` and ``comparison``);
- ``key_image_path`` and ``image_path`` (a list, or a comma-separated string): paths under
  ``data.image_root``;
- optional, longitudinal: the prior report in the column ``data.prior_column`` names, and the prior
  study's films in ``prior_image_path``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError, InputError
from trainers.config import DataConfig

_FINDINGS = ("section_findings", "findings")
_IMPRESSION = ("section_impression", "impression")
_CONTEXT = ("context",)
_IMAGES = ("image_path", "image_paths", "images", "image")
_KEY_IMAGE = ("key_image_path",)
_PRIOR_IMAGES = ("prior_image_path", "prior_image_paths", "prior_images")
#: ``data.image_root: shared:images`` = ``images`` under the project's shared data folder.
SHARED_PREFIX = "shared:"


def shared_data_root() -> Path:
    """The project's shared data folder (``data/`` in it): ``$REXEVAL_SHARED``, else ``../shared`` beside
    the checkout, as the tests find it."""
    base = os.environ.get("REXEVAL_SHARED") or Path(__file__).resolve().parents[1].parent / "shared"
    return Path(base) / "data"


def resolve_image_root(value: str) -> Path:
    """``data.image_root`` as a folder; ``shared:SUB`` is read in place under the shared data folder."""
    if not value.startswith(SHARED_PREFIX):
        return Path(value)
    root = shared_data_root() / value[len(SHARED_PREFIX) :]
    if not root.is_dir():
        raise InputError(
            f"image_root {value}: no folder {root} (set REXEVAL_SHARED to the folder holding data/, "
            "or put the shared data folder beside the checkout)"
        )
    return root


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    lower = {str(k).lower(): v for k, v in row.items()}
    for n in names:
        if lower.get(n) not in (None, ""):
            return lower[n]
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except json.JSONDecodeError:
            pass
    return [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"not readable JSON ({exc})", path=str(path)) from None
        if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            return [{"study_id": k, **v} for k, v in data.items()]  # ReXrank: {study_id: {...}}
        if isinstance(data, list) and all(isinstance(v, dict) for v in data):
            return data
        raise InputError(
            "JSON must be an object keyed by study id or a list of records", path=str(path)
        )
    from rexeval.base.io import ROW, read_table

    frame = read_table(path)
    return [{k: v for k, v in rec.items() if k != ROW} for rec in frame.to_dict(orient="records")]


def reference_of(row: dict[str, Any], target: str) -> str | None:
    from rexeval.base.align import build_reference

    if target == "findings":
        return _first(row, _FINDINGS) or _first(row, ("reference", "report"))
    if target == "findings-impression":
        f, i = _first(row, _FINDINGS), _first(row, _IMPRESSION)
        return (
            build_reference(f, i, "findings-impression")
            if (f or i)
            else _first(row, ("report", "reference"))
        )
    return row.get(target)


def prompt_text(row: dict[str, Any], cfg: DataConfig, n_prior_images: int = 0) -> str:
    parts = []
    context = _first(row, _CONTEXT)
    if context is None:
        ind, comp = _first(row, ("indication",)), _first(row, ("comparison",))
        context = " ".join(
            x
            for x in (f"Indication: {ind}." if ind else "", f"Comparison: {comp}." if comp else "")
            if x
        )
    if context:
        parts.append(str(context))
    if cfg.prior_column:
        prior = row.get(cfg.prior_column)
        parts.append(f"Prior report: {prior}" if prior else "Prior report: none.")
    if n_prior_images:
        # every image comes before the text (TRL puts them there): say which films are the prior's
        if n_prior_images == 1:
            parts.append("The last film is from the prior study.")
        else:
            parts.append(f"The last {n_prior_images} films are from the prior study.")
    parts.append(cfg.instruction)
    return "\n".join(parts)


def load_records(
    cfg: DataConfig, path: str | None = None, need_reference: bool = True
) -> list[dict[str, Any]]:
    p = Path(path or cfg.path)
    if not p.exists():
        raise InputError("data file not found", path=str(p))
    excluded: set[str] = set()
    if cfg.exclude_ids:
        excluded = {
            line.strip() for line in Path(cfg.exclude_ids).read_text().splitlines() if line.strip()
        }
    if cfg.max_images < 0 or cfg.max_prior_images < 0:
        raise ConfigError("data.max_images and data.max_prior_images must be whole numbers >= 0")
    root = resolve_image_root(str(cfg.image_root)) if cfg.image_root is not None else None
    out = []
    for i, row in enumerate(_rows(p)):
        sid = str(_first(row, ("study_id", "id")) or i)
        if sid in excluded:
            continue
        ref = reference_of(row, cfg.target)
        if need_reference and not ref:
            continue  # nothing to reward against
        images = _as_list(_first(row, _KEY_IMAGE)) + _as_list(_first(row, _IMAGES))
        images = list(dict.fromkeys(images))[: cfg.max_images]
        prior_images = list(dict.fromkeys(_as_list(_first(row, _PRIOR_IMAGES))))
        prior_images = prior_images[: cfg.max_prior_images]
        if root is not None:
            images = [str(root / im) for im in images + prior_images]
            missing = [im for im in images if not Path(im).exists()]
            if missing:
                raise InputError(f"image not found: {missing[0]}", path=str(p), row=i, study_id=sid)
        else:
            images, prior_images = [], []
        out.append(
            {
                "study_id": sid,
                "reference": " ".join(str(ref).split()) if ref else "",
                "text": prompt_text(row, cfg, len(prior_images)),
                "image_paths": images,
                "n_prior_images": len(prior_images),
                "prior": str(row.get(cfg.prior_column) or "") if cfg.prior_column else "",
                "indication": str(_first(row, _CONTEXT) or _first(row, ("indication",)) or ""),
            }
        )
        if cfg.limit and len(out) >= cfg.limit:
            break
    if not out:
        raise InputError("no usable studies (each needs a reference text)", path=str(p))
    return out


def messages(record: dict[str, Any], cfg: DataConfig, vlm: bool) -> list[dict[str, Any]]:
    """Chat prompt. For a VLM with images the user turn is a parts list with one image part per image."""
    msgs: list[dict[str, Any]] = []
    if cfg.system_prompt:
        msgs.append({"role": "system", "content": cfg.system_prompt})
    if vlm and record["image_paths"]:
        content = [{"type": "image"} for _ in record["image_paths"]] + [
            {"type": "text", "text": record["text"]}
        ]
        msgs.append({"role": "user", "content": content})
    else:
        msgs.append({"role": "user", "content": record["text"]})
    return msgs


def to_dataset(
    records: list[dict[str, Any]], cfg: DataConfig, vlm: bool, with_completion: bool = False
):
    """A ``datasets.Dataset`` with prompt (messages), reference, study_id, prior [, images][, completion]."""
    from datasets import Dataset, Image, Sequence

    rows = []
    for r in records:
        row = {
            "prompt": messages(r, cfg, vlm and bool(r["image_paths"])),
            "reference": r["reference"],
            "study_id": r["study_id"],
        }
        if cfg.prior_column:
            row["prior"] = r["prior"]
        if vlm and r["image_paths"]:
            row["images"] = r["image_paths"]
            # TRL inserts the images itself into string-content prompts
            row["prompt"] = [
                m if m["role"] != "user" else {"role": "user", "content": r["text"]}
                for m in row["prompt"]
            ]
        if with_completion:
            row["completion"] = [{"role": "assistant", "content": r["reference"]}]
        rows.append(row)
    ds = Dataset.from_list(rows)
    if "images" in ds.column_names:
        ds = ds.cast_column("images", Sequence(Image()))
    return ds
