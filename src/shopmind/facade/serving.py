"""Serving verbs of the facade: the assistant, ads and forecasts — each part wired here from its collaborators.

`AdsService`, `Assistant` and `ForecastService` are made on first use and held by the facade (pacing, sessions
and fitted forecasts live in them). They receive what they need explicitly (the store's slices, online state,
the published artifact, the facade's search/recommend through `ShopQueries`); none of them imports the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from shopmind.ads.models import AdsResponse
    from shopmind.ads.service import AdsService
    from shopmind.assistant.assistant import Assistant
    from shopmind.assistant.models import ChatResponse
    from shopmind.config import Settings
    from shopmind.forecast.service import ForecastService
    from shopmind.profiles.state import OnlineState
    from shopmind.recommend.config import RecommendResponse
    from shopmind.sharedstate import SharedState
    from shopmind.store import SqlStore

__all__ = ["ServingVerbs"]
T = TypeVar("T")
log = logging.getLogger(__name__)


class ServingVerbs:
    """The assistant, ads and forecast verbs (mixed into `ShopMind`, which provides the attributes below)."""

    home: Path
    settings: Settings
    store: SqlStore
    _lock: threading.RLock
    _assistant: Assistant | None
    _ads: AdsService | None
    _forecast: ForecastService | None

    if TYPE_CHECKING:  # provided by ShopMind
        @property
        def state(self) -> OnlineState: ...

        def built_part(self, name: str) -> Any | None: ...

        def part_config(self, name: str) -> Any: ...

        @property
        def shared(self) -> SharedState: ...

        @property
        def ads_secret(self) -> bytes: ...

        def recommend(self, *, user_id: str | None = None, placement: str = "home", item_id: str | None = None,
                      cart: list[str] | None = None, k: int = 20, context: dict[str, Any] | None = None) -> RecommendResponse: ...

        def served(self, surface: str, user_id: str | None, session_id: str | None, base: Callable[[], Any], call: Callable[[Any], T],
                   context: dict[str, Any] | None = None) -> T: ...  # facade/experiments.py: in the unit's arm, exposure logged

    # -- assistant -----------------------------------------------------------------------------------
    def new_assistant(self, **overrides: Any) -> Assistant:
        """A fresh assistant over this shop: [assistant] settings plus `overrides` (e.g. llm=…), FAQ from <home>/faq.md."""
        from shopmind.assistant.assistant import Assistant
        from shopmind.assistant.tools import ShopTools

        started = time.perf_counter()
        bot = Assistant.create(ShopTools(self), getattr(self.settings, "assistant", None), home=self.home,  # type: ignore[arg-type]
                               engine=self.store.engine, **overrides)
        if self.shared.shared:  # every worker and host continues the same conversations from shared state (Redis)
            from shopmind.assistant.state import SharedSessionStore

            bot.store = SharedSessionStore(self.shared, bot.config.session_ttl_s)
        log.info("assistant ready in %.2f s (llm: %s)", time.perf_counter() - started, bot.llm.name)
        return bot

    @property
    def assistant(self) -> Assistant:
        """The shop's shopping assistant (made on first use; holds in-memory sessions when so configured)."""
        with self._lock:
            if self._assistant is None:
                self._assistant = self.new_assistant()
            return self._assistant

    def chat(self, session_id: str, message: str, user_id: str | None = None, product_id: str | None = None) -> ChatResponse:
        """One turn of the grounded, multi-turn shopping assistant."""
        return self.served("assistant", user_id, session_id, lambda: self.assistant,
                           lambda bot: bot.chat(session_id, message, user_id=user_id, product_id=product_id))

    def chat_stream(self, session_id: str, message: str, user_id: str | None = None,
                    product_id: str | None = None) -> Iterator[str | ChatResponse]:
        """The same turn as text chunks (each released after its fact check), then the ChatResponse."""
        return self.assistant.chat_stream(session_id, message, user_id, product_id)

    def forget_chat(self, session_id: str) -> None:
        """Drop a conversation's state."""
        self.assistant.forget(session_id)

    def chat_message_limit(self) -> int:
        """The longest message the assistant accepts (`assistant.max_message_chars`)."""
        return int(self.assistant.config.max_message_chars)

    # -- ads -----------------------------------------------------------------------------------------
    def new_ads_service(self, *, encode: Any = None, config: Any = None) -> AdsService:
        """A fresh ads service over this shop's store, published `ads` artifact and online state."""
        from shopmind.ads.accounting import state_flags
        from shopmind.ads.model import AdsConfig
        from shopmind.ads.service import AdsService

        cfg = config if isinstance(config, AdsConfig) else AdsConfig.model_validate(config) if config is not None else self.part_config("ads")
        n = cfg.history_items
        started = time.perf_counter()
        svc = AdsService.open(self.store, self.store, cfg, secret=self.ads_secret, history=lambda uid: self.state.history(uid, n),
                              model_source=lambda: self.built_part("ads"), flags=state_flags(lambda: self.state), encode=encode,
                              shared=self.shared)
        log.info("ads service ready in %.2f s", time.perf_counter() - started)
        return svc

    @property
    def ads_service(self) -> AdsService:
        """Campaigns, auctions, pacing and spend for this shop (made on first use; holds pacing state)."""
        with self._lock:
            if self._ads is None:
                self._ads = self.new_ads_service()
            return self._ads

    def ads(self, placement: str, *, user_id: str | None = None, query: str | None = None, item_id: str | None = None, k: int = 2,
            context: dict[str, Any] | None = None, session_id: str | None = None, client_ip: str | None = None) -> AdsResponse:
        """Sponsored products for a slot: pCTR × bid auction with GSP prices, pacing and a relevance floor."""
        return self.served("ads", user_id, session_id, lambda: self.ads_service, lambda svc: svc.select(
            placement, user_id=user_id, query=query, item_id=item_id, k=k, context=context, session_id=session_id, client_ip=client_ip), context)

    def ads_report(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, ROAS (spend synced from events first)."""
        svc = self.ads_service
        svc.catch_up(self.store)
        return svc.report(campaign_id, start, end)

    def ads_pacing(self, day: str | None = None) -> dict[str, Any]:
        """Cumulative spend by UTC hour per campaign for one day (default today), with each daily budget."""
        svc = self.ads_service
        svc.catch_up(self.store)
        day = day or time.strftime("%Y-%m-%d", time.gmtime())
        budgets = {c.id: c.daily_budget for c in svc.list_campaigns()}
        return {"day": day, "curves": svc.store.pacing_curve(day), "daily_budgets": budgets}

    # -- forecasts -----------------------------------------------------------------------------------
    @property
    def forecast_service(self) -> ForecastService:
        """Demand forecasts, rising lists, stock-out alerts and price what-ifs (made on first use; caches fits)."""
        with self._lock:
            if self._forecast is None:
                from shopmind.forecast.service import ForecastService

                self._forecast = ForecastService(self.store, lambda: self.state.items, recommend=self.recommend)
            return self._forecast
