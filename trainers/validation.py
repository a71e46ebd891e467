"""Validation while training: a TRL/transformers ``TrainerCallback`` that generates greedy reports for a
fixed held-out set every N steps, scores them with rexeval's scoring API (the full metric set, not the
reward) and writes the curves (UniRG's ablation figures: RadCliQ-v1 and clinical errors per report over
training).

Files, under ``<output_dir>/validation/``:

``step_<N>/``
    the run directory of step N as ``rexeval score`` writes it (``per_study.csv``, ``texts.csv`` with the
    generations, ``summary.json`` with every metric's signature), so each point of a curve can be
    re-scored or compared with ``rexeval compare``;
``curves.csv``
    one row per validation step: ``step`` and every summary value (``radcliq_v1``,
    ``errors_struct_total``, ``bleu``, ...);
``curves.png``
    RadCliQ-v1 and the clinical errors per report (and the other headline metrics present) by step;
``metrics.json``
    the metrics scored, and for each metric with a fallback which one ran and why.

It runs on the main process only, with the policy as the trainer holds it (LoRA adapters active): the
whole policy must be on that process (DDP; not ZeRO-3 or FSDP sharding).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError
from trainers.config import DataConfig, RunConfig, ValidationConfig

#: Panels of curves.png, in this order, when scored: RadCliQ-v1 and clinical errors per report (UniRG's
#: ablation figures), then the other headline metrics.
PLOTTED = (
    "radcliq_v1",
    "errors_llm_total_sig",
    "errors_struct_total_sig",
    "errors_llm_total",
    "errors_struct_total",
    "bleu",
    "bertscore",
    "semb_score",
    "radgraph_partial",
)


def resolve_validation_metrics(cfg: ValidationConfig) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """The metric objects (built once, reused every step) and, per metric with a fallback, which ran."""
    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.metrics import get_metric, resolve_metrics

    names = list(cfg.metrics) if cfg.metrics is not None else None
    record: dict[str, dict[str, Any]] = {}
    for wanted, fallback in cfg.fallbacks.items():
        if names is None or wanted not in names:
            continue
        try:
            get_metric(wanted, **cfg.metric_options.get(wanted, {})).check_available()
            record[wanted] = {"wanted": wanted, "used": wanted, "reason": None}
        except (ConfigError, MetricUnavailable) as exc:
            names = [fallback if n == wanted else n for n in names]
            record[wanted] = {"wanted": wanted, "used": fallback, "reason": str(exc)}
    metrics = resolve_metrics(names, cfg.metric_options)
    for metric in metrics:
        metric.check_available()  # a missing model stops the run now, not at the first validation
    return metrics, record


def validation_records(cfg: ValidationConfig, data: DataConfig) -> list[dict[str, Any]]:
    """The held-out studies, prompted as the training data is."""
    import dataclasses

    from trainers.data import load_records

    held_out = dataclasses.replace(
        data, path=cfg.data, limit=cfg.limit, exclude_ids=None,
        image_root=cfg.image_root if cfg.image_root is not None else data.image_root,
    )
    return load_records(held_out)


def _callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


class Validator:
    """Generates, scores and writes one validation point; the callback calls it at the right steps."""

    def __init__(self, cfg: ValidationConfig, data: DataConfig, processor: Any, vlm: bool,
                 out_dir: str | Path, seed: int = 0) -> None:
        self.cfg, self.data, self.processor, self.vlm, self.seed = cfg, data, processor, vlm, seed
        self.records = validation_records(cfg, data)
        self.metrics, self.fallbacks = resolve_validation_metrics(cfg)
        self.folder = Path(out_dir) / "validation"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, Any]] = []
        (self.folder / "metrics.json").write_text(json.dumps({
            "metrics": [m.name for m in self.metrics],
            "fallbacks": self.fallbacks,
            "n_studies": len(self.records),
            "data": self.cfg.data,
        }, indent=2) + "\n", encoding="utf-8")

    def __call__(self, model: Any, step: int) -> dict[str, Any]:
        import pandas as pd

        from rexeval.base.align import load_pairs
        from rexeval.run.scoring import score_pairs
        from trainers.generate import generate

        tok = getattr(self.processor, "tokenizer", self.processor)
        side, was_training = tok.padding_side, model.training
        try:
            texts = generate(model, self.processor, self.records, self.data, self.vlm,
                             max_new_tokens=self.cfg.max_new_tokens, batch_size=self.cfg.batch_size,
                             seed=self.seed)
        finally:
            tok.padding_side = side
            model.train(was_training)
        ids = [r["study_id"] for r in self.records]
        # score()'s own frame for lists of texts: the same alignment and checks as `rexeval score`
        frame = pd.DataFrame({"study_id": ids, "prediction": texts,
                              "reference": [r["reference"] for r in self.records]})
        pairs = load_pairs(frame, None)
        result = score_pairs(pairs, self.metrics, n_resamples=self.cfg.n_resamples, seed=self.seed,
                             name=f"step_{step}", progress=False, metric_options=self.cfg.metric_options)
        result.write(self.folder / f"step_{step:06d}", overwrite=True)
        row: dict[str, Any] = {"step": step}
        row.update({k: v.value for k, v in result.summary.metrics.items()})
        self.rows = [r for r in self.rows if r["step"] != step] + [row]
        curves = pd.DataFrame(self.rows)
        curves.to_csv(self.folder / "curves.csv", index=False)
        plot_validation(curves, self.folder / "curves.png")
        return row


def validation_callback(validator: Validator) -> Any:
    """A ``TrainerCallback`` that runs ``validator`` before step 1 (``at_start``), every ``every`` steps
    and after the last step, on the main process."""

    class ValidationCallback(_callback_base()):
        def __init__(self) -> None:
            self.validator = validator
            self.done: set[int] = set()

        def _run(self, state: Any, model: Any) -> None:
            if state.is_world_process_zero and state.global_step not in self.done and model is not None:
                self.done.add(state.global_step)
                self.validator(model, state.global_step)

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            if validator.cfg.at_start and state.global_step == 0:
                self._run(state, model)

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % validator.cfg.every == 0:
                self._run(state, model)

        def on_train_end(self, args, state, control, model=None, **kwargs):
            self._run(state, model)

    return ValidationCallback()


def plot_validation(curves: Any, path: Path) -> None:
    """RadCliQ-v1, clinical errors per report and the other headline metrics scored, by step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rexeval.base.display import display_name

    panels = [k for k in PLOTTED if k in curves.columns]
    panels = panels or [k for k in curves.columns if k != "step"][:3]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), squeeze=False)
    for ax, key in zip(axes[0], panels, strict=True):
        ax.plot(curves["step"], curves[key], marker="o", lw=1.5)
        ax.set_title(display_name(key), fontsize=9)
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def validation_callbacks(cfg: RunConfig, processor: Any, vlm: bool) -> list[Any]:
    """The held-out validation callback when the config has a ``validation`` block (else none)."""
    if cfg.validation is None:
        return []
    validator = Validator(cfg.validation, cfg.data, processor, vlm, cfg.output_dir, seed=cfg.seed)
    return [validation_callback(validator)]
