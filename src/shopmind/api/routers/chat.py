"""Shopping-assistant chat: one turn (`POST /chat`), a streamed turn (`POST /chat/stream`, NDJSON), forget a session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shopmind.api.deps import RequireStorefront
from shopmind.assistant import Assistant, ChatResponse
from shopmind.security.limits import ID_CHARS, MESSAGE_CHARS
from shopmind.security.ratelimit import rate_limit

router = APIRouter(prefix="/chat", tags=["assistant"])
_lock = threading.Lock()


class ChatRequest(BaseModel):
    session_id: Annotated[str, Field(min_length=1, max_length=ID_CHARS)]
    message: Annotated[str, Field(min_length=1, max_length=MESSAGE_CHARS)]
    user_id: Annotated[str | None, Field(max_length=ID_CHARS)] = None
    product_id: Annotated[str | None, Field(max_length=ID_CHARS, description="the product page the shopper is on, if any")] = None


def get_assistant(request: Request) -> Assistant:
    """The shop's assistant (the facade's when it has one), made once per app."""
    shop = request.app.state.shop
    own = getattr(shop, "assistant", None)
    if isinstance(own, Assistant):
        return own
    with _lock:
        if getattr(request.app.state, "assistant", None) is None:
            request.app.state.assistant = Assistant.from_shop(shop)
        return request.app.state.assistant


def _check_message(assistant: Assistant, message: str) -> None:
    """A shop may set `assistant.max_message_chars` below the API's limit: 422 naming the field, before any work."""
    limit = assistant.config.max_message_chars
    if len(message) > limit:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body", "message"], "msg": f"at most {limit} characters, got {len(message)}", "type": "string_too_long"}])


@router.post("", dependencies=[RequireStorefront, rate_limit("chat")])
def chat(body: ChatRequest, request: Request) -> ChatResponse:
    """One turn: grounded text (every sentence with its source), product cards, intent, slots, session."""
    assistant = get_assistant(request)
    _check_message(assistant, body.message)
    return assistant.chat(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id)


@router.post("/stream", dependencies=[RequireStorefront, rate_limit("chat")])
def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
    """The same turn as NDJSON: {"delta": text} lines (each released after its fact check), then {"response": …}."""
    assistant = get_assistant(request)
    _check_message(assistant, body.message)

    def lines() -> Iterator[bytes]:
        for part in assistant.chat_stream(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id):
            if isinstance(part, ChatResponse):
                yield orjson.dumps({"response": part.model_dump(mode="json")}) + b"\n"
            else:
                yield orjson.dumps({"delta": part}) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.delete("/{session_id}", dependencies=[RequireStorefront], status_code=status.HTTP_204_NO_CONTENT)
def forget(session_id: Annotated[str, Path(max_length=ID_CHARS)], request: Request) -> None:
    """Drop a conversation's state."""
    get_assistant(request).forget(session_id)
