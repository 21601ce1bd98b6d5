"""GET /dashboard: access by token, bearer or cookie; 401 and 503 pages; the figures shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.routes.dashboard import COOKIE_NAME
from storage.db import Database
from storage.models import CaseStatus
from tests.dashboard.conftest import DASHBOARD_TOKEN, ClientFactory
from tests.dashboard.seed import add_case


async def test_without_credentials_explains_how_to_get_access(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "text/html" in response.headers["content-type"]
    assert "Access needed" in response.text
    assert "/dashboard?token=" in response.text
    assert "Authorization: Bearer" in response.text
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")


async def test_wrong_token_is_refused(client: httpx.AsyncClient) -> None:
    by_query = await client.get("/dashboard", params={"token": "nope"})
    by_header = await client.get("/dashboard", headers={"Authorization": "Bearer nope"})
    by_cookie = await client.get(
        "/dashboard", headers={"Cookie": f"{COOKIE_NAME}={DASHBOARD_TOKEN}"}
    )

    for response in (by_query, by_header, by_cookie):
        assert response.status_code == 401
        assert "not valid" in response.text
        assert "nope" not in response.text


async def test_token_in_query_sets_a_cookie_that_works_alone(client: httpx.AsyncClient) -> None:
    first = await client.get("/dashboard", params={"token": DASHBOARD_TOKEN})

    assert first.status_code == 200
    set_cookie = first.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()
    assert DASHBOARD_TOKEN not in set_cookie
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["referrer-policy"] == "no-referrer"

    again = await client.get("/dashboard")  # the client kept the cookie
    assert again.status_code == 200
    assert "set-cookie" not in again.headers


async def test_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/dashboard", headers={"Authorization": f"Bearer {DASHBOARD_TOKEN}"}
    )
    assert response.status_code == 200
    assert "Payment recovery dashboard" in response.text


async def test_no_token_configured_outside_the_demo_is_503(make_client: ClientFactory) -> None:
    for environment in ("production", "development", "test"):
        response = await make_client(environment=environment).get(
            "/dashboard", params={"token": "anything"}
        )
        assert response.status_code == 503
        assert "DASHBOARD_TOKEN" in response.text


async def test_no_token_configured_in_the_demo_is_open(make_client: ClientFactory) -> None:
    response = await make_client(environment="demo", sandbox=True).get("/dashboard")
    assert response.status_code == 200
    assert "Demo data" in response.text


async def test_environment_demo_alone_does_not_open_the_dashboard(
    make_client: ClientFactory,
) -> None:
    """`ENVIRONMENT=demo dunbot serve`: a setting anyone can set is no key to the figures."""
    response = await make_client(environment="demo").get("/dashboard")
    assert response.status_code == 503
    assert "DASHBOARD_TOKEN" in response.text


async def test_demo_with_a_token_still_needs_it(make_client: ClientFactory) -> None:
    client = make_client(environment="demo", dashboard_token=DASHBOARD_TOKEN, sandbox=True)
    assert (await client.get("/dashboard")).status_code == 401


async def test_page_shows_the_figures(client: httpx.AsyncClient, db: Database) -> None:
    now = datetime.now(UTC)
    await add_case(
        db,
        created_at=now - timedelta(days=2),
        status=CaseStatus.PAID,
        resolved_at=now - timedelta(days=1),
    )
    await add_case(db, created_at=now - timedelta(hours=3), segment="vip", currency="eur")
    await add_case(db, created_at=now - timedelta(hours=2), currency="jpy", amount_due=4900)

    response = await client.get("/dashboard", params={"token": DASHBOARD_TOKEN})

    html = response.text
    assert response.status_code == 200
    assert "$49.00" in html  # recovered
    assert "€49.00" in html and "¥4,900" in html  # at risk
    assert "33%" in html and "1 of 3 cases paid" in html
    assert 'role="img"' in html and "<svg" in html
    assert "Failed payments per day, last 30 days" in html
    assert "Recovered per day in USD" in html
    assert "<caption>Open cases by segment</caption>" in html
    assert "<script" not in html
    assert "https://" not in html  # no external assets


async def test_page_escapes_configured_text(make_client: ClientFactory) -> None:
    client = make_client(environment="demo", company_name="<b>Acme</b> & Co", sandbox=True)
    html = (await client.get("/dashboard")).text
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in html
    assert "<b>Acme" not in html
