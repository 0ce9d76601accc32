"""The HTML pages in a real headless Chromium (Debian's chromium and chromedriver, no downloads)."""
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="peacegraph-chromium-")
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    for binary in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if shutil.which(binary):
            options.binary_location = binary
            break
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.browser
def test_query_page_runs_an_example_and_shows_rows(browser, live):
    browser.get(live.endpoint)
    examples = browser.find_elements(By.CSS_SELECTOR, "button.example")
    assert examples, "the query page lists the stored research queries"
    editor = browser.find_element(By.ID, "query")
    browser.execute_script(
        "arguments[0].value = arguments[1];", editor,
        "SELECT ?thing ?label WHERE { ?thing a <https://w3id.org/peacegraph/ontology#Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
    browser.find_element(By.ID, "run").click()
    wait = WebDriverWait(browser, 20)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.results tbody tr")))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    assert len(rows) == 1
    link = rows[0].find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href").endswith("/id/jared-kushner")     # into the linked-data pages
    assert "Jared Kushner" in rows[0].text
    assert "1 row" in browser.find_element(By.ID, "status").text
    csv_link = browser.find_element(By.CSS_SELECTOR, 'a.download[data-format="csv"]').get_attribute("href")
    assert "format=csv" in csv_link and "query=" in csv_link
    # a stored example runs with one click
    examples[0].click()
    wait.until(lambda d: d.find_element(By.ID, "status").text not in ("", "Running…"))
    assert "row" in browser.find_element(By.ID, "status").text or "ASK" in browser.find_element(By.ID, "status").text


@pytest.mark.browser
def test_entity_page_shows_a_highlighted_quote(browser, live):
    browser.get(live.url + "id/us-28-point-plan")
    marks = browser.find_elements(By.CSS_SELECTOR, "blockquote.q mark.quote")
    texts = [m.text for m in marks]
    assert "Jared Kushner and Steve Witkoff drafted the 28-point plan" in texts
    mark = marks[texts.index("Jared Kushner and Steve Witkoff drafted the 28-point plan")]
    background = mark.value_of_css_property("background-color")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    cite = mark.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "a.cite")
    cite.click()
    WebDriverWait(browser, 10).until(EC.url_contains("/source/test_source#char="))
    fragment = browser.current_url.split("#", 1)[1]
    target = browser.find_element(By.ID, fragment)
    assert target.get_attribute("class") == "span-start"
    marked = browser.find_elements(By.CSS_SELECTOR, "#source-text mark.is-target")
    assert "".join(m.text for m in marked) == "Jared Kushner and Steve Witkoff drafted the 28-point plan"
