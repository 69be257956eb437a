"""Standard-library logging, configured by the app.

* ``DEFAULT_LOGGER`` configures the console sink (level, format, colour when the
  stream is a TTY); ``LOG_FORMAT="json"`` switches every sink to JSON lines.
* ``LOGGERS`` lists extra sinks as import strings of :class:`LoggerBase`
  subclasses, each configured by the config section named after its class
  (``FileLogger`` -> ``FILE_LOGGER``): files with size or time rotation and
  retention, filters, formats.
* Every record carries ``request_id`` (the current request's id, ``-`` outside
  requests); ``ferrule.access`` logs one line per request when enabled.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .exceptions import ImproperlyConfiguredError
from .extensions import upper_snake
from .importing import import_string

if TYPE_CHECKING:
    from collections.abc import Callable

    from .app import App

__all__ = (
    "ColourFormatter",
    "JsonFormatter",
    "LoggerBase",
    "RequestIdFilter",
    "configure_logging",
    "request_id_var",
)

#: The id of the request being handled (``"-"`` outside requests).
request_id_var: ContextVar[str] = ContextVar("ferrule_request_id", default="-")

DEFAULT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(request_id)s] %(message)s"
_MARK = "_ferrule_handler"
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Stamp ``record.request_id`` from the request context."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class ColourFormatter(logging.Formatter):
    """Colour the level name (only used when the stream is a terminal)."""

    COLOURS: ClassVar[dict[int, str]] = {
        logging.DEBUG: "\x1b[36m",
        logging.INFO: "\x1b[32m",
        logging.WARNING: "\x1b[33m",
        logging.ERROR: "\x1b[31m",
        logging.CRITICAL: "\x1b[1;31m",
    }

    def format(self, record: logging.LogRecord) -> str:
        colour = self.COLOURS.get(record.levelno)
        if colour is None:
            return super().format(record)
        original = record.levelname
        record.levelname = f"{colour}{original}\x1b[0m"
        try:
            return super().format(record)
        finally:
            record.levelname = original


def _level(value: Any, where: str) -> int:
    if isinstance(value, int):
        return value
    name = str(value).upper()
    if name == "TRACE":
        return 5
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ImproperlyConfiguredError(
            f"{where}: unknown log level {value!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL."
        )
    return level


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
_TIME = re.compile(r"^\s*(?:(\d+)\s*)?(second|minute|hour|day|midnight|s|m|h|d)s?\s*$", re.I)
_WHEN = {
    "second": "S",
    "s": "S",
    "minute": "M",
    "m": "M",
    "hour": "H",
    "h": "H",
    "day": "D",
    "d": "D",
    "midnight": "midnight",
}


class LoggerBase:
    """An extra log sink, configured from the config section named after the class.

    Keys of the section (all optional): ``SINK`` (``"stderr"``, ``"stdout"`` or a
    file path), ``LEVEL``, ``FORMAT``, ``SERIALIZE`` (JSON lines), ``ROTATION``
    (a size like ``"5 MB"`` or a time like ``"midnight"``, ``"1 hour"``),
    ``RETENTION`` (files to keep: ``5`` or ``"5 files"``), ``ENCODING``,
    ``LOGGER`` (logger name to attach to; default: the root logger).

    Example:
        >>> class FileLogger(LoggerBase):
        ...     def get_filter(self):
        ...         return lambda record: "PERFORMANCE" in record.getMessage()
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.config_key = upper_snake(type(self).__name__)
        raw = app.config.get(self.config_key) or {}
        if not isinstance(raw, dict):
            raise ImproperlyConfiguredError(
                f"{self.config_key} must be a mapping of logger settings, got {raw!r}."
            )
        self.config: dict[str, Any] = raw

    def get_conf_value(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def get_format(self) -> str:
        """The ``logging`` format string of this sink."""
        return str(self.get_conf_value("FORMAT", DEFAULT_FORMAT))

    def get_filter(self) -> Callable[[logging.LogRecord], bool] | None:
        """A predicate records must satisfy to reach this sink (None: all)."""
        return None

    def get_level(self) -> int:
        return _level(self.get_conf_value("LEVEL", "INFO"), f"{self.config_key}.LEVEL")

    def get_formatter(self) -> logging.Formatter:
        if self.get_conf_value("SERIALIZE", False) or self.app.config.get("LOG_FORMAT") == "json":
            return JsonFormatter()
        return logging.Formatter(self.get_format())

    def get_handler(self) -> logging.Handler:
        sink = self.get_conf_value("SINK", "stderr")
        if sink in ("stderr", "stdout"):
            return logging.StreamHandler(sys.stderr if sink == "stderr" else sys.stdout)
        path = Path(sink)
        if not path.is_absolute() and self.app.config.BASE_PATH:
            path = Path(self.app.config.BASE_PATH) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        encoding = self.get_conf_value("ENCODING", "utf-8")
        keep = self._retention()
        rotation = self.get_conf_value("ROTATION")
        if rotation is None:
            return logging.FileHandler(path, encoding=encoding, delay=True)
        if isinstance(rotation, int) or _SIZE.match(str(rotation)):
            if keep < 1:
                # The stdlib never rotates with backupCount=0: the file would grow forever.
                raise ImproperlyConfiguredError(
                    f"{self.config_key}.RETENTION: a size ROTATION needs at least 1 file to "
                    f"keep, got {keep}; with 0 the file is never rotated."
                )
            return logging.handlers.RotatingFileHandler(
                path, maxBytes=self._size(rotation), backupCount=keep, encoding=encoding, delay=True
            )
        m = _TIME.match(str(rotation))
        if m is None:
            raise ImproperlyConfiguredError(
                f"{self.config_key}.ROTATION: {rotation!r} is neither a size ('5 MB') nor a "
                "time ('midnight', '1 hour', '7 days')."
            )
        return logging.handlers.TimedRotatingFileHandler(
            path,
            when=_WHEN[m[2].lower()],
            interval=int(m[1] or 1),
            backupCount=keep,
            encoding=encoding,
            delay=True,
            utc=True,
        )

    def _size(self, value: Any) -> int:
        if isinstance(value, int):
            return value
        m = _SIZE.match(str(value))
        assert m is not None
        return int(float(m[1]) * _UNITS[m[2].lower() if m[2] else None])

    def _retention(self) -> int:
        value = self.get_conf_value("RETENTION", 5)
        if isinstance(value, int) and value >= 0:
            return value
        m = re.match(r"^\s*(\d+)\s*(files?)?\s*$", str(value))
        if m is None:
            raise ImproperlyConfiguredError(
                f"{self.config_key}.RETENTION: {value!r} must be a number of files (e.g. 5)."
            )
        return int(m[1])

    def build(self) -> logging.Handler:
        handler = self.get_handler()
        handler.setLevel(self.get_level())
        handler.setFormatter(self.get_formatter())
        handler.addFilter(RequestIdFilter())
        predicate = self.get_filter()
        if predicate is not None:
            handler.addFilter(predicate)
        setattr(handler, _MARK, True)
        return handler


def _default_handler(app: App) -> logging.Handler:
    settings: dict[str, Any] = dict(app.config.get("DEFAULT_LOGGER") or {})
    stream = sys.stdout if settings.get("SINK") == "stdout" else sys.stderr
    handler = logging.StreamHandler(stream)
    if app.config.get("LOG_FORMAT") == "json" or settings.get("SERIALIZE"):
        formatter: logging.Formatter = JsonFormatter()
    else:
        fmt = settings.get("FORMAT", DEFAULT_FORMAT)
        colour = settings.get("COLORIZE")
        if colour is None:
            colour = hasattr(stream, "isatty") and stream.isatty()
        formatter = ColourFormatter(fmt) if colour else logging.Formatter(fmt)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    setattr(handler, _MARK, True)
    return handler


def build_log_handlers(app: App) -> list[tuple[str, logging.Handler]]:
    """Validate the logging config and build ``(logger name, handler)`` pairs.

    ``""`` is the root logger. Nothing is installed; ``ferrule check`` uses this
    to report a bad logging config without touching the process's logging.
    """
    settings: dict[str, Any] = dict(app.config.get("DEFAULT_LOGGER") or {})
    level = _level(settings.get("LEVEL", app.config.LOG_LEVEL), "LOG_LEVEL")
    console = _default_handler(app)
    console.setLevel(level)
    pairs: list[tuple[str, logging.Handler]] = [("", console)]
    try:
        for target in app.config.LOGGERS:
            cls = import_string(target, setting="LOGGERS")
            if not (isinstance(cls, type) and issubclass(cls, LoggerBase)):
                raise ImproperlyConfiguredError(
                    f"{target!r} in LOGGERS is not a LoggerBase subclass "
                    "(from ferrule.core.logging import LoggerBase)."
                )
            sink = cls(app)
            pairs.append((str(sink.get_conf_value("LOGGER", "") or ""), sink.build()))
    except BaseException:
        for _, handler in pairs:
            handler.close()
        raise
    return pairs


def _remove_ferrule_handlers() -> None:
    loggers = [logging.getLogger()]
    loggers += [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for old in [h for h in lg.handlers if getattr(h, _MARK, False)]:
            lg.removeHandler(old)
            old.close()


def configure_logging(app: App) -> None:
    """Install the app's sinks, replacing earlier Ferrule sinks.

    Sinks go on the root logger, or on the logger named by a sink's ``LOGGER``
    key. Handlers installed by others (pytest's caplog, your own) are kept.
    uvicorn's loggers are routed through the same sinks.
    """
    pairs = build_log_handlers(app)
    _remove_ferrule_handlers()
    root = logging.getLogger()
    console_level = pairs[0][1].level
    root_levels = [console_level]
    for name, handler in pairs:
        logging.getLogger(name or None).addHandler(handler)
        if name:
            target = logging.getLogger(name)
            if target.level == logging.NOTSET or target.level > handler.level:
                target.setLevel(handler.level or console_level)
        else:
            root_levels.append(handler.level or console_level)
    root.setLevel(min(root_levels))
    for name in _UVICORN:
        uv = logging.getLogger(name)
        uv.handlers.clear()
        # ferrule.access replaces uvicorn's access line. uvicorn decides per
        # connection with ``hasHandlers()`` whether to build that line, and formats
        # its arguments (client address, quoted path) before any level check: a
        # logger that is merely ``disabled`` still costs that work on every request.
        # No handlers and no propagation make ``hasHandlers()`` false.
        is_access = name == "uvicorn.access"
        uv.propagate = not is_access
        uv.disabled = is_access
    app.log_handlers = [handler for _, handler in pairs]
