"""Conversation state per session (history, products in focus, filters) behind a small store Protocol.

Three stores: this process (`MemorySessionStore`), the shop's database (`SqlSessionStore`) and the cluster's shared
state (`SharedSessionStore`: Redis, chosen by the engine when `cluster.shared_url` is shared by every worker)."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from cachetools import TTLCache
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine, delete, select

from shopmind.sharedstate import SharedState
from shopmind.store.schema import chat_sessions
from shopmind.store.upsert import upsert


class Turn(BaseModel):
    role: str
    text: str
    intent: str | None = None


class SessionState(BaseModel):
    """Everything the assistant remembers about one conversation; plain data so any store can hold it."""

    session_id: str
    user_id: str | None = None
    history: list[Turn] = Field(default_factory=list)
    focus: list[str] = Field(default_factory=list, description="product ids shown last, in order")
    current: str | None = Field(default=None, description="the product talked about last (what 'it' means), if any")
    query: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    language: str = "en"
    tokens_used: int = 0
    updated: float = Field(default_factory=time.time)

    def add(self, role: str, text: str, intent: str | None = None, keep: int = 20) -> None:
        """Append a turn, keeping the last `keep`."""
        self.history.append(Turn(role=role, text=text, intent=intent))
        del self.history[:-keep]


class SessionStore(Protocol):
    """Where sessions live: the shop's database (`SqlSessionStore`: survives restarts, shared by workers), the
    cluster's shared state (`SharedSessionStore`) or this process (`MemorySessionStore`)."""

    def get(self, session_id: str) -> SessionState | None: ...

    def put(self, state: SessionState) -> None: ...

    def delete(self, session_id: str) -> None: ...

    def forget_user(self, user_id: str) -> int: ...


class MemorySessionStore:
    """In-process sessions with a time-to-live and a size cap (least recently used go first)."""

    def __init__(self, ttl_s: float = 1800.0, max_sessions: int = 100_000) -> None:
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._data: TTLCache[str, SessionState] = TTLCache(maxsize=max_sessions, ttl=ttl_s, timer=time.time)
        self._ttl = ttl_s

    @property
    def ttl_s(self) -> float:
        """Seconds a session lives after its last put."""
        return self._ttl

    @ttl_s.setter
    def ttl_s(self, value: float) -> None:
        # cachetools fixes a cache's ttl at creation: a new one takes the live sessions over (their stamps still count)
        with self._lock:
            fresh: TTLCache[str, SessionState] = TTLCache(maxsize=self.max_sessions, ttl=value, timer=time.time)
            now = time.time()
            for key, state in self._data.items():
                if now - state.updated < value:
                    fresh[key] = state
            self._data, self._ttl = fresh, value

    def get(self, session_id: str) -> SessionState | None:
        """The session if it exists and has not expired (expiry counts from the last put)."""
        with self._lock:
            state = self._data.get(session_id)
            if state is None or time.time() - state.updated >= self._ttl:
                return None
            return state.model_copy(deep=True)

    def put(self, state: SessionState) -> None:
        """Store (a copy of) the session and stamp it."""
        state.updated = time.time()
        with self._lock:
            self._data[state.session_id] = state.model_copy(deep=True)

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._data.pop(session_id, None)

    def forget_user(self, user_id: str) -> int:
        """Drop every conversation of a user (privacy delete); return how many went."""
        with self._lock:
            gone = [k for k, v in self._data.items() if v.user_id == user_id]
            for k in gone:
                self._data.pop(k, None)
        return len(gone)

    def __len__(self) -> int:
        return len(self._data)


class SqlSessionStore:
    """Sessions in the shop's own database (SQLite or PostgreSQL): a restart or a second API worker keeps the
    conversation. Expired rows are never returned and are purged at most once a minute, on a write."""

    PURGE_EVERY_S = 60.0
    MAX_ID = 200  # the column's width (PostgreSQL enforces it)

    def __init__(self, engine: Engine, ttl_s: float = 1800.0) -> None:
        self.engine, self.ttl_s = engine, ttl_s
        self._purged = 0.0

    def get(self, session_id: str) -> SessionState | None:
        """The session if it exists and has not expired."""
        with self.engine.connect() as conn:
            row = conn.execute(select(chat_sessions.c.state, chat_sessions.c.updated).where(chat_sessions.c.session_id == session_id)).first()
        if row is None or time.time() - row.updated > self.ttl_s:
            return None
        try:
            return SessionState.model_validate_json(row.state)
        except ValidationError:  # written by an incompatible version: the conversation starts afresh, the turn still works
            return None

    def put(self, state: SessionState) -> None:
        """Store the session and stamp it (insert or replace)."""
        state.updated = now = time.time()
        row = {"session_id": state.session_id, "user_id": state.user_id, "updated": now, "state": state.model_dump_json()}
        with self.engine.begin() as conn:
            upsert(conn, chat_sessions, [row], ["session_id"], update=[k for k in row if k != "session_id"])
            if now - self._purged > self.PURGE_EVERY_S:
                self._purged = now
                conn.execute(delete(chat_sessions).where(chat_sessions.c.updated < now - self.ttl_s))

    def delete(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(chat_sessions).where(chat_sessions.c.session_id == session_id))

    def forget_user(self, user_id: str) -> int:
        """Drop every conversation of a user (privacy delete); return how many went."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(chat_sessions).where(chat_sessions.c.user_id == user_id)).rowcount or 0)


class SharedSessionStore:
    """Sessions in the cluster's shared state (Redis): every worker and host continues the same conversation, each
    session expires `ttl_s` after its last turn, and a user's sessions are listed under them for privacy deletion."""

    PREFIX = "chat:"

    def __init__(self, shared: SharedState, ttl_s: float = 1800.0) -> None:
        self.shared, self.ttl_s = shared, ttl_s

    def get(self, session_id: str) -> SessionState | None:
        """The session if it exists and has not expired."""
        raw = self.shared.get(self.PREFIX + session_id)
        if raw is None:
            return None
        try:
            return SessionState.model_validate_json(raw)
        except ValidationError:  # written by an incompatible version: the conversation starts afresh
            return None

    def put(self, state: SessionState) -> None:
        """Store the session and stamp it; it lives `ttl_s` from now."""
        state.updated = time.time()
        self.shared.put(self.PREFIX + state.session_id, state.model_dump_json().encode(), self.ttl_s, owner=state.user_id)

    def delete(self, session_id: str) -> None:
        self.shared.delete(self.PREFIX + session_id)

    def forget_user(self, user_id: str) -> int:
        """Drop every conversation of a user (privacy delete); return how many went."""
        return self.shared.forget_owner(user_id, prefix=self.PREFIX)
