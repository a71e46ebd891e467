"""Rewards per second of the composite reward (BLEU + ROUGE-L + errors_struct + BERTScore) for GRPO
batches of 8 groups x 8 completions: the engine in this process, against ``rexeval serve`` with 1, 4 and
16 concurrent clients, each request one group of 8 (as a trainer's reward workers send them), with dynamic
batching on and off. Every pair is distinct (no pair is scored twice anywhere), so the caches never
answer and what is timed is scoring plus the service's overhead.

    PYTHONPATH=. python benchmarks/bench_serve.py [--batches 8] [--clients 1,4,16] [--size full]

BERTScore runs on a random-weight stand-in of distilroberta-base (``rexeval models random``, the real
architecture at ``--size full``): its speed is the real model's, its scores mean nothing. Texts: IU X-ray
findings from ../shared (timing only), else the built-in fallback sentences. Latency is per request (one
group) for the service and per GRPO batch for the in-process engine; "gain" is the service's throughput
with dynamic batching over without, at the same number of clients.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REXEVAL_SHARED", ROOT.parent / "shared")) / "data"
REWARD = {"components": ["bleu", "rouge_l", {"metric": "errors_struct", "weight": 0.5},
                         {"metric": "bertscore", "weight": 1.0}]}
GROUP = 8  # completions per prompt; a GRPO batch is GROUP groups


def reports() -> list[str]:
    tgz = SHARED / "iu_reports" / "NLMCXR_reports.tgz"
    if tgz.exists():
        from trainers.tiny import iu_reports

        found = [r["findings"] for r in iu_reports(tgz, limit=600)]
        return list(dict.fromkeys(t for t in found if t.strip()))
    from trainers.tiny import FALLBACK_REPORTS

    return [f"{t} Study {i}." for i, t in enumerate(FALLBACK_REPORTS * 40)]


class Pairs:
    """Distinct (completion, reference) pairs, handed out one GRPO batch at a time."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self._refs = itertools.count()

    def batch(self) -> list[tuple[list[str], list[str]]]:
        """GROUP groups: each a reference and GROUP other reports as its completions."""
        groups = []
        n = len(self.texts)
        for _ in range(GROUP):
            i = next(self._refs)
            ref = self.texts[i % n]
            comps = [self.texts[(i + 1 + (i // n) * GROUP + k) % n] for k in range(GROUP)]
            groups.append((comps, [ref] * GROUP))
        return groups


def percentiles(latencies: list[float]) -> tuple[float, float]:
    arr = np.array(latencies)
    return float(np.quantile(arr, 0.5)), float(np.quantile(arr, 0.99))


def in_process(pairs: Pairs, batches: int) -> dict:
    from rexeval.rewards import RewardSuite

    suite = RewardSuite(REWARD)
    suite.score(["No acute process."], ["No acute cardiopulmonary process."])  # load the models
    latencies = []
    start = time.perf_counter()
    for _ in range(batches):
        groups = pairs.batch()
        comps = [c for g in groups for c in g[0]]
        refs = [r for g in groups for r in g[1]]
        t0 = time.perf_counter()
        suite.score(comps, refs)
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    p50, p99 = percentiles(latencies)
    return {"mode": "in-process", "clients": 1, "samples": batches * GROUP * GROUP,
            "rewards_per_s": batches * GROUP * GROUP / wall, "p50_s": p50, "p99_s": p99, "latency_of": "batch of 64"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(config: Path, env: dict, batching: bool):
    import httpx

    port = free_port()
    args = [sys.executable, "-m", "rexeval", "serve", "-c", str(config), "--port", str(port)]
    if not batching:
        args.append("--no-batching")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"rexeval serve stopped: {proc.stderr.read()}")
        try:
            if httpx.get(url + "/health", timeout=2).json().get("status") == "ready":
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("rexeval serve was not ready within 600 s")
        time.sleep(0.5)


def through_service(url: str, pairs: Pairs, batches: int, clients: int, batching: bool) -> dict:
    from rexeval.serve.client import RewardClient

    work: queue.Queue = queue.Queue()
    for _ in range(batches):
        for comps, refs in pairs.batch():
            work.put([{"completion": c, "reference": r} for c, r in zip(comps, refs, strict=True)])
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()

    def worker():
        with RewardClient(url, timeout=600, retries=0) as client:
            while True:
                try:
                    samples = work.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                results = client.score(samples)
                took = time.perf_counter() - t0
                with lock:
                    latencies.append(took)
                    failed[0] += sum(r["failed"] for r in results)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    p50, p99 = percentiles(latencies)
    n = batches * GROUP * GROUP
    return {"mode": "service" + ("" if batching else " (no batching)"), "clients": clients, "samples": n,
            "failed": failed[0], "rewards_per_s": n / wall, "p50_s": p50, "p99_s": p99,
            "latency_of": "request of 8"}


def batch_sizes(url: str) -> str:
    import httpx

    text = httpx.get(url + "/metrics", timeout=10).text
    count = total = 0.0
    for line in text.splitlines():
        if line.startswith("rexeval_serve_batch_size_count"):
            count = float(line.split()[-1])
        if line.startswith("rexeval_serve_batch_size_sum"):
            total = float(line.split()[-1])
    return f"{total / count:.1f}" if count else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=8, help="GRPO batches (8 x 8) per setting")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--size", default="full", choices=["full", "small"], help="BERTScore stand-in size")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--off-first", action="store_true", help="measure without batching first at each "
                        "client count (to see whether the order matters)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    import yaml

    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    hub = tmp / "hub"
    made = subprocess.run([sys.executable, "-m", "rexeval", "models", "random", "distilroberta-base",
                           "--size", args.size, "-o", str(hub)], capture_output=True, text=True)
    if made.returncode:
        raise SystemExit(made.stderr)
    models_env = {"HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "REXEVAL_DISTILROBERTA_DIR": ""}
    os.environ.update(models_env, REXEVAL_CACHE=str(tmp / "cache-local"))
    config = tmp / "reward.yaml"
    config.write_text(yaml.safe_dump({"reward": REWARD}))
    env = {**os.environ, **models_env,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    pairs = Pairs(reports())
    rows = [in_process(pairs, args.batches)]
    print(json.dumps(rows[-1]), flush=True)
    # both servers up at once and measured in turn at each client count, so load from elsewhere on the
    # machine falls on both arms alike
    servers = {}
    try:
        for batching in (True, False):
            env["REXEVAL_CACHE"] = str(tmp / f"cache-server-{batching}")
            servers[batching] = start_server(config, env, batching)
        for c in clients:
            for batching in ((False, True) if args.off_first else (True, False)):
                rows.append(through_service(servers[batching][1], pairs, args.batches, c, batching))
                print(json.dumps(rows[-1]), flush=True)
        for batching, (_, url) in servers.items():
            print(f"mean samples per engine call ({'batching' if batching else 'no batching'}): "
                  f"{batch_sizes(url)}")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)

    print(f"\n{args.batches} GRPO batches of {GROUP}x{GROUP} per setting, distinct pairs, BERTScore stand-in "
          f"--size {args.size}, {os.cpu_count()} CPUs")
    print(f"{'mode':<26}{'clients':>8}{'rewards/s':>11}{'p50 s':>9}{'p99 s':>9}  latency of")
    for r in rows:
        print(f"{r['mode']:<26}{r['clients']:>8}{r['rewards_per_s']:>11.1f}{r['p50_s']:>9.2f}{r['p99_s']:>9.2f}"
              f"  {r['latency_of']}")
    on = {r["clients"]: r["rewards_per_s"] for r in rows if r["mode"] == "service"}
    off = {r["clients"]: r["rewards_per_s"] for r in rows if r["mode"] == "service (no batching)"}
    for c in clients:
        print(f"gain from dynamic batching, {c} client(s): {on[c] / off[c]:.2f}x")
    if any(r.get("failed") for r in rows):
        print("WARNING: some samples failed:", [(r["mode"], r["clients"], r["failed"]) for r in rows])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
