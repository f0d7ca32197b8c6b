"""The page under the security policy in headless Chromium: a named operator logs in with name and password,
acknowledges an alarm that is then recorded with the name, and the CSP blocks nothing the page needs."""

from __future__ import annotations

import pytest

from tests.controlroom.secure import ANNA, ANNA_PW, VIC, VIC_PW, serve_secure
from tests.controlroom.test_browser import CHROMIUM, CHROMIUM_ARGS, pytestmark  # noqa: F401  (skip if missing)


@pytest.fixture
def secured(tmp_path):
    served = serve_secure(tmp_path, run=True, speedup=20.0, lot_mass_t=3000.0)
    yield served
    served.sim.stop()
    served.server.stop()


def test_named_operator_logs_in_and_acknowledges_under_the_csp(secured, tmp_path):
    from playwright.sync_api import sync_playwright

    base = secured.url
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            page.wait_for_selector("#notice:not([hidden])")  # accounts configured: log in to see the line
            page.fill("#user", VIC)
            page.fill("#token", "wrong password!")
            page.click("#login-btn")
            page.wait_for_function("() => document.getElementById('notice').textContent.includes('401')")
            page.fill("#user", ANNA)
            page.fill("#token", ANNA_PW)
            page.click("#login-btn")
            page.wait_for_function("() => document.getElementById('role').textContent === 'operator'")
            assert page.text_content("#person") == ANNA
            page.wait_for_selector("#conn.conn-live")
            row = page.wait_for_selector("#alarms tr[data-state='raised']", timeout=60_000)
            alarm_id = int(row.get_attribute("data-alarm-id"))
            page.click(f"#alarms tr[data-alarm-id='{alarm_id}'] button.ack")
            page.wait_for_selector(f"#alarms tr[data-alarm-id='{alarm_id}'][data-state='acknowledged']")
            page.wait_for_function("() => window.Trends && window.Trends.charts['trend-rate'] && "
                                   "document.querySelector('#trend-rate canvas') !== null")  # uPlot drew
            page.screenshot(path=str(tmp_path / "named-operator.png"), full_page=True)
            page.click("#logout-btn")
            page.wait_for_function("() => document.getElementById('role').textContent === 'none'")
        finally:
            browser.close()
    alarm = secured.service.alarms.get(alarm_id)
    assert alarm.state == "acknowledged" and alarm.acknowledged_by == ANNA
    blocked = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert not blocked, blocked
    assert not errors, errors
    actions = [(e.action, e.outcome.split(":")[0], e.person) for e in reversed(secured.server.audit.recent())]
    assert ("login", "refused 401", VIC) in actions and ("login", "ok", ANNA) in actions
    assert ("acknowledge", "ok", ANNA) in actions and ("logout", "ok", ANNA) in actions
    assert VIC_PW not in str(actions)
