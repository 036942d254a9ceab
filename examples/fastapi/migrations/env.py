"""
Alembic's environment: offline only. Upgrades are rendered as SQL for Postgres and run by
`python3 -m catalog migrate` over psycopg 3 (SQLAlchemy 1.4 has no driver for it); see catalog/migrations.py.
"""

from alembic import context

if not context.is_offline_mode():
    raise SystemExit(
        "apply migrations with `python3 -m catalog migrate` (or print them with `alembic upgrade head --sql`)"
    )

context.configure(
    dialect_name="postgresql",
    literal_binds=True,
    transactional_ddl=True,
    output_buffer=context.config.output_buffer,
)
with context.begin_transaction():
    context.run_migrations()
