"""Throughput of the rule-based labeler on the 3,955 IU X-ray reports (findings + impression).

Usage: python benchmarks/rules_labeler_iu.py [path/to/NLMCXR_reports.tgz]
Prints reports/second and the label distribution (positive/negative/uncertain per condition).
"""

from __future__ import annotations

import os
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from rexeval.backends.labelers import CONDITIONS, get_labeler

SHARED = Path(os.environ.get("REXEVAL_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
DEFAULT = SHARED / "data" / "iu_reports" / "NLMCXR_reports.tgz"


def iu_reports(path: Path) -> dict[str, str]:
    """uId -> 'FINDINGS IMPRESSION' text for every report XML in the archive."""
    out: dict[str, str] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.name.endswith(".xml"):
                continue
            root = ET.parse(tar.extractfile(member)).getroot()
            sections = {a.get("Label"): (a.text or "") for a in root.iter("AbstractText")}
            uid = root.find("uId").get("id")
            out[uid] = " ".join(s for s in (sections.get("FINDINGS", ""), sections.get("IMPRESSION", "")) if s)
    return out


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        print(f"skipped: {path} not found (set REXEVAL_SHARED to the folder holding data/)")
        return
    reports = iu_reports(path)
    texts = list(reports.values())
    labeler = get_labeler("rules")
    t0, c0 = time.perf_counter(), time.process_time()
    labels = labeler.label(texts)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{len(texts)} reports ({len(set(texts))} distinct) labelled in {dt:.2f} s wall, {cpu:.2f} s CPU: "
          f"{len(texts) / dt:,.0f} reports/s wall, {len(texts) / cpu:,.0f} per CPU-second (one core)")
    print(f"{'condition':28s} {'pos':>6s} {'neg':>6s} {'unc':>6s} {'blank':>6s}")
    for j, c in enumerate(CONDITIONS):
        col = labels[:, j]
        print(f"{c:28s} {int(np.sum(col == 1)):6d} {int(np.sum(col == 0)):6d} {int(np.sum(col == -1)):6d} {int(np.sum(np.isnan(col))):6d}")


if __name__ == "__main__":
    main()
