"""The app's extensions, importable by models and controllers."""

from ferrule.database import SqlDatabase

db = SqlDatabase()
