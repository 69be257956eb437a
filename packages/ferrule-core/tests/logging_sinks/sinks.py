"""Sinks referenced by import string from test_logging.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ferrule.core.logging import LoggerBase

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable


class FileLogger(LoggerBase):
    """Everything to a file."""


class PerfLogger(LoggerBase):
    """Only records whose message mentions PERFORMANCE."""

    def get_filter(self) -> Callable[[logging.LogRecord], bool]:
        return lambda record: "PERFORMANCE" in record.getMessage()


class NotALogger:
    pass
