"""`dunbot demo` in a real browser: the /sandbox page drives dunbot's real Slack and Stripe paths.

The demo app runs under uvicorn on a free port in this event loop (worker in-process, sandbox
Slack Web API on the same app), chromium is driven through Playwright. Saves the sandbox,
demo dashboard and audit history screenshots in docs/screenshots/ (committed).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import (
    Browser,
    FloatRect,
    Locator,
    Page,
    Response,
    ViewportSize,
    async_playwright,
    expect,
)

from bot.sandbox.billing import DEMO_INVOICES
from bot.sandbox.demo import ACCOUNT_MANAGER, FINANCE, OUTSIDER, build_demo_app, demo_settings
from tests.conftest import REPO_ROOT
from tests.e2e.serve import serving

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """The committed screenshot when missing or DUNBOT_UPDATE_SCREENSHOTS=1, else a temp file
    (so a test run never leaves the work tree modified)."""
    committed = SCREENSHOTS / name
    if not committed.exists() or os.environ.get("DUNBOT_UPDATE_SCREENSHOTS") == "1":
        return committed
    return tmp_path / name


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 15_000


@pytest.fixture
async def demo_url(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    db_file = tmp_path / "demo.db"
    shutil.copy(sqlite_template, db_file)

    def make_app(port: int) -> FastAPI:
        settings = demo_settings(
            port=port,
            database_url=f"sqlite+aiosqlite:///{db_file}",
            email_outbox_dir=tmp_path / "outbox",
            llm_provider="template",
        )
        return build_demo_app(settings, port=port, configure_logs=False)

    async with serving(make_app) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


async def open_sandbox(
    browser: Browser, url: str, user: str = FINANCE, *, failures: list[str] | None = None
) -> Page:
    """The sandbox page as `user`; HTTP errors of every request it makes go to `failures`."""
    page = await browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    if failures is not None:
        page.context.on("response", lambda r: _note_failure(failures, r))
    expect.set_options(timeout=WAIT_MS)
    await page.goto(f"{url}/sandbox?user={user}")
    await expect(page.get_by_role("heading", name="Stripe (sandbox)")).to_be_visible()
    return page


def _note_failure(failures: list[str], response: Response) -> None:
    if response.status >= 400:
        failures.append(f"{response.status} {response.url}")


def invoice_row(page: Page, role: str) -> Locator:
    return page.locator(f'tr.invoice-row[data-invoice-id="{DEMO_INVOICES[role]}"]')


PAID_HEADER = "Paid — $49.00 recovered"  # Maya Chen's invoice is $49.00


def cards(page: Page, channel: str) -> Locator:
    return page.locator(f"#feed-{channel} article.message:not(.ephemeral)")


def ephemerals(page: Page, channel: str) -> Locator:
    return page.locator(f"#feed-{channel} article.message.ephemeral")


async def act_as(page: Page, user: str) -> None:
    await page.locator(f'input[name="user"][value="{user}"]').check()
    await expect(page.locator("body")).to_have_attribute("data-user", user)


async def test_standard_failure_approved_sent_then_paid(
    browser: Browser, demo_url: str, tmp_path: Path
) -> None:
    failures: list[str] = []  # no request the pages make may answer 4xx/5xx
    page = await open_sandbox(browser, demo_url, failures=failures)
    maya = invoice_row(page, "standard_en")

    await maya.get_by_role("button", name="Payment fails: Maya Chen").click()
    card = cards(page, "CAPPROVALS").filter(has_text=DEMO_INVOICES["standard_en"])
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Maya Chen")
    await expect(card.get_by_role("button", name="Approve")).to_be_visible()
    await expect(card.get_by_role("button", name="Reject")).to_be_visible()
    await expect(maya).to_contain_text("dunbot: open")

    # An outsider's click is refused, ephemerally, and changes nothing.
    await act_as(page, OUTSIDER)
    await card.get_by_role("button", name="Approve").click()
    dialog = page.get_by_role("dialog", name="Send this email?")
    await dialog.get_by_role("button", name="Approve and send").click()
    refusal = ephemerals(page, "CAPPROVALS").filter(has_text="Only the finance approvers")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("Only visible to you")
    await expect(card.get_by_role("button", name="Approve")).to_be_visible()
    await expect(page.locator("#outbox")).to_contain_text("No emails sent yet")

    # Finance approves (through Slack's confirm dialog): the email goes out, the card says so.
    await act_as(page, FINANCE)
    await expect(refusal).to_have_count(0)  # the outsider's ephemeral is not shown to finance
    await page.screenshot(path=str(screenshot_path("sandbox.png", tmp_path)))
    await card.get_by_role("button", name="Approve").click()
    await dialog.get_by_role("button", name="Approve and send").click()
    await expect(card).to_contain_text("Email sent")
    await expect(card).to_contain_text("approved by")
    await expect(card.locator("h3.header")).to_contain_text("Sent, awaiting payment")
    await expect(ephemerals(page, "CAPPROVALS")).to_have_count(0)  # the card tells the story
    await expect(card.locator(f'.mention[data-user-id="{FINANCE}"]')).to_be_visible()
    await expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    outbox = page.locator("#outbox .outbox-email")
    await expect(outbox).to_have_count(1)
    await expect(outbox).to_contain_text("maya.chen@example.com")

    # The customer pays: the card says paid.
    await maya.get_by_role("button", name="Customer pays: Maya Chen").click()
    await expect(card).to_contain_text("invoice paid")
    await expect(card.locator("h3.header")).to_contain_text(PAID_HEADER)
    await expect(card).not_to_contain_text("\u00a4")  # no odd currency sign for "paid"
    await expect(maya).to_contain_text("dunbot: paid")
    await page.screenshot(path=str(screenshot_path("sandbox-after-payment.png", tmp_path)))

    # The sandbox links to the dashboard and its history (new tabs), the dashboard links back.
    await expect(page.get_by_role("link", name="Audit history")).to_have_attribute(
        "href", "/dashboard/history"
    )
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="Recovery dashboard").click()
    dashboard = await opened.value
    await dashboard.set_viewport_size({"width": 1280, "height": 900})
    await expect(dashboard.get_by_role("heading", level=1)).to_contain_text("dashboard")
    await expect(dashboard.get_by_role("link", name="Open the sandbox")).to_have_attribute(
        "href", "/sandbox"
    )
    await dashboard.screenshot(
        path=str(screenshot_path("demo-dashboard.png", tmp_path)), full_page=True
    )
    favicon = await dashboard.request.get(f"{demo_url}/favicon.ico")
    assert favicon.status == 200
    assert failures == []


async def test_vip_failure_is_a_task_claimed_by_the_account_manager(
    browser: Browser, demo_url: str
) -> None:
    page = await open_sandbox(browser, demo_url, user=ACCOUNT_MANAGER)
    await invoice_row(page, "vip_amount").get_by_role("button", name="Payment fails").click()
    await page.get_by_role("tab", name="vip-tasks").click()
    task = cards(page, "CVIPTASKS").filter(has_text="Orbital Freight")
    await expect(task).to_have_count(1)
    await expect(task).to_contain_text("URGENT")
    assert (await task.inner_text()).count("URGENT") == 1  # the header says it, once
    await expect(task.get_by_role("link", name="Open customer in Stripe")).to_have_count(0)
    await expect(task).to_contain_text("not in Stripe (demo billing)")
    await task.get_by_role("button", name="Claim").click()
    await expect(task).to_contain_text("claimed by")
    await expect(task.locator(f'.mention[data-user-id="{ACCOUNT_MANAGER}"]')).to_be_visible()
    await expect(task.get_by_role("button", name="Claim")).to_have_count(0)
    await expect(task.get_by_role("button", name="Done")).to_be_visible()
    await expect(cards(page, "CAPPROVALS")).to_have_count(0)

    # App Home: opening the tab sends app_home_opened; dunbot publishes the view.
    await page.get_by_role("tab", name="dunbot (App Home)").click()
    home = page.locator("#feed-home")
    await expect(home).to_contain_text("Open VIP tasks (1)")
    await expect(home).to_contain_text("Orbital Freight")

    # A week passes for this invoice alone: the task's waiting claim reminder comes due now.
    orbital = invoice_row(page, "vip_amount")
    await expect(orbital).to_contain_text("Enterprise · yearly")
    await orbital.get_by_role("button", name="Advance 7 days").click()
    await expect(page.locator("#status-line")).to_contain_text("now due: vip claim reminder")
    await expect(orbital.locator(".clock-offset")).to_have_text("+7d")


async def test_paused_customer_failure_posts_no_card(browser: Browser, demo_url: str) -> None:
    page = await open_sandbox(browser, demo_url)
    command = page.get_by_label("Slash command")
    await command.fill("/dunning pause jonas.becker@example.com for 30d")
    await command.press("Enter")
    await expect(
        ephemerals(page, "CAPPROVALS").filter(has_text="Dunning paused for")
    ).to_be_visible()

    jonas = invoice_row(page, "standard_de")
    await jonas.get_by_role("button", name="Payment fails: Jonas Becker").click()
    await expect(jonas).to_contain_text("dunbot: paused")
    await expect(cards(page, "CAPPROVALS")).to_have_count(0)

    # Someone else's failure still gets its card, so the empty channel above is not a fluke.
    await invoice_row(page, "standard_fr").get_by_role("button", name="Payment fails").click()
    await expect(cards(page, "CAPPROVALS").filter(has_text="Camille Dubois")).to_have_count(1)
    await expect(cards(page, "CAPPROVALS").filter(has_text="Jonas Becker")).to_have_count(0)


async def test_reject_opens_a_modal_whose_submission_updates_the_card(
    browser: Browser, demo_url: str
) -> None:
    page = await open_sandbox(browser, demo_url)
    await invoice_row(page, "standard_fr").get_by_role("button", name="Payment fails").click()
    card = cards(page, "CAPPROVALS").filter(has_text="Camille Dubois")
    await card.get_by_role("button", name="Reject").click()
    modal = page.get_by_role("dialog", name="Reject draft")
    await expect(modal).to_be_visible()
    await expect(modal.get_by_label("Reason")).to_be_focused()
    await modal.get_by_label("Reason").fill("Called her <b>by phone</b> instead")
    await modal.get_by_role("button", name="Reject").click()
    await expect(modal).to_be_hidden()
    await expect(card).to_contain_text("rejected by")
    await expect(card.locator("h3.header")).to_contain_text("Rejected")
    await expect(card).to_contain_text("Called her <b>by phone</b> instead")
    await expect(card.locator("b")).to_have_count(0)


async def test_edit_modal_shows_guardrail_errors_inline_then_saves(
    browser: Browser, demo_url: str
) -> None:
    page = await open_sandbox(browser, demo_url)
    await invoice_row(page, "standard_en").get_by_role("button", name="Payment fails").click()
    card = cards(page, "CAPPROVALS").filter(has_text="Maya Chen")
    await card.get_by_role("button", name="Edit").click()
    modal = page.get_by_role("dialog", name="Edit draft")
    body = modal.get_by_label("Body")
    await body.fill("Please pay at https://evil.example.com today.")
    await modal.get_by_role("button", name="Save draft").click()
    await expect(modal.get_by_role("alert").filter(has_text="link")).to_be_visible()
    await expect(modal).to_be_visible()
    await body.fill("Your card was declined; a quick update on the secure page settles it.")
    await modal.get_by_role("button", name="Save draft").click()
    await expect(modal).to_be_hidden()
    await expect(card).to_contain_text("a quick update on the secure page settles it")
    await expect(card.get_by_role("button", name="Approve")).to_be_visible()


async def test_a_card_in_a_channel_you_are_not_looking_at_shows_an_unread_mark(
    browser: Browser, demo_url: str
) -> None:
    page = await open_sandbox(browser, demo_url)
    approvals = page.get_by_role("tab", name="dunning-approvals")
    vip = page.get_by_role("tab", name="vip-tasks")
    await expect(approvals).to_have_attribute("aria-selected", "true")

    # A VIP failure posts to #vip-tasks while finance looks at #dunning-approvals.
    await invoice_row(page, "vip_amount").get_by_role("button", name="Payment fails").click()
    await expect(vip.locator(".unread")).to_have_text("1 unread message")
    await expect(vip).to_have_class(re.compile(r"\bhas-unread\b"))
    await expect(approvals.locator(".unread")).to_be_hidden()

    # Looking at the channel reads it.
    await vip.click()
    await expect(cards(page, "CVIPTASKS")).to_have_count(1)
    await expect(vip.locator(".unread")).to_be_hidden()
    await expect(vip).not_to_have_class(re.compile(r"\bhas-unread\b"))

    # Now a standard failure: its card marks #dunning-approvals, which is not in view.
    await invoice_row(page, "standard_en").get_by_role("button", name="Payment fails").click()
    await expect(approvals.locator(".unread")).to_have_text("1 unread message")
    await invoice_row(page, "standard_fr").get_by_role("button", name="Payment fails").click()
    await expect(approvals.locator(".unread")).to_have_text("2 unread messages")
    await expect(vip.locator(".unread")).to_be_hidden()
    await approvals.click()
    await expect(approvals.locator(".unread")).to_be_hidden()
    await expect(cards(page, "CAPPROVALS")).to_have_count(2)


async def _box(locator: Locator) -> FloatRect:
    box = await locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box


async def _assert_in_viewport(locator: Locator) -> None:
    box = await _box(locator)
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    assert box["x"] >= 0 and box["y"] >= 0, (locator, box)
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (locator, box)


async def test_channel_billing_and_outbox_are_in_view_together_at_1440_by_900(
    browser: Browser, demo_url: str
) -> None:
    failures: list[str] = []
    page = await open_sandbox(browser, demo_url, failures=failures)
    await invoice_row(page, "standard_en").get_by_role("button", name="Payment fails").click()
    card = cards(page, "CAPPROVALS").filter(has_text=DEMO_INVOICES["standard_en"])
    await card.get_by_role("button", name="Approve").click()
    await page.get_by_role("dialog").get_by_role("button", name="Approve and send").click()
    email = page.locator("#outbox .outbox-email")
    await expect(email).to_have_count(1)

    # The page is one screen: nothing below the fold, no column of its own to scroll.
    page_size = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]"
    )
    assert page_size == [VIEWPORT["width"], VIEWPORT["height"]]
    tools_overflow = await page.locator("aside.tools").evaluate(
        "el => el.scrollHeight - el.clientHeight"
    )
    assert tools_overflow == 0

    # The card's heading and buttons, every billing row with its buttons, the newest email
    # unfolded: all in the viewport at once.
    await _assert_in_viewport(card.locator(".block.header, .block").first)
    await _assert_in_viewport(card.get_by_text("Email sent"))
    rows = page.locator("tr.invoice-row")
    await expect(rows).to_have_count(len(DEMO_INVOICES))
    for index in range(len(DEMO_INVOICES)):
        await _assert_in_viewport(rows.nth(index))
        await _assert_in_viewport(rows.nth(index).get_by_role("button", name="Customer pays"))
    await expect(email.locator("details")).to_have_attribute("open", "")
    await _assert_in_viewport(email.locator(".outbox-subject"))

    # The pay link is whole: inside the email's box and the viewport, not clipped at an edge.
    link = await email.locator(".outbox-text").evaluate(
        r"""pre => {
            const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf("https://invoice.stripe.com/");
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                const end = node.data.indexOf("\n", at);
                range.setEnd(node, end < 0 ? node.data.length : end);
                const r = range.getBoundingClientRect(), box = pre.getBoundingClientRect();
                return {text: range.toString(), left: r.left, right: r.right, bottom: r.bottom,
                        boxLeft: box.left, boxRight: box.right,
                        overflow: pre.scrollWidth - pre.clientWidth};
            }
            return null;
        }"""
    )
    assert link is not None and link["text"].endswith(DEMO_INVOICES["standard_en"])
    assert link["overflow"] == 0
    assert link["boxLeft"] <= link["left"] and link["right"] <= link["boxRight"]
    assert link["bottom"] <= VIEWPORT["height"]

    # The user switcher's labels are whole (not cut off by the sidebar).
    for name in await page.locator(".user-name").all():
        assert await name.evaluate("el => el.scrollWidth <= el.clientWidth")
        await _assert_in_viewport(name)
    assert failures == []


async def test_history_page_answers_who_did_what_and_exports_csv(
    browser: Browser, demo_url: str, tmp_path: Path
) -> None:
    page = await open_sandbox(browser, demo_url)
    await invoice_row(page, "standard_fr").get_by_role("button", name="Payment fails").click()
    card = cards(page, "CAPPROVALS").filter(has_text="Camille Dubois")
    await card.get_by_role("button", name="Reject").click()
    modal = page.get_by_role("dialog", name="Reject draft")
    await modal.get_by_label("Reason").fill("Called her by phone instead")
    await modal.get_by_role("button", name="Reject").click()
    await expect(card).to_contain_text("rejected by")
    command = page.get_by_label("Slash command")
    await command.fill("/dunning pause jonas.becker@example.com for 30d billing dispute")
    await command.press("Enter")
    await expect(ephemerals(page, "CAPPROVALS").filter(has_text="Dunning paused")).to_be_visible()

    history = await browser.new_page(viewport={"width": 1280, "height": 900})
    history.set_default_timeout(WAIT_MS)
    await history.goto(f"{demo_url}/dashboard")
    await history.get_by_role("link", name="Audit history").click()
    await expect(history.get_by_role("heading", level=1)).to_have_text("Audit history")
    entries = history.locator("tr.history-entry")
    # Newest first: the pause, then the rejection (who and why), then what led to it.
    await expect(entries.first).to_contain_text("Customer paused")
    await expect(entries.first).to_contain_text("reason: billing dispute")
    rejected = entries.filter(has_text="Draft rejected")
    await expect(rejected).to_contain_text("Fran (finance)")
    await expect(rejected).to_contain_text("reason: Called her by phone instead")
    actions = await entries.evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions.index("customer_paused") < actions.index("draft_rejected")
    assert actions.index("draft_rejected") < actions.index("draft_created")
    assert actions.index("draft_created") < actions.index("case_opened")
    await history.screenshot(path=str(screenshot_path("history.png", tmp_path)), full_page=True)

    # One customer's history, by following the link of the rejection's customer.
    await rejected.get_by_role("link", name="Camille Dubois").click()
    heading = history.get_by_role("heading", level=1)
    await expect(heading).to_contain_text("History of customer cus_")
    await expect(entries.filter(has_text="Customer paused")).to_have_count(0)
    await expect(entries.filter(has_text="Draft rejected")).to_have_count(1)

    # Filter by what happened, through the form.
    await history.get_by_label("Customer").fill("")
    await history.get_by_label("What").select_option("customer_paused")
    await history.get_by_role("button", name="Filter").click()
    await expect(entries).to_have_count(1)
    await expect(entries).to_contain_text("Customer paused")

    async with history.expect_download() as download_info:
        await history.get_by_role("link", name="Download CSV").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("dunbot-audit-")
    exported = (await download.path()).read_text()
    assert exported.splitlines()[0].startswith("at_utc,action,what,actor,who,")
    assert "customer_paused" in exported and "draft_rejected" not in exported
