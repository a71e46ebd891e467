"""Every registered metric against the rules of DEVELOPERS.md ("The metric protocol").

Model metrics run on random-weight stand-ins in their real architectures (tests/helpers), the LLM judges
against a local OpenAI-compatible server whose answer depends only on the texts it is sent. A metric
that cannot run here (its weights or peer are absent even as stand-ins) is skipped with its own reason.

Rules: each output declares a direction and a finite range; per-study values and aggregates lie in it;
the signature names the metric, its options and the rexeval version; NaN is a counted failure, left out
of the aggregate (never a 0); a study's value depends only on its own texts (alone, shuffled, and in a
batch of one reference repeated 8 times).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from rexeval._version import __version__
from rexeval.base.exceptions import MetricUnavailable
from rexeval.metrics import REGISTRY, get_metric, resolve_metrics
from rexeval.metrics.base import Aggregate, Batch
from tests.helpers.paths import SHARED

PAIRS = [
    ("The heart is normal in size. The lungs are clear.", "Heart size is normal. Lungs are clear."),
    ("Mild cardiomegaly. Small left pleural effusion.", "Moderate cardiomegaly with a small left effusion."),
    ("No pneumothorax. Right lower lobe consolidation.", "Right lower lobe pneumonia. No pneumothorax."),
    ("", "No acute cardiopulmonary process."),
    ("Stable left basilar atelectasis. Endotracheal tube in place.", "Endotracheal tube 4 cm above the carina."),
    ("Increased interstitial markings, possible edema.", "Pulmonary edema has worsened."),
    ("Lungs clear. No effusion.", "Lungs clear. No effusion."),
    ("Healed right rib fractures. No acute findings.", "Old right rib fractures."),
]
GROUP_REF = "Mild cardiomegaly. No pleural effusion."
GROUP = ["Mild cardiomegaly.", "No effusion.", "Mild cardiomegaly.", "", "Cardiomegaly, mild.", "Lungs clear.",
         "No pleural effusion. Mild cardiomegaly.", "Heart size normal."]


def _counts(text: str) -> list[int]:
    """Error counts (sig A-F, insig A-F) that depend only on the text a judge is sent."""
    digest = hashlib.sha256(text.encode()).digest()
    return [b % 3 for b in digest[:12]]


def _judge(user: str) -> str:
    from tests.helpers.llm_server import two_line

    c = _counts(user)
    if "[Explanation]" in user or "Clinically Significant Errors" in user:  # GREEN's format
        cats = "abcdef"
        sig = "\n".join(f"({cats[i]}) category {i}: {n}." for i, n in enumerate(c[:6]))
        insig = "\n".join(f"({cats[i]}) category {i}: {n}." for i, n in enumerate(c[6:]))
        return (f"[Explanation]:\nstand-in\n\n[Clinically Significant Errors]:\n{sig}\n\n"
                f"[Clinically Insignificant Errors]:\n{insig}\n\n[Matched Findings]:\n{c[0] + 1}. Cardiomegaly")
    return two_line(c[:6], c[6:])


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    """A Hugging Face cache holding every stand-in checkpoint that can be built here, and a fake judge."""
    from tests.helpers.llm_server import FakeChatServer

    hub = tmp_path_factory.mktemp("hub")
    built = []
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        torch_ok = False
    else:
        torch_ok = True
    tokenizers = SHARED / "data" / "tokenizers"
    if torch_ok and (tokenizers / "bert-base-uncased" / "vocab.txt").is_file():
        from tests.helpers.chexbert_fixtures import build_chexbert, tiny_config

        build_chexbert(hub, seed=3, config=tiny_config())
        built.append("chexbert")
    if torch_ok and (tokenizers / "roberta-base" / "vocab.json").is_file():
        from tests.helpers.model_fixtures import build_distilroberta

        build_distilroberta(hub)
        built.append("distilroberta")
    if torch_ok and (tokenizers / "bert-base-uncased" / "vocab.txt").is_file():
        from rexeval.backends.standins import build

        # force: the CheXbert test checkpoint above sits in the same repository and is not a stand-in
        build("radgraph", hub, size="small", force=True)  # the small shape keeps the contract fast
        built.append("radgraph")
    if torch_ok:
        from tests.helpers.rate_models import build_all

        build_all(hub)
        built.append("ratescore")
    with pytest.MonkeyPatch.context() as mp, FakeChatServer(_judge) as server:
        mp.setenv("HF_HUB_CACHE", str(hub))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("REXEVAL_CACHE", "off")
        for var in ("HF_HOME", "REXEVAL_RADGRAPH_DIR", "REXEVAL_RADGRAPH_PYTHON", "REXEVAL_CHEXBERT", "REXEVAL_BERT_BASE_UNCASED", "REXEVAL_DISTILROBERTA_DIR",
                    "REXEVAL_RATE_NER", "REXEVAL_BIOLORD"):
            mp.delenv(var, raising=False)
        if "chexbert" in built:
            from rexeval.backends.models.chexbert import _shared_keyed

            _shared_keyed.cache_clear()
        yield {"url": server.base_url, "built": built}


def _options(name: str, standins: dict) -> dict:
    fast = dict(timeout=2.0, backoff_base=0.01, backoff_max=0.05, max_retries=2, parse_retries=1)
    if name in ("errors_llm", "crimson"):
        return {"base_url": standins["url"], "model": "judge-1", **fast}
    if name == "green":
        return {"backend": "endpoint", "base_url": standins["url"]}
    return {}


def _metric_options(standins: dict) -> dict[str, dict]:
    return {n: _options(n, standins) for n in REGISTRY}


def _runnable(name: str, standins: dict):
    """The metric and the metrics it reads, in run order; skip with the reason when one cannot run here."""
    metrics = resolve_metrics([name], _metric_options(standins))
    for m in metrics:
        try:
            m.check_available()
        except MetricUnavailable as exc:
            pytest.skip(f"{m.name} cannot run here: {exc}")
    return metrics


def _columns(metrics, preds, refs) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    for m in metrics:
        batch = Batch([f"s{i}" for i in range(len(preds))], list(preds), list(refs), cols)
        cols.update({k: np.asarray(v, dtype=float) for k, v in m.compute(batch).items()})
    return pd.DataFrame(cols)


#: Metrics whose study values may move in the last float32 bits with the batch: RaTEScore embeds
#: padded batches of entities (measured: 4.6e-8 between a study alone and in a batch of 8). Every other
#: metric must give the same bits.
TOLERANCE = {"ratescore": 1e-6}


def _same(a, b, name: str, atol: float = 0.0) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if atol:
        np.testing.assert_allclose(a, b, rtol=0, atol=atol, equal_nan=True, err_msg=name)
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


NAMES = list(REGISTRY)


@pytest.mark.parametrize("name", NAMES)
def test_declares_direction_range_and_signature(name, standins):
    metric = get_metric(name, **_options(name, standins))
    outputs = metric.outputs()
    assert outputs, f"{name} reports nothing"
    assert metric.name == name
    for out in outputs:
        assert isinstance(out.higher_is_better, bool), out.key
        lo, hi = out.value_range
        assert lo < hi and not math.isnan(lo) and not math.isnan(hi), out.key
        assert isinstance(out.aggregate, Aggregate), out.key
    sig = metric.signature()
    parts = sig.split("|")
    assert parts[0] == name and parts[-1] == f"rexeval:{__version__}"
    for key in metric.options():
        assert any(p.startswith(f"{key}:") for p in parts[1:-1]), f"option {key} missing from {sig}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_values_in_range_and_batch_invariant(name, standins):
    metrics = _runnable(name, standins)
    target = metrics[-1]
    preds, refs = [p for p, _ in PAIRS], [r for _, r in PAIRS]
    together = _columns(metrics, preds, refs)
    for out in target.outputs():
        lo, hi = out.value_range
        if out.per_study:
            v = together[out.key].to_numpy()
            ok = np.isnan(v) | ((v >= lo - 1e-9) & (v <= hi + 1e-9))
            assert ok.all(), f"{out.key} outside [{lo}, {hi}]: {v[~ok]}"
            assert not np.isnan(v).all(), f"{out.key}: every study failed"
        agg = out.aggregate.value({k: together[k].to_numpy() for k in together})
        assert math.isnan(agg) or lo - 1e-9 <= agg <= hi + 1e-9, f"{out.key} aggregate {agg} outside [{lo}, {hi}]"
    written = list(together)  # the metric's columns and those of the metrics it reads
    atol = TOLERANCE.get(name, 0.0)
    order = [5, 2, 7, 0, 3, 6, 1, 4]
    shuffled = _columns(metrics, [preds[i] for i in order], [refs[i] for i in order])
    for pos, i in enumerate(order):
        alone = _columns(metrics, [preds[i]], [refs[i]])
        for c in written:
            _same(alone[c].iloc[0], together[c].iloc[i], f"{c}: study {i} alone vs in the batch", atol)
            _same(shuffled[c].iloc[pos], together[c].iloc[i], f"{c}: study {i} shuffled vs in order", atol)
    group = _columns(metrics, GROUP, [GROUP_REF] * len(GROUP))
    for i, p in enumerate(GROUP):
        alone = _columns(metrics, [p], [GROUP_REF])
        for c in written:
            _same(alone[c].iloc[0], group[c].iloc[i], f"{c}: completion {i} alone vs in a group of one reference", atol)


@pytest.mark.parametrize("name", NAMES)
def test_nan_is_a_counted_failure_left_out_of_the_aggregate(name, standins, monkeypatch):
    from rexeval.run.scoring import score

    metrics = _runnable(name, standins)
    target = metrics[-1]
    keys = [o.key for o in target.outputs() if o.per_study]
    if not keys:
        pytest.skip(f"{name} reports corpus-level values only")
    compute = type(target).compute

    def failing_first(self, batch):
        out = compute(self, batch)
        if batch.study_ids and batch.study_ids[0] == "s0":
            out = {k: np.asarray(v, dtype=float).copy() for k, v in out.items()}
            for k in keys:
                out[k][0] = np.nan
        return out

    monkeypatch.setattr(type(target), "compute", failing_first)
    ids = [f"s{i}" for i in range(len(PAIRS))]
    frame = pd.DataFrame({"study_id": ids, "prediction": [p for p, _ in PAIRS], "reference": [r for _, r in PAIRS]})
    opts = _metric_options(standins)
    with_failure = score(frame, metrics=[name], metric_options=opts, n_resamples=20, progress=False)
    rest = score(frame.iloc[1:].assign(study_id=[f"t{i}" for i in range(1, len(PAIRS))]), metrics=[name],
                 metric_options=opts, n_resamples=20, progress=False)
    for key in keys:
        entry = with_failure.summary["metrics"][key]
        assert entry["n_failed"] == 1 and entry["n"] == len(PAIRS) - 1, key
        assert math.isnan(with_failure.per_study[key].iloc[0])
        expected = rest.summary["metrics"][key]["value"]
        assert entry["value"] == pytest.approx(expected, abs=1e-6, nan_ok=True), f"{key}: the failure was not left out"
