"""The text condition of searchOrders, on each database's substring index."""

from __future__ import annotations

from sqlalchemy import Integer, column, literal_column, text
from sqlalchemy.sql import ColumnElement

from readmodels.order_views.table import order_views, searchable

# The trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) need three characters.
INDEXED_LENGTH = 3

_FTS_MATCH = text("SELECT rowid FROM order_search WHERE order_search MATCH :phrase").columns(
    column("rowid", Integer)
)


def matching(query: str, dialect: str) -> ColumnElement[bool] | None:
    """Orders whose id, customer id, product ids, or shipping name, city, postal code or
    country contain `query`, ignoring case and how many spaces separate words; None for a
    blank query, which matches all.

    Queries shorter than three characters scan the table: no trigram index can serve them.
    """
    needle = searchable(query)
    if not needle:
        return None
    if dialect == "sqlite" and len(needle) >= INDEXED_LENGTH:
        # an FTS5 phrase of the trigram tokenizer matches the text as a substring
        phrase = '"' + needle.replace('"', '""') + '"'
        rowids = _FTS_MATCH.bindparams(phrase=phrase)
        return literal_column("order_views.rowid").in_(rowids)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return order_views.c.search_text.like(f"%{escaped}%", escape="\\")
