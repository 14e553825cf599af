"""Who is looking, in a real browser: the login flow, a wall screen's display link, and a district
user whose breadcrumb starts at the district. Each page fails on any CSP violation (the
``page``/``anonymous_page`` fixtures fail a test on any console error)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard import strings
from data import queries
from tests.access import TEST_PASSWORD, grant, person

PERIOD_QUERY = "period=custom&from=2026-10-22&to=2026-11-20"
WAIT = 20_000  # ms: renders are slow when the machine is busy


@pytest.fixture(scope="module")
def city(embedded_demo):
    with embedded_demo.engine.connect() as conn:
        root = queries.roots(conn)[0]
        a, b = queries.children(conn, root["code"])[:2]
        street = queries.children(conn, a["code"])[0]
        grid = street
        while kids := queries.children(conn, grid["code"]):
            grid = kids[0]
    return {"root": root, "a": a, "b": b, "street": street, "grid": grid}


def _log_in(page, base: str, name: str, password: str = TEST_PASSWORD) -> None:
    page.locator("input[name=username]").fill(name)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()


def test_login_flow(anonymous_page, live_server, embedded_demo, city):
    page = anonymous_page
    person(embedded_demo, "browser-admin", role="admin")
    page.goto(f"{live_server}/heat?{PERIOD_QUERY}")
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.locator("h1")).to_have_text(strings.APP_TITLE, timeout=WAIT)
    _log_in(page, live_server, "browser-admin", "wrong password")
    expect(page.locator(".error")).to_have_text(strings.LOGIN_FAILED, timeout=WAIT)
    _log_in(page, live_server, "browser-admin")
    page.wait_for_url(re.compile(r"/heat\?period=custom"))  # back where the person was going
    expect(page.locator("#heat-breadcrumb .crumb")).to_have_text([city["root"]["name"]], timeout=WAIT)
    page.locator("#heat-nav .logout").click()
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/login$"))
    page.goto(f"{live_server}/")
    page.wait_for_url(re.compile(r"/login\?next="))  # logged out for real


def test_a_display_link_on_the_wall_screen(anonymous_page, live_server, embedded_demo, city):
    page = anonymous_page
    token = grant(embedded_demo, "browser-wall", "display", city["a"]["code"])
    page.goto(f"{live_server}/?token={token}&{PERIOD_QUERY}")
    page.wait_for_url(re.compile(r"/\?period=custom"))
    assert "token" not in page.url
    expect(page.locator("#breadcrumb .crumb")).to_have_text([city["a"]["name"]], timeout=WAIT)
    # At a grid a display shows counts, never case text or case dots.
    page.goto(f"{live_server}/?unit={city['grid']['code']}&{PERIOD_QUERY}")
    expect(page.locator("#breadcrumb .crumb").last).to_have_text(city["grid"]["name"], timeout=WAIT)
    expect(page.locator("#ranking .case-row").first).to_be_visible(timeout=WAIT)
    assert set(page.locator("#ranking .case-text").all_inner_texts()) <= {""}
    assert set(page.locator("#alarm-list .case-text").all_inner_texts()) <= {""}
    page.screenshot(path="/tmp/citybrain-display-grid.png")
    # The cookie stays: a reload needs no token.
    page.reload()
    expect(page.locator("#breadcrumb .crumb").first).to_have_text(city["a"]["name"], timeout=WAIT)


def test_a_district_user_starts_at_the_district(anonymous_page, live_server, embedded_demo, city):
    page = anonymous_page
    person(embedded_demo, "browser-district", role="analyst", unit=city["a"]["code"])
    page.goto(f"{live_server}/login")
    _log_in(page, live_server, "browser-district")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#breadcrumb .crumb")).to_have_text([city["a"]["name"]], timeout=WAIT)
    page.goto(f"{live_server}/?unit={city['street']['code']}&{PERIOD_QUERY}")
    chain = [city["a"]["name"], city["street"]["name"]]
    expect(page.locator("#breadcrumb .crumb")).to_have_text(chain, timeout=WAIT)
    # Another district by URL: refused in the banner, nothing of it on the screen.
    page.goto(f"{live_server}/?unit={city['b']['code']}&{PERIOD_QUERY}")
    expect(page.locator("#view-error")).to_contain_text("无权查看", timeout=WAIT)
    expect(page.locator("body")).not_to_contain_text(city["b"]["name"], timeout=WAIT)
