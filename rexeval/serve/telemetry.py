"""Prometheus counters of the reward service (``/metrics``), in a registry of its own per application.

Histograms give latency and batch-size distributions a scraper can turn into any percentile
(``histogram_quantile``); the p50/p90/p99 gauges are exact percentiles over the last ``window``
requests, for a reader with ``curl`` and no Prometheus.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
QUANTILES = (0.5, 0.9, 0.99)


class Telemetry:
    def __init__(self, components: list[str], window: int = 4096):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("rexeval_serve_requests", "Requests answered, by endpoint and HTTP status",
                                ["endpoint", "status"], registry=r)
        self.samples = Counter("rexeval_serve_samples", "Samples scored", registry=r)
        self.samples_failed = Counter("rexeval_serve_samples_failed",
                                      "Samples with no reward (every component failed, or the batch timed out)",
                                      registry=r)
        self.component_failures = Counter("rexeval_serve_component_failures",
                                          "Samples a component could not score", ["component"], registry=r)
        for name in components:
            self.component_failures.labels(component=name)
        self.rejected = Counter("rexeval_serve_rejected", "Requests refused, by reason", ["reason"], registry=r)
        self.batch_timeouts = Counter("rexeval_serve_batch_timeouts", "Batches given up after batch_timeout_s",
                                      registry=r)
        self.batches = Histogram("rexeval_serve_batch_size", "Samples per engine call (after merging requests)",
                                 buckets=_SIZE_BUCKETS, registry=r)
        self.requests_per_batch = Histogram("rexeval_serve_requests_per_batch", "Requests merged per engine call",
                                            buckets=_SIZE_BUCKETS, registry=r)
        self.latency = Histogram("rexeval_serve_request_latency_seconds", "Seconds from request to answer",
                                 ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.quantiles = Gauge("rexeval_serve_latency_quantile_seconds",
                               f"Request latency percentiles over the last {window} scoring requests",
                               ["quantile"], registry=r)
        self._recent: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def observe_latency(self, endpoint: str, seconds: float) -> None:
        self.latency.labels(endpoint=endpoint).observe(seconds)
        with self._lock:
            self._recent.append(seconds)

    def percentiles(self) -> dict[float, float]:
        with self._lock:
            recent = np.array(self._recent, dtype=float)
        if not recent.size:
            return {}
        return {q: float(np.quantile(recent, q)) for q in QUANTILES}

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        for q, value in self.percentiles().items():
            self.quantiles.labels(quantile=str(q)).set(value)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
