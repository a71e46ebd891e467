"""A request the service refuses: its HTTP status, a counter label and the one-line reason."""

from __future__ import annotations


class RequestRefused(Exception):
    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
