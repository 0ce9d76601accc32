"""The research pages in headless Chromium, on the real build, at 1366 and 390 pixels wide: what a
researcher does (find a person by part of the name, reach the sentence that names the 28-point
plan's drafters, list everything on a topic), that no page scrolls sideways, the keyboard path,
and what axe-core finds. Full-page screenshots of every page type at both widths go to
$PEACEGRAPH_SCREENSHOTS (default: screenshots/ at the checkout's root)."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest
from selenium.common.exceptions import JavascriptException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from endpoint.serverkit import LiveServer

from .browserkit import axe_violations, chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("PEACEGRAPH_SCREENSHOTS") or ROOT / "screenshots")
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SOURCE = "source/000_c087f7d81efda06d"
DRAFTERS_SENTENCE = "The duo have drafted a multi-point peace proposal"
# Every page type of the research interface, and the linked-data pages a researcher reaches from it.
PAGES = {"home": "", "search": "search?q=frozen+assets", "browse": "id/", "browse-kind": "id/?class=person",
         "on-topic": "id/?topic=territory", "topics": "id/topic/", "sources": "source/",
         "pictures": "pictures/", "picture-lineage": "pictures/lineage", "picture-actors": "pictures/actors",
         "picture-stances": "pictures/stances", "picture-events": "pictures/events",
         "not-found": "id/jared-kushnr", "entity": "id/us-28-point-plan", "source": SOURCE,
         "compare": "compare/", "comparison": "compare/us-28-point-plan/european-28-point-counterproposal",
         "matrix": "compare/matrix", "topic": "id/topic/territory"}
US_PLAN, EUROPEAN = "us-28-point-plan", "european-28-point-counterproposal"
@pytest.fixture(scope="module")
def site(built_dist):
    server = LiveServer(data=[built_dist / "peacegraph.trig"], workers=2, max_workers=4, timeout=10)
    yield server
    server.stop()


@pytest.fixture(scope="module", params=list(SIZES))
def browser(request):
    driver = chromium(*SIZES[request.param])
    driver.size_name = request.param
    yield driver
    driver.quit()


def width_of(driver) -> int:
    return SIZES[driver.size_name][0]


def shot(driver, name: str, whole: bool = True) -> Path:
    """A screenshot as screenshots/{name}-{width}.png: of the whole page, or of the window as it is."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width, height = SIZES[driver.size_name]
    full = driver.execute_script("return document.documentElement.scrollHeight")
    path = SHOTS / f"{name}-{width}.png"
    if not whole:
        driver.save_screenshot(str(path))
        return path
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": max(height, min(full, 6000)), "deviceScaleFactor": 1,
        "mobile": driver.size_name == "phone"})
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def assert_no_sideways_scroll(driver):
    inner = driver.execute_script("return window.innerWidth")
    assert inner == width_of(driver)
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= inner, f"{driver.current_url} scrolls sideways: {scroll} > {inner}"


def wait_for(driver, condition, seconds: float = 15):
    return WebDriverWait(driver, seconds).until(condition)


def click(driver, element):
    """Click as a person would: the element scrolled into view first (the phone layout is long)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


# ---------------------------------------------------------------------------- what a researcher does

@pytest.mark.browser
def test_typing_part_of_a_name_in_the_header_lands_on_the_person(browser, site):
    browser.get(site.url + "id/topic/")
    box = browser.find_element(By.ID, "site-search")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    box.send_keys("witk")
    listbox = browser.find_element(By.ID, box.get_attribute("aria-controls"))
    wait_for(browser, lambda d: listbox.is_displayed() and listbox.find_elements(By.CSS_SELECTOR, '[role="option"]'))
    options = listbox.find_elements(By.CSS_SELECTOR, '[role="option"]')
    assert "Steve Witkoff" in options[0].text and "person" in options[0].text
    assert box.get_attribute("aria-expanded") == "true"
    shot(browser, "search-suggestions", whole=False)
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    assert options[0].get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ENTER)
    wait_for(browser, EC.url_to_be(site.url + "id/steve-witkoff"))
    assert "Steve Witkoff" in browser.find_element(By.TAG_NAME, "h1").text


@pytest.mark.browser
def test_the_search_box_closes_with_escape_and_submits_without_a_choice(browser, site):
    browser.get(site.url)
    box = browser.find_element(By.ID, "site-search")
    box.send_keys("frozen assets")
    listbox = browser.find_element(By.ID, "site-search-list")
    wait_for(browser, lambda d: listbox.is_displayed())
    box.send_keys(Keys.ESCAPE)
    wait_for(browser, lambda d: not listbox.is_displayed())
    assert box.get_attribute("aria-expanded") == "false"
    box.send_keys(Keys.ENTER)
    wait_for(browser, EC.url_contains("/search?q=frozen+assets"))
    quotes = browser.find_elements(By.CSS_SELECTOR, ".hit-quote a")
    assert quotes and all("#char=" in q.get_attribute("href") for q in quotes)
    assert browser.find_element(By.CSS_SELECTOR, ".hit-label").text


@pytest.mark.browser
def test_from_home_to_the_drafters_sentence_highlighted_in_three_clicks(browser, site):
    text = _source_text(site)
    start = text.index(DRAFTERS_SENTENCE)
    span = f"char={start},{start + len(DRAFTERS_SENTENCE)}"
    browser.get(site.url)
    clicks = 0
    click(browser, browser.find_element(By.CSS_SELECTOR, 'main a[href="/id/us-28-point-plan"]'))
    clicks += 1
    wait_for(browser, EC.url_to_be(site.url + "id/us-28-point-plan"))
    link = browser.find_element(By.CSS_SELECTOR, f'main a[href$="#{span}"]')
    click(browser, link)
    clicks += 1
    wait_for(browser, EC.url_contains(f"/{SOURCE}#{span}"))
    assert clicks <= 3
    assert unquote(browser.execute_script("return location.hash")) == "#" + span
    target = browser.find_element(By.ID, span)
    # the target span is marked, in a colour, and it is the sentence
    marked = browser.execute_script("""
      const id = arguments[0];
      return [...document.querySelectorAll('mark')].filter(m => (m.dataset.spans || '').split(' ').includes(id)
        || m.id === id).map(m => [m.textContent, getComputedStyle(m).backgroundColor]);""", span)
    assert marked, "the span is highlighted"
    assert DRAFTERS_SENTENCE in "".join(t for t, _ in marked)
    assert all(colour not in ("rgba(0, 0, 0, 0)", "transparent") for _, colour in marked)
    assert target.is_displayed() or target.get_attribute("id") == span
    shot(browser, "drafters-sentence", whole=False)


@pytest.mark.browser
def test_a_research_question_from_home_opens_in_the_editor_with_its_answer(browser, site):
    browser.get(site.url)
    click(browser, browser.find_element(By.CSS_SELECTOR, 'main a[href="/sparql?example=01-drafters"]'))
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results table.dataTable tbody tr"), 30)
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#results table.dataTable tbody tr")]
    assert any("Jared Kushner" in r for r in rows) and any("Steve Witkoff" in r for r in rows)
    # the question's default parameter holds: only the 28-point plan's drafters
    assert all("U.S.-backed 28-point peace plan" in r for r in rows)


@pytest.mark.browser
def test_everything_on_territory_across_documents(browser, site):
    browser.get(site.url)
    click(browser, browser.find_element(By.CSS_SELECTOR, 'main a[href="/id/?topic=territory"]'))
    wait_for(browser, EC.url_contains("/id/?topic=territory"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Everything on territory"
    links = {a.get_attribute("pathname") for a in browser.find_elements(By.CSS_SELECTOR, "main a")}
    assert {"/id/us-28-point-plan--territorial-concessions", "/id/us-28-point-plan",
            "/id/european-28-point-counterproposal",
            "/id/change-european-28-point-counterproposal--territorial-concessions"} <= links
    marks = browser.find_elements(By.CSS_SELECTOR, ".evidence-list mark")
    assert len(marks) >= 4 and any("cede territory" in m.text for m in marks)
    # the same list from the Topics page
    click(browser, browser.find_element(By.CSS_SELECTOR, '.site-nav a[href="/id/topic/"]'))
    wait_for(browser, EC.url_contains("/id/topic/"))
    click(browser, browser.find_element(By.CSS_SELECTOR, 'a[href="/id/?topic=territory"]'))
    wait_for(browser, EC.url_contains("/id/?topic=territory"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Everything on territory"


@pytest.mark.browser
def test_compare_the_us_plan_and_the_european_counterproposal_from_home(browser, site):
    browser.get(site.url)
    click(browser, browser.find_element(By.CSS_SELECTOR, 'main a[href="/compare/"]'))
    wait_for(browser, EC.url_to_be(site.url + "compare/"))
    pair = browser.find_elements(By.CSS_SELECTOR, f'main a[href="/compare/{US_PLAN}/{EUROPEAN}"]')
    if pair:
        click(browser, pair[0])
    else:
        Select(browser.find_element(By.NAME, "a")).select_by_value(US_PLAN)
        Select(browser.find_element(By.NAME, "b")).select_by_value(EUROPEAN)
        click(browser, browser.find_element(By.CSS_SELECTOR, "form.choose button"))
    wait_for(browser, EC.url_contains(f"/compare/{US_PLAN}/{EUROPEAN}"))
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert "U.S.-backed 28-point peace plan" in heading and "European 28-point counterproposal" in heading
    softened = [row for row in browser.find_elements(By.CSS_SELECTOR, "table.diff tbody tr")
                if "softened" in row.find_element(By.CSS_SELECTOR, "td").text]
    assert softened, "the counterproposal softened provisions of the plan"
    # the plan's words and the change's words side by side, each a link to its span
    quotes = softened[0].find_elements(By.CSS_SELECTOR, "blockquote")
    assert len(quotes) >= 2
    assert any("territory" in row.text.lower() for row in softened)
    spans = [a.get_attribute("href") for a in softened[0].find_elements(By.CSS_SELECTOR, "a[href*='#char=']")]
    assert len(spans) >= 2
    assert_no_sideways_scroll(browser)
    shot(browser, "compare-flow", whole=False)


@pytest.mark.browser
def test_the_browse_filter_narrows_as_you_type_and_on_submit(browser, site):
    browser.get(site.url + "id/")
    field = browser.find_element(By.ID, "browse-filter")
    field.send_keys("kushner")
    trump = browser.find_element(By.XPATH, "//ul[@class='things']//a[text()='Donald Trump']")
    wait_for(browser, lambda d: not trump.is_displayed())
    assert browser.find_element(By.XPATH, "//ul[@class='things']//a[text()='Jared Kushner']").is_displayed()
    assert browser.find_element(By.ID, "filter-status").get_attribute("textContent").endswith(" shown")
    field.send_keys(Keys.ENTER)
    wait_for(browser, EC.url_contains("q=kushner"))
    names = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.things a")}
    assert "Jared Kushner" in names and "Donald Trump" not in names


@pytest.mark.browser
def test_a_missing_page_suggests_the_nearest(browser, site):
    browser.get(site.url + "id/jared-kushnr")
    first = browser.find_element(By.CSS_SELECTOR, ".suggestions-list a")
    assert first.text == "Jared Kushner"
    click(browser, first)
    wait_for(browser, EC.url_to_be(site.url + "id/jared-kushner"))


# ---------------------------------------------------------------------------- every page, both widths

@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_type_fits_the_width_without_sideways_scroll(browser, site, name):
    browser.get(site.url + PAGES[name])
    assert browser.find_element(By.TAG_NAME, "h1").text
    assert_no_sideways_scroll(browser)
    shot(browser, name)


@pytest.mark.browser
def test_the_skip_link_comes_first_and_every_focus_is_visible(browser, site):
    browser.get(site.url)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.get_attribute("class") == "skip-link" and first.is_displayed()
    for _ in range(12):
        el = browser.switch_to.active_element
        assert el.value_of_css_property("outline-style") != "none", el.get_attribute("outerHTML")[:120]
        el.send_keys(Keys.TAB)
    browser.get(site.url)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: d.switch_to.active_element.get_attribute("id") == "main")


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violation(browser, site, name):
    browser.get(site.url + PAGES[name])
    try:
        violations = axe_violations(browser)
    except JavascriptException as exc:
        pytest.fail(f"axe-core did not run on {name}: {exc.msg}")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], (name, bad)


def _source_text(site) -> str:
    with urllib.request.urlopen(site.url + SOURCE + "?format=text", timeout=20) as r:
        return r.read().decode("utf-8")
