"""Every command ends a user-caused failure with one short line and exit code 2: no traceback, no error
line that grows with the input, no failure that waits until after scoring."""

from __future__ import annotations

import pandas as pd

from tests.helpers.cli import run_cli


def _one_line(proc, limit: int = 600) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-2000:]
    assert len(errors[0]) < limit, f"{len(errors[0])} characters: {errors[0][:300]} ..."
    return errors[0]


def test_ten_thousand_duplicate_ids_give_a_short_line_with_the_count(tmp_path):
    n = 10_000
    pairs = tmp_path / "dups.csv"
    pd.DataFrame({"study_id": ["same"] * n, "prediction": ["a"] * n, "reference": ["b"] * n}).to_csv(pairs, index=False)
    line = _one_line(run_cli("score", pairs, "-m", "bleu", "--bootstrap", "0", "--no-progress"))
    assert "'same'" in line and "dups.csv" in line
    assert f"{n} rows" in line  # the count, not the list


def test_out_dot_is_refused_before_scoring(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"study_id": ["a", "b"], "prediction": ["x y", "z"], "reference": ["x", "z w"]}).to_csv(pairs, index=False)
    here = tmp_path / "here"
    here.mkdir()
    for out in (".", str(here), str(tmp_path)):
        proc = run_cli("score", pairs, "-m", "bleu", "--bootstrap", "0", "--no-progress", "-o", out, cwd=here)
        line = _one_line(proc)
        assert "current directory" in line, line
        assert "bleu" not in proc.stdout  # nothing was scored (no table)
        assert here.is_dir() and not any(here.iterdir())


def test_models_random_into_a_file_is_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    line = _one_line(run_cli("models", "random", "radgraph", "--size", "small", "-o", afile))
    assert "afile" in line and "is a file" in line
    assert afile.read_text() == "mine\n"


def test_models_download_without_network_is_one_line(tmp_path):
    # a closed local port: the hub client fails to connect at once, as it does with no network
    env = {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_CACHE": str(tmp_path / "hub"),
           "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    line = _one_line(run_cli("models", "download", "chexbert", env=env, timeout=300), limit=800)
    assert "cannot download chexbert" in line and "REXEVAL_CHEXBERT" in line
