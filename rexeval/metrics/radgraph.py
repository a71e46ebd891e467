"""RadGraph F1: ReXrank's ``radgraph_combined`` and the radgraph package's reward levels (docs/metrics.md §5).

Parsing is done by the ``radgraph`` PyPI package (DyGIE++ under its vendored allennlp), in process:
rexeval resolves the model archive itself (explicit path, ``$REXEVAL_RADGRAPH_DIR``, or the Hugging Face
cache entry of ``StanfordAIMI/RRG_scorers/<model>.tar.gz``), unpacks it once under rexeval's cache and
hands that folder to ``radgraph.RadGraph(model_cache_dir=...)``, so the package never downloads. Parses
are cached on disk by content hash, so the references of a benchmark are parsed once.

Scores are pure functions of two annotations (the package's JSON: ``{"entities": {id: {"tokens",
"label", "relations": [[type, target_id], ...]}}}``):

* ``radgraph`` = radgraph_combined exactly as CXR-Report-Metric: (F1 over entity set {(tokens, label)}
  + F1 over relation set {((src tokens, src label), (tgt tokens, tgt label), type)}) / 2, exact and
  case-sensitive set matching; an empty set on either side makes that F1 0.
* ``radgraph_simple`` / ``radgraph_partial`` / ``radgraph_complete``: radgraph 0.1.18's F1RadGraph
  reward levels, which lower-case only the complete-level relation tuples (later upstream commits
  lower-case every level; ``lowercase=True`` selects that rule). A pair with no entity on either side
  scores 0 at every level.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.exceptions import ConfigError, MetricUnavailable
from rexeval.fingerprint import file_sha256
from rexeval.metrics.base import Batch, Metric, Output, mean_of
from rexeval.models import ModelSpec, register_model

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
            # radgraph 0.1.18 lower-cases these tuples at every version; the target must exist.
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


def _package_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("radgraph")
    except Exception:
        return None


def _unpacked(archive: Path, model: str) -> Path:
    """Unpack ``archive`` once into rexeval's cache; return the folder radgraph takes as model_cache_dir."""
    from rexeval.cache import cache_dir

    digest = file_sha256(archive)[:16]
    root = (cache_dir() or Path(os.environ.get("TMPDIR", "/tmp")) / "rexeval") / "radgraph" / digest
    target = root / model
    if not (target / "weights.th").is_file():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(path=target, filter="data")
    return root


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


def _transformers_major() -> int | None:
    try:
        from importlib.metadata import version

        return int(version("transformers").split(".")[0])
    except Exception:
        return None


#: A Python with torch, transformers<5 and radgraph, for running the parser out of process.
PYTHON_ENV = "REXEVAL_RADGRAPH_PYTHON"
SIDE_VENV_FIX = (
    "python -m venv ~/.venvs/radgraph && ~/.venvs/radgraph/bin/pip install torch 'transformers<5' "
    f"radgraph==0.1.18, then export {PYTHON_ENV}=~/.venvs/radgraph/bin/python"
)


def parser_mode(python: str | None = None) -> tuple[str, str | None]:
    """How the parser runs here: ("subprocess", python) or ("inprocess", None); raise with the fix."""
    python = python or os.environ.get(PYTHON_ENV)
    if python:
        if not Path(python).expanduser().exists():
            raise MetricUnavailable(f"radgraph: ${PYTHON_ENV} = {python} does not exist", SIDE_VENV_FIX)
        exe = str(Path(python).expanduser())
        _side_version(exe)
        return "subprocess", exe
    if _package_version() is None:
        raise MetricUnavailable("radgraph needs the radgraph package", "pip install radgraph==0.1.18, or " + SIDE_VENV_FIX)
    major = _transformers_major()
    if major is not None and major >= 5:
        raise MetricUnavailable(
            f"the radgraph package {_package_version()} does not run under transformers {major} "
            "(it calls tokenizer.encode_plus, removed in transformers 5)",
            SIDE_VENV_FIX,
        )
    return "inprocess", None


class RadGraphParser:
    """Texts -> radgraph annotations with the radgraph package's RadGraph module (in process, or in a
    worker process under ``$REXEVAL_RADGRAPH_PYTHON``)."""

    def __init__(self, model: str, archive: Path, device: str = "cpu", python: str | None = None) -> None:
        cuda = -1
        if device.startswith("cuda"):
            cuda = int(device.split(":")[1]) if ":" in device else 0
        cache = str(_unpacked(archive, model))
        mode, exe = parser_mode(python)
        self._proc = None
        if mode == "subprocess":
            import subprocess

            from rexeval.models import offline_env

            offline_env()  # inherited by the worker: the package never reaches for the network
            worker = Path(__file__).with_name("_radgraph_worker.py")
            self._proc = subprocess.Popen(
                [exe, str(worker), "--model", model, "--model-cache-dir", cache, "--cuda", str(cuda)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            ready = self._proc.stdout.readline()
            if not ready:
                err = self._proc.stderr.read()[-2000:]
                raise RuntimeError(f"radgraph worker ({exe}) failed to start: {err}")
            return
        import contextlib
        import io

        from rexeval.models import offline_env

        offline_env()
        import radgraph

        with contextlib.redirect_stdout(io.StringIO()):  # the package prints its device choice
            self.module = radgraph.RadGraph(model_type=model, model_cache_dir=cache, cuda=cuda)

    def __call__(self, texts: list[str]) -> list[dict[str, Any] | None]:
        if self._proc is not None:
            import json

            self._proc.stdin.write(json.dumps(list(texts)) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError(f"radgraph worker died: {self._proc.stderr.read()[-2000:]}")
            return json.loads(line)
        import contextlib
        import io

        import torch

        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
            result = self.module(list(texts))
        # The package skips a report whose post-processing fails; that is a recorded failure (None).
        return [result.get(str(i)) for i in range(len(texts))]

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


class RadGraph(Metric):
    name = "radgraph"
    description = "RadGraph F1: ReXrank's radgraph_combined plus the radgraph package's reward levels"

    def __init__(
        self,
        model: str = "radgraph",
        model_path: str | None = None,
        device: str = "auto",
        lowercase: bool = False,
        chunk_size: int = 64,
        python: str | None = None,
    ) -> None:
        if model not in ARCHIVES:
            raise ConfigError(f"radgraph model must be one of {', '.join(ARCHIVES)}, not {model!r}")
        self.model, self.model_path, self.device_arg = model, model_path, device
        self.lowercase, self.chunk_size, self.python = lowercase, chunk_size, python
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

    @property
    def device(self) -> str:
        if self.device_arg != "auto":
            return self.device_arg
        try:
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            return "cpu"

    def _resolve(self):
        if self._resolved is None:
            from rexeval.models import resolve

            self._resolved = resolve(self.model, self.model_path)
        return self._resolved

    def check_available(self) -> None:
        self._resolve()  # weights first: a missing model is the more common (and fixable) case
        parser_mode(self.python)

    def options(self) -> dict[str, Any]:
        tag = self._resolved.tag if self._resolved is not None else "unresolved"
        if self._resolved is not None:
            tag += "#sha256:" + file_sha256(self._resolved.file(self._resolved.spec.files[0]))[:12]
        return {
            "model": self.model,
            "weights": tag,
            "combined": "entity+relation/2,case-sensitive",
            "levels_case": "lower-all" if self.lowercase else "rg0.1.18(complete-relations-lower)",
        }

    def versions(self) -> dict[str, str]:
        return {"radgraph": self.package_version()}

    def package_version(self) -> str:
        """The radgraph version that parses: the side environment's when one is configured."""
        mode, exe = parser_mode(self.python)
        if mode == "inprocess":
            return _package_version() or "absent"
        return _side_version(exe)

    def parse(self, texts: Sequence[str]) -> list[dict[str, Any] | None]:
        """Annotations for ``texts`` (empty text -> no entities), from the disk cache when present."""
        from rexeval.cache import TextCache

        resolved = self._resolve()
        cache = TextCache(f"radgraph|{self.model}|{resolved.tag}|{file_sha256(resolved.file(resolved.spec.files[0]))[:16]}|rg{self.package_version()}")
        nonempty = [t for t in texts if t.strip()]

        def run(todo: list[str]) -> list[Any]:
            if self._parser is None:
                self._parser = RadGraphParser(self.model, resolved.file(resolved.spec.files[0]), self.device, self.python)
            out: list[Any] = []
            for i in range(0, len(todo), self.chunk_size):
                out.extend(self._parser(todo[i : i + self.chunk_size]))
            return out

        parsed = dict(zip(nonempty, cache.compute(nonempty, run))) if nonempty else {}
        return [parsed[t] if t.strip() else EMPTY for t in texts]

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        n = len(batch)
        anns = self.parse(list(batch.predictions) + list(batch.references))
        hyp, ref = anns[:n], anns[n:]
        cols = {k: np.full(n, np.nan) for k in ("radgraph", "radgraph_simple", "radgraph_partial", "radgraph_complete")}
        for i in range(n):
            if hyp[i] is None or ref[i] is None:
                continue  # the parser failed on one of the texts: NaN, never a zero
            cols["radgraph"][i] = radgraph_combined(ref[i], hyp[i])
            s, p, c = reward_levels(hyp[i], ref[i], self.lowercase)
            cols["radgraph_simple"][i], cols["radgraph_partial"][i], cols["radgraph_complete"][i] = s, p, c
        if batch.progress:
            batch.progress(n)
        return cols
