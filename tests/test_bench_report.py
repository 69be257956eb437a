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


def test_db_line_is_judged_against_the_orm_read_and_shows_the_ceiling(run: ModuleType) -> None:
    runs = _runs(
        "db",
        {
            "ferrule": [1800.0] * 3,
            "fastapi": [1000.0] * 3,
            "starlette": [1200.0] * 3,
            "raw": [2500.0] * 3,
            "raw-orm": [1500.0] * 3,
            "raw-orm-fdb": [2000.0] * 3,
        },
    )
    text = run.budget_lines(_stats(run, runs), ["db"], runs)
    assert (
        "/db (judged apart, architecture P1: ≥ Starlette and ≥ the ORM read with no "
        "framework): 1.50× Starlette, 1.20× raw ASGI + ORM (stock engine) — **met**. "
        "1.80× FastAPI (2.5× not met)" in text
    )
    assert (
        "the same ORM read on ferrule-database's engine with no framework reaches "
        "2.00× FastAPI (Ferrule ÷ it: 0.90)" in text
    )
    assert "raw ASGI on SQLAlchemy Core, no ORM, 2.50×" in text


@pytest.mark.parametrize(
    ("starlette", "raw_orm"),
    [(1900.0, 1500.0), (1200.0, 1850.0)],
)
def test_db_line_fails_below_starlette_or_the_bare_orm_read(
    run: ModuleType, starlette: float, raw_orm: float
) -> None:
    runs = _runs(
        "db",
        {
            "ferrule": [1800.0] * 3,
            "fastapi": [1000.0] * 3,
            "starlette": [starlette] * 3,
            "raw-orm": [raw_orm] * 3,
        },
    )
    text = run.budget_lines(_stats(run, runs), ["db"], runs)
    assert "— **NOT met**." in text
    assert "ceiling" not in text  # neither ceiling app was measured


def test_db_line_is_not_evaluated_without_the_bare_orm_read(run: ModuleType) -> None:
    runs = _runs(
        "db",
        {
            "ferrule": [1800.0] * 3,
            "fastapi": [1000.0] * 3,
            "starlette": [1200.0] * 3,
            "raw-orm": [0.0] * 3,  # a server that answered nothing
            "raw-orm-fdb": [0.0] * 3,
        },
    )
    text = run.budget_lines(_stats(run, runs), ["db"], runs)
    assert "1.50× Starlette — not evaluated (raw ASGI + ORM was not measured" in text
    assert "**met**" not in text
    assert "ceiling" not in text


def test_raw_orm_is_measured_on_db_only(run: ModuleType) -> None:
    assert run.measured("raw-orm", "db")
    assert not run.measured("raw-orm", "json")
    assert run.measured("raw-orm-fdb", "db")
    assert not run.measured("raw-orm-fdb", "plaintext")
    assert all(run.measured("ferrule", ep) for ep in run.ENDPOINTS)
    args = run.parse_args(["--frameworks", "raw,ferrule,raw-orm"])
    assert args.granian == ["raw", "ferrule"]  # the granian pass serves plaintext/json only
