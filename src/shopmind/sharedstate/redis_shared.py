"""`redis://` / `rediss://`: shared state in Redis (redis-py, imported lazily; the `cluster` extra installs it).

One blocking connection pool per process with socket timeouts on every call (`?socket_timeout=` in the URL
overrides the default 1 s). A token-bucket take is one Lua script (the server's clock, so every host agrees;
all or none of the buckets spent). Counter increments (frequency caps) are queued and sent by a background
thread, several requests' increments per pipeline, so a request never waits on them. Keys are prefixed
`shopmind:`; a key naming a user is also listed in the set `shopmind:own:<user>` that `forget_owner` empties.
Not for Redis Cluster as is: a take touches several keys that would need one hash slot.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from shopmind.sharedstate.base import Bucket, SharedStateUnavailable

__all__ = ["RedisShared"]
log = logging.getLogger(__name__)

PREFIX = "shopmind:"
OWN = PREFIX + "own:"

# KEYS: buckets; ARGV: rate, burst per bucket. All or none spent; returns each bucket's seconds to wait (strings:
# Redis would truncate a Lua number to an integer).
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens, waits, short = {}, {}, false
for i = 1, #KEYS do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local held = redis.call('HMGET', KEYS[i], 't', 's')
  local tok = burst
  if held[1] then tok = math.min(burst, tonumber(held[1]) + (now - tonumber(held[2])) * rate) end
  tokens[i] = tok
  waits[i] = '0'
  if tok < 1 then waits[i] = tostring((1 - tok) / rate); short = true end
end
if short then return waits end
for i = 1, #KEYS do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - 1), 's', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate * 1000) + 1000)
end
return waits
"""


def _ms(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))


class RedisShared:
    """Shared state in one Redis database (see the module docstring)."""

    shared = True

    def __init__(self, url: str, *, socket_timeout: float = 1.0, max_connections: int = 64) -> None:
        try:
            import redis
        except ModuleNotFoundError as exc:  # pragma: no cover - the cluster extra is missing
            raise ModuleNotFoundError("shared_url redis:// needs redis-py: pip install 'shopmind[cluster]'", name="redis") from exc
        self.url = url
        self._errors: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=socket_timeout,
                                                     socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
                                                     health_check_interval=30)
        self._redis = redis.Redis(connection_pool=pool)
        self._take = self._redis.register_script(TAKE)
        self._queue: queue.Queue[tuple[str, Counter[str], int, str | None] | None] = queue.Queue(maxsize=100_000)
        self._sender: threading.Thread | None = None
        self._sender_lock = threading.Lock()

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._errors as exc:
            raise SharedStateUnavailable(f"shared state {what} failed at {self._redacted()}: {exc}") from exc

    def _redacted(self) -> str:
        head, _, tail = self.url.rpartition("@")
        return f"{head.split('://')[0]}://…@{tail}" if head else self.url

    # -- token buckets ------------------------------------------------------------------------------------
    def take(self, buckets: Sequence[Bucket]) -> list[float]:
        if not buckets:
            return []
        args = [v for b in buckets for v in (repr(float(b.rate)), repr(float(b.burst)))]
        out = self._call("take", self._take, [PREFIX + b.key for b in buckets], args)
        return [float(w) for w in out]

    # -- counters -------------------------------------------------------------------------------------------
    def counts(self, key: str) -> dict[str, int]:
        raw = self._call("counts", self._redis.hgetall, PREFIX + key)
        return {k.decode(): int(v) for k, v in raw.items()}

    def add_counts(self, key: str, fields: Sequence[str], ttl_s: float, owner: str | None = None) -> None:
        """Queued for the background sender (never blocks a request; a full queue drops the increment, logged)."""
        if not fields:
            return
        self._ensure_sender()
        try:
            self._queue.put_nowait((key, Counter(fields), _ms(ttl_s), owner))
        except queue.Full:
            log.warning("shared state: counter queue full; an increment of %s was dropped", key.split(":", 1)[0])

    def _ensure_sender(self) -> None:
        if self._sender is None or not self._sender.is_alive():
            with self._sender_lock:
                if self._sender is None or not self._sender.is_alive():
                    self._sender = threading.Thread(target=self._send_loop, name="shopmind-shared-counts", daemon=True)
                    self._sender.start()

    def _send_loop(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while item is not None and len(batch) < 500:  # whatever else is waiting goes in the same round trip
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
            writes = [b for b in batch if b is not None]
            try:
                if writes:
                    self._send(writes)
            except Exception:  # the sender must outlive a Redis outage; the increments of this batch are lost
                log.warning("shared state: %d counter increments not sent", len(writes), exc_info=True)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if any(b is None for b in batch):
                return

    def _send(self, writes: list[tuple[str, Counter[str], int, str | None]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key, fields, ttl_ms, owner in writes:
            full = PREFIX + key
            for field, n in fields.items():
                pipe.hincrby(full, field, n)
            pipe.pexpire(full, ttl_ms)
            if owner:
                self._own(pipe, owner, full, ttl_ms)
        pipe.execute()

    @staticmethod
    def _own(pipe: Any, owner: str, full_key: str, ttl_ms: int) -> None:
        own = OWN + owner
        pipe.sadd(own, full_key)
        pipe.pexpire(own, ttl_ms, nx=True)  # the index lives as long as its longest-lived key
        pipe.pexpire(own, ttl_ms, gt=True)

    # -- values ---------------------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        value = self._call("get", self._redis.get, PREFIX + key)
        return bytes(value) if value is not None else None

    def put(self, key: str, value: bytes, ttl_s: float, owner: str | None = None) -> None:
        def run() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(PREFIX + key, value, px=_ms(ttl_s))
            if owner:
                self._own(pipe, owner, PREFIX + key, _ms(ttl_s))
            pipe.execute()

        self._call("put", run)

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", self._redis.delete, PREFIX + key))

    # -- owners (privacy deletion) ----------------------------------------------------------------------------
    def forget_owner(self, owner: str, prefix: str = "") -> int:
        self.flush()  # an increment still queued would bring a deleted user's key back

        def run() -> int:
            own = OWN + owner
            keys = [k for k in self._redis.smembers(own) if (k.decode() if isinstance(k, bytes) else k).startswith(PREFIX + prefix)]
            if not keys:
                return 0
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(*keys)
            pipe.srem(own, *keys)
            return int(pipe.execute()[0])

        return int(self._call("forget_owner", run))

    def held_owners(self) -> set[str]:
        """Nothing of a user lives in this process: a deletion anywhere reaches Redis directly."""
        return set()

    def flush(self, timeout_s: float = 5.0) -> None:
        """Wait (at most `timeout_s`) until queued increments are sent."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.002)

    def close(self) -> None:
        if self._sender is not None and self._sender.is_alive():
            self._queue.put(None)
            self._sender.join(5.0)
        self._redis.close()
        self._redis.connection_pool.disconnect()
