"""The run: :class:`Run` in memory, and its directory (files, reading, atomic locked writing).

A run directory (``rexeval score --out DIR``, ``rexeval merge --out DIR``) holds

- ``summary.json``: every aggregate with its CI and signature, the input's fingerprints, and under
  ``metric_options`` the constructor options each metric ran with (so a reader rebuilds the same
  aggregates: a condition F1 under ``uncertain="negative"`` has other keys and other statistics);
- ``per_study.csv``: one row per study (``study_id`` + numeric columns), what paired tests and merges use;
- ``texts.csv``: the texts behind those rows (for reports);
- with ``--by``: ``subgroups.csv`` (the subgroup table) and ``groups.csv`` (each study's group labels,
  so that a merge can recompute the subgroup table of the whole run).

Writing is atomic (a temporary directory in the same parent, renamed into place) and locked against a
concurrent writer; an existing non-empty directory is replaced only when asked (``overwrite``). Every
reader goes through :func:`load_run`, which checks that the per-study rows match the summary, so a
half-written or mixed-up directory is an error (exit 2), never a table built from the wrong rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rexeval.base.exceptions import ConfigError, InputError
from rexeval.base.fingerprint import study_ids_sha256
from rexeval.base.tempdirs import drop_marker, make_owned_dir, remove_stale
from rexeval.metrics.base import Aggregate, Output, inverse_mean_of, mean_of
from rexeval.run.runs.summary import SCHEMA_VERSION, MetricEntry, Summary

SUMMARY = "summary.json"
PER_STUDY = "per_study.csv"
#: The texts behind per_study.csv (study_id, prediction, reference), for reports; kept apart so that
#: per_study.csv stays all-numeric for paired tests.
TEXTS = "texts.csv"
SUBGROUPS = "subgroups.csv"
#: Each study's group label per ``--by`` column (what a merge needs to rebuild subgroups.csv).
GROUPS = "groups.csv"
RUN_FILES = (SUMMARY, PER_STUDY, TEXTS, SUBGROUPS, GROUPS)


# ----- the run in memory -------------------------------------------------------------------------------

@dataclass
class Run:
    """One scored system: its :class:`Summary` and per-study values, fresh from :func:`rexeval.score` or
    read back from a run directory by :func:`load_run` (then ``path`` is set).

    Functions that add to a run (subgroups, merges) return a new :class:`Run`
    (:func:`dataclasses.replace`); the summary itself is frozen."""

    summary: Summary
    per_study: pd.DataFrame | None = None
    #: the aligned input it was scored on (fresh runs only: subgroups read its reference columns)
    pairs: Any = field(default=None, repr=False)
    #: texts.csv when there are no ``pairs`` (a run read back, a merged run joins its shards' texts)
    texts: pd.DataFrame | None = field(default=None, repr=False)
    #: ``--by``: the subgroup table (subgroups.csv) and the per-study group labels (groups.csv).
    subgroup_table: pd.DataFrame | None = field(default=None, repr=False)
    group_labels: pd.DataFrame | None = field(default=None, repr=False)
    path: Path | None = None
    #: the name tables show: the recorded system name, else the folder's (made unique by load_runs)
    name: str = ""
    #: the registered outputs behind the summary's keys; None: rebuilt from the recorded options on use
    known_outputs: dict[str, Output] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = str(self.summary.run.name or (self.path.resolve().name if self.path else "run"))

    @property
    def metrics(self) -> Mapping[str, MetricEntry]:
        return self.summary.metrics

    @property
    def metric_options(self) -> Mapping[str, Mapping[str, Any]]:
        """The constructor options each metric ran with ({} for a run written before they were recorded)."""
        return self.summary.metric_options

    def value(self, key: str) -> float | None:
        return self.summary.metrics[key].value

    @property
    def outputs(self) -> dict[str, Output]:
        """The registered outputs behind the summary's keys, built with the options the run recorded."""
        if self.known_outputs is None:
            self.known_outputs = {}
            for name in self.summary.metric_names():
                metric = self.metric(name)
                if metric is None:
                    continue
                for out in metric.outputs():
                    if out.key in self.metrics:
                        self.known_outputs[out.key] = out
        return self.known_outputs

    def metric(self, name: str | None):
        """The metric ``name`` as this run configured it, or None (unknown here, or options it rejects)."""
        if not name:
            return None
        from rexeval.base.exceptions import RexevalError
        from rexeval.metrics import get_metric

        try:
            return get_metric(name, **self.metric_options.get(name, {}))
        except (RexevalError, ImportError, TypeError, ValueError):  # a metric of another rexeval version
            return None

    def columns(self) -> dict[str, np.ndarray]:
        """Per-study numeric columns by name (empty when there is no per_study.csv)."""
        if self.per_study is None:
            return {}
        return {c: pd.to_numeric(self.per_study[c], errors="coerce").to_numpy(dtype=float)
                for c in self.per_study.columns if c != "study_id"}

    def aggregate(self, key: str) -> Aggregate | None:
        """The aggregate behind summary metric ``key``, or None if per-study values cannot rebuild it.

        The registered metric's own Output (with the run's options) wins; otherwise the summary's
        aggregate name is enough for a mean (``mean_of(key)``) and for 1/mean (``inv_X`` ->
        ``inverse_mean_of(X)``).
        """
        entry = self.metrics.get(key)
        if entry is None or self.per_study is None:
            return None
        out = self.outputs.get(key)
        agg = out.aggregate if out is not None else None
        cols = set(self.per_study.columns)
        if agg is None:
            if entry.aggregate == "mean" and key in cols:
                agg = mean_of(key)
            elif entry.aggregate == "1/mean" and key.startswith("inv_") and key[4:] in cols:
                agg = inverse_mean_of(key[4:])
        if agg is None:
            return None
        try:  # the per-study columns it reads must be present
            agg.stats(self.columns())
        except (KeyError, ValueError):
            return None
        return agg

    # ----- writing ------------------------------------------------------------------------------------

    def write(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Write the run directory atomically; a non-empty ``out_dir`` is replaced only with ``overwrite``."""
        with RunDirWriter(out_dir, overwrite=overwrite) as writer:
            return writer.write(self)

    def write_files(self, folder: Path) -> None:
        """The files of the run, into an existing (empty) folder; :meth:`write` makes this atomic."""
        if self.per_study is not None:
            self.per_study.to_csv(folder / PER_STUDY, index=False)
        if self.pairs is not None:
            pd.DataFrame({"study_id": self.pairs.study_ids, "prediction": self.pairs.predictions,
                          "reference": self.pairs.references}).to_csv(folder / TEXTS, index=False)
        elif self.texts is not None:
            self.texts.to_csv(folder / TEXTS, index=False)
        if self.subgroup_table is not None:
            self.subgroup_table.to_csv(folder / SUBGROUPS, index=False)
        if self.group_labels is not None:
            self.group_labels.to_csv(folder / GROUPS, index=False)
        # summary.json last: a reader that finds it finds the rest
        (folder / SUMMARY).write_text(self.summary.dumps(), encoding="utf-8")


#: What :func:`rexeval.score` returns: a :class:`Run` not yet written (one class, two names).
ScoreResult = Run

# ----- writing ------------------------------------------------------------------------------------------

def check_out_dir(out: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an ``--out`` that is a file, or a non-empty directory without ``overwrite``; before scoring.

    ``overwrite`` replaces only a rexeval run (see :func:`is_rexeval_summary`) that holds nothing but
    rexeval's own files: a typo of ``-o``, or a folder that merely has a file named like one of ours (a
    summary.json of another tool), must never lose the user's files."""
    out = Path(out)
    _refuse_unreplaceable(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory for the run (it is created)")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"--out {out} is not empty; pass --overwrite to replace it (its files are removed)")
        if not is_rexeval_summary(out / SUMMARY):
            raise ConfigError(f"--out {out} is a non-empty directory that holds no rexeval run (no {SUMMARY} "
                              f"written by rexeval, schema_version {SCHEMA_VERSION}); refusing to clear it")
        foreign = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if p.name not in RUN_FILES)
        if foreign:
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            raise ConfigError(f"--out {out} holds files rexeval did not write ({', '.join(foreign[:3])}{more}); "
                              "refusing to remove them: move them out or choose another --out")
    if out.parent.exists() and not out.parent.is_dir():
        raise ConfigError(f"--out {out}: {out.parent} is a file")
    return out


def is_rexeval_summary(path: Path) -> bool:
    """True when ``path`` is a summary.json that rexeval wrote: it parses as a run summary and has a
    ``schema_version`` rexeval knows (runs written before it existed: ``versions.rexeval``), with
    ``n_studies`` and ``metrics`` whose entries carry a value and a signature."""
    try:
        summary = read_summary(path)
    except InputError:
        return False
    metrics = summary.get("metrics")
    if not (isinstance(metrics, dict) and isinstance(summary.get("n_studies"), int)
            and all("signature" in e and "value" in e for e in metrics.values())):
        return False
    version = summary.get("schema_version")
    if version is not None:
        return isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= SCHEMA_VERSION
    return isinstance(summary.get("versions"), dict) and "rexeval" in summary["versions"]


def _refuse_unreplaceable(out: Path) -> None:
    """A run directory is replaced by a rename: the current directory, a folder above it or a mount point
    cannot be (the rename fails or pulls the folder from under the shell), so say so before scoring."""
    try:
        here = Path.cwd()
    except OSError:  # the shell's folder was removed: nothing of it to protect
        return
    where = Path(os.path.abspath(out))
    if where == here or where in here.parents:
        raise ConfigError(f"--out {out} is the current directory or above it; a run needs its own folder "
                          f"(e.g. -o {Path(out) / 'run'})")
    if where.is_dir() and os.path.ismount(where):
        raise ConfigError(f"--out {out} is a mount point, which cannot be replaced; give a folder inside it")


class RunDirWriter:
    """Lock ``out`` against other writers, then replace it atomically with a run's files.

    Use as a context manager around the whole scoring (the CLI does), so two processes writing the same
    ``--out`` cannot interleave: the second one stops at once with a one-line error.
    """

    def __init__(self, out: str | Path, *, overwrite: bool = False) -> None:
        self._lock_fd: int | None = None
        self.out = check_out_dir(out, overwrite=overwrite)
        self.overwrite = overwrite
        self._lock_path = self.out.parent / f".{self.out.name}.rexeval-lock"

    def lock(self) -> RunDirWriter:
        if self._lock_fd is None:
            try:
                self.out.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = _acquire(self._lock_path, self.out)
            except OSError as exc:
                raise ConfigError(f"--out {self.out}: cannot write into {self.out.parent} ({exc.strerror})") from None
            for scratch in (".tmp-", ".old-"):  # left by a writer of this run that crashed (ours, owner gone)
                remove_stale(self.out.parent, f".{self.out.name}{scratch}")
        return self

    def release(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path)
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def __enter__(self) -> RunDirWriter:
        return self.lock()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:  # an error between lock() and write() must not keep the lock
        if getattr(self, "_lock_fd", None) is not None:
            self.release()

    def write(self, result: ScoreResult) -> Path:
        if self._lock_fd is None:
            raise RuntimeError("RunDirWriter.write outside its `with` block")
        check_out_dir(self.out, overwrite=self.overwrite)  # it may have changed while scoring
        tmp = make_owned_dir(self.out.parent, f".{self.out.name}.tmp-")  # marked: a crash leaves it removable
        try:
            result.write_files(tmp)
            drop_marker(tmp)
            if self.out.exists():
                old = make_owned_dir(self.out.parent, f".{self.out.name}.old-", private=True)
                os.replace(self.out, old / "run")
                os.replace(tmp, self.out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, self.out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self.out


def _acquire(lock_path: Path, out: Path) -> int:
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic rename still holds, only the writer lock is missing
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"another rexeval process is writing this run directory (lock {lock_path}); "
                             "wait for it or choose another --out", path=str(out)) from None
        try:  # the holder before us may have unlinked the file after we opened it: lock the live one
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


# ----- reading ------------------------------------------------------------------------------------------

def load_run(path: str | Path, *, need_per_study: bool = False) -> Run:
    """Read and check a run directory (``rexeval score --out``).

    per_study.csv is optional unless ``need_per_study`` (paired tests, merges); when present its rows
    must be the studies the summary counts, or the run is incomplete (:class:`InputError`).
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError("not a directory (expected a run directory written by `rexeval score --out`)", path=str(path))
    summary_path = path / SUMMARY
    if not summary_path.is_file():
        raise InputError(f"not a rexeval run directory (missing {SUMMARY})", path=str(path))
    doc = read_summary(summary_path)
    per_study = _read_csv(path / PER_STUDY)
    if per_study is None and need_per_study:
        raise InputError(f"missing {PER_STUDY} (paired tests and merges need the per-study values)", path=str(path))
    texts = _read_csv(path / TEXTS)
    groups = _read_csv(path / GROUPS, dtype=str)
    subgroups = _read_csv(path / SUBGROUPS, need_id=False)
    _check_complete(path, doc, per_study, texts, groups)
    summary = Summary.from_json(doc)
    if subgroups is not None and summary.subgroups is None:
        raise InputError(f"{SUBGROUPS} is not from this run ({SUMMARY} has no subgroups; a stale file?)", path=str(path))
    summary, per_study, subgroups = _current_names(summary, per_study, subgroups)
    return Run(summary, per_study, texts=texts, group_labels=groups, subgroup_table=subgroups, path=path)


def _current_names(summary: Summary, *frames: pd.DataFrame | None) -> tuple:
    """A run written before the key rename (``struct_err_*``, ``llm_errors_*``) read under today's names,
    so that old and new runs compare, merge and rank together."""
    from rexeval.metrics.error_schema import current_key

    summary = replace(summary, metrics={current_key(k): v for k, v in summary.metrics.items()})
    renamed = [None if f is None else f.rename(columns=lambda c: current_key(c) if isinstance(c, str) else c)
               for f in frames]
    return (summary, *renamed)


def read_summary(p: Path) -> dict[str, Any]:
    """summary.json as checked JSON (one-line :class:`InputError` naming the field that is wrong)."""
    try:
        summary = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise InputError(f"invalid JSON ({str(exc)[:120] or type(exc).__name__})", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=str(p)) from None
    if not isinstance(summary, dict):
        raise InputError(f"{SUMMARY} must hold a JSON object, not {type(summary).__name__}", path=str(p))
    metrics = summary.get("metrics", {})
    if not isinstance(metrics, dict) or not all(isinstance(e, dict) for e in metrics.values()):
        raise InputError(f"{SUMMARY} has no valid 'metrics' object (key -> {{value, ci95, ...}})", path=str(p))
    for key, entry in metrics.items():
        value = entry.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(f"metrics.{key}.value must be a number or null, not {value!r:.40}", path=str(p))
        ci = entry.get("ci95")
        if ci is not None and not (isinstance(ci, list) and len(ci) == 2
                                   and all(v is None or isinstance(v, (int, float)) for v in ci)):
            raise InputError(f"metrics.{key}.ci95 must be [low, high], not {ci!r:.40}", path=str(p))
    for section in ("run", "input", "bootstrap", "metric_options", "subgroups", "conditions", "metric_runs"):
        if section in summary and not isinstance(summary[section], dict):
            raise InputError(f"{SUMMARY}: '{section}' must be an object", path=str(p))
    n = summary.get("n_studies")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise InputError(f"{SUMMARY}: n_studies must be a count, not {n!r:.40}", path=str(p))
    return summary


def _read_csv(p: Path, need_id: bool = True, dtype: Any = None) -> pd.DataFrame | None:
    if not p.is_file():
        return None
    try:
        frame = pd.read_csv(p, dtype=dtype or {"study_id": str}, keep_default_na=False, na_values=[""], index_col=False)
    except pd.errors.EmptyDataError:
        raise InputError("empty file (an incomplete run? score it again)", path=str(p)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise InputError(f"cannot read CSV ({str(exc)[:120]})", path=str(p)) from None
    if need_id and "study_id" not in frame.columns:
        raise InputError("no study_id column", path=str(p))
    return frame


def _check_complete(path: Path, summary: dict[str, Any], per_study, texts, groups) -> None:
    """The per-study files must hold exactly the studies the summary counts (else: a half-written run);
    ``summary`` as read, so that a count an old run lacks is not taken for 0."""
    n = summary.get("n_studies")
    ids_hash = summary.get("study_ids_sha256")
    for name, frame in ((PER_STUDY, per_study), (TEXTS, texts), (GROUPS, groups)):
        if frame is None:
            continue
        where = str(path / name)
        if n is not None and len(frame) != n:
            raise InputError(f"incomplete run: {len(frame)} rows but {SUMMARY} counts {n} studies "
                             "(interrupted while writing, or files from different runs); score it again", path=where)
        ids = frame["study_id"].astype(str)
        if ids.duplicated().any():
            raise InputError(f"study id {ids[ids.duplicated()].iloc[0]!r} appears twice", path=where)
        if ids_hash is not None and study_ids_sha256(ids) != ids_hash:
            raise InputError(f"its study ids are not the studies {SUMMARY} was computed on "
                             "(files from different runs); score it again", path=where)
    if per_study is not None:
        for key, entry in summary.get("metrics", {}).items():
            # scoring writes "n" exactly for the outputs whose key is a per-study column
            if "n" in entry and key not in per_study.columns:
                raise InputError(f"incomplete run: no column {key!r} for a metric of {SUMMARY}", path=str(path / PER_STUDY))


def load_runs(paths: list[str | Path], *, need_per_study: bool = False) -> list[Run]:
    runs = [load_run(p, need_per_study=need_per_study) for p in paths]
    seen: dict[str, int] = {}
    unique = []
    for run in runs:  # two runs with the same name would be indistinguishable in a table
        seen[run.name] = seen.get(run.name, 0) + 1
        unique.append(run if seen[run.name] == 1 else replace(run, name=f"{run.name} ({seen[run.name]})"))
    return unique


