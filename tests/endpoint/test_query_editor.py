"""The query editor (YASGUI) on the real build, in headless Chromium at desktop and phone sizes:
what a researcher does with it, that nothing is fetched from another host, and what axe-core
finds. Screenshots go to $PEACEGRAPH_SCREENSHOTS (default: screenshots/ at the checkout's root)."""
import csv
import io
import os
import re
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from .browserkit import axe_violations, chromium, requested_urls
from .serverkit import BASE, LiveServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("PEACEGRAPH_SCREENSHOTS") or ROOT / "screenshots")
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
PERSONS = ("SELECT ?person ?label WHERE { ?person a pg:Person ; rdfs:label ?label } "
           "ORDER BY ?label")


@pytest.fixture(scope="module")
def site(built_dist):
    server = LiveServer(data=[built_dist / "peacegraph.trig"], workers=2, max_workers=4, timeout=10)
    yield server
    server.stop()


@pytest.fixture(params=list(SIZES))
def browser(request):
    driver = chromium(*SIZES[request.param], log_network=True)
    driver.size_name = request.param
    yield driver
    driver.quit()


def shot(driver, name: str, at: str | None = None) -> Path:
    """A screenshot of the window, scrolled to the element `at` (a CSS selector) if given."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if at:
        driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", at)
    path = SHOTS / f"query-editor-{name}-{driver.size_name}.png"
    driver.save_screenshot(str(path))
    return path


def open_editor(driver, url: str):
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#yasqe .CodeMirror"))


def open_questions(driver):
    driver.execute_script("document.getElementById('examples').open = true")


def editor_text(driver) -> str:
    return driver.execute_script("return document.querySelector('#yasqe .CodeMirror').CodeMirror.getValue()")


def type_query(driver, text: str):
    driver.execute_script("document.querySelector('#yasqe .CodeMirror').CodeMirror.setValue('')")
    field = driver.find_element(By.CSS_SELECTOR, "#yasqe .CodeMirror-code")
    field.send_keys(text)
    return field


def wait_for_answer(driver) -> str:
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.ID, "status").text not in ("", "Running…"))
    return driver.find_element(By.ID, "status").text


def result_rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#results table.dataTable tbody tr")


def cells(row) -> list[str]:
    return [td.text for td in row.find_elements(By.TAG_NAME, "td")]


def assert_no_sideways_scroll(driver):
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth"), "the page scrolls sideways"


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=20) as r:
        return r.headers.get("Content-Type", ""), r.read().decode("utf-8")


# ---------------------------------------------------------------------------- in the browser

@pytest.mark.browser
def test_typed_query_runs_with_ctrl_enter_and_its_prefixes_are_declared(browser, site):
    open_editor(browser, site.endpoint)
    field = type_query(browser, PERSONS)
    text = editor_text(browser)
    # typing pg: and rdfs: declared them from the graph's own list
    assert "PREFIX pg: <https://w3id.org/peacegraph/ontology#>" in text
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in text
    field.send_keys(Keys.CONTROL, Keys.ENTER)
    status = wait_for_answer(browser)
    rows = result_rows(browser)
    assert re.match(rf"{len(rows)} rows in \d+ ms", status), status
    assert len(rows) >= 5
    kushner = [r for r in rows if "Jared Kushner" in r.text]
    assert len(kushner) == 1
    link = kushner[0].find_element(By.CSS_SELECTOR, "a.iri")
    assert link.get_attribute("href") == site.url + "id/jared-kushner"     # a local page
    assert link.text == "pgid:jared-kushner"
    assert_no_sideways_scroll(browser)
    editor = browser.find_element(By.CSS_SELECTOR, "#yasqe .CodeMirror")
    main = browser.find_element(By.TAG_NAME, "main")
    assert editor.size["width"] >= main.size["width"] * 0.6
    if browser.size_name == "phone":
        assert editor.size["width"] >= main.size["width"] - 40, "the editor spans the phone's width"
    shot(browser, "typed-query")
    shot(browser, "typed-query-answer", at=".run-bar")


@pytest.mark.browser
def test_prefixes_complete_as_you_type_from_the_local_list(browser, site):
    open_editor(browser, site.endpoint)
    type_query(browser, "PREFIX pgi")
    hints = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li"))
    assert [h.text for h in hints] == ["pgid: <https://w3id.org/peacegraph/id/>"]
    shot(browser, "prefix-completion")


@pytest.mark.browser
def test_permalink_reopens_and_runs_the_same_query_in_a_new_session(browser, site):
    open_editor(browser, site.endpoint)
    field = type_query(browser, PERSONS)
    query = editor_text(browser)
    field.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for_answer(browser)
    count = len(result_rows(browser))
    permalink = browser.find_element(By.ID, "permalink").get_attribute("href")
    assert browser.current_url == permalink, "the address bar is the permalink after a run"
    fresh = chromium(*SIZES[browser.size_name])
    try:
        open_editor(fresh, permalink)
        assert editor_text(fresh) == query
        WebDriverWait(fresh, 20).until(lambda d: len(result_rows(d)) == count)
    finally:
        fresh.quit()


@pytest.mark.browser
def test_download_links_follow_the_query_form(browser, site):
    open_editor(browser, site.endpoint)
    type_query(browser, PERSONS).send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for_answer(browser)
    count = len(result_rows(browser))
    csv_link = browser.find_element(By.CSS_SELECTOR, 'a.download[data-format="csv"]')
    assert csv_link.is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, 'a.download[data-format="turtle"]').is_displayed()
    media, body = fetch(csv_link.get_attribute("href"))
    assert media.startswith("text/csv")
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == ["person", "label"] and len(table) == count + 1
    assert [BASE + "id/jared-kushner", "Jared Kushner"] in table
    # a query that returns a graph offers RDF, not tables
    type_query(browser, "CONSTRUCT { ?p rdfs:label ?l } WHERE { ?p a pg:Person ; rdfs:label ?l }")
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.CSS_SELECTOR, 'a.download[data-format="turtle"]').is_displayed())
    assert not csv_link.is_displayed()
    media, body = fetch(browser.find_element(By.CSS_SELECTOR, 'a.download[data-format="ntriples"]')
                        .get_attribute("href"))
    assert media.startswith("application/n-triples")
    assert f'<{BASE}id/jared-kushner> <http://www.w3.org/2000/01/rdf-schema#label> "Jared Kushner"@en .' in body


@pytest.mark.browser
def test_a_research_question_runs_with_its_parameters_as_form_fields(browser, site):
    open_editor(browser, site.endpoint)
    open_questions(browser)
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="04-rejected-provisions"]').click()
    wait_for_answer(browser)
    fieldset = browser.find_element(By.ID, "params-04-rejected-provisions")
    assert fieldset.is_displayed()
    holder = fieldset.find_element(By.CSS_SELECTOR, 'select[data-param="holder"]')
    document = fieldset.find_element(By.CSS_SELECTOR, 'select[data-param="document"]')
    assert holder.get_attribute("value") == "pgid:ukraine-government"
    assert document.get_attribute("value") == "pgid:us-28-point-plan"
    options = [o.get_attribute("textContent") for o in document.find_elements(By.TAG_NAME, "option")]
    assert "European 28-point counterproposal" in options
    text = editor_text(browser)
    assert "VALUES ?holder { pgid:ukraine-government }" in text
    assert "PREFIX pgid: <https://w3id.org/peacegraph/id/>" in text
    provisions = {cells(r)[2] for r in result_rows(browser)}
    assert provisions == {"pgid:us-28-point-plan--armed-forces-limits", "pgid:us-28-point-plan--amnesty",
                          "pgid:us-28-point-plan--territorial-concessions"}
    shot(browser, "research-question")
    shot(browser, "research-question-answer", at="#status")
    # leaving ?holder unbound takes its VALUES line out and runs again
    browser.execute_script("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('change'))", holder)
    WebDriverWait(browser, 10).until(lambda d: "VALUES ?holder" not in editor_text(d))
    wait_for_answer(browser)
    assert result_rows(browser)
    # the title's question, with the defaults: the 28-point plan's drafters only
    open_questions(browser)
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="01-drafters"]').click()
    WebDriverWait(browser, 20).until(lambda d: "drafter" in d.find_element(By.ID, "results").text)
    rows = [cells(r) for r in result_rows(browser)]
    assert {r[0] for r in rows} == {"pgid:us-28-point-plan"}
    assert {r[3] for r in rows} == {"Jared Kushner", "Steve Witkoff"}
    assert_no_sideways_scroll(browser)
    # spans of the source text are links to the highlighted words on this server
    open_questions(browser)
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="13-evidence"]').click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results a.iri[href*='#char=']"))
    spans = browser.find_elements(By.CSS_SELECTOR, "#results a.iri[href*='#char=']")
    assert all(re.fullmatch(re.escape(site.url) + r"source/000_c087f7d81efda06d#char=\d+,\d+",
                            a.get_attribute("href")) for a in spans)


@pytest.mark.browser
def test_a_syntax_error_is_one_readable_line_with_line_and_column(browser, site):
    open_editor(browser, site.endpoint)
    type_query(browser, "SELECT ?x WHERE {\n?x foo:bar ?y }").send_keys(Keys.CONTROL, Keys.ENTER)
    status = wait_for_answer(browser)
    error = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#results .query-error")).text
    assert re.fullmatch(r"syntax error at line 2, column \d+: undeclared prefix foo: \(declare it "
                        r"with PREFIX foo: <\.\.\.>\)", error), error
    assert status == "The query failed."
    shot(browser, "syntax-error", at="#yasqe")


@pytest.mark.browser
def test_a_label_and_number_answer_draws_an_svg_bar_chart(browser, site):
    open_editor(browser, site.endpoint)
    type_query(browser, "SELECT ?document (COUNT(?provision) AS ?provisions) WHERE { "
                        "?provision pg:provisionOf ?document } GROUP BY ?document ORDER BY ?document"
               ).send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for_answer(browser)
    count = len(result_rows(browser))
    assert count >= 2
    browser.find_element(By.CSS_SELECTOR, ".yasr .select_chart").click()
    bars = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#results figure.bar-chart svg rect"))
    assert len(bars) == count
    svg = browser.find_element(By.CSS_SELECTOR, "#results figure.bar-chart svg")
    assert svg.get_attribute("role") == "img"
    assert "provisions" in svg.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    links = svg.find_elements(By.TAG_NAME, "a")
    assert len(links) == count
    assert all(a.get_dom_attribute("href").startswith("/id/") for a in links)   # to the documents' pages
    assert_no_sideways_scroll(browser)
    shot(browser, "chart", at="#status")


@pytest.mark.browser
def test_nothing_is_requested_from_another_host(browser, site):
    requested_urls(browser)
    open_editor(browser, site.endpoint)
    open_questions(browser)
    browser.find_element(By.CSS_SELECTOR, 'button.example[data-name="07-provisions-by-topic"]').click()
    wait_for_answer(browser)
    # YASQE's class and property completers would ask the Linked Open Vocabularies service
    field = type_query(browser, "SELECT ?s ?label WHERE { ?s a pg:Pers")
    field.send_keys(Keys.CONTROL, Keys.SPACE)
    hints = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li"))
    assert [h.text for h in hints] == ["pg:Person"]           # from the graph's ontology
    field.send_keys(Keys.ESCAPE, "on ; rdfs:lab")
    field.send_keys(Keys.CONTROL, Keys.SPACE)
    hints = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li"))
    assert "rdfs:label" in [h.text for h in hints]
    field.send_keys(Keys.ESCAPE, "el ?label }")
    field.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for_answer(browser)
    urls = requested_urls(browser)
    assert any(u.endswith("/static/vendor/yasgui.min.js") for u in urls)
    assert any(u.endswith("/sparql") for u in urls)
    foreign = [u for u in urls if not u.startswith(site.url) and not u.startswith(("data:", "blob:"))]
    assert foreign == []


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation(browser, site):
    open_editor(browser, site.endpoint)
    browser.find_element(By.ID, "run").click()          # with the first question's form and table
    wait_for_answer(browser)
    assert result_rows(browser)
    violations = axe_violations(browser)
    shot(browser, "axe")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], bad


@pytest.mark.browser
def test_the_editor_is_reachable_and_visibly_focused_from_the_keyboard(browser, site):
    open_editor(browser, site.endpoint)
    seen = []
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        el = browser.switch_to.active_element
        if el.find_elements(By.XPATH, "ancestor::div[@id='yasqe']"):
            # the editor's frame shows that its text has the focus
            frame = browser.find_element(By.CSS_SELECTOR, "#yasqe .CodeMirror")
            assert frame.value_of_css_property("outline-style") != "none"
            seen.append("editor")
            break
        assert el.value_of_css_property("outline-style") != "none", el.get_attribute("outerHTML")[:120]
        seen.append(el.get_attribute("id") or el.get_attribute("data-name") or el.tag_name)
    assert seen and seen[-1] == "editor", seen


# --------------------------------------------------------------------------- without a browser

def test_the_page_names_no_other_host_for_its_scripts_and_styles(site):
    request = urllib.request.Request(site.endpoint, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=20) as r:
        page = r.read().decode("utf-8")
    # scripts and style sheets (a <link rel="alternate"> names a representation, not an asset)
    sources = re.findall(r'<script[^>]+src="([^"]+)"', page) + re.findall(
        r'<link[^>]+rel="(?:stylesheet|preload|modulepreload|icon)"[^>]+href="([^"]+)"', page)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for asset in sources:
        with urllib.request.urlopen(site.url + asset.lstrip("/"), timeout=20) as r:
            assert r.status == 200


def test_a_syntax_error_from_the_engine_is_one_line_naming_the_prefix(client):
    r = client.post("/sparql", data={"query": "SELECT ?x WHERE {\n  ?x pgx:foo ?y }"},
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 400
    message = r.get_data(as_text=True).strip()
    assert message == ("400 syntax error at line 2, column 13: undeclared prefix pgx: "
                       "(declare it with PREFIX pgx: <...>)")
    r = client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o . FILTER(?o = ) }"},
                    headers={"Accept": "application/sparql-results+json"})
    message = r.get_data(as_text=True).strip()
    assert message.startswith("400 syntax error at line 1, column 44: expected ")
    assert "\n" not in message and "\\u{" not in message
