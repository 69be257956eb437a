"""Alembic environment of this database, run by ``ferrule db ...``.

Ferrule runs the migrations on the app's async engine: it opens a connection of
the database's DATABASE_URI and calls this file inside ``connection.run_sync``,
so one URI (with its async driver) serves both the app and its migrations.
"""

from alembic import context
from sqlalchemy.engine import Connection

from ferrule.database.migrate.env import configure_options, metadata_from_config, run_async

config = context.config

# The models' MetaData, for autogenerate: the database's MODELS import strings, or
# else its declarative base (create_declarative_base). Replace it to use another.
target_metadata = metadata_from_config(config)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **configure_options(config, connection),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the SQL to stdout instead of running it (``--sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    # `ferrule db ...`: already inside AsyncConnection.run_sync.
    do_run_migrations(connection)
else:
    # Plain `alembic` with sqlalchemy.url set: make an async engine and run_sync.
    run_async(config, do_run_migrations)
