"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, with injected faults.

Tests give it ``answer(user_text) -> str`` (deterministic answers) and optionally
``plan(user_text, attempt) -> action`` where attempt counts this text's requests from 1 and an action is
one of: None / "ok" (answer), ("429", retry_after_seconds), ("500",), ("timeout", seconds to stall),
("malformed",) (HTTP 200 with a body that is not JSON), ("text", answer) (e.g. truncated or prose),
("status", code), ("error", code, message) (an error body with that message, e.g. one echoing the key).
The server records every request: per-text attempts, arrival times, the highest number
of requests in flight at once, and the request bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Action = Any


class FakeChatServer:
    def __init__(
        self,
        answer: Callable[[str], str],
        plan: Callable[[str, int], Action] | None = None,
        delay: float = 0.0,
        hold_after: int | None = None,
    ) -> None:
        self.answer, self.plan, self.delay, self.hold_after = answer, plan, delay, hold_after
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.attempts: dict[str, int] = defaultdict(int)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict] = []
        self.requests = 0
        self.answered = 0
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except (ValueError, ConnectionError):
                    return
                try:
                    server._handle(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        ThreadingHTTPServer.request_queue_size = 128  # many concurrent clients must not be refused
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, body: dict) -> None:
        users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        if not users:  # a client that hung up mid-request (cancelled run)
            return
        user = users[-1]
        with self.lock:
            if self.hold_after is not None and self.answered >= self.hold_after:
                hold = True
            else:
                hold = False
            self.requests += 1
            self.attempts[user] += 1
            attempt = self.attempts[user]
            self.times[user].append(time.monotonic())
            self.bodies.append(body)
            self.paths.append(h.path)
            self.headers.append({k.lower(): v for k, v in h.headers.items()})
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if hold:
                self.release.wait(60)
            if self.delay:
                time.sleep(self.delay)
            action = self.plan(user, attempt) if self.plan else None
            if action is None or action == "ok":
                action = ("text", self.answer(user))
            kind = action[0]
            if kind == "429":
                self._send(h, 429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                           {"Retry-After": str(action[1])})
            elif kind == "500":
                self._send(h, 500, {"error": {"message": "internal error"}})
            elif kind == "status":
                self._send(h, action[1], {"error": {"message": f"status {action[1]}"}})
            elif kind == "error":
                self._send(h, action[1], {"error": {"message": action[2]}})
            elif kind == "timeout":
                time.sleep(action[1])
                self._send(h, 500, {"error": {"message": "too late"}})
            elif kind == "malformed":
                raw = b'{"id": "x", "choices": [{"message": {"content": "Clin'
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(raw)))
                h.end_headers()
                h.wfile.write(raw)
            elif kind == "text":
                text = action[1]
                with self.lock:
                    self.answered += 1
                self._send(h, 200, {
                    "id": f"chatcmpl-{self.requests}", "object": "chat.completion", "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })
            else:
                raise ValueError(f"unknown action {action!r}")
        finally:
            with self.lock:
                self.in_flight -= 1

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, payload: dict, headers: dict | None = None) -> None:
        raw = json.dumps(payload).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)


def two_line(sig: list[int], insig: list[int]) -> str:
    """An answer in the reference's documented output format."""
    fmt = lambda v: "[" + ", ".join(f"({x}, {n})" for x, n in zip("ABCDEF", v)) + "]"  # noqa: E731
    return (f"Number of clinically significant errors by type: {fmt(sig)}\n"
            f"Number of clinically insignificant errors by type: {fmt(insig)}")
