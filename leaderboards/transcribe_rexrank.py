"""Transcribe the published ReXrank tables into ``leaderboards/tables/rexrank.json``.

Input: the CSV tables of rajpurkarlab/ReXrank as kept in ``../shared/data/rexrank/leaderboard/``
(branch main @ 8152f99, the 2024 tables; branch gh-pages @ b7efa9f, the live site of 2025-09-05).
Output: one JSON document with the source of every table (repository, branch, commit, date, file) and the
published figures per row, under rexeval's metric keys. Re-run after the site changes:

    python -m leaderboards.transcribe_rexrank [SHARED_LEADERBOARD_DIR]
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "tables" / "rexrank.json"
_SHARED = Path(os.environ.get("REXEVAL_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
DEFAULT_SRC = _SHARED / "data" / "rexrank" / "leaderboard"

#: Published column -> rexeval key.
COLUMNS = {
    "BLEU": "bleu",
    "BertScore": "bertscore",
    "SembScore": "semb_score",
    "RadGraph": "radgraph",
    "RadCliQ-v0": "radcliq_v0",
    "RadCliQ-v1": "radcliq_v1",
    "1/RadCliQ-v1": "inv_radcliq_v1",
    "RaTEScore": "ratescore",
    "GREEN": "green",
    "FineRadScore": "fineradscore",
    "1/FineRadScore": "inv_fineradscore",
}
HIGHER_IS_BETTER = {
    "bleu": True, "bertscore": True, "semb_score": True, "radgraph": True, "radcliq_v0": False,
    "radcliq_v1": False, "inv_radcliq_v1": True, "ratescore": True, "green": True, "fineradscore": False,
    "inv_fineradscore": True,
}
#: File-name dataset -> (dataset id, split).
DATASETS = {
    "iu_xray": ("iu_xray", "test"), "iu_xray-valid": ("iu_xray", "valid"),
    "mimiccxr": ("mimic_cxr", "test"), "mimic-cxr": ("mimic_cxr", "test"), "mimic-cxr-valid": ("mimic_cxr", "valid"),
    "chexpertplus": ("chexpert_plus", "valid"), "chexpert_plus-valid": ("chexpert_plus", "valid"),
    "gradienthealth": ("gradienthealth", "test"),
}
BRANCHES = {
    "main": {"commit": "8152f99", "date": "2024", "note": "the 2024 tables (RadCliQ-v0/v1 columns)"},
    "gh-pages": {"commit": "b7efa9f", "date": "2025-09-05", "note": "the live rexrank.ai site; the Rank column is not the display order, the site sorts by 1/RadCliQ-v1"},
}


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    return float(text)


def transcribe(src: Path) -> dict:
    tables = {}
    for path in sorted(src.glob("*.csv")):
        branch, _, rest = path.stem.partition("__")
        findings_only = rest.startswith("findings_result_")
        ds_name = rest.split("result_", 1)[1]
        dataset, split = DATASETS[ds_name]
        track = "findings" if findings_only else "findings-impression"
        generation = "rexrank" if branch == "gh-pages" else "rexrank-2024"
        # CheXpert Plus is only evaluated on its valid split; the others get "-valid" when not test.
        suffix = "-valid" if split == "valid" and dataset != "chexpert_plus" else ""
        table_id = f"{generation}:{dataset}{suffix}:{track}"
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = []
            for record in reader:
                if not any(record):
                    continue
                record = record + [""] * (len(header) - len(record))  # a trailing empty cell may be omitted
                cells = dict(zip(header, record, strict=False))
                values = {COLUMNS[c]: _number(cells[c]) for c in header if c in COLUMNS}
                rows.append({
                    "published_rank": int(cells["Rank"]),
                    "system": cells["Model Name"],
                    "date": cells.get("Date", ""),
                    "institution": cells.get("Institution", ""),
                    "url": cells.get("Model URL", ""),
                    "values": values,
                })
        tables[table_id] = {
            "dataset": dataset,
            "split": split,
            "track": track,
            "source": {
                "repository": "https://github.com/rajpurkarlab/ReXrank",
                "branch": branch,
                "commit": BRANCHES[branch]["commit"],
                "date": BRANCHES[branch]["date"],
                "file": f"{path.stem.split('__', 1)[1]}.csv",
                "note": BRANCHES[branch]["note"],
            },
            "columns": [COLUMNS[c] for c in header if c in COLUMNS],
            "rounding": "values as published (3 decimals)",
            "rows": rows,
        }
    return {
        "name": "ReXrank published leaderboards",
        "attribution": "ReXrank (Rajpurkar Lab, Harvard), https://rexrank.ai; figures transcribed with their source",
        "higher_is_better": HIGHER_IS_BETTER,
        "tables": tables,
    }


def main(argv: list[str]) -> None:
    src = Path(argv[0]) if argv else DEFAULT_SRC
    if not src.is_dir():
        sys.exit(f"no such directory: {src} (set REXEVAL_SHARED or pass the folder)")
    data = transcribe(src)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(data['tables'])} tables, {sum(len(t['rows']) for t in data['tables'].values())} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
