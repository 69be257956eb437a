# ruff: noqa: RUF001  (the report uses multiplication signs and dashes)
"""tools/bench/run.py: the budget verdict, the per-round ratios and the /db lines.

The harness itself needs wrk and a second environment (tools/bench/check.sh checks
the apps in CI); its report logic is plain Python and is tested here on made-up
measurements.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "tools" / "bench"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("run")
    finally:
        sys.path.remove(str(BENCH))


def _runs(endpoint: str, rps: dict[str, list[float]]) -> list[dict[str, Any]]:
    return [
        {"server": "uvicorn", "framework": fw, "endpoint": endpoint, "round": i + 1, "rps": v}
        for fw, values in rps.items()
        for i, v in enumerate(values)
    ]


def _stats(run: ModuleType, runs: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    for r in runs:  # the other fields summarize() reads
        r.update(p99_ms=1.0, p50_ms=1.0, rps_cpu=r["rps"], cpu_share=1.0, loadavg=0.0, errors=0)
    stats: dict[Any, dict[str, Any]] = run.summarize(runs)
    return stats


def test_budget_verdict_and_per_round_ratios(run: ModuleType) -> None:
    runs = _runs(
        "json",
        {
            "ferrule": [2600.0, 2400.0, 3000.0],
            "fastapi": [1000.0, 1000.0, 1000.0],
            "starlette": [2000.0, 2000.0, 2000.0],
        },
    )
    runs += _runs(
        "query",
        {"ferrule": [3000.0] * 3, "fastapi": [1000.0] * 3, "starlette": [3100.0] * 3},
    )
    text = run.budget_lines(_stats(run, runs), ["json", "query"], runs)
    assert "(not all in this run): **not met**" in text
    assert (
        "- json: 2.60× FastAPI (per round 2.40–3.00, median 2.60; ≥ 2.5 in 2 of 3), "
        "1.30× Starlette — met" in text
    )
    assert "- query: 3.00× FastAPI (per round 3.00–3.00, median 3.00; ≥ 2.5 in 3 of 3), " in text
    assert "0.97× Starlette — NOT met" in text


def test_db_line_reports_both_raw_references(run: ModuleType) -> None:
    runs = _runs(
        "db",
        {
            "ferrule": [1800.0] * 3,
            "fastapi": [1000.0] * 3,
            "starlette": [1200.0] * 3,
            "raw": [2500.0] * 3,
            "raw-orm": [1500.0] * 3,
        },
    )
    text = run.budget_lines(_stats(run, runs), ["db"], runs)
    assert "/db (same rule, reported apart: the driver sets the limit): 1.80× FastAPI" in text
    assert "raw ASGI (SQLAlchemy Core, no ORM) is 2.50×" in text
    assert "raw ASGI with the peers' ORM read 1.50× (Ferrule ÷ it: 1.20)" in text
    assert "1.50× Starlette — Starlette matched, 2.5× FastAPI not met" in text


def test_raw_orm_is_measured_on_db_only(run: ModuleType) -> None:
    assert run.measured("raw-orm", "db")
    assert not run.measured("raw-orm", "json")
    assert all(run.measured("ferrule", ep) for ep in run.ENDPOINTS)
    args = run.parse_args(["--frameworks", "raw,ferrule,raw-orm"])
    assert args.granian == ["raw", "ferrule"]  # the granian pass serves plaintext/json only
