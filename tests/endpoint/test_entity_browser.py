"""The research pages in a real headless Chromium, on the real build: from a quote to its span,
what a highlight supports, a comparison, and every page type at a desktop and a phone width
without sideways scrolling of the page. Screenshots of each page type go to screenshots/."""
from pathlib import Path
from urllib.request import urlopen

import pyoxigraph as ox
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from endpoint.browserkit import axe_violations
from endpoint.serverkit import BASE
from endpoint.test_browser import browser  # noqa: F401  (the Chromium fixture)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SOURCE = "source/000_c087f7d81efda06d"
PAGES = {
    "person": "id/jared-kushner",
    "document": "id/us-28-point-plan",
    "provision": "id/us-28-point-plan--territorial-concessions",
    "stance": "id/stance-ukraine-government--amnesty",
    "conflict": "id/conflict-19-points",
    "topic": "id/topic/territory",
    "source": SOURCE + "#char=6516,6565",
    "compare-choose": "compare/",
    "compare": "compare/us-28-point-plan/european-28-point-counterproposal",
    "matrix": "compare/matrix",
}

TARGET_TEXT = """return Array.prototype.map.call(document.querySelectorAll('#source-text mark.is-target'),
                                 function (m) { return m.textContent; }).join('');"""


def source_spans(built_dist) -> set[str]:
    """The evidence spans of the source text in the build."""
    store = ox.Store()
    store.load(path=str(built_dist / "peacegraph.trig"), format=ox.RdfFormat.TRIG)
    return {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/ns/oa#hasSource"), ox.NamedNode(BASE + SOURCE))}


def pop_links(driver) -> list[str]:
    return driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#span-pop a'), function (a) { return a.href; });")


def targeted(driver) -> str:
    return driver.execute_script(TARGET_TEXT)


@pytest.mark.browser
def test_a_quote_opens_the_source_with_its_span_targeted(browser, live_real):  # noqa: F811
    browser.set_window_size(1366, 900)
    browser.get(live_real.url + "id/us-28-point-plan")
    drafters = browser.find_element(By.ID, "g-drafters")
    mark = next(m for m in drafters.find_elements(By.CSS_SELECTOR, "mark.quote")
                if m.text == "The duo have drafted a multi-point peace proposal")
    mark.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "a.cite").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/" + SOURCE + "#char="))
    WebDriverWait(browser, 10).until(lambda d: targeted(d))
    assert targeted(browser) == "The duo have drafted a multi-point peace proposal"
    target = browser.find_element(By.CSS_SELECTOR, "#source-text mark.is-target")
    other = browser.find_element(By.CSS_SELECTOR, "#source-text mark:not(.is-target)")
    assert target.value_of_css_property("background-color") != other.value_of_css_property("background-color")
    assert target.value_of_css_property("outline-style") == "solid"
    # in view, and said in words
    assert browser.execute_script("var r = arguments[0].getBoundingClientRect(); "
                                  "return r.top >= 0 && r.bottom <= window.innerHeight;", target)
    note = browser.find_element(By.ID, "target-note")
    assert note.is_displayed() and "The duo have drafted a multi-point peace proposal" in note.text


@pytest.mark.browser
def test_every_span_is_targeted_by_its_link(browser, live_real, built_dist):  # noqa: F811
    browser.get(live_real.url + SOURCE)
    with urlopen(live_real.url + SOURCE + "?format=text") as r:
        text = r.read().decode()
    spans = [iri.split("#", 1)[1] for iri in sorted(source_spans(built_dist))]
    assert len(spans) > 100
    for span_id in spans:
        start, end = (int(x) for x in span_id[5:].split(","))
        exact = text[start:end]
        browser.execute_script("location.hash = arguments[0];", span_id)
        WebDriverWait(browser, 5).until(lambda d, exact=exact: targeted(d) == exact)
    # a position (RFC 5147 allows one) targets the shortest span holding it
    browser.execute_script("location.hash = 'char=6520';")
    WebDriverWait(browser, 5).until(lambda d: targeted(d) == "The duo have drafted a multi-point peace proposal")


@pytest.mark.browser
def test_hover_and_focus_show_the_facts_a_span_supports(browser, live_real):  # noqa: F811
    browser.set_window_size(1366, 900)
    browser.get(live_real.url + SOURCE)
    pop = browser.find_element(By.ID, "span-pop")
    assert not pop.is_displayed()
    mark = browser.find_element(By.CSS_SELECTOR, '#source-text mark[data-spans~="char=6516,6565"][tabindex="0"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", mark)
    ActionChains(browser).move_to_element(mark).perform()
    WebDriverWait(browser, 5).until(lambda d: pop.is_displayed())
    links = pop_links(browser)
    assert any(h.endswith("/id/us-28-point-plan") for h in links)
    assert any(h.endswith("/id/jared-kushner") for h in links)
    ActionChains(browser).move_to_element(browser.find_element(By.ID, "facts")).perform()
    WebDriverWait(browser, 5).until(lambda d: not pop.is_displayed())
    # the keyboard: focus shows it, Enter moves into it, Escape closes it and returns
    other = browser.find_element(By.CSS_SELECTOR, '#source-text mark[data-spans~="char=131,170"][tabindex="0"]')
    browser.execute_script("arguments[0].focus();", other)
    WebDriverWait(browser, 5).until(lambda d: pop.is_displayed())
    assert any(h.endswith("/id/volodymyr-zelenskiy") for h in pop_links(browser)), (pop_links(browser), other.get_attribute("outerHTML"))
    other.send_keys("\ue007")                                     # Enter
    assert browser.switch_to.active_element.get_attribute("href") is not None
    assert browser.execute_script("return document.activeElement === document.querySelector('#span-pop a');")
    browser.switch_to.active_element.send_keys("\ue00c")          # Escape
    WebDriverWait(browser, 5).until(lambda d: not pop.is_displayed())
    assert browser.switch_to.active_element == other
    # no invisible tab stops: everything the keyboard reaches has a size and shows something
    empty = browser.execute_script("""return Array.prototype.filter.call(
        document.querySelectorAll('a[href], [tabindex], button, input, select, textarea'),
        function (el) { if (el.closest('[hidden]') || el.tabIndex < 0) { return false; }
                        var r = el.getBoundingClientRect();
                        // a form field shows its own box, empty or not
                        return r.width === 0 || r.height === 0
                            || !el.matches('input, select, textarea') && !el.textContent.trim(); }
    ).map(function (el) { return el.outerHTML.slice(0, 80); });""")
    assert empty == []


@pytest.mark.browser
def test_compare_us_plan_with_european_counterproposal(browser, live_real):  # noqa: F811
    browser.set_window_size(1366, 900)
    browser.get(live_real.url + "compare/")
    Select(browser.find_element(By.NAME, "a")).select_by_value("us-28-point-plan")
    Select(browser.find_element(By.NAME, "b")).select_by_value("european-28-point-counterproposal")
    browser.find_element(By.CSS_SELECTOR, "form.choose button").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/compare/us-28-point-plan/european-28-point-counterproposal"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.diff tbody tr")
    softened = {r.find_elements(By.TAG_NAME, "td")[1].find_element(By.TAG_NAME, "a").text
                for r in rows if r.find_element(By.CSS_SELECTOR, "td .badge").text == "softened"}
    assert softened == {"Territorial concessions and recognition",
                        "Frozen Russian assets under U.S. control for reconstruction"}
    change = rows[0].find_elements(By.TAG_NAME, "td")[2]
    assert "removes or softens" in change.find_element(By.CSS_SELECTOR, "mark.quote").text


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_every_page_type_fits_the_width(browser, live_real, width, height):  # noqa: F811
    SCREENSHOTS.mkdir(exist_ok=True)
    browser.set_window_size(width, height)
    for name, path in PAGES.items():
        browser.get(live_real.url + path)
        WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        assert overflow <= 0, (name, width, overflow)
        browser.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    # the matrix scrolls inside its own box on a phone, its first column stays in view
    browser.get(live_real.url + "compare/matrix")
    box = browser.find_element(By.CSS_SELECTOR, ".table-scroll")
    head = browser.find_element(By.CSS_SELECTOR, "table.matrix tbody th.rowhead")
    assert head.value_of_css_property("position") == "sticky"
    if width < 600:
        assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth;", box)
        before = head.location["x"]
        browser.execute_script("arguments[0].scrollLeft = 200;", box)
        assert abs(head.location["x"] - before) <= 2          # not 200 px to the left


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation_on_the_research_pages(browser, live_real):  # noqa: F811
    browser.set_window_size(1366, 900)
    browser.set_script_timeout(60)
    found = {}
    for name, path in PAGES.items():
        browser.get(live_real.url + path)
        bad = [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad
    assert found == {}, "\n".join(f"{name}: {v['id']} {v['nodes']}" for name, vs in found.items() for v in vs)
