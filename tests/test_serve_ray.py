"""``rexeval serve --engine ray``: two scorer replicas on a local Ray answer exactly what the reward
engine gives in process, and /config says which engine serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.helpers.cli import ROOT

pytest.importorskip("ray")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

pytestmark = [pytest.mark.slow, pytest.mark.ray]

REWARD = {"components": ["bleu", "rouge_l", {"metric": "errors_struct", "weight": 0.5}]}
PREDS = ["The heart is normal.", "Small left effusion.", "No acute findings.", "Mild cardiomegaly.", ""]
REFS = ["The heart is normal in size.", "Small left pleural effusion.", "No acute cardiopulmonary process.",
        "Mild cardiomegaly, no effusion.", "Lungs are clear bilaterally."]


def test_ray_replicas_score_like_the_engine_in_process(tmp_path, monkeypatch):
    import socket

    import yaml

    from rexeval.rewards import RewardSuite

    monkeypatch.setenv("REXEVAL_CACHE", str(tmp_path / "local-cache"))
    config = tmp_path / "reward.yaml"
    config.write_text(yaml.safe_dump({"reward": REWARD, "serve": {"replicas": 2}}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "REXEVAL_CACHE": str(tmp_path / "server-cache"),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("RAY_ADDRESS", None)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "rexeval", "serve", "-c", str(config), "--port", str(port),
                             "--engine", "ray"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=2).json().get("status") == "ready":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        assert httpx.get(url + "/config", timeout=10).json()["engine"] == {"name": "ray", "replicas": 2}
        samples = [{"completion": p, "reference": r} for p, r in zip(PREDS, REFS, strict=True)]
        got = httpx.post(url + "/score", json={"samples": samples}, timeout=120).json()["results"]
        assert [r["reward"] for r in got] == RewardSuite(REWARD).score(PREDS, REFS).rewards
    finally:
        proc.terminate()  # uvicorn shuts down: the replicas are killed and the local Ray stopped
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
