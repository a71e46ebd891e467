"""RadGraph F1: ReXrank's ``radgraph_combined`` and the radgraph package's reward levels (docs/metrics.md §5).

Parsing is rexeval's own implementation of the radgraph package's DyGIE++ model
(:mod:`rexeval.backends.radgraph`, torch + transformers 5, batched across reports), checked equal to radgraph 0.1.18
annotation for annotation. rexeval resolves the model archive itself (explicit path,
``$REXEVAL_RADGRAPH_DIR``, or the Hugging Face cache entry of ``StanfordAIMI/RRG_scorers/<model>.tar.gz``)
and unpacks it safely once under rexeval's cache. Setting ``$REXEVAL_RADGRAPH_PYTHON`` (a Python with
torch, transformers<5 and radgraph==0.1.18) runs the package instead, in that side environment, as a peer
check. Parses are cached on disk by content hash, so the references of a benchmark are parsed once.

Scores are pure functions of two annotations (the package's JSON: ``{"entities": {id: {"tokens",
"label", "relations": [[type, target_id], ...]}}}``):

* ``radgraph`` = radgraph_combined exactly as CXR-Report-Metric: (F1 over entity set {(tokens, label)}
  + F1 over relation set {((src tokens, src label), (tgt tokens, tgt label), type)}) / 2, exact and
  case-sensitive set matching; an empty set on either side makes that F1 0.
* ``radgraph_simple`` / ``radgraph_partial`` / ``radgraph_complete``: the radgraph package's F1RadGraph
  reward levels. Two case rules exist (docs/radgraph.md): radgraph 0.1.18 on PyPI (and RadEval's copy)
  lower-cases only the complete level's relation tuples (the default); Stanford-AIMI/radgraph commit
  87f11a1 (July 2026) lower-cases the entity tokens at every level (``lowercase=True``). The signature
  records which. A pair with no entity on either side scores 0 at every level.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, MetricUnavailable
from rexeval.base.fingerprint import file_sha256
from rexeval.metrics.base import Batch, Metric, OnDevice, Output, mean_of, text_progress

Annotation = Mapping[str, Any]
EMPTY: dict[str, Any] = {"text": "", "entities": {}}

#: The radgraph package's model names -> archive names on StanfordAIMI/RRG_scorers.
ARCHIVES = {
    "radgraph": "radgraph.tar.gz",
    "radgraph-xl": "radgraph-xl.tar.gz",
    "modern-radgraph-xl": "modern-radgraph-xl.tar.gz",
}

for _model, _archive in ARCHIVES.items():
    register_model(
        ModelSpec(
            name=_model,
            hub_id="StanfordAIMI/RRG_scorers",
            env_var="REXEVAL_" + _model.upper().replace("-", "_") + "_DIR",
            files=(_archive,),
            used_by=("radgraph",),
            licence="see StanfordAIMI/RRG_scorers (RadGraph: PhysioNet credentialed licence)",
            note="the archive's encoder tokenizer/config (named inside its config.json) must also be in the HF cache",
        )
    )


# ----------------------------------------------------------------------------------------------
# Pure scoring functions
# ----------------------------------------------------------------------------------------------


def set_f1(gold: set, pred: set) -> float:
    """F1 of two sets; P (R) is 0 when the prediction (gold) set is empty, F1 is 0 when P + R is 0."""
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def entity_set(ann: Annotation) -> set[tuple[str, str]]:
    return {(e["tokens"], e["label"]) for e in ann.get("entities", {}).values()}


def relation_set(ann: Annotation) -> set[tuple[tuple[str, str], tuple[str, str], str]]:
    ents = ann.get("entities", {})
    out = set()
    for e in ents.values():
        for rel_type, target in e.get("relations", []):
            t = ents.get(str(target))
            if t is None:  # a relation to a non-entity is dropped (as CXR-Report-Metric does)
                continue
            out.add(((e["tokens"], e["label"]), (t["tokens"], t["label"]), rel_type))
    return out


def radgraph_combined(gold: Annotation, pred: Annotation) -> float:
    """CXR-Report-Metric's per-study RadGraph: mean of entity F1 and relation F1 (case-sensitive)."""
    return (set_f1(entity_set(gold), entity_set(pred)) + set_f1(relation_set(gold), relation_set(pred))) / 2


def _level_items(ann: Annotation, level: str, lowercase: bool) -> set:
    ents = ann.get("entities", {})
    low = (lambda s: s.lower()) if lowercase else (lambda s: s)
    items: set = set()
    for e in ents.values():
        tokens, label, rels = e["tokens"], e["label"], e.get("relations", [])
        if level == "simple":
            items.add((low(tokens), label))
        elif level == "partial":
            items.add((low(tokens), label, True) if rels else (low(tokens), label))
        elif not rels:  # complete
            items.add((low(tokens), label))
        else:
            # both rules lower-case the complete level's relation tuples; the target must exist.
            items.update((tokens.lower(), label, r[0], ents[r[1]]["tokens"].lower()) for r in rels)
    return items


def _level_f1(hyp: set, ref: set) -> float:
    # The package's orientation: precision over the hypothesis set, recall over the reference set.
    return set_f1(ref, hyp)


def reward_levels(hyp: Annotation, ref: Annotation, lowercase: bool = False) -> tuple[float, float, float]:
    """radgraph F1RadGraph (simple, partial, complete) for one pair of annotations."""
    if not hyp.get("entities") or not ref.get("entities"):
        return (0.0, 0.0, 0.0)
    return tuple(  # type: ignore[return-value]
        _level_f1(_level_items(hyp, lv, lowercase), _level_items(ref, lv, lowercase))
        for lv in ("simple", "partial", "complete")
    )


# ----------------------------------------------------------------------------------------------
# The parser boundary: the radgraph package's model, run in process
# ----------------------------------------------------------------------------------------------


def _unpacked(archive: Path, model: str) -> Path:
    """The folder ``archive`` is unpacked into (``.../<model>``; its parent is the package's model_cache_dir)."""
    from rexeval.backends.radgraph.archive import unpacked_folder

    return unpacked_folder(archive, file_sha256(archive)[:16], model)


_SIDE_VERSIONS: dict[str, str] = {}


def _side_version(python: str) -> str:
    if python not in _SIDE_VERSIONS:
        import subprocess

        code = "import importlib.metadata as m; print(m.version('radgraph'), m.version('transformers'))"
        try:
            res = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
            rg, tf = res.stdout.split()
            _SIDE_VERSIONS[python] = f"{rg} (side env, transformers {tf})"
        except Exception:
            raise MetricUnavailable(f"radgraph: {python} cannot import radgraph", SIDE_VENV_FIX) from None
    return _SIDE_VERSIONS[python]


#: A Python with torch, transformers<5 and radgraph, for running the parser out of process.
PYTHON_ENV = "REXEVAL_RADGRAPH_PYTHON"
SIDE_VENV_FIX = (
    "python -m venv ~/.venvs/radgraph && ~/.venvs/radgraph/bin/pip install torch 'transformers<5' "
    f"radgraph==0.1.18, then export {PYTHON_ENV}=~/.venvs/radgraph/bin/python"
)


def parser_mode(python: str | None = None) -> tuple[str, str | None]:
    """How the parser runs: ("native", None) by default, ("subprocess", python) under the package peer."""
    python = python or os.environ.get(PYTHON_ENV)
    if python:
        if not Path(python).expanduser().exists():
            raise MetricUnavailable(f"radgraph: ${PYTHON_ENV} = {python} does not exist", SIDE_VENV_FIX)
        exe = str(Path(python).expanduser())
        _side_version(exe)
        return "subprocess", exe
    return "native", None


class RadGraphParser:
    """Texts -> radgraph annotations: rexeval's native model, or the radgraph package in a worker process
    under ``$REXEVAL_RADGRAPH_PYTHON`` (peer check)."""

    def __init__(self, model: str, archive: Path, device: str = "cpu", python: str | None = None,
                 dtype: str = "float32", max_tokens: int = 8192) -> None:
        folder = _unpacked(archive, model)
        mode, exe = parser_mode(python)
        self._proc: Any = None  # the side-environment worker (subprocess.Popen with pipes)
        self.native = None
        if mode == "native":
            from rexeval.backends.radgraph import NativeRadGraph

            self.native = NativeRadGraph(folder, model, device=device, dtype=dtype, max_tokens=max_tokens)
            return
        import subprocess

        from rexeval.backends.models import offline_environ

        cuda = -1
        if device.startswith("cuda"):
            cuda = int(device.split(":")[1]) if ":" in device else 0
        worker = Path(__file__).with_name("_worker.py")
        assert exe is not None  # parser_mode() names the interpreter in subprocess mode
        self._proc = subprocess.Popen(
            [exe, str(worker), "--model", model, "--model-cache-dir", str(folder.parent), "--cuda", str(cuda)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=offline_environ(),  # only the worker is offline: the package never reaches for the network
        )
        ready = self._proc.stdout.readline()
        if not ready:
            err = self._proc.stderr.read()[-2000:]
            raise RuntimeError(f"radgraph worker ({exe}) failed to start: {err}")

    def __call__(self, texts: list[str], progress: Callable[[int], None] | None = None) -> list[dict[str, Any] | None]:
        """Annotations of ``texts``; ``progress`` gets the number of texts parsed as they are done."""
        if self.native is not None:
            return self.native.parse(list(texts), progress)
        import json

        self._proc.stdin.write(json.dumps(list(texts)) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"radgraph worker died: {self._proc.stderr.read()[-2000:]}")
        if progress:
            progress(len(texts))
        return json.loads(line)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
            self._proc = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def archive_encoder(archive: Path) -> str | None:
    """The encoder hub id (or path) that the archive's config.json names, read without unpacking."""
    import json

    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("config.json")
            config = json.loads(member.read()) if member else {}
        return config["model"]["embedder"]["token_embedders"]["bert"]["model_name"]
    except (tarfile.TarError, KeyError, ValueError, OSError, TypeError):
        return None


def check_encoder(archive: Path) -> None:
    """Raise MetricUnavailable (with the fix) when the archive's encoder config is not on disk."""
    from rexeval.backends.models import hf_cache_dir

    name = archive_encoder(archive)
    if name is None or Path(name).expanduser().is_dir():
        return
    snaps = hf_cache_dir() / f"models--{name.replace('/', '--')}" / "snapshots"
    if not any((s / "config.json").is_file() for s in (snaps.iterdir() if snaps.is_dir() else [])):
        raise MetricUnavailable(
            f"radgraph encoder {name} (named in the archive's config.json) not found in {hf_cache_dir()}",
            f"run `huggingface-cli download {name} config.json` plus its tokenizer files on a machine with internet "
            "(the weights come from the archive)",
        )


def check_archive(archive: Path, model: str, fix: str) -> None:
    """Unpack now (within the size limits) and refuse unsafe or unreadable weights, so a bad archive skips
    the metric with one line, like a missing one, instead of failing mid-run."""
    from rexeval.backends.radgraph.archive import check_weights

    try:
        check_weights(_unpacked(archive, model))
    except ConfigError as exc:
        raise MetricUnavailable(str(exc), f"replace it with the published archive: {fix}") from None


def archive_is_random(archive: Path) -> bool:
    """True for a stand-in written by ``rexeval models random`` (its config.json says so)."""
    import json

    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("config.json")
            return bool(member and json.loads(member.read()).get("rexeval_random"))
    except (tarfile.TarError, KeyError, ValueError, OSError):
        return False


class RadGraph(OnDevice, Metric):
    name = "radgraph"
    description = "RadGraph F1: ReXrank's radgraph_combined plus the radgraph package's reward levels"

    def __init__(
        self,
        model: str = "radgraph",
        model_path: str | None = None,
        device: str = "auto",
        lowercase: bool = False,
        chunk_size: int = 1024,
        python: str | None = None,
        dtype: str = "float32",
        max_tokens: int = 8192,
    ) -> None:
        from rexeval.backends.radgraph.model import DTYPES

        if model not in ARCHIVES:
            raise ConfigError(f"radgraph model must be one of {', '.join(ARCHIVES)}, not {model!r}")
        if dtype not in DTYPES:
            raise ConfigError(f"radgraph dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self.model, self.model_path, self.device_arg = model, model_path, device
        self.lowercase, self.chunk_size, self.python = lowercase, chunk_size, python
        self.dtype, self.max_tokens = dtype, max_tokens
        self._random: bool | None = None
        self._resolved = None
        self._parser: Any = None

    def outputs(self) -> list[Output]:
        return [
            Output("radgraph", True, (0.0, 1.0), mean_of("radgraph"),
                   "radgraph_combined: (entity F1 + relation F1) / 2, case-sensitive (ReXrank RadGraph)"),
            Output("radgraph_simple", True, (0.0, 1.0), mean_of("radgraph_simple"), "F1RadGraph simple"),
            Output("radgraph_partial", True, (0.0, 1.0), mean_of("radgraph_partial"), "F1RadGraph partial"),
            Output("radgraph_complete", True, (0.0, 1.0), mean_of("radgraph_complete"), "F1RadGraph complete"),
        ]

    def _resolve(self):
        if self._resolved is None:
            from rexeval.backends.models import resolve

            self._resolved = resolve(self.model, self.model_path)
        return self._resolved

    def check_available(self) -> None:
        resolved = self._resolve()  # weights first: a missing model is the more common (and fixable) case
        archive = resolved.file(resolved.spec.files[0])
        check_archive(archive, self.model, resolved.spec.fix)
        if parser_mode(self.python)[0] == "native":
            check_encoder(archive)

    def _is_random(self) -> bool:
        if self._random is None:
            self._random = archive_is_random(self._resolve().file(self._resolve().spec.files[0]))
            if self._random:
                import sys

                from rexeval.backends.standins import WARNING

                print(f"WARNING radgraph ({self.model}): {WARNING}", file=sys.stderr)
        return self._random

    def options(self) -> dict[str, Any]:
        tag = self._resolved.tag if self._resolved is not None else "unresolved"
        if self._resolved is not None:
            tag += "#sha256:" + file_sha256(self._resolved.file(self._resolved.spec.files[0]))[:12]
            if self._is_random():
                tag = "RANDOM-STAND-IN:" + tag
        mode, _ = parser_mode(self.python)
        return {
            "model": self.model,
            "weights": tag,
            "parser": "rexeval-native" if mode == "native" else "radgraph-package",
            "dtype": self.dtype,
            "combined": "entity+relation/2,case-sensitive",
            # which F1RadGraph case rule the three levels follow (the PyPI release's, or upstream's since 87f11a1)
            "levels_case": "lower-all(radgraph@87f11a1)" if self.lowercase else "rg0.1.18(complete-relations-lower)",
        }

    def versions(self) -> dict[str, str]:
        return {"radgraph": self.package_version()}

    def package_version(self) -> str:
        """The radgraph version that parses: the side environment's when one is configured."""
        mode, exe = parser_mode(self.python)
        if mode != "subprocess":
            return "native-of-0.1.18"
        assert exe is not None
        return _side_version(exe)

    def parse(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[dict[str, Any] | None]:
        """Annotations for ``texts`` (empty text -> no entities), from the disk cache when present;
        ``progress`` gets the number of distinct non-empty texts done (cached ones at once)."""
        from rexeval.base.cache import TextCache

        resolved = self._resolve()
        self._is_random()
        digest = file_sha256(resolved.file(resolved.spec.files[0]))[:16]
        cache = TextCache(f"radgraph|{self.model}|{resolved.tag}|{digest}|rg{self.package_version()}|{self.dtype}")
        nonempty = [t for t in texts if t.strip()]

        def run(todo: list[str]) -> list[Any]:
            if self._parser is None:
                self._parser = RadGraphParser(self.model, resolved.file(resolved.spec.files[0]), self.device,
                                              self.python, self.dtype, self.max_tokens)
            out: list[Any] = []
            for i in range(0, len(todo), self.chunk_size):
                out.extend(self._parser(todo[i : i + self.chunk_size], progress))
            return out

        parsed = dict(zip(nonempty, cache.compute(nonempty, run, progress))) if nonempty else {}
        return [parsed[t] if t.strip() else EMPTY for t in texts]

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        n = len(batch)
        texts = list(batch.predictions) + list(batch.references)
        anns = self.parse(texts, text_progress(batch.progress, n, len({t for t in texts if t.strip()})))
        hyp, ref = anns[:n], anns[n:]
        cols = {k: np.full(n, np.nan) for k in ("radgraph", "radgraph_simple", "radgraph_partial", "radgraph_complete")}
        for i in range(n):
            h, r = hyp[i], ref[i]
            if h is None or r is None:
                continue  # the parser failed on one of the texts: NaN, never a zero
            cols["radgraph"][i] = radgraph_combined(r, h)
            s, p, c = reward_levels(h, r, self.lowercase)
            cols["radgraph_simple"][i], cols["radgraph_partial"][i], cols["radgraph_complete"][i] = s, p, c
        return cols
