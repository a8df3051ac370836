"""The one dialect-specific SQL piece: `INSERT … ON CONFLICT` for SQLite and PostgreSQL.

Every writer that inserts-or-skips or inserts-or-replaces by key (catalog, events, sales, the ad ledger, chat
sessions) builds its statement here, so a third dialect or a change in conflict handling is made once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

_INSERT: dict[str, Callable[[Table], Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
DIALECTS = tuple(_INSERT)


def dialect_name(bind: Any) -> str:
    """The dialect name of an engine, a connection, a dialect or a plain name ('sqlite', 'postgresql')."""
    if isinstance(bind, str):
        name = bind
    else:
        name = getattr(getattr(bind, "dialect", bind), "name", "")
    if name not in _INSERT:
        from shopmind.store.sql import StoreError

        raise StoreError(f"unsupported database {name!r}; use sqlite:// or postgresql://")
    return name


def _keys(table: Table, keys: Iterable[str | Column[Any]]) -> list[Column[Any]]:
    return [table.c[k] if isinstance(k, str) else k for k in keys]


def insert_ignore_stmt(bind: Any, table: Table, keys: Iterable[str | Column[Any]], *, returning: Sequence[str] = ()) -> Any:
    """`INSERT … ON CONFLICT (keys) DO NOTHING [RETURNING …]` for the bind's dialect (execute with a list of rows)."""
    stmt = _INSERT[dialect_name(bind)](table).on_conflict_do_nothing(index_elements=_keys(table, keys))
    return stmt.returning(*(table.c[c] for c in returning)) if returning else stmt


def upsert_stmt(bind: Any, table: Table, keys: Iterable[str | Column[Any]], *, update: Iterable[str] | None = None) -> Any:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET col = excluded.col` for `update` (default: every non-key column)."""
    key_cols = _keys(table, keys)
    stmt = _INSERT[dialect_name(bind)](table)
    names = [c.name for c in table.columns if c not in key_cols] if update is None else list(update)
    return stmt.on_conflict_do_update(index_elements=key_cols, set_={n: stmt.excluded[n] for n in names})


def insert_ignore(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Iterable[str | Column[Any]], *,
    returning: str | None = None, chunk: int = 1000,
) -> set[Any]:
    """Insert rows whose keys are new, skip the rest; with `returning`, the values of that column actually inserted."""
    if not rows:
        return set()
    stmt = insert_ignore_stmt(conn, table, keys, returning=(returning,) if returning else ())
    out: set[Any] = set()
    for s in range(0, len(rows), chunk):
        result = conn.execute(stmt, list(rows[s : s + chunk]))
        if returning:
            out.update(r for (r,) in result)
    return out


def upsert(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Iterable[str | Column[Any]], *,
    update: Iterable[str] | None = None,
) -> int:
    """Insert rows or replace the `update` columns of the row with the same keys; returns how many rows were sent."""
    if not rows:
        return 0
    conn.execute(upsert_stmt(conn, table, keys, update=update), list(rows))
    return len(rows)


def upsert_with(
    engine: Any, conn: Connection | None, table: Table, rows: Sequence[Mapping[str, Any]], keys: Iterable[str | Column[Any]], *,
    update: Iterable[str] | None = None,
) -> int:
    """`upsert` inside the caller's transaction when it passes one (an import batch with its checkpoint), else in its own."""
    if conn is not None:
        return upsert(conn, table, rows, keys, update=update)
    with engine.begin() as c:
        return upsert(c, table, rows, keys, update=update)
