"""Leaderboard: ranking, rank groups on synthetic systems with known differences, renderers, CLI."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.cli import app
from rexeval.reports.leaderboard import build_leaderboard
from rexeval.run.runs import load_runs

N = 300


def write_run(path: Path, name: str, values: np.ndarray, *, key: str = "bleu", hib: bool = True,
              per_study: bool = True, ids: list[str] | None = None) -> Path:
    """A run directory as `rexeval score --out` writes it, for a mean-aggregated metric."""
    path.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"s{i:04d}" for i in range(len(values))]
    if per_study:
        pd.DataFrame({"study_id": ids, key: values}).to_csv(path / "per_study.csv", index=False)
    summary = {
        "n_studies": len(values),
        "metrics": {key: {"value": float(np.mean(values)), "ci95": [float(np.mean(values)) - 0.01, float(np.mean(values)) + 0.01],
                          "higher_is_better": hib, "aggregate": "mean", "metric": key if key == "bleu" else ""}},
        "run": {"name": name},
    }
    (path / "summary.json").write_text(json.dumps(summary))
    return path


@pytest.fixture
def systems(tmp_path):
    rng = np.random.default_rng(7)
    base = rng.uniform(0.1, 0.5, N)
    runs = {
        "A": base,
        "A-copy": base.copy(),  # identical system
        "Better": np.clip(base + 0.15 + rng.normal(0, 0.02, N), 0, 1),  # clearly better on every study
        "Worse": np.clip(base - 0.08 + rng.normal(0, 0.02, N), 0, 1),
    }
    return [write_run(tmp_path / k, k, v) for k, v in runs.items()]


def test_rank_groups_identical_share_better_does_not(systems):
    board = build_leaderboard(load_runs(systems), rank_by="bleu", n_permutations=2000)
    t = board.table.set_index("system")
    assert t.loc["Better", "rank"] == 1 and t.loc["Better", "group"] == 1
    assert t.loc["A", "group"] == t.loc["A-copy", "group"] == 2
    assert t.loc["A", "rank"] == t.loc["A-copy", "rank"] == 2  # ties share the rank
    assert t.loc["Worse", "group"] == 3 and t.loc["Worse", "rank"] == 4
    tests = board.tests.set_index(["better", "worse"])
    assert tests.loc[("A", "A-copy"), "p_value"] == 1.0
    assert tests.loc[("Better", "A"), "p_adjusted"] < 0.01


def test_small_difference_is_not_separated(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, N)
    noisy = np.clip(base + rng.normal(0.002, 0.2, N), 0, 1)  # tiny mean shift, large per-study noise
    runs = load_runs([write_run(tmp_path / "a", "a", base), write_run(tmp_path / "b", "b", noisy)])
    board = build_leaderboard(runs, rank_by="bleu", n_permutations=2000)
    assert board.table["group"].tolist() == [1, 1]
    assert board.table["rank"].tolist() == [1, 2]


def test_lower_is_better_and_missing_per_study(tmp_path):
    rng = np.random.default_rng(2)
    base = rng.uniform(1, 2, N)
    runs = load_runs([
        write_run(tmp_path / "hi", "hi", base + 0.5, key="err", hib=False),
        write_run(tmp_path / "lo", "lo", base, key="err", hib=False),
        write_run(tmp_path / "nops", "nops", base + 1.0, key="err", hib=False, per_study=False),
    ])
    board = build_leaderboard(runs, rank_by="err", n_permutations=1000)
    assert board.table["system"].tolist() == ["lo", "hi", "nops"]
    assert board.table["group"].tolist()[:2] == [1, 2]
    assert pd.isna(board.table["group"].iloc[2])
    assert any("nops" in n and "per_study" in n for n in board.notes)


def test_different_study_sets_get_no_group(tmp_path):
    v = np.linspace(0, 1, 50)
    runs = load_runs([
        write_run(tmp_path / "a", "a", v),
        write_run(tmp_path / "b", "b", v * 0.5, ids=[f"x{i}" for i in range(50)]),
    ])
    board = build_leaderboard(runs, rank_by="bleu", n_permutations=100)
    assert board.table["group"].iloc[0] == 1 and pd.isna(board.table["group"].iloc[1])


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.scripts = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1
        elif tag == "script":
            self.scripts += 1


def test_renderers(systems):
    board = build_leaderboard(load_runs(systems), rank_by="bleu", n_permutations=500)
    # Markdown: a GFM table that markdown-it (rich's parser) reads as one table with 5 rows x 5 cells.
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().enable("table").parse(board.to_markdown())
    assert sum(t.type == "table_open" for t in tokens) == 1
    assert sum(t.type == "tr_open" for t in tokens) == 5
    assert sum(t.type in ("th_open", "td_open") for t in tokens) == 25
    # LaTeX: booktabs rules, balanced braces, the column count of every row matches the spec.
    tex = board.to_latex()
    spec = re.search(r"\\begin\{tabular\}\{([a-z]+)\}", tex).group(1)
    body = tex.split("\\midrule")[1].split("\\bottomrule")[0]
    for line in [tex.split("\\toprule")[1].split("\\midrule")[0]] + body.strip().splitlines():
        assert line.strip().endswith("\\\\")
        assert line.count("&") == len(spec) - 1
    assert tex.count("{") == tex.count("}")
    assert all(r in tex for r in ("\\toprule", "\\midrule", "\\bottomrule", "\\end{tabular}"))
    assert "\\textbf{" in tex  # the best value is bold
    # HTML: self-contained (no external src/href), 5 rows of 5 cells, sortable script present.
    page = board.to_html()
    parser = _Cells()
    parser.feed(page)
    assert parser.rows == [5] * 5 and parser.scripts == 1
    assert "http" not in page.replace("http-equiv", "")
    # CSV round-trips
    from io import StringIO

    back = pd.read_csv(StringIO(board.to_csv()))
    assert back["system"].tolist() == board.table["system"].tolist()


def test_cli_writes_all_formats(systems, tmp_path):
    out = tmp_path / "board"
    res = CliRunner().invoke(app, ["leaderboard", *map(str, systems), "--rank-by", "bleu", "--permutations", "500", "-o", str(out)])
    assert res.exit_code == 0, res.output
    for ext in ("md", "tex", "html", "csv"):
        assert (out / f"leaderboard.{ext}").is_file()
    assert (out / "leaderboard_tests.csv").is_file()
    assert "| 1 | 1 | Better |" in res.output


def test_cli_bad_input_one_line(tmp_path):
    res = CliRunner().invoke(app, ["leaderboard", str(tmp_path)])
    assert res.exit_code == 2
    assert "missing summary.json" in res.output


def test_inverse_mean_rank_key_rebuilt_from_per_study_column(tmp_path):
    """inv_radcliq_v1 (1/mean of per-study radcliq_v1) is the default rank key; it is tested on radcliq_v1."""
    rng = np.random.default_rng(5)
    base = rng.uniform(0.3, 1.5, N)
    dirs = []
    for name, shift in (("good", -0.3), ("good-copy", -0.3), ("poor", 0.2)):
        v = base + shift
        d = tmp_path / name
        d.mkdir()
        pd.DataFrame({"study_id": [f"s{i}" for i in range(N)], "radcliq_v1": v}).to_csv(d / "per_study.csv", index=False)
        metrics = {
            "radcliq_v1": {"value": float(v.mean()), "ci95": [None, None], "higher_is_better": False, "aggregate": "mean", "metric": "radcliq"},
            "inv_radcliq_v1": {"value": float(1 / v.mean()), "ci95": [None, None], "higher_is_better": True, "aggregate": "1/mean", "metric": "radcliq"},
        }
        (d / "summary.json").write_text(json.dumps({"n_studies": N, "metrics": metrics, "run": {"name": name}}))
        dirs.append(d)
    board = build_leaderboard(load_runs(dirs), n_permutations=1000)
    assert board.rank_by == "inv_radcliq_v1"
    assert board.table["system"].tolist() == ["good", "good-copy", "poor"]
    assert board.table["group"].tolist() == [1, 1, 2]
    assert board.table["inv_radcliq_v1"].iloc[0] == pytest.approx(1 / (base - 0.3).mean())


def test_runs_next_to_published_rows(systems):
    from leaderboards.published import load_table

    pub = load_table("rexrank:iu_xray:findings-impression")
    board = build_leaderboard(load_runs(systems), rank_by="bleu", published=pub, n_permutations=200)
    t = board.table
    assert len(t) == 4 + 7
    assert t["group"][t["source"] == "published"].isna().all()
    assert t["group"][t["source"] == "run"].notna().all()
    # the compared systems first, sorted by the rank key; the published block after them, in ReXrank's
    # own order (its 1/RadCliQ-v1), without rank numbers
    ours, theirs = t[t["source"] == "run"], t[t["source"] == "published"]
    assert ours.index.max() < theirs.index.min()
    assert ours["bleu"].tolist() == sorted(ours["bleu"], reverse=True)
    assert theirs["inv_radcliq_v1"].tolist() == sorted(theirs["inv_radcliq_v1"], reverse=True)
    assert theirs["rank"].isna().all()
    assert "⚠" in board.to_markdown() and "b7efa9f" in board.to_markdown()


def test_latex_compiles_when_a_tex_engine_is_present(systems, tmp_path):
    import shutil
    import subprocess

    engine = shutil.which("pdflatex")
    if engine is None:
        pytest.skip("no pdflatex on PATH (apt-get install texlive-latex-base texlive-latex-recommended)")
    from leaderboards.published import load_table

    board = build_leaderboard(load_runs(systems), rank_by="bleu", n_permutations=100,
                              published=load_table("rexrank:iu_xray:findings-impression"))
    (tmp_path / "table.tex").write_text(board.to_latex())
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{booktabs}"
                                      "\\begin{document}\\tiny\\input{table.tex}\\end{document}\n")
    res = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_too_few_permutations_are_raised_so_clear_differences_separate(tmp_path):
    rng = np.random.default_rng(11)
    base = rng.uniform(0.2, 0.4, N)
    dirs = [write_run(tmp_path / f"s{k}", f"s{k}", base + 0.05 * k + rng.normal(0, 0.005, N)) for k in range(12)]
    board = build_leaderboard(load_runs(dirs), rank_by="bleu", n_permutations=50)
    assert board.n_permutations >= 2 * 11 / 0.05
    assert board.table["system"].tolist() == [f"s{k}" for k in range(11, -1, -1)]
    assert board.table["group"].tolist() == list(range(1, 13))  # every step is a clear difference
    assert any("permutations raised" in n for n in board.notes)


# ----- what the board shows: rank key, published block, column cap, human headers ----------------------

def write_summary_run(path: Path, name: str, metrics: dict[str, tuple[float, bool]], n: int = 50) -> Path:
    """A run with a summary only (no per-study values): key -> (value, higher_is_better)."""
    path.mkdir(parents=True, exist_ok=True)
    entries = {k: {"value": v, "ci95": [v - 0.01, v + 0.01], "higher_is_better": hib, "aggregate": "mean",
                   "metric": k} for k, (v, hib) in metrics.items()}
    (path / "summary.json").write_text(json.dumps({"n_studies": n, "metrics": entries, "run": {"name": name}}))
    return path


def test_rexrank_key_ranks_when_every_run_has_it_else_the_declared_fallback(tmp_path):
    both = {"bleu": (0.30, True), "inv_radcliq_v1": (0.80, True)}
    a = write_summary_run(tmp_path / "a", "a", both)
    b = write_summary_run(tmp_path / "b", "b", {"bleu": (0.20, True), "inv_radcliq_v1": (0.95, True)})
    board = build_leaderboard(load_runs([a, b]), n_permutations=10)
    # 1/RadCliQ-v1 ranks, not BLEU-2: b is first although its BLEU-2 is lower
    assert board.rank_by == "inv_radcliq_v1" and board.table["system"].tolist() == ["b", "a"]
    assert board.caption().startswith("Ranked by 1/RadCliQ-v1 (`inv_radcliq_v1`, higher is better)")
    c = write_summary_run(tmp_path / "c", "c", {"bleu": (0.25, True)})
    board = build_leaderboard(load_runs([a, b, c]), n_permutations=10)
    assert board.rank_by == "bleu" and board.table["system"].tolist() == ["a", "c", "b"]
    assert "fallback" in board.caption() and "1/RadCliQ-v1" in board.caption()
    md = board.to_markdown()
    assert md.splitlines()[0] == board.caption()


def test_published_rows_take_no_rank_from_the_compared_systems(systems):
    from leaderboards.published import load_table

    pub = load_table("rexrank:iu_xray:findings-impression")
    alone = build_leaderboard(load_runs(systems), rank_by="bleu", n_permutations=100)
    board = build_leaderboard(load_runs(systems), rank_by="bleu", published=pub, n_permutations=100)
    ours = board.table[board.table["source"] == "run"]
    # a published BLEU-2 above ours would have pushed our ranks down; it does not
    assert pub["bleu"].max() > ours["bleu"].min()
    assert ours["rank"].tolist() == alone.table["rank"].tolist()
    # their own block: a second Markdown table, a second tabular, a second HTML table
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().enable("table").parse(board.to_markdown())
    assert sum(t.type == "table_open" for t in tokens) == 2
    assert board.to_latex().count("\\begin{tabular}") == 2
    page = board.to_html()
    assert page.count("<table") == 2 and page.index('id="lb"') < page.index('id="lb-published"')
    assert "not ranked" in board.published_caption()


def _many_metric_runs(tmp_path):
    from rexeval.base.display import display

    keys = ["bleu", "bertscore", "semb_score", "radgraph", "radcliq_v1", "inv_radcliq_v1", "ratescore", "green",
            "errors_struct_total_sig", "errors_struct_total", "rules_f1_14_micro", "rules_f1_5_micro", "bleu4", "rouge_l",
            "rules_f1_14_macro", "radgraph_simple", "bertscore_p", "errors_struct_total_sig_share_le1"]
    assert sum(display(k).headline for k in keys) > 8  # more headline numbers than the cap
    dirs = []
    for i, name in enumerate(("x", "y")):
        metrics = {k: (0.5 + 0.1 * i, not k.startswith(("errors_struct", "radcliq"))) for k in keys}
        dirs.append(write_summary_run(tmp_path / name, name, metrics))
    return keys, load_runs(dirs)


def test_column_cap_and_columns_all(tmp_path):
    keys, runs = _many_metric_runs(tmp_path)
    board = build_leaderboard(runs, n_permutations=10)
    assert len(board.columns) == 8 and board.columns[0] == "inv_radcliq_v1"
    header = board.to_markdown().splitlines()[2]
    assert header.count("|") - 1 == 4 + 8  # rank, group, system, n + 8 metrics
    assert set(board.to_csv().splitlines()[0].split(",")) >= set(keys)  # the CSV keeps every metric
    full = build_leaderboard(runs, n_permutations=10, columns="all")
    assert sorted(full.columns) == sorted(keys)
    assert full.to_markdown().splitlines()[2].count("|") - 1 == 4 + len(keys)
    tex = full.to_latex()  # pdflatex cannot set a bare "≤" from a human name
    assert "≤" not in tex and "with $\\leq$1 significant errors" in tex


def test_human_headers_in_markdown_latex_and_html(tmp_path):
    _, runs = _many_metric_runs(tmp_path)
    board = build_leaderboard(runs, n_permutations=10)
    md, tex, page = board.to_markdown(), board.to_latex(), board.to_html()
    assert "| 1/RadCliQ-v1 ↑ | BLEU-2 ↑ |" in md and "significant errors per report ↓" in md
    assert "1/RadCliQ-v1 $\\uparrow$ & BLEU-2 $\\uparrow$" in tex
    assert ">1/RadCliQ-v1 &uarr;</th>" in page and ">BLEU-2 &uarr;</th>" in page
    for text in (md, tex, page):
        assert "inv_radcliq_v1 " not in text.replace("`inv_radcliq_v1`", "")  # keys only in the caption
        assert "errors_struct_total_sig" not in text.replace('title="errors_struct_total_sig;', "")
