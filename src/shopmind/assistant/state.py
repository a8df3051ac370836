"""Conversation state per session (history, products in focus, filters) behind a small store Protocol."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from pydantic import BaseModel, Field


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
    """Where sessions live: in process by default; a shared store (Redis…) implements the same three calls."""

    def get(self, session_id: str) -> SessionState | None: ...

    def put(self, state: SessionState) -> None: ...

    def delete(self, session_id: str) -> None: ...


class MemorySessionStore:
    """In-process sessions with a time-to-live and a size cap (least recently used go first)."""

    def __init__(self, ttl_s: float = 1800.0, max_sessions: int = 100_000) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._data: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> SessionState | None:
        """The session if it exists and has not expired."""
        with self._lock:
            state = self._data.get(session_id)
            if state is None:
                return None
            if time.time() - state.updated > self.ttl_s:
                del self._data[session_id]
                return None
            self._data.move_to_end(session_id)
            return state.model_copy(deep=True)

    def put(self, state: SessionState) -> None:
        """Store (a copy of) the session and stamp it."""
        state.updated = time.time()
        with self._lock:
            self._data[state.session_id] = state.model_copy(deep=True)
            self._data.move_to_end(state.session_id)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._data.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._data)
