"""Select to quote, in a real headless Chromium: selecting words on a source's page offers the
evidence snippet, and the build's anchorer finds exactly the selected place with it."""

from __future__ import annotations

import pytest
from rdflib import Graph
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from peacegraph import paths
from peacegraph.anchor import anchor_graph
from peacegraph.namespaces import OA, PG, PGID, SRC

from .browserkit import chromium
from .serverkit import LiveServer

STEM = "000_c087f7d81efda06d"
TEXT = (paths.data_dir("seeds") / f"{STEM}.txt").read_text(encoding="utf-8")

SELECT = """
const [needle, nth, cut] = arguments;
const pre = document.querySelector("pre.source-text");
const text = pre.textContent;
let at = -1;
for (let i = 0; i < nth; i++) { at = text.indexOf(needle, at + 1); if (at < 0) return null; }
const start = at + cut, end = at + needle.length - cut;
function point(offset) {
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  let seen = 0, node;
  while ((node = walker.nextNode())) {
    if (seen + node.length >= offset) return [node, offset - seen];
    seen += node.length;
  }
}
const range = document.createRange();
range.setStart(...point(start));
range.setEnd(...point(end));
const sel = window.getSelection();
sel.removeAllRanges();
sel.addRange(range);
document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
return at;
"""


@pytest.fixture(scope="module")
def page(built_dist):
    server = LiveServer(data=[built_dist / "peacegraph.trig"], workers=1, max_workers=2)
    driver = chromium()
    driver.get(server.url + f"source/{STEM}")
    yield driver
    driver.quit()
    server.stop()


def _select(driver, needle: str, nth: int = 1, cut: int = 0) -> str:
    assert driver.execute_script(SELECT, needle, nth, cut) is not None, needle
    panel = driver.find_element(By.ID, "quote-snippet")
    WebDriverWait(driver, 10).until(lambda d: panel.is_displayed())
    return panel.find_element(By.CSS_SELECTOR, "code").text


def _anchored(snippet: str) -> tuple[int, int]:
    """Where the build anchors the snippet, as a graph file would hold it."""
    doc = ("@prefix pg: <https://w3id.org/peacegraph/ontology#> .\n"
           "@prefix pgid: <https://w3id.org/peacegraph/id/> .\n"
           "@prefix src: <https://w3id.org/peacegraph/source/> .\n"
           f"pgid:thing {snippet} .\n")
    g = Graph().parse(data=doc, format="turtle")
    out = anchor_graph(g, {SRC[STEM]: TEXT}, {})
    (span,) = out.objects(PGID["thing"], PG.evidence)
    assert out.value(span, OA.hasSource) == SRC[STEM]
    start = end = None
    for sel in out.objects(span, OA.hasSelector):
        if out.value(sel, OA.start) is not None:
            start, end = int(out.value(sel, OA.start)), int(out.value(sel, OA.end))
    return start, end


def _nth(needle: str, nth: int) -> int:
    at = -1
    for _ in range(nth):
        at = TEXT.index(needle, at + 1)
    return at


@pytest.mark.browser
def test_a_unique_selection_is_a_plain_quote_with_its_source(page):
    needle = "The duo have drafted a multi-point peace proposal"
    snippet = _select(page, needle)
    assert snippet == f'pg:evidence [ pg:quote "{needle}" ; pg:source src:{STEM} ]'
    at = _nth(needle, 1)
    assert _anchored(snippet) == (at, at + len(needle))


@pytest.mark.browser
@pytest.mark.parametrize("nth", [1, 2])
def test_a_repeated_selection_gets_the_words_that_make_it_unique(page, nth):
    needle = "most recently about a 19-point counterproposal"
    assert TEXT.count(needle) >= 2
    snippet = _select(page, needle, nth)
    assert "pg:prefix" in snippet or "pg:suffix" in snippet or "pg:occurrence" in snippet
    at = _nth(needle, nth)
    assert _anchored(snippet) == (at, at + len(needle))


@pytest.mark.browser
def test_a_selection_inside_words_grows_to_whole_words(page):
    needle = "The duo have drafted"
    snippet = _select(page, needle, 1, cut=2)  # "e duo have draft"
    assert f'pg:quote "{needle}"' in snippet
    at = _nth(needle, 1)
    assert _anchored(snippet) == (at, at + len(needle))
    panel = page.find_element(By.ID, "quote-snippet")
    assert (int(panel.get_attribute("data-start")), int(panel.get_attribute("data-end"))) == (at, at + len(needle))


@pytest.mark.browser
def test_the_page_has_no_inline_script(page):
    scripts = page.find_elements(By.CSS_SELECTOR, "script")
    assert any((s.get_attribute("src") or "").endswith("/select-quote.js") for s in scripts)
    assert all(s.get_attribute("src") or s.get_attribute("type") == "application/json" for s in scripts)
