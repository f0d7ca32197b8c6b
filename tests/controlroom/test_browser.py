"""The control-room page in headless Chromium (Debian's /usr/bin/chromium) against a running line.

The page loads with no request leaving 127.0.0.1, live values change, an alarm
appears and an operator acknowledges it. A screenshot is saved on failure (path in
the failure message).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.controlroom.conftest import OPERATOR, VIEWER

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)),
                       reason=f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request, tmp_path_factory):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.requests_seen = []
    pg.errors_seen = []
    pg.on("request", lambda r: pg.requests_seen.append(r.url))
    pg.on("pageerror", lambda e: pg.errors_seen.append(str(e)))
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path_factory.getbasetemp() / "controlroom-screenshots" / f"{request.node.name}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(shot), full_page=True)
        report.sections.append(("screenshot", str(shot)))
        print(f"\nscreenshot of the failing page: {shot}")
    context.close()


def _only_local(pg, base: str) -> None:
    outside = [u for u in pg.requests_seen if not (u.startswith(base) or u.startswith("data:"))]
    assert not outside, f"requests left the server: {outside[:5]}"
    assert not pg.errors_seen, f"page errors: {pg.errors_seen[:5]}"


def test_live_page_values_change_and_operator_acknowledges_an_alarm(live, page):
    base = live.url
    page.goto(base + "/")
    page.wait_for_selector("#conn.conn-live")
    page.wait_for_function("() => document.getElementById('lot-tonnage').textContent !== '–'")
    first = float(page.text_content("#lot-tonnage"))
    page.wait_for_function(f"() => parseFloat(document.getElementById('lot-tonnage').textContent) > {first}")
    # the trends are uPlot charts (vendored) holding the lot's points
    page.wait_for_function("() => window.Trends && window.Trends.charts['trend-rate'] && "
                           "window.Trends.charts['trend-rate'].u.data[0].length > 5 && "
                           "document.querySelector('#trend-rate canvas') !== null")

    # an alarm from the line appears; a viewer cannot acknowledge it
    row = page.wait_for_selector("#alarms tr[data-state='raised']:not(.follow-on)", timeout=60_000)
    alarm_id = int(row.get_attribute("data-alarm-id"))
    assert page.is_disabled(f"#alarms tr[data-alarm-id='{alarm_id}'] button.ack")
    # the rows stay the same elements while the line moves on and the alarms do not change (a table rebuilt on every
    # snapshot swallowed an operator's click between the old rows and the new ones)
    page.evaluate("() => { window.__row = document.querySelector('#alarms tr'); window.__sig = "
                  "[...document.querySelectorAll('#alarms tr')].map(r => r.dataset.alarmId + r.dataset.state).join(); }")
    t0 = float(page.text_content("#lot-tonnage"))
    page.wait_for_function(f"() => parseFloat(document.getElementById('lot-tonnage').textContent) > {t0}")
    assert page.evaluate("() => window.__row.isConnected || [...document.querySelectorAll('#alarms tr')]"
                         ".map(r => r.dataset.alarmId + r.dataset.state).join() !== window.__sig")

    # operator login, then acknowledge from the page
    page.fill("#token", OPERATOR)
    page.click("#login-btn")
    page.wait_for_function("() => document.getElementById('role').textContent === 'operator'")
    assert page.is_visible("#commands")
    # the page acknowledges with the comment typed; the server records the logged-in account
    page.fill("#ack-comment", "checked at the belt")
    page.click(f"#alarms tr[data-alarm-id='{alarm_id}'] button.ack")
    page.wait_for_selector(f"#alarms tr[data-alarm-id='{alarm_id}'][data-state='acknowledged']")
    alarm = live.service.alarms.get(alarm_id)
    assert alarm.state == "acknowledged" and alarm.acknowledged_by == "token:operator"  # the session, not free text
    assert alarm.ack_comment == "checked at the belt"

    # evidence: a decided segment's spectrum and a detection thumbnail
    page.wait_for_selector("#belt rect.seg", timeout=60_000)
    page.click("#belt rect.seg >> nth=0")
    page.wait_for_function("() => (document.querySelector('#spectrum path.series') || {getAttribute: () => ''})"
                           ".getAttribute('d').length > 100")
    page.wait_for_function("() => [...document.querySelectorAll('#detections img')].some(i => i.naturalWidth > 0)",
                           timeout=60_000)
    _only_local(page, base)


def test_a_segment_pressed_while_the_belt_redraws_still_opens_its_evidence(live, page):
    """The belt's segments are redrawn on every update; a press on one segment and a release after the redraw
    (on its replacement) must still select it (a per-rect click listener lost it)."""
    page.goto(live.url + "/")
    page.wait_for_selector("#belt rect.seg", timeout=60_000)
    # index and centre read in one evaluation (a handle taken first may already be redrawn away)
    index, x, y = page.evaluate("() => { const r = document.querySelector('#belt rect.seg'); "
                                "const b = r.getBoundingClientRect(); "
                                "return [r.getAttribute('data-index'), b.x + b.width / 2, b.y + b.height / 2]; }")
    page.mouse.move(x, y)
    page.mouse.down()
    pressed = page.evaluate_handle(f"() => document.elementFromPoint({x}, {y})")
    page.wait_for_function("el => !el.isConnected", arg=pressed, timeout=30_000)  # the belt was redrawn
    page.mouse.up()
    page.wait_for_function(f"() => document.getElementById('evidence-title').textContent === 'segment {index}'")


def test_viewer_token_page_needs_login_and_shows_the_finished_lot(finished, page):
    base = finished.url
    page.goto(base + "/")
    page.wait_for_selector("#notice:not([hidden])")
    assert "token" in page.text_content("#notice")
    page.fill("#token", VIEWER)
    page.click("#login-btn")
    page.wait_for_function("() => document.getElementById('role').textContent === 'viewer'")
    page.wait_for_function("() => document.querySelectorAll('#belt rect.seg').length === 10")
    classes = page.eval_on_selector_all("#belt rect.seg", "els => els.map(e => e.dataset.class)")
    assert classes == [s.segment_class for s in finished.service.monitor.segments]
    assert page.text_content("#verdict-class").startswith(finished.service.monitor.verdict.verdict)
    assert page.is_hidden("#commands")
    # read in one evaluation: the alarm table is redrawn on updates, so handles taken first may be detached
    assert page.eval_on_selector_all("#alarms button.ack", "bs => bs.length > 0 && bs.every(b => b.disabled)")
    _only_local(page, base)
