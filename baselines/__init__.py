"""Baselines scored like models: copy-prior, template, random, retrieval and oracle-labels.

An application package: it imports rexeval, rexeval never imports it (the CLI does, lazily).

>>> from baselines import run_baseline
>>> run = run_baseline("retrieval", test="iu_xray_test.json", train="NLMCXR_reports.tgz")  # doctest: +SKIP
>>> run.write("preds.csv")  # preds.csv + preds.csv.meta.json, picked up by `rexeval score`  # doctest: +SKIP
"""

from baselines.core import BASELINES, BaselineRun, run_baseline, template_report
from baselines.data import Corpus, load_iu_reports, load_table

__all__ = [
    "BASELINES",
    "BaselineRun",
    "Corpus",
    "load_iu_reports",
    "load_table",
    "run_baseline",
    "template_report",
]
