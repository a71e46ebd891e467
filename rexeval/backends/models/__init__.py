"""Model management: where every model's weights are looked up, and how to get them.

One :class:`ModelSpec` per model. :func:`resolve` looks, in order, at an explicit path (a flag or the
spec's environment variable) and at the Hugging Face cache (hub id, pinned revision if any, else the
cached ``main``). It never touches the network: a missing model raises
:class:`~rexeval.base.exceptions.MetricUnavailable` at once with the exact fix, so a metric is skipped instead of
hanging on retries. ``rexeval models download`` is the only code path that downloads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rexeval.base.exceptions import MetricUnavailable, install_hint


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from and what must be on disk for it to count as present."""

    name: str
    hub_id: str
    env_var: str
    #: Files (relative to the model folder) that must exist. A single-file checkpoint lists that file.
    files: tuple[str, ...]
    used_by: tuple[str, ...]
    revision: str | None = None
    #: For checkpoints inside a hub repo's subfolder (e.g. ``chexbert.pth`` in StanfordAIMI/RRG_scorers).
    subfolder: str = ""
    licence: str = ""
    note: str = ""
    extra_hub_files: tuple[str, ...] = field(default=())

    @property
    def fix(self) -> str:
        rev = f" --revision {self.revision}" if self.revision else ""
        return (
            f"run `rexeval models download {self.name}` on a machine with internet (hub id {self.hub_id}{rev}; "
            f"files {', '.join(self.files)}), or point {self.env_var} at a folder holding them"
        )


#: Every model rexeval can use, by name. Metric modules add theirs with :func:`register_model`.
MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.name] = spec
    return spec


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, honouring HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE and HF_HOME."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface"
    )
    return Path(home) / "hub"


def _has_files(folder: Path, files: tuple[str, ...]) -> bool:
    return folder.is_dir() and all((folder / f).exists() for f in files)


@dataclass(frozen=True)
class Resolved:
    """A model found on disk: the folder to load from, how it was found, and the revision."""

    spec: ModelSpec
    path: Path
    source: str  # "path", "env", "hf-cache"
    revision: str | None

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def tag(self) -> str:
        """Short provenance for signatures: ``hub_id@revision`` or ``local:<folder name>``."""
        if self.source == "hf-cache":
            return f"{self.spec.hub_id}@{(self.revision or 'unknown')[:12]}"
        return f"local:{self.path.name}"


def _from_hf_cache(spec: ModelSpec) -> Resolved | None:
    repo = hf_cache_dir() / f"models--{spec.hub_id.replace('/', '--')}"
    if not repo.is_dir():
        return None
    snapshots = repo / "snapshots"
    candidates: list[str] = []
    if spec.revision:
        candidates.append(spec.revision)
    ref_main = repo / "refs" / "main"
    if ref_main.is_file():
        candidates.append(ref_main.read_text().strip())
    if snapshots.is_dir():
        candidates.extend(sorted(p.name for p in snapshots.iterdir()))
    for rev in candidates:
        folder = snapshots / rev / spec.subfolder if spec.subfolder else snapshots / rev
        if _has_files(folder, spec.files):
            return Resolved(spec, folder, "hf-cache", rev)
    return None


def where(spec: ModelSpec, explicit: str | Path | None = None) -> list[str]:
    """The places :func:`resolve` looks, in order, as text (for ``rexeval models``)."""
    places = []
    if explicit:
        places.append(f"--model path {explicit}")
    places.append(f"${spec.env_var}" + (f" = {os.environ[spec.env_var]}" if os.environ.get(spec.env_var) else " (unset)"))
    places.append(str(hf_cache_dir() / f"models--{spec.hub_id.replace('/', '--')}"))
    return places


def resolve(name: str | ModelSpec, explicit: str | Path | None = None) -> Resolved:
    """Find a model on disk without any network access, or raise MetricUnavailable with the fix."""
    spec = MODELS[name] if isinstance(name, str) else name
    for source, value in (("path", explicit), ("env", os.environ.get(spec.env_var))):
        if not value:
            continue
        folder = Path(value).expanduser()
        if folder.is_file() and len(spec.files) == 1 and folder.name == spec.files[0]:
            folder = folder.parent
        if not _has_files(folder, spec.files):
            missing = [f for f in spec.files if not (folder / f).exists()]
            label = "given path" if source == "path" else f"${spec.env_var}"
            raise MetricUnavailable(
                f"model {spec.name}: {label} {folder} lacks {', '.join(missing)}",
                spec.fix,
            )
        return Resolved(spec, folder, source, None)
    found = _from_hf_cache(spec)
    if found is not None:
        return found
    raise MetricUnavailable(f"model {spec.name} ({spec.hub_id}) not found locally", spec.fix)


_CHECKED: set[tuple[str, int, int]] = set()


def _check_file(path: Path) -> None:
    """Raise ValueError/OSError when ``path`` is not a whole JSON or safetensors file (headers only)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _CHECKED:
        return
    if path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:  # reads the header and checks that the tensors cover the file exactly; no tensor is read
            with safe_open(str(path), framework="numpy") as handle:
                handle.keys()
        except SafetensorError as exc:
            raise ValueError(str(exc)) from None
    _CHECKED.add(key)


def check_files(found: Resolved) -> None:
    """Cheap check that a resolved model's files are readable, before any metric runs on them.

    JSON files must parse and safetensors files (the spec's, and the shards a ``*.safetensors.index.json``
    names) must have a whole header covering the file. A corrupt or truncated file raises
    MetricUnavailable, so the metric is skipped with one line like a missing model, not failed mid-run.
    """
    names = list(found.spec.files)
    for name in found.spec.files:
        if name.endswith(".safetensors.index.json"):
            try:
                index = json.loads((found.path / name).read_text(encoding="utf-8"))
                names += sorted(set(index.get("weight_map", {}).values()))
            except (OSError, ValueError, AttributeError):
                pass  # reported by the loop below
    for name in names:
        path = found.path / name
        try:
            _check_file(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise MetricUnavailable(
                f"model {found.spec.name}: {path} cannot be read ({str(exc).strip()[:120]})",
                f"the file is corrupt or truncated: delete it and {found.spec.fix}",
            ) from None


def download(name: str, cache_dir: str | Path | None = None) -> Path:
    """Download a model into the HF cache (needs internet and huggingface_hub)."""
    spec = MODELS[name]
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MetricUnavailable("downloading needs huggingface_hub", install_hint("models")) from None
    patterns = [f"{spec.subfolder}/{f}" if spec.subfolder else f for f in spec.files + spec.extra_hub_files]
    try:
        folder = snapshot_download(
            spec.hub_id, revision=spec.revision, cache_dir=str(cache_dir) if cache_dir else None, allow_patterns=patterns
        )
    except Exception as exc:  # noqa: BLE001 - the hub raises connection, HTTP, auth and OS errors alike
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
        raise MetricUnavailable(
            f"cannot download {name} ({spec.hub_id}): {exc.__class__.__name__}: {first}",
            "check the network (proxy, HF_ENDPOINT) and the Hugging Face login, or copy "
            f"{', '.join(spec.files)} from a machine that has them and point {spec.env_var} at that folder",
        ) from None
    return Path(folder)


def auto_device(requested: str | None) -> str:
    """The device a model runs on: ``auto`` (or nothing) means CUDA when torch sees a GPU, else CPU."""
    if requested not in (None, "", "auto"):
        return str(requested)
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def offline_environ(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment (``base`` or ``os.environ``) with the Hub's offline flags, for a child process."""
    env = dict(os.environ if base is None else base)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env




@contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers' own progress bars ("Loading weights") off while a model loads: they would print
    into rexeval's table and progress bar. Restored afterwards, so the user's other code keeps them."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()
