"""One HTTP session to a ShopMind server (httpx, timeouts, `X-API-Key`) and the map from HTTP errors back to the
exceptions the embedded facade raises, so calling code catches the same things on either side.

| HTTP | raised | embedded counterpart |
|---|---|---|
| 401, 403 | `AccessDenied` (a `PermissionError`) | — (the embedded facade has no keys) |
| 404 | `RemoteNotFound` (a `KeyError`) | KeyError / CampaignNotFound |
| 409, 413, 422 | `RemoteInvalid` (a `ValueError`, naming each bad field) | ValueError / pydantic ValidationError |
| 429 | `RateLimited` (`retry_after` seconds) | — |
| 503 "not built" | `shopmind.errors.NotBuilt` | NotBuilt |
| 202 from a forecast | `shopmind.errors.ForecastPending` | ForecastPending |
| timeout / no connection / other 5xx | `RemoteTimeout` (TimeoutError) / `RemoteUnavailable` (ConnectionError) / `RemoteError` | — |
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from shopmind.errors import NotBuilt, ShopMindError

if TYPE_CHECKING:
    import httpx

__all__ = ["AccessDenied", "HttpSession", "RateLimited", "RemoteError", "RemoteInvalid", "RemoteNotFound", "RemoteTimeout",
           "RemoteUnavailable", "error_for"]
log = logging.getLogger(__name__)


class RemoteError(ShopMindError):
    """The server answered with an error (or not at all); `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AccessDenied(RemoteError, PermissionError):
    """401 (no key, or an unknown/revoked one) or 403 (the key's role may not make this call)."""


class RemoteNotFound(RemoteError, KeyError):
    """404: no such product, user, campaign, series or placement."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RemoteInvalid(RemoteError, ValueError):
    """409, 413 or 422: the request was refused as invalid; the message names each bad field."""


class RateLimited(RemoteError):
    """429: too many calls; retry after `retry_after` seconds."""

    def __init__(self, message: str, status: int = 429, retry_after: float = 1.0) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class RemoteTimeout(RemoteError, TimeoutError):
    """The server did not answer within the timeout."""


class RemoteUnavailable(RemoteError, ConnectionError):
    """No connection to the server, or it answered 5xx."""


def _detail(response: httpx.Response) -> str:
    """The error's text: FastAPI's `detail` (a string, or a list of {loc, msg}: "query.filters: must be …")."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", []))
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def error_for(response: httpx.Response) -> Exception:
    """The exception for an error response (see the module's table)."""
    status, detail = response.status_code, _detail(response)
    where = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        return AccessDenied(f"{where}: {detail}", status)
    if status == 404:
        return RemoteNotFound(detail, status)
    if status in (409, 413, 422):
        return RemoteInvalid(detail, status)
    if status == 429:
        return RateLimited(f"{where}: {detail}", status, float(response.headers.get("retry-after", 1) or 1))
    if status == 503 and "not built" in detail:
        return NotBuilt(detail)
    if status >= 500:
        return RemoteUnavailable(f"{where}: HTTP {status}: {detail}", status)
    return RemoteError(f"{where}: HTTP {status}: {detail}", status)


def _params(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the unset ones (None would travel as an empty string)."""
    return {k: v for k, v in params.items() if v is not None} if params else None


class HttpSession:
    """One `httpx.Client` to a ShopMind server: base URL, key header, timeouts, JSON in and out, errors mapped."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        try:
            import httpx
        except ModuleNotFoundError as exc:  # pragma: no cover - httpx is a core dependency
            raise ModuleNotFoundError("a remote shop needs httpx (a core dependency): pip install 'httpx>=0.27,<0.29'") from exc
        self._httpx = httpx
        headers = {"X-API-Key": api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout), transport=transport,
                                   follow_redirects=False)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def _send(self, method: str, path: str, *, params: dict[str, Any] | None, json: Any, timeout: float | None,
              stream: bool = False, headers: dict[str, str] | None = None) -> httpx.Response:
        httpx = self._httpx
        content = orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY) if json is not None else None
        headers = {**({"content-type": "application/json"} if content is not None else {}), **(headers or {})} or None
        request = self.client.build_request(method, path, params=_params(params), content=content, headers=headers,
                                            timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        try:
            return self.client.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise RemoteTimeout(f"{method} {self.base_url}{path}: no answer within {timeout or self.timeout} s") from exc
        except httpx.TransportError as exc:
            raise RemoteUnavailable(f"{method} {self.base_url}{path}: {exc}") from exc

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None, timeout: float | None = None,
             missing: Any = ..., pending: type[Exception] | None = None, headers: dict[str, str] | None = None) -> Any:
        """Send one request and return its decoded JSON body (None for 204).

        `missing`: returned on 404 instead of raising (e.g. None for `catalog.get`); `pending`: raised with the
        body's detail on a 202 that carries `{"status": "computing"}` (forecasts); `headers`: extra request headers."""
        response = self._send(method, path, params=params, json=json, timeout=timeout, headers=headers)
        if response.status_code == 404 and missing is not ...:
            return missing
        if response.status_code >= 400:
            raise error_for(response)
        if response.status_code == 204 or not response.content:
            return None
        body = orjson.loads(response.content)
        if pending is not None and response.status_code == 202 and isinstance(body, dict) and body.get("status") == "computing":
            raise pending(str(body.get("detail", "being computed")))
        return body

    def lines(self, method: str, path: str, *, json: Any = None, timeout: float | None = None) -> Iterator[Any]:
        """Stream an NDJSON response, one decoded object per line."""
        response = self._send(method, path, params=None, json=json, timeout=timeout, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise error_for(response)
            for line in response.iter_lines():
                if line.strip():
                    yield orjson.loads(line)
        finally:
            response.close()
