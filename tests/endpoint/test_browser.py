"""The HTML pages in a real headless Chromium (Debian's chromium and chromedriver, no downloads)."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .browserkit import chromium


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


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
    assert target.tag_name == "span" and target.text == ""
    marked = browser.find_elements(By.CSS_SELECTOR, "#source-text mark.is-target")
    assert "".join(m.text for m in marked) == "Jared Kushner and Steve Witkoff drafted the 28-point plan"
