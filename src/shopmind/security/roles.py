"""Roles and the principal a request acts as: what each kind of key may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """A key's role. `storefront` is what a browser may hold: it is public by nature."""

    ADMIN = "admin"  # everything
    INGEST = "ingest"  # write events and catalog in bulk
    STOREFRONT = "storefront"  # search, suggest, recommend, ads, chat, send its own events
    ANALYST = "analyst"  # reports, read-only


USERS_READ = "users:read"  # the scope that opens personal data (users, profiles, reports naming users)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the key's id (never the secret), its role and extra scopes."""

    key_id: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can_read_users(self) -> bool:
        """Personal data needs `admin` or the explicit `users:read` scope."""
        return self.is_admin or USERS_READ in self.scopes


ANONYMOUS = Principal(key_id="anonymous", role=Role.STOREFRONT)
CLI = Principal(key_id="cli", role=Role.ADMIN)  # the local command line acts as admin (it can read the store)
