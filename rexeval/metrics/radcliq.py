"""RadCliQ-v0 / v1 and 1/RadCliQ-v1 exactly as CXR-Report-Metric computes them (docs/metrics.md §6).

RadCliQ is a linear model over standardised sub-metrics: sum_i c_i (x_i - mu_i) / sigma_i + b with
x = (radgraph_combined, bertscore, semb_score, bleu). The constants are the fitted values of
CXR-Report-Metric's sklearn pickles (StandardScaler mean_/scale_, LinearRegression coef_/intercept_),
copied to full precision. Lower is better; the leaderboard ranks by 1 / mean(per-study v1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rexeval.metrics.base import Batch, Metric, Output, inverse_mean_of, mean_of

#: Sub-metric order of the fitted models.
INPUTS = ("radgraph", "bertscore", "semb_score", "bleu")

#: version -> (mu, sigma, coef, intercept).
CONSTANTS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]] = {
    "v0": (
        (0.5398376019082272, 0.6312549595000001, 0.7716797866672277, 0.4607372064809605),
        (0.3018344440559102, 0.22466950746141123, 0.24750333805236252, 0.30336670936092264),
        (-0.4796252644863446, -0.6762170542369337, -0.46366575161751994, 0.2165861905287535),
        1.641666666666666,
    ),
    "v1": (
        (0.5379231241355762, 0.6175725628125001, 0.7647942121140658, 0.44738335396242174),
        (0.3028258411486429, 0.22430938459304575, 0.2539439110169773, 0.2989271671041838),
        (-0.37708368261038905, -0.37030009974480316, -0.25261621789593225, 4.315048405024756e-12),
        2.4665525613232559e-10,
    ),
}

#: Column names accepted for each input (rexeval's, then CXR-Report-Metric's and ReXrank's).
ALIASES = {
    "radgraph": ("radgraph", "radgraph_combined", "RadGraph"),
    "bertscore": ("bertscore", "BertScore", "bert_score"),
    "semb_score": ("semb_score", "SembScore"),
    "bleu": ("bleu", "bleu_score", "BLEU"),
}


def radcliq(radgraph: Any, bertscore: Any, semb_score: Any, bleu: Any, version: str = "v1") -> np.ndarray:
    """RadCliQ-``version`` per element of the sub-metric arrays (broadcasting; lower is better)."""
    if version not in CONSTANTS:
        raise ValueError(f"version must be one of {', '.join(CONSTANTS)}, not {version!r}")
    mu, sigma, coef, intercept = CONSTANTS[version]
    xs = [np.asarray(v, dtype=float) for v in (radgraph, bertscore, semb_score, bleu)]
    # Same operation order as sklearn: scale each feature, then dot with coef, then add intercept.
    z = [(x - m) / s for x, m, s in zip(xs, mu, sigma)]
    total = z[0] * coef[0]
    for zi, ci in zip(z[1:], coef[1:]):
        total = total + zi * ci
    return total + intercept


def inv_radcliq_v1(values: Sequence[float]) -> float:
    """The leaderboard's rank key: 1 / mean of per-study RadCliQ-v1 (NaN left out)."""
    arr = np.asarray(values, dtype=float)
    return float(1.0 / np.nanmean(arr))


class RadCliQ(Metric):
    name = "radcliq"
    requires = ("bleu", "bertscore", "semb_score", "radgraph")
    description = "RadCliQ-v0/v1 per study (lower is better) and 1/RadCliQ-v1, ReXrank's rank key"

    def outputs(self) -> list[Output]:
        return [
            Output("radcliq_v0", False, (-np.inf, np.inf), mean_of("radcliq_v0"),
                   "RadCliQ-v0 per study (CXR-Report-Metric constants); perfect report -0.2421"),
            Output("radcliq_v1", False, (-np.inf, np.inf), mean_of("radcliq_v1"),
                   "RadCliQ-v1 per study (CXR-Report-Metric constants); perfect report -1.4407"),
            Output("inv_radcliq_v1", True, (-np.inf, np.inf), inverse_mean_of("radcliq_v1"),
                   "1 / mean RadCliQ-v1 (ReXrank rank key; meaningful only when the mean is > 0)",
                   per_study=False),
        ]

    def options(self) -> dict[str, Any]:
        return {"constants": "CXR-Report-Metric@9c9ecad", "inputs": ",".join(INPUTS)}

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        cols = [np.asarray(batch.columns[k], dtype=float) for k in INPUTS]
        if batch.progress:
            batch.progress(len(batch))
        # NaN in any input (a recorded failure) stays NaN: it is left out of the means, never a zero.
        return {"radcliq_v0": radcliq(*cols, version="v0"), "radcliq_v1": radcliq(*cols, version="v1")}  # type: ignore[misc,arg-type]


def _column(frame: Any, name: str, path: str) -> tuple[str, np.ndarray]:
    from rexeval.base.exceptions import InputError

    for alias in ALIASES[name]:
        if alias in frame.columns:
            values = np.empty(len(frame))
            for i, cell in enumerate(frame[alias].tolist()):
                row = int(frame["_row"].iloc[i]) if "_row" in frame.columns else i + 1
                if cell is None or (isinstance(cell, str) and not cell.strip()):
                    values[i] = np.nan  # a recorded failure upstream: stays NaN, left out of the mean
                    continue
                try:
                    values[i] = float(cell)
                except (TypeError, ValueError):
                    raise InputError(f"not a number: {str(cell)[:40]!r}", path=path, row=row, column=alias) from None
            return alias, values
    raise InputError(
        f"no column for {name} (accepted names: {', '.join(ALIASES[name])}); columns are "
        f"{', '.join(c for c in frame.columns if c != '_row')}",
        path=path,
    )


def radcliq_table(frame: Any, path: str = "<table>") -> Any:
    """Add ``radcliq_v0`` and ``radcliq_v1`` to a table of sub-metric columns (any accepted names)."""
    found = dict(_column(frame, name, path) for name in INPUTS)
    arrays = list(found.values())
    out = frame.drop(columns=[c for c in ("_row",) if c in frame.columns]).copy()
    out["radcliq_v0"] = radcliq(*arrays, version="v0")  # type: ignore[misc,arg-type]  # the four inputs
    out["radcliq_v1"] = radcliq(*arrays, version="v1")  # type: ignore[misc,arg-type]
    return out
