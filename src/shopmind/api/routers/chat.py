"""Shopping-assistant chat: one turn (`POST /chat`), a streamed turn (`POST /chat/stream`, NDJSON), forget a session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shopmind.api.deps import RequireStorefront, Shop
from shopmind.api.simulated import SimLabel
from shopmind.assistant.models import ChatResponse
from shopmind.experiments.exposures import labelled
from shopmind.security.limits import ID_CHARS, MESSAGE_CHARS
from shopmind.security.ratelimit import rate_limit

router = APIRouter(prefix="/chat", tags=["assistant"])


class ChatRequest(BaseModel):
    session_id: Annotated[str, Field(min_length=1, max_length=ID_CHARS)]
    message: Annotated[str, Field(min_length=1, max_length=MESSAGE_CHARS)]
    user_id: Annotated[str | None, Field(max_length=ID_CHARS)] = None
    product_id: Annotated[str | None, Field(max_length=ID_CHARS, description="the product page the shopper is on, if any")] = None


def _check_message(shop: Shop, message: str) -> None:
    """A shop may set `assistant.max_message_chars` below the API's limit: 422 naming the field, before any work."""
    limit = shop.chat_message_limit()
    if len(message) > limit:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body", "message"], "msg": f"at most {limit} characters, got {len(message)}", "type": "string_too_long"}])


@router.post("", dependencies=[RequireStorefront, rate_limit("chat")])
def chat(body: ChatRequest, shop: Shop, label: SimLabel) -> ChatResponse:
    """One turn: grounded text (every sentence with its source), product cards, intent, slots, session."""
    _check_message(shop, body.message)
    with labelled(label):  # X-Simulated: the turn's experiment exposure is marked simulated
        return shop.chat(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id)


@router.post("/stream", dependencies=[RequireStorefront, rate_limit("chat")])
def chat_stream(body: ChatRequest, shop: Shop) -> StreamingResponse:
    """The same turn as NDJSON: {"delta": text} lines (each released after its fact check), then {"response": …}."""
    _check_message(shop, body.message)

    def lines() -> Iterator[bytes]:
        for part in shop.chat_stream(body.session_id, body.message, user_id=body.user_id, product_id=body.product_id):
            if isinstance(part, ChatResponse):
                yield orjson.dumps({"response": part.model_dump(mode="json")}) + b"\n"
            else:
                yield orjson.dumps({"delta": part}) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.delete("/{session_id}", dependencies=[RequireStorefront], status_code=status.HTTP_204_NO_CONTENT)
def forget(session_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> None:
    """Drop a conversation's state."""
    shop.forget_chat(session_id)
