"""Alembic environment: migrations always run on a connection handed in by `migrations.upgrade`."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `cqrs-orders migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
