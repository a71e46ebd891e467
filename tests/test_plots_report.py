"""Plots (one figure per question, each a PNG and an SVG, human axis names) and the HTML report, from runs made by `rexeval score`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rexeval.cli import app
from rexeval.reports.html_report import build_report, worst_studies
from rexeval.reports.plots import condition_matrix, error_columns, error_distribution
from rexeval.run.runs import load_run, load_runs

REFS = [
    "the heart is normal in size. the lungs are clear. no pleural effusion.",
    "mild cardiomegaly. small left pleural effusion. no pneumothorax.",
    "right lower lobe opacity concerning for pneumonia. no effusion.",
    "no acute cardiopulmonary abnormality. heart size normal.",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three systems scored by the real CLI (bleu, --by sex), plus synthetic error and condition results."""
    tmp = tmp_path_factory.mktemp("runs")
    n = 48
    ids = [f"st{i:03d}" for i in range(n)]
    refs = pd.DataFrame({"study_id": ids, "report": [REFS[i % 4] for i in range(n)],
                         "sex": ["F", "M", "Unknown", None] * (n // 4)})
    refs.to_csv(tmp / "refs.csv", index=False)
    systems = {
        "copy": [REFS[i % 4] for i in range(n)],
        "normal": [REFS[0]] * n,
        "bad <b>": ["<script>alert(1)</script> lungs"] * n,
    }
    dirs = []
    errors = {"copy": [0] * n, "normal": [0, 1, 2, 3, 4, 5] * (n // 6), "bad <b>": [5] * (n - 1) + [np.nan]}
    for k, (name, texts) in enumerate(systems.items()):
        pd.DataFrame({"study_id": ids, "report": texts}).to_csv(tmp / f"p{k}.csv", index=False)
        out = tmp / f"run{k}"
        res = CliRunner().invoke(app, ["score", str(tmp / f"p{k}.csv"), "-r", str(tmp / "refs.csv"), "-m", "bleu,rouge_l",
                                       "--name", name, "--by", "sex", "--min-group-size", "15", "--bootstrap", "200",
                                       "--no-progress", "-o", str(out)])
        assert res.exit_code == 0, res.output
        ps = pd.read_csv(out / "per_study.csv", dtype={"study_id": str})
        ps["judge_total_sig"] = errors[name]
        ps.to_csv(out / "per_study.csv", index=False)
        summary = json.loads((out / "summary.json").read_text())
        summary["conditions"] = {"chexbert": {"Edema": {"precision": 1, "recall": 1, "f1": 0.1 * (k + 1), "support": 5},
                                              "Cardiomegaly": {"precision": 1, "recall": 1, "f1": None, "support": 0}}}
        (out / "summary.json").write_text(json.dumps(summary))
        dirs.append(out)
    return dirs


def test_error_convention_and_shares(runs):
    assert error_columns(["bleu", "judge_total_sig", "errcount_total_sig", "judge_total_sig_share0", "total"]) == [
        "judge_total_sig", "errcount_total_sig"]
    dist = error_distribution(load_runs(runs)).set_index("system")
    assert dist.loc["copy", ["0", "1", "2", "3", "≥4"]].tolist() == [1, 0, 0, 0, 0]
    # 0,1,2,3,4,5 repeated: one sixth each for 0..3, two sixths for >=4
    assert dist.loc["normal", ["0", "1", "2", "3", "≥4"]].tolist() == pytest.approx([1 / 6] * 4 + [2 / 6])
    assert dist.loc["bad <b>", "n"] == 47 and dist.loc["bad <b>", "n_failed"] == 1  # NaN left out, counted
    assert dist.loc["bad <b>", "source"] == "judge"


def test_condition_matrix(runs):
    mats = condition_matrix(load_runs(runs))
    m = mats["chexbert"]
    assert m.loc["normal", "Edema"] == pytest.approx(0.2) and np.isnan(m.loc["copy", "Cardiomegaly"])
    assert list(m.columns) == ["Edema", "Cardiomegaly"]


@pytest.mark.parametrize("kind", ["overview", "subgroups", "leaderboard", "errors", "conditions", "compare"])
def test_each_plot_kind_writes_png_and_svg(runs, tmp_path, kind):
    chosen = runs[:2] if kind == "compare" else runs  # a paired comparison is of two runs
    res = CliRunner().invoke(app, ["plot", *map(str, chosen), "--kind", kind, "--permutations", "200", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    pngs, svgs = sorted(tmp_path.glob("*.png")), sorted(tmp_path.glob("*.svg"))
    assert pngs and len(pngs) == len(svgs)
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    for s in svgs:
        assert ET.parse(s).getroot().tag.endswith("svg")
    # one figure per question: per run for subgroups (a panel per metric), else one for all the runs
    assert len(pngs) == (3 if kind == "subgroups" else 1)


def test_one_run_gets_one_figure_per_question(runs, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(runs[0]), "-o", str(tmp_path)])  # --kind all is the default
    assert res.exit_code == 0, res.output
    assert sorted(p.stem for p in tmp_path.glob("*.png")) == ["conditions", "errors_distribution", "overview",
                                                              "subgroups_copy"]
    assert "skipped leaderboard" in res.output and "skipped compare" in res.output


def test_axes_carry_human_names(runs):
    from rexeval.reports.compare import compare
    from rexeval.reports.leaderboard import build_leaderboard
    from rexeval.reports.plots import comparison_plot, forest_plot, leaderboard_chart, overview_plot

    loaded = load_runs(runs)

    def texts(fig):
        out = [fig._suptitle.get_text() if fig._suptitle else ""]
        for ax in fig.axes:
            out += [ax.get_title(), ax.get_title("left"), ax.get_xlabel(), ax.get_ylabel()]
        return " ".join(out)

    overview = texts(overview_plot(loaded))
    assert "BLEU-2 ↑" in overview and "ROUGE-L ↑" in overview and "rouge_l" not in overview
    table = loaded[0].subgroup_table.assign(group=lambda t: t["group"].astype(str))
    forest = texts(forest_plot(table, ["bleu", "rouge_l"]))
    assert "BLEU-2" in forest and "ROUGE-L" in forest and "rouge_l" not in forest
    board = texts(leaderboard_chart(build_leaderboard(loaded, rank_by="rouge_l", n_permutations=100)))
    assert "ROUGE-L (higher is better)" in board and "rouge_l" not in board
    paired = texts(comparison_plot(compare(loaded[0], loaded[1], n_permutations=100, n_resamples=100)))
    assert "BLEU-2 ↑" in paired and "bleu " not in paired


def test_plot_without_data_is_a_clear_error(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"n_studies": 1, "metrics": {}, "run": {"name": "x"}}))
    res = CliRunner().invoke(app, ["plot", str(run), "--kind", "conditions", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "conditions" in res.output


def test_worst_studies(runs):
    run = load_run(runs[1])  # "normal": the same text for every study
    worst = worst_studies(run, "bleu", True, k=5)
    ps = run.per_study.sort_values("bleu", kind="stable")
    assert worst["bleu"].tolist() == ps["bleu"].head(5).tolist()
    assert set(worst.columns) >= {"prediction", "reference"}
    assert (worst["prediction"] == REFS[0]).all()


class _Doc(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.external, self.tables, self.scripts = 0, [], 0, []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs += 1
            assert a["src"].startswith("data:image/png;base64,")
        for k in ("src", "href"):
            if k in a and a[k] and not a[k].startswith("data:"):
                self.external.append(a[k])
        if tag == "table":
            self.tables += 1
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def test_report_is_self_contained(runs, tmp_path):
    html_text = build_report(load_runs(runs), rank_by="bleu", worst_k=3, n_permutations=200)
    doc = _Doc()
    doc.feed(html_text)
    assert doc.external == []
    # leaderboard chart + one subgroup figure per run (3) + errors + conditions
    assert doc.imgs == 6
    assert doc.tables == 1 + 3  # summary + one per-study table per run
    assert "<script>alert(1)</script>" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert all("alert" not in s for s in doc.scripts)
    assert "bad &lt;b&gt;" in html_text
    res = CliRunner().invoke(app, ["report", *map(str, runs), "-o", str(tmp_path / "r.html"), "--permutations", "100"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").stat().st_size > 10000
