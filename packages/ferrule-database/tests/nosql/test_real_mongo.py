"""MongoBackend against a real server: runs only when FERRULE_TEST_MONGO_URI is set.

No MongoDB server can be installed on the project's machines, so this test is
skipped everywhere by default, CI included; point FERRULE_TEST_MONGO_URI at a
server (``mongodb://localhost:27017``) to run it. It uses a throwaway database.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

URI = os.environ.get("FERRULE_TEST_MONGO_URI")
pytestmark = pytest.mark.skipif(
    not URI, reason="FERRULE_TEST_MONGO_URI is not set (no MongoDB server on this machine)"
)

from ferrule.core import App, Controller, path, post  # noqa: E402
from ferrule.core.testing import TestClient  # noqa: E402
from ferrule.database import NoSqlDatabase  # noqa: E402

nosqldb = NoSqlDatabase(db_name="real_mongo", variable_prefix="REAL_")


@path("/docs")
class Docs(Controller):
    @post("/")
    @nosqldb.managed_database
    async def create(self, db: Any, session: Any = None) -> dict[str, Any]:
        await db.insert_one("docs", {"n": 1}, session=session)
        return {"transactions": session is not None}

    @post("/fail")
    @nosqldb.managed_database
    async def fail(self, db: Any, session: Any = None) -> dict[str, Any]:
        await db.insert_one("docs", {"n": 2}, session=session)
        raise RuntimeError("abort")


async def test_real_server_roundtrip() -> None:
    name = f"ferrule_test_{uuid.uuid4().hex[:8]}"
    app = App(
        {"REAL_NOSQL_DATABASE": {"DATABASE_URI": URI, "DATABASE": name}},
        controllers=[Docs],
        extensions=[nosqldb],
    )
    async with TestClient(app) as client:
        backend = nosqldb.backend(app)
        try:
            res = await client.post("/docs")
            assert res.status_code == 200
            transactions = res.json()["transactions"]
            assert (await client.post("/docs/fail")).status_code == 500
            docs = await backend.find_many("docs", sort=[("n", 1)])
            # With transactions the failed request left nothing behind.
            assert [d["n"] for d in docs] == ([1] if transactions else [1, 2])
            await backend.update_one("docs", {"n": 5}, {"$set": {"m": 1}}, upsert=True)
            rows = await backend.aggregate("docs", [{"$count": "c"}])
            assert rows[0]["c"] == len(docs) + 1
            assert (await client.get("/readyz")).json()["checks"]["nosql:real_mongo"] == "ok"
        finally:
            await backend.client.drop_database(name)
