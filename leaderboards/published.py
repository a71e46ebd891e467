"""Published ReXrank tables (transcribed figures with their source) and RadCliQ recomputation.

``load_table("rexrank:iu_xray:findings")`` returns the published rows as a DataFrame under rexeval's
metric keys, plus our RadCliQ-v1 (and v0 where published) recomputed from the published sub-metric
columns (RadGraph, BERTScore, SembScore, BLEU; docs/metrics.md §6), and a flag on every row whose published value
cannot be reproduced.

Tolerance (docs/metrics.md §6): the sub-metrics are published to 3 decimals, so each may be off by up to 0.0005.
RadCliQ is affine in them, hence |ΔRadCliQ| <= 0.0005 * Σ|raw coefficient| (0.00195 for v1, 0.00359 for
v0), plus 0.0005 for the rounding of the published RadCliQ itself: ±0.0024 (v1), ±0.0041 (v0). For
1/RadCliQ-v1 the first term is divided by v1² (first-order propagation): ≈ 0.0019/v1² + 0.0005. A row
whose recomputed value is further from the published one than that is flagged as not reproducible.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "tables"
SUB_METRICS = ("radgraph", "bertscore", "semb_score", "bleu")
ROUNDING = 0.0005

def _constants(version: str):
    from rexeval.metrics.radcliq import CONSTANTS  # one home for the fitted constants

    return CONSTANTS[version]


def radcliq(radgraph: Any, bertscore: Any, semb_score: Any, bleu: Any, version: str = "v1") -> np.ndarray:
    """RadCliQ-``version`` = Σ c_i (x_i − μ_i)/σ_i + b over (RadGraph, BERTScore, SembScore, BLEU)."""
    from rexeval.metrics.radcliq import radcliq as metric_radcliq

    return np.asarray(metric_radcliq(radgraph, bertscore, semb_score, bleu, version=version), dtype=float)


def rounding_slope(version: str) -> float:
    """Σ|c_i/σ_i|: how far RadCliQ moves when every input moves by 1 (raw-space coefficients)."""
    _, sigma, coef, _ = _constants(version)
    return float(sum(abs(c / s) for c, s in zip(coef, sigma, strict=False)))


@cache
def _load(source: str) -> dict:
    path = DATA / f"{source}.json"
    if not path.is_file():
        from rexeval.base.exceptions import ConfigError

        known = sorted(p.stem for p in DATA.glob("*.json"))
        raise ConfigError(f"no published source {source!r} (known: {', '.join(known)})")
    return json.loads(path.read_text(encoding="utf-8"))


def table_ids() -> list[str]:
    ids = []
    for path in sorted(DATA.glob("*.json")):
        ids += list(_load(path.stem)["tables"])
    return ids


def table_info(table_id: str) -> dict:
    source = table_id.split(":", 1)[0]
    source = {"rexrank-2024": "rexrank"}.get(source, source)
    data = _load(source)
    if table_id not in data["tables"]:
        from rexeval.base.exceptions import ConfigError

        raise ConfigError(f"no published table {table_id!r}; known: {', '.join(table_ids())}")
    return {**data["tables"][table_id], "attribution": data.get("attribution", ""),
            "higher_is_better": data.get("higher_is_better", {}), "id": table_id}


def load_table(table_id: str) -> pd.DataFrame:
    """Published rows + recomputed RadCliQ columns + reproducibility flags (see module doc)."""
    info = table_info(table_id)
    records = []
    for row in info["rows"]:
        rec = {"system": row["system"], "published_rank": row["published_rank"], "date": row["date"],
               "institution": row["institution"], "url": row["url"], "source": "published"}
        rec.update({k: (np.nan if v is None else v) for k, v in row["values"].items()})
        records.append(rec)
    frame = pd.DataFrame(records)
    flags = [[] for _ in range(len(frame))]
    if all(k in frame for k in SUB_METRICS):
        subs = [frame[k].to_numpy(dtype=float) for k in SUB_METRICS]
        v1 = radcliq(*subs, version="v1")
        frame["radcliq_v1_ours"] = v1
        frame["inv_radcliq_v1_ours"] = 1.0 / v1
        slope1 = rounding_slope("v1")
        checks = []
        if "inv_radcliq_v1" in frame:
            tol = ROUNDING * slope1 / v1**2 + ROUNDING
            checks.append(("1/RadCliQ-v1", frame["inv_radcliq_v1"].to_numpy(dtype=float), 1.0 / v1, tol))
        if "radcliq_v1" in frame:
            checks.append(("RadCliQ-v1", frame["radcliq_v1"].to_numpy(dtype=float), v1, ROUNDING * slope1 + ROUNDING))
        if "radcliq_v0" in frame:
            v0 = radcliq(*subs, version="v0")
            frame["radcliq_v0_ours"] = v0
            checks.append(("RadCliQ-v0", frame["radcliq_v0"].to_numpy(dtype=float), v0, ROUNDING * rounding_slope("v0") + ROUNDING))
        frame["reproduces"] = True
        for label, published, ours, tol in checks:
            tol = np.broadcast_to(tol, published.shape)
            for i, (p, o, t) in enumerate(zip(published, ours, tol, strict=False)):
                if np.isnan(p):
                    continue
                if not abs(p - o) <= t:
                    frame.loc[i, "reproduces"] = False
                    flags[i].append(f"{label}: published {p:.3f}, recomputed {o:.4f} (|diff| {abs(p - o):.4f} > tolerance {t:.4f})")
    frame["flag"] = ["; ".join(f) for f in flags]
    frame.attrs["table_id"] = table_id
    frame.attrs["source"] = info["source"]
    frame.attrs["attribution"] = info["attribution"]
    frame.attrs["metric_columns"] = list(info["columns"])
    frame.attrs["higher_is_better"] = {k: v for k, v in info["higher_is_better"].items() if k in info["columns"]}
    return frame


def source_line(frame: pd.DataFrame) -> str:
    s = frame.attrs.get("source", {})
    return (f"{frame.attrs.get('table_id', '')}: {s.get('repository', '')} branch {s.get('branch', '')} "
            f"@ {s.get('commit', '')} ({s.get('date', '')}), {s.get('file', '')}. {frame.attrs.get('attribution', '')}")
