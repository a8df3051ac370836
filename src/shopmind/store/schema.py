"""Tables of the store and the ordered migrations that create and evolve them.

The schema version lives in `schema_version`; `migrate()` applies every newer step in one transaction
each, so an old shop opens on a new ShopMind and a crash mid-migration leaves the last good version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("brand", String(500)),
    Column("category", Text, nullable=False, default=""),
    Column("price", Float),
    Column("currency", String(3)),
    Column("stock", Integer),
    Column("in_stock", Boolean),
    Column("language", String(16)),
    Column("created_at", Float),
    Column("updated_at", Float, nullable=False),
    Column("doc", Text, nullable=False),  # the whole validated record as JSON
)

users = Table(
    "users",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("attributes", Text, nullable=False, default="{}"),
    Column("created_at", Float),
    Column("updated_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    # seq gives a total order of arrival for incremental consumers (online state, trainers)
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("session_id", String(200)),
    Column("item_id", String(200)),
    Column("query", Text),
    Column("ts", Float, nullable=False),
    Column("quantity", Integer, nullable=False, default=1),
    Column("price", Float),
    Column("context", Text, nullable=False, default="{}"),
    # Deliberately few indexes: each costs ~20% of bulk-ingest speed. Readers scan by seq (the primary key);
    # user history and privacy deletes need (user_id, ts).
    Index("ix_events_user_ts", "user_id", "ts"),
)

imports = Table(
    "imports",
    metadata,
    # one row per import run, updated in the same transaction as each batch it commits
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines_committed", BigInteger, nullable=False, default=0),
    Column("records_committed", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("message", Text),
)


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[products, users, events])


def _v2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[imports])


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2]
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The schema version of an open database (0 for an empty one)."""
    schema_version.create(conn, checkfirst=True)
    value = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)).scalar()
    return int(value or 0)


# -- v3: ads (campaigns and the spend ledger) -----------------------------------------------------------
ad_campaigns = Table(
    "ad_campaigns",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("advertiser", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("doc", Text, nullable=False),  # the whole validated Campaign as JSON
)

ad_ledger = Table(
    "ad_ledger",
    metadata,
    # one row per ad event (impression, click, conversion) keyed by the source event id: a replayed
    # event hits the primary key and is never counted or charged twice
    Column("event_id", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("campaign_id", String(200), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("placement", String(64), nullable=False, default=""),
    Column("ts", Float, nullable=False),
    Column("day", String(10), nullable=False),
    Column("cost", Float, nullable=False, default=0.0),
    Column("value", Float, nullable=False, default=0.0),
    Index("ix_ad_ledger_campaign_day", "campaign_id", "day"),
    Index("ix_ad_ledger_user_item", "user_id", "item_id"),
)


def _v3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[ad_campaigns, ad_ledger])


MIGRATIONS.append(_v3)
LATEST = len(MIGRATIONS)


# -- v4: the shopping assistant's conversations (history, products in focus, filters), expiring ----------
chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("session_id", String(200), primary_key=True),
    Column("user_id", String(200)),
    Column("updated", Float, nullable=False),
    Column("state", Text, nullable=False),  # the SessionState as JSON
    Index("ix_chat_sessions_user", "user_id"),
    Index("ix_chat_sessions_updated", "updated"),
)


def _v4(conn: Connection) -> None:
    metadata.create_all(conn, tables=[chat_sessions])


MIGRATIONS.append(_v4)
LATEST = len(MIGRATIONS)


# -- v5: security — API keys (hashed, with roles), the audit log, served ad impressions, deletion receipts --
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # public key id, shown in lists and the audit log
    Column("hash", String(128), nullable=False, unique=True),  # sha256 of the secret; the secret is never stored
    Column("role", String(32), nullable=False),  # admin | ingest | storefront | analyst
    Column("scopes", Text, nullable=False, default="[]"),  # extra scopes as a JSON list, e.g. ["users:read"]
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("key_id", String(64), nullable=False),  # who: an api_keys id, or "cli" for the local command line
    Column("action", String(64), nullable=False),  # e.g. product.upsert, campaign.update, user.delete, key.create
    Column("target", String(200), nullable=False, default=""),  # never a user id: deletions name their receipt
    Column("detail", Text, nullable=False, default="{}"),  # JSON, no personal data
    Index("ix_audit_log_ts", "ts"),
)

ad_impressions = Table(
    "ad_impressions",
    metadata,
    # one row per served ad; a click is charged only by the UPDATE that sets clicked_at from NULL (exactly once)
    Column("token_id", String(64), primary_key=True),
    Column("campaign_id", String(200), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("placement", String(64), nullable=False, default=""),
    Column("user_id", String(200)),  # the user or session the ad was served to (forgotten on deletion)
    Column("ip", String(64)),  # the client address that was served (as the API saw it): per-address click rates
    Column("price", Float, nullable=False),
    Column("served_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("seen_at", Float),  # the impression event arrived
    Column("clicked_at", Float),  # the click was charged
    Index("ix_ad_impressions_expires", "expires_at"),
    Index("ix_ad_impressions_user", "user_id"),
)

user_deletions = Table(
    "user_deletions",
    metadata,
    # a receipt per deletion; running servers follow `seq` to forget the user in what they hold in memory.
    # user_hash is an HMAC of the id under the shop's secret: it lets a server match ids it holds, not read them
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("receipt_id", String(64), nullable=False, unique=True),
    Column("user_hash", String(128), nullable=False),
    Column("ts", Float, nullable=False),
    Column("removed", Text, nullable=False, default="{}"),  # JSON: what was removed, where (counts, no ids)
    Index("ix_user_deletions_hash", "user_hash"),
)


def _v5(conn: Connection) -> None:
    metadata.create_all(conn, tables=[api_keys, audit_log, ad_impressions, user_deletions])


MIGRATIONS.append(_v5)
LATEST = len(MIGRATIONS)


# -- v6: sales history for demand forecasting (one row per store × item × period) ---------------------------
sales = Table(
    "sales",
    metadata,
    Column("store", String(200), primary_key=True),  # "" for a shop with one store
    Column("item_id", String(200), primary_key=True),
    Column("period", String(32), primary_key=True),  # a whole number (week) or an ISO date
    Column("units", Float, nullable=False),
    Column("price", Float),
    Column("promotion", Boolean, nullable=False, default=False),
    Column("feature", Boolean, nullable=False, default=False),
    Column("brand", String(500)),
    Column("category", Text),
    Column("updated_at", Float, nullable=False),
    Index("ix_sales_item", "item_id"),
)


def _v6(conn: Connection) -> None:
    metadata.create_all(conn, tables=[sales])


MIGRATIONS.append(_v6)
LATEST = len(MIGRATIONS)


# -- v7: the model registry (built versions, the promoted one, promotion history) and the catalog-changes feed --
model_versions = Table(
    "model_versions",
    metadata,
    # one row per built version of a part; exactly one row per part has status "promoted" (the partial unique index
    # makes a second one an error; promotions also serialise on a per-part lock, see shopmind.artifacts.registry)
    Column("part", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("uri", Text, nullable=False),  # where its files are: a folder path or s3://bucket/prefix/part/version
    Column("created_at", Float, nullable=False),
    Column("config_hash", String(64), nullable=False, default=""),
    Column("first_event_ts", Float),  # the data window it was built from
    Column("last_event_ts", Float),
    Column("last_event_seq", BigInteger, nullable=False, default=0),
    Column("last_change_seq", BigInteger, nullable=False, default=0),  # catalog_changes seq at its snapshot
    Column("products", BigInteger, nullable=False, default=0),
    Column("events", BigInteger, nullable=False, default=0),
    Column("metrics", Text, nullable=False, default="{}"),  # JSON: the version's meta.json
    Column("status", String(16), nullable=False),  # built | promoted | retired (files removed: cannot be promoted)
    Column("promoted_at", Float),
    Index("ux_model_versions_promoted", "part", unique=True, sqlite_where=Column("status") == "promoted",
          postgresql_where=Column("status") == "promoted"),
)

model_promotions = Table(
    "model_promotions",
    metadata,
    # the audit trail of what served when: who switched a part from which version to which, and why
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("part", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("who", String(64), nullable=False),  # an api key id, "cli", "build" or "register"
    Column("action", String(16), nullable=False),  # promote | rollback
    Column("from_version", String(64)),
    Column("to_version", String(64), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_model_promotions_part", "part", "seq"),
)

catalog_changes = Table(
    "catalog_changes",
    metadata,
    # one row per product upsert/delete, written in the writer's transaction; every worker tails it by seq and
    # applies what other processes (`origin`) changed. seq order is commit order (an advisory lock on PostgreSQL).
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # upsert | delete
    Column("product_id", String(200), nullable=False),
    Column("origin", String(32), nullable=False),  # the writing store instance (one per process and shop)
    Column("ts", Float, nullable=False),
)


def _v7(conn: Connection) -> None:
    metadata.create_all(conn, tables=[model_versions, model_promotions, catalog_changes])


MIGRATIONS.append(_v7)
LATEST = len(MIGRATIONS)


# -- v8: experiments (A/B and interleaving definitions) and their exposures (what each unit was actually shown) --------
experiments = Table(
    "experiments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("surface", String(96), nullable=False),  # search | recommend:<placement> | ads | assistant
    Column("status", String(16), nullable=False),  # draft | running | stopped
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("updated_at", Float, nullable=False),
    Column("doc", Text, nullable=False),  # the whole validated Experiment as JSON
    Index("ix_experiments_status", "status"),
)

exposures = Table(
    "exposures",
    metadata,
    # one row per response that showed a variant (written in batches off the request path: see experiments/exposures.py)
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("experiment_id", String(64), nullable=False),
    Column("variant", String(64), nullable=False),
    Column("unit_id", String(200), nullable=False),  # the hashed unit: the user id or the session id
    Column("user_id", String(200)),
    Column("session_id", String(200)),
    Column("ts", Float, nullable=False),
    Column("surface", String(96), nullable=False),
    Column("request_id", String(64)),
    Column("extra", Text, nullable=False, default="{}"),  # JSON: interleaving ids and teams, simulated flag
    Index("ix_exposures_experiment_unit", "experiment_id", "unit_id"),
    Index("ix_exposures_user", "user_id"),
)


def _v8(conn: Connection) -> None:
    metadata.create_all(conn, tables=[experiments, exposures])


MIGRATIONS.append(_v8)
LATEST = len(MIGRATIONS)


# -- v9: product reviews (shopmind.store.reviews; deleted with their author) ------------------------------------------
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("product_id", String(200), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("rating", Float),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("language", String(16)),
    Column("ts", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_reviews_product_ts", "product_id", "ts"),
    Index("ix_reviews_user", "user_id"),
)


def _v9(conn: Connection) -> None:
    metadata.create_all(conn, tables=[reviews])


MIGRATIONS.append(_v9)
LATEST = len(MIGRATIONS)
