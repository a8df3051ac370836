"""Shopping-assistant chat: one turn (`POST /chat`), a streamed turn (`POST /chat/stream`, NDJSON), forget a session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shopmind.api.deps import RequireRead
from shopmind.assistant import Assistant, ChatResponse

router = APIRouter(prefix="/chat", tags=["assistant"])
_lock = threading.Lock()


class ChatRequest(BaseModel):
    session_id: Annotated[str, Field(min_length=1, max_length=200)]
    message: Annotated[str, Field(min_length=1, max_length=2000)]
    user_id: Annotated[str | None, Field(max_length=200)] = None
    product_id: Annotated[str | None, Field(max_length=200, description="the product page the shopper is on, if any")] = None


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


@router.post("", dependencies=[RequireRead])
def chat(body: ChatRequest, request: Request) -> ChatResponse:
    """One turn: grounded text (every sentence with its source), product cards, intent, slots, session."""
    return get_assistant(request).chat(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id)


@router.post("/stream", dependencies=[RequireRead])
def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
    """The same turn as NDJSON: {"delta": text} lines (each released after its fact check), then {"response": …}."""
    assistant = get_assistant(request)

    def lines() -> Iterator[bytes]:
        for part in assistant.chat_stream(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id):
            if isinstance(part, ChatResponse):
                yield orjson.dumps({"response": part.model_dump(mode="json")}) + b"\n"
            else:
                yield orjson.dumps({"delta": part}) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.delete("/{session_id}", dependencies=[RequireRead], status_code=status.HTTP_204_NO_CONTENT)
def forget(session_id: str, request: Request) -> None:
    """Drop a conversation's state."""
    get_assistant(request).forget(session_id)
