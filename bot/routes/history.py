"""GET /dashboard/history (and .csv): the audit trail per case and per customer.

Behind the dashboard's access check (DASHBOARD_TOKEN, its cookie, open in the demo only).
Filters come as query parameters: `customer` (cus_… or email), `invoice` (in_…), `action`,
`actor` (part of it, e.g. a Slack user id), `since` (7d, 12h, 2w or 2026-11-01); newest
first, 100 a page (`page`), every matching entry in the CSV.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from bot.history_view import csv_header, csv_lines, history_row
from bot.routes.dashboard import Access, check_access, refuse, remember_token, render_page
from bot.runtime import Runtime
from recovery.history import (
    HistoryQuery,
    HistoryQueryError,
    action_label,
    audit_history,
    known_actions,
    parse_since,
)

router = APIRouter()

PAGE_SIZE = 100
CSV_BATCH = 1000
MAX_PARAM = 255
MAX_PAGE = 10_000
SINCE_CHOICES = [("", "Any time"), ("24h", "Last 24 hours"), ("7d", "Last 7 days")] + [
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
]
_FILTERS = ("customer", "invoice", "action", "actor", "since")


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters as typed (to refill the form) and as a query."""

    values: dict[str, str]
    query: HistoryQuery
    page: int


def _parse_filters(params: Mapping[str, str], *, now: datetime) -> Filters:
    """Read and check the query parameters; a HistoryQueryError says what to fix."""
    values = {name: params.get(name, "").strip() for name in _FILTERS}
    for name, value in values.items():
        if len(value) > MAX_PARAM:
            raise HistoryQueryError(f"The {name} filter is too long ({MAX_PARAM} at most).")
    page_text = params.get("page", "1").strip() or "1"
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise HistoryQueryError(f"Page: a whole number from 1 to {MAX_PAGE}.")
    query = HistoryQuery(
        customer=values["customer"] or None,
        invoice=values["invoice"] or None,
        action=values["action"] or None,
        actor=values["actor"] or None,
        since=parse_since(values["since"], now=now) if values["since"] else None,
    )
    return Filters(values=values, query=query, page=int(page_text))


def _link(path: str, values: Mapping[str, str], **changes: str | int) -> str:
    """`path` with the current filters, some changed; empty ones left out."""
    merged: dict[str, str | int] = {**values, **changes}
    pairs = {key: value for key, value in merged.items() if value not in ("", None, 1)}
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _user_names(request: Request) -> dict[str, str]:
    """The sandbox's user names in the demo, so entries read "Fran (finance)"."""
    sandbox = getattr(request.app.state, "sandbox", None)
    return dict(getattr(sandbox, "user_names", {}) or {})


def _title(filters: Filters) -> str:
    values = filters.values
    if values["invoice"]:
        return f"History of invoice {values['invoice']}"
    if values["customer"]:
        return f"History of customer {values['customer']}"
    return "Audit history"


@router.get("/dashboard/history", response_class=HTMLResponse)
async def history_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    access = check_access(request, runtime)
    if access not in {Access.GRANTED, Access.GRANTED_BY_TOKEN}:
        return refuse(access)
    try:
        filters = _parse_filters(request.query_params, now=datetime.now(UTC))
    except HistoryQueryError as error:
        return render_page(
            "dashboard_history.html",
            400,
            error=str(error),
            title="Audit history",
            values={name: request.query_params.get(name, "")[:MAX_PARAM] for name in _FILTERS},
            rows=[],
            actions=[],
            since_choices=SINCE_CHOICES,
            csv_link=None,
            newer_link=None,
            older_link=None,
            first_index=0,
            company=runtime.settings.company_name,
        )
    offset = (filters.page - 1) * PAGE_SIZE
    async with runtime.db.sessions() as session:
        entries = await audit_history(
            session, query=filters.query, limit=PAGE_SIZE + 1, offset=offset
        )
        actions = await known_actions(session)
    names = _user_names(request)
    values = filters.values
    response = render_page(
        "dashboard_history.html",
        error=None,
        title=_title(filters),
        values=values,
        rows=[history_row(entry, names=names) for entry in entries[:PAGE_SIZE]],
        actions=[(action, action_label(action)) for action in actions],
        since_choices=SINCE_CHOICES
        if values["since"] in {value for value, _ in SINCE_CHOICES}
        else [*SINCE_CHOICES, (values["since"], values["since"])],
        csv_link=_link("/dashboard/history.csv", values),
        newer_link=_link("/dashboard/history", values, page=filters.page - 1)
        if filters.page > 1
        else None,
        older_link=_link("/dashboard/history", values, page=filters.page + 1)
        if len(entries) > PAGE_SIZE
        else None,
        first_index=offset + 1,
        company=runtime.settings.company_name,
    )
    return remember_token(request, runtime, response, access)


@router.get("/dashboard/history.csv")
async def history_csv(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    access = check_access(request, runtime)
    if access not in {Access.GRANTED, Access.GRANTED_BY_TOKEN}:
        return refuse(access)
    try:
        filters = _parse_filters(request.query_params, now=datetime.now(UTC))
    except HistoryQueryError as error:
        return Response(f"{error}\n", status_code=400, media_type="text/plain; charset=utf-8")
    names = _user_names(request)

    async def lines() -> AsyncIterator[str]:
        yield csv_header()
        last = None
        while True:  # a batch per session: no transaction held open while the client reads
            async with runtime.db.sessions() as session:
                batch = await audit_history(
                    session, query=filters.query, limit=CSV_BATCH, older_than=last
                )
            if batch:
                yield csv_lines(batch, names=names)
            if len(batch) < CSV_BATCH:
                return
            last = batch[-1]

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="dunbot-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
