"""Attack: read shoppers' personal data (users, attributes, profiles) without an admin key, as the issue did.

Tried with no key, with the storefront key every browser is handed by /web/config.js, with ingest and
analyst keys, and with `api.open_reads` on (the default) and off. Also: each role can do what it is for,
and nothing more.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.security import keys
from shopmind.security.roles import USERS_READ

from .conftest import AS, KEYS, open_demo

PERSONAL = ["/users", "/users/u1", "/users/u1/profile", "/reports/queries"]


def _personal_values(shop) -> list[str]:
    """What the issue saw leak: u1's zip code and occupation."""
    user = shop.users.get("u1")
    return [str(user.attributes["zip"]), str(user.attributes["occupation"])]


@pytest.mark.parametrize("open_reads", [True, False])
def test_personal_data_needs_admin_or_users_read(tmp_path, demo_data, open_reads):
    shop = open_demo(tmp_path / "shop", demo_data, open_reads=open_reads)
    secrets_of_u1 = _personal_values(shop)
    with TestClient(create_app(shop)) as client:
        browser_key = client.get("/web/config.js").text
        assert KEYS["storefront"] in browser_key  # the key a visitor gets for free…
        for path in PERSONAL:
            for headers, expected in [({}, 401), (AS["storefront"], 403), (AS["ingest"], 403), (AS["analyst"], 403)]:
                r = client.get(path, headers=headers)
                assert r.status_code == expected, (path, headers, r.status_code)
                assert not any(v in r.text for v in secrets_of_u1) and "u1" not in r.text.replace("/users/u1", "")
            assert client.get(path, headers=AS["admin"]).status_code == 200, path  # …opens none of it; admin does
        assert client.get("/users/u1", headers=AS["admin"]).json()["attributes"]["zip"] == secrets_of_u1[0]
        # catalog reads stay open exactly when open_reads says so
        assert client.get("/products/m1").status_code == (200 if open_reads else 401)
        assert client.get("/products/m1", headers=AS["storefront"]).status_code == 200
    shop.close()


@pytest.mark.integration
def test_users_read_scope_opens_personal_data_but_never_on_a_storefront_key(client, shop):
    _key_id, secret = keys.create(shop.store.engine, "analyst", scopes=[USERS_READ], label="crm export")
    reader = {"X-API-Key": secret}
    assert client.get("/users/u1", headers=reader).json()["id"] == "u1"
    assert client.get("/users/u1/profile", headers=reader).status_code == 200
    assert client.get("/reports/queries", headers=reader).status_code == 200
    assert client.delete("/users/u1", headers=reader).status_code == 403  # reading is not deleting
    with pytest.raises(ValueError, match="scope"):
        keys.create(shop.store.engine, "storefront", scopes=[USERS_READ])
    with pytest.raises(ValueError, match="scope"):
        keys.create(shop.store.engine, "analyst", scopes=["users:write"])
    with pytest.raises(ValueError, match="role"):
        keys.create(shop.store.engine, "root")


ROUTES = [  # (method, path, json body, roles allowed: status 2xx/4xx-not-auth expected)
    ("GET", "/stats", None, {"admin", "analyst"}),
    ("GET", "/metrics", None, {"admin", "analyst"}),
    ("GET", "/reports/funnel", None, {"admin", "analyst"}),
    ("GET", "/admin/live", None, {"admin", "analyst"}),
    ("GET", "/admin/models", None, {"admin", "analyst"}),
    ("GET", "/admin/audit", None, {"admin"}),
    ("POST", "/admin/rebuild-state", None, {"admin"}),
    ("PUT", "/products/m1", {"id": "m1", "title": "Toy Story (1995)"}, {"admin", "ingest"}),
    ("POST", "/products", [{"id": "m1", "title": "Toy Story (1995)"}], {"admin", "ingest"}),
    ("PUT", "/users/u1", {"id": "u1", "attributes": {"age": 24}}, {"admin", "ingest"}),
    ("POST", "/events", {"type": "view", "user_id": "u1", "item_id": "m1"}, {"admin", "ingest", "storefront"}),
    ("GET", "/products/m1", None, {"admin", "ingest", "storefront", "analyst"}),
    ("GET", "/trending", None, {"admin", "ingest", "storefront", "analyst"}),
]


@pytest.mark.integration
def test_each_role_does_what_it_is_for_and_nothing_more(client):
    for method, path, body, allowed in ROUTES:
        for role in AS:
            r = client.request(method, path, json=body, headers=AS[role])
            if role in allowed:
                assert r.status_code < 400, (method, path, role, r.status_code, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.status_code)
                assert role in r.json()["detail"]  # says which role the key has
        assert client.request(method, path, json=body, headers={"X-API-Key": "sm_admin_guessed"}).status_code == 401


def test_deleting_a_user_is_admin_only(client):
    for role in ("storefront", "ingest", "analyst"):
        assert client.delete("/users/u2", headers=AS[role]).status_code == 403
    assert client.delete("/users/u2").status_code == 401
    assert client.get("/users/u2", headers=AS["admin"]).status_code == 200  # still there
    assert client.delete("/users/u2", headers=AS["admin"]).status_code == 200
    assert client.get("/users/u2", headers=AS["admin"]).status_code == 404


def test_a_key_in_a_cookie_is_not_a_key(client):
    """A cookie rides along on cross-site form posts (CSRF): keys are taken from headers only."""
    client.cookies.set("shopmind_key", KEYS["admin"])
    assert client.post("/admin/rebuild-state").status_code == 401
    assert client.get("/users/u1").status_code == 401
    assert client.post("/admin/rebuild-state", headers={"Authorization": f"Bearer {KEYS['admin']}"}).status_code == 200
