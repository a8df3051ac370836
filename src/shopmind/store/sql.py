"""The SQL store: SQLite (embedded default) and PostgreSQL through the same SQLAlchemy Core code.

The only dialect-specific piece, `INSERT … ON CONFLICT`, comes from store.upsert.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, event, func, select, update

from shopmind.domain import Event, Product, User
from shopmind.store import changes, schema
from shopmind.store.schema import events, imports, products, users
from shopmind.store.upsert import DIALECTS, insert_ignore_stmt, upsert_stmt

# Readers tail the log by `seq`, so seq order must be commit order. SQLite has one writer at a time; on
# PostgreSQL a transaction-scoped advisory lock serialises event writers until they commit, otherwise a
# tailer could pass a seq whose transaction commits later and never see that event.
_EVENT_WRITE_LOCK = {"postgresql": "SELECT pg_advisory_xact_lock(7262340001)"}
_MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(7262340000)"  # one migration step at a time across every process

EVENT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("id", pa.string()),
        ("type", pa.string()),
        ("user_id", pa.string()),
        ("session_id", pa.string()),
        ("item_id", pa.string()),
        ("query", pa.string()),
        ("ts", pa.float64()),
        ("quantity", pa.int32()),
        ("price", pa.float64()),
        ("context", pa.string()),
    ]
)
_EVENT_COLUMNS = [events.c[name] for name in EVENT_SCHEMA.names]


class StoreError(RuntimeError):
    """The store cannot be opened or used as asked."""


def _product_row(p: Product, now: float) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "brand": p.brand,
        "category": " > ".join(p.category),
        "price": p.price,
        "currency": p.currency,
        "stock": p.stock,
        "in_stock": p.in_stock,
        "language": p.language,
        "created_at": p.created_at.timestamp() if p.created_at else now,
        "updated_at": p.updated_at.timestamp() if p.updated_at else now,
        "doc": p.model_dump_json(exclude_none=True),
    }


EVENT_ROW_COLUMNS = ("id", "type", "user_id", "session_id", "item_id", "query", "ts", "quantity", "price", "context")


def event_row(e: Event) -> tuple:
    """An event as a row tuple in EVENT_ROW_COLUMNS order (hot path: no dicts, no model_dump)."""
    ctx = e.context
    context = orjson.dumps(ctx.model_dump(exclude_none=True)).decode() if ctx is not None else "{}"
    return (e.id, str(e.type), e.user_id, e.session_id, e.item_id, e.query, e.timestamp.timestamp(), e.quantity, e.price, context)


class SqlStore:
    """Catalog, users, events and import bookkeeping in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in DIALECTS:
            raise StoreError(f"unsupported database {self.dialect!r}; use sqlite:// or postgresql://")
        self._event_write_lock = _EVENT_WRITE_LOCK.get(self.dialect)
        self.origin = uuid.uuid4().hex  # names this instance's rows in the catalog-changes feed (skipped by its own follower)
        # events are the hot write path: compile the statement once and hand rows straight to the driver
        stmt = insert_ignore_stmt(engine, events, ["id"]).values({name: bindparam(name) for name in EVENT_ROW_COLUMNS})
        compiled = stmt.compile(dialect=engine.dialect)
        self._event_sql = str(compiled)
        self._event_positional = compiled.positional
        self._event_order = list(compiled.positiontup or []) if compiled.positional else None

    # -- lifecycle -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5) -> SqlStore:
        """Connect, apply pending migrations, and return the store."""
        url = url.replace("postgres://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        try:
            engine = create_engine(url, **kwargs)
        except Exception as exc:  # bad URL or missing driver: say which
            raise StoreError(f"cannot open store {url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA temp_store=MEMORY")
                cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: index B-trees stay cached; -23% CPU per insert at 1M rows
                cur.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed in their pages, not left in free space
                cur.close()

        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> int:
        """Bring the schema to the latest version; return it."""
        with self.engine.begin() as conn:
            self._lock_migrations(conn)
            version = schema.current_version(conn)  # creates the version table on first use: under the lock too
        if version > schema.LATEST:
            raise StoreError(f"store schema v{version} is newer than this ShopMind (v{schema.LATEST}); upgrade ShopMind")
        for step in range(version, schema.LATEST):
            with self.engine.begin() as conn:
                self._lock_migrations(conn)
                if schema.current_version(conn) > step:  # another process migrated meanwhile
                    continue
                schema.MIGRATIONS[step](conn)
                conn.execute(schema.schema_version.insert().values(version=step + 1, applied_at=time.time()))
        return schema.LATEST

    def _lock_migrations(self, conn: Connection) -> None:
        """On PostgreSQL, hosts starting at once migrate one at a time (the others wait, then find the work done)."""
        if self.dialect == "postgresql":
            conn.exec_driver_sql(_MIGRATE_LOCK)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return schema.current_version(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work; everything written through `conn` commits or rolls back together."""
        with self.engine.begin() as conn:
            yield conn

    # -- products --------------------------------------------------------------------------------------
    def upsert_products(self, items: Sequence[Product], conn: Connection | None = None) -> int:
        """Insert or replace products by id; return how many were written."""
        if not items:
            return 0
        now = time.time()
        rows = list({p.id: _product_row(p, now) for p in items}.values())  # last one wins within a batch
        stmt = upsert_stmt(self.dialect, products, ["id"], update=[c.name for c in products.columns if c.name not in ("id", "created_at")])
        with self._conn(conn) as c:
            c.execute(stmt, rows)
            changes.record(c, "upsert", [r["id"] for r in rows], self.origin)  # other workers follow it by seq
        return len(rows)

    def get_products(self, ids: Iterable[str]) -> dict[str, Product]:
        ids = list(ids)
        out: dict[str, Product] = {}
        with self.engine.connect() as conn:
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start : chunk_start + 500]
                for pid, doc in conn.execute(select(products.c.id, products.c.doc).where(products.c.id.in_(chunk))):
                    out[pid] = Product.model_validate_json(doc)
        return out

    def get_product(self, product_id: str) -> Product | None:
        return self.get_products([product_id]).get(product_id)

    def delete_products(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        with self.engine.begin() as conn:
            n = conn.execute(delete(products).where(products.c.id.in_(ids))).rowcount or 0
            changes.record(conn, "delete", ids, self.origin)
            return n

    def iter_products(self, batch_size: int = 5000) -> Iterator[Product]:
        """Every product, in id order, read in pages so memory stays flat."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(products.c.id, products.c.doc).where(products.c.id > last).order_by(products.c.id).limit(batch_size)
                ).all()
            if not rows:
                return
            for _, doc in rows:
                yield Product.model_validate_json(doc)
            last = rows[-1][0]

    # -- users -----------------------------------------------------------------------------------------
    def upsert_users(self, items: Sequence[User], conn: Connection | None = None) -> int:
        if not items:
            return 0
        now = time.time()
        rows = list(
            {
                u.id: {
                    "id": u.id,
                    "attributes": orjson.dumps(u.attributes).decode(),
                    "created_at": u.created_at.timestamp() if u.created_at else now,
                    "updated_at": now,
                }
                for u in items
            }.values()
        )
        stmt = upsert_stmt(self.dialect, users, ["id"], update=["attributes", "created_at", "updated_at"])
        with self._conn(conn) as c:
            c.execute(stmt, rows)
        return len(rows)

    def get_user(self, user_id: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            return None
        return User(id=row.id, attributes=orjson.loads(row.attributes), created_at=row.created_at)

    def list_users(self, limit: int = 100, after: str = "") -> list[str]:
        """User ids in id order, paged by `after`."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(users.c.id).where(users.c.id > after).order_by(users.c.id).limit(limit)).scalars())

    def delete_user(self, user_id: str) -> dict[str, int]:
        """Remove the user's record, every event and every review they made, atomically; return what was removed."""
        from shopmind.store.reviews import delete_user_reviews

        with self.engine.begin() as conn:
            n_events = conn.execute(delete(events).where(events.c.user_id == user_id)).rowcount or 0
            n_reviews = delete_user_reviews(conn, user_id)
            n_users = conn.execute(delete(users).where(users.c.id == user_id)).rowcount or 0
        return {"users": n_users, "events": n_events, "reviews": n_reviews}

    def purge_freed(self, attempts: int = 20) -> bool:
        """Make deleted bytes unreadable from the files: on SQLite, copy the WAL into the database and truncate it.

        With `secure_delete` the database pages hold zeros where deleted rows were; the WAL still holds the
        pages as they were before, until a checkpoint moves them and TRUNCATE empties the file. A reader in the
        middle of a transaction holds the checkpoint back, so it is retried briefly. True when the WAL is empty.
        PostgreSQL keeps dead tuples until VACUUM (see SECURITY.md): nothing to do here.
        """
        if self.dialect != "sqlite":
            return True
        for attempt in range(attempts):
            with self.engine.connect() as conn:
                busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return True
            time.sleep(0.05 * (attempt + 1))
        return False

    # -- events ----------------------------------------------------------------------------------------
    def add_events(self, items: Sequence[Event], conn: Connection | None = None) -> int:
        """Store events, skipping ids already stored; return how many were new."""
        return self.add_event_params(self.event_params(items), conn)

    def event_params(self, items: Sequence[Event]) -> list[Any]:
        """Driver parameters for events; separate so an importer can prepare them off the writer thread."""
        return self.adapt_event_rows([event_row(e) for e in items])

    def adapt_event_rows(self, rows: list[tuple]) -> list[Any]:
        """Row tuples (EVENT_ROW_COLUMNS order) → this driver's parameter style."""
        if self._event_order is None:
            return [dict(zip(EVENT_ROW_COLUMNS, r, strict=True)) for r in rows]
        if self._event_order != list(EVENT_ROW_COLUMNS):
            pick = [EVENT_ROW_COLUMNS.index(k) for k in self._event_order]
            return [tuple(r[i] for i in pick) for r in rows]
        return rows

    def add_event_params(self, params: list[Any], conn: Connection | None = None) -> int:
        if not params:
            return 0
        with self._conn(conn) as c:
            if self._event_write_lock:
                c.exec_driver_sql(self._event_write_lock)
            result = c.exec_driver_sql(self._event_sql, params)
        return max(result.rowcount, 0)

    def scan_events(self, *, since_seq: int = 0, user_id: str | None = None, batch_size: int = 200_000, by_time: bool = True) -> pa.Table:
        """Events as an Arrow table (the input contract of every trainer): by time, or by arrival (`seq`)."""
        batches = []
        last = since_seq
        while True:
            q = select(*_EVENT_COLUMNS).where(events.c.seq > last).order_by(events.c.seq).limit(batch_size)
            if user_id is not None:
                q = q.where(events.c.user_id == user_id)
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
            if not rows:
                break
            cols = list(zip(*rows, strict=True))
            batches.append(pa.record_batch([pa.array(col, type=f.type) for col, f in zip(cols, EVENT_SCHEMA, strict=True)], schema=EVENT_SCHEMA))
            last = rows[-1][0]
            if len(rows) < batch_size:
                break
        table = pa.Table.from_batches(batches, schema=EVENT_SCHEMA)
        if by_time and table.num_rows:
            return table.sort_by([("ts", "ascending"), ("seq", "ascending")])
        return table

    def events_since(self, seq: int, limit: int = 200_000) -> list[tuple]:
        """Raw rows (seq, type, user_id, session_id, item_id, query, ts, quantity, price, context) after `seq`."""
        cols = [events.c[n] for n in ("seq", "type", "user_id", "session_id", "item_id", "query", "ts", "quantity", "price", "context")]
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(*cols).where(events.c.seq > seq).order_by(events.c.seq).limit(limit))]

    def last_event_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(events.c.seq))).scalar() or 0)

    # -- imports ---------------------------------------------------------------------------------------
    def begin_import(self, kind: str, source: str) -> str:
        import_id = uuid.uuid4().hex
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                imports.insert().values(
                    id=import_id, kind=kind, source=source, status="running", lines_committed=0,
                    records_committed=0, rejected=0, started_at=now, updated_at=now,
                )
            )
        return import_id

    def record_import_progress(self, conn: Connection, import_id: str, *, lines: int, records: int, rejected: int) -> None:
        """Advance an import's checkpoint inside the batch's own transaction."""
        conn.execute(
            update(imports)
            .where(imports.c.id == import_id)
            .values(lines_committed=lines, records_committed=imports.c.records_committed + records, rejected=rejected, updated_at=time.time())
        )

    def finish_import(self, import_id: str, status: str, message: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(imports).where(imports.c.id == import_id).values(status=status, message=message, updated_at=time.time()))

    def list_imports(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(imports).order_by(imports.c.started_at.desc()).limit(limit)).mappings().all()
        return [{str(k): v for k, v in r.items()} for r in rows]  # keys are quoted_name (a str subclass orjson refuses)

    # -- stats -----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "products": int(conn.execute(select(func.count()).select_from(products)).scalar() or 0),
                "users": int(conn.execute(select(func.count()).select_from(users)).scalar() or 0),
                "events": int(conn.execute(select(func.count()).select_from(events)).scalar() or 0),
            }

    def event_type_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t: int(n) for t, n in conn.execute(select(events.c.type, func.count()).group_by(events.c.type))}

    @contextmanager
    def _conn(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c

    # -- sales (forecasting; the table and queries live in shopmind.store.sales) ------------------------
    def upsert_sales(self, items: Sequence[Any], conn: Connection | None = None) -> int:
        """Insert or replace sales rows by (store, item, period); the importer's writer for `sales`."""
        from shopmind.store.sales import upsert_sales

        return upsert_sales(self, items, conn)

    def upsert_reviews(self, items: Sequence[Any], conn: Connection | None = None) -> int:
        """Insert or replace reviews by id; the importer's writer for `reviews` (queries in shopmind.store.reviews)."""
        from shopmind.store.reviews import upsert_reviews

        return upsert_reviews(self, items, conn)
