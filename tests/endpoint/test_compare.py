"""Comparison pages of the real build, through the Flask test client: the diff on the web agrees
with `peacegraph diff`, with the quotes side by side; the provision × document matrix."""
import re
from html import unescape

import pytest
from rdflib import URIRef

from endpoint.serverkit import BASE, BROWSER
from endpoint.serverkit import html_page as page

US, EU, ISTANBUL = "us-28-point-plan", "european-28-point-counterproposal", "istanbul-communique-2022"


@pytest.fixture(scope="module")
def client(real_app):
    return real_app.test_client()


def diff_rows(html: str) -> list[str]:
    body = html.split('<table class="diff">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr class="v-[\w-]+">(.*?)</tr>', body, re.S)


def cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def provision_of(row: str) -> str:
    """The provision a comparison row is about: A's, or B's for an addition."""
    _, in_a, _, in_b = cells(row)
    return re.search(r'<a href="/id/([^"]+)"', in_a if "/id/" in in_a else in_b).group(1)


def test_choose_lists_documents_and_pairs_with_changes(client):
    html = page(client, "/compare/")
    for slug in (US, EU, ISTANBUL, "gaza-ceasefire-plan"):
        assert f'<option value="{slug}"' in html
    assert f'href="/compare/{US}/{EU}"' in html and f'href="/compare/{ISTANBUL}/{US}"' in html
    r = client.get(f"/compare/?a={US}&b={EU}", headers={"Accept": BROWSER})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/compare/{US}/{EU}")
    for query in (f"a={US}&b={US}", "a=nobody&b=" + EU, "a=" + US):
        r = client.get("/compare/?" + query, headers={"Accept": BROWSER})
        assert r.status_code == 400 and "Choose two different documents" in r.data.decode()


def test_us_plan_against_european_counterproposal_quotes_side_by_side(client):
    html = page(client, f"/compare/{US}/{EU}")
    rows = {provision_of(r): r for r in diff_rows(html)}
    for provision, quote in [("us-28-point-plan--territorial-concessions", "it could force Ukraine to cede territory"),
                             ("us-28-point-plan--frozen-assets-for-reconstruction",
                              "proposals to use frozen Russian assets under U.S. control for reconstruction")]:
        verdict, in_a, change, _ = cells(rows[provision])
        assert ">softened<" in verdict
        assert f'<mark class="quote">{quote}</mark>' in in_a
        assert "removes or softens the most pro" in change and "#char=" in change
    added = rows["european-28-point-counterproposal--monitoring-implementation-modalities"]
    verdict, in_a, change, in_b = cells(added)
    assert ">added<" in verdict and "clearer monitoring/implementation modalities" in in_b
    assert 'class="none"' in in_a
    # what the graph does not say is listed as such, not as removed
    assert "with no recorded change" in html and "Broad amnesty for wartime acts" in html


def test_the_web_diff_agrees_with_peacegraph_diff(client, built_dataset):
    from peacegraph.diff import compare
    for a, b in [(US, EU), (ISTANBUL, US), (EU, US)]:
        expected = {}
        for e in compare(built_dataset, URIRef(BASE + "id/" + a), URIRef(BASE + "id/" + b)):
            expected[e.verdict] = expected.get(e.verdict, 0) + 1
        html = page(client, f"/compare/{a}/{b}")
        shown = {v: int(n) for n, v in re.findall(r'<span class="badge [\w-]+">(\d+) ([^<]+)</span>',
                                                 html.split('<p class="counts">', 1)[1].split("</p>", 1)[0])}
        assert shown == expected, (a, b)


def test_istanbul_comparison_marks_vague_and_shifted(client):
    html = page(client, f"/compare/{ISTANBUL}/{US}")
    rows = diff_rows(html)
    shifted = [r for r in rows if "shifted toward Russia" in r]
    vague = [r for r in rows if '<span class="badge note">vague</span>' in r]
    assert len(shifted) == 4 and len(vague) == 4
    assert any("Territorial concessions and recognition" in r for r in shifted)
    assert all("shifts toward concessions for Russia" in unescape(r) for r in shifted)


@pytest.mark.parametrize("path", [f"/compare/{US}/{US}", f"/compare/{US}/nobody", "/compare/a%20b/c",
                                  "/compare/jared-kushner/" + US])
def test_unknown_pairs_are_404(client, path):
    assert client.get(path, headers={"Accept": BROWSER}).status_code == 404


def matrix_cells(html: str) -> tuple[list[str], dict[str, list[str]]]:
    columns = re.findall(r'<th scope="col"><a href="/id/([^"]+)"', html)
    rows = {}
    for m in re.finditer(r'<tr><th scope="row" class="rowhead"><a href="/id/([^"]+)">.*?</th>\n(.*?)</tr>', html, re.S):
        rows.setdefault(m.group(1), re.findall(r"<td>(.*?)</td>", m.group(2), re.S))
    return columns, rows


def test_matrix_rows_topics_columns_documents_cells_what_each_draft_did(client):
    html = page(client, "/compare/matrix")
    columns, rows = matrix_cells(html)
    assert columns == [ISTANBUL, US, EU]
    topics = re.findall(r'<tr class="topic"><th scope="rowgroup" class="rowhead" colspan="1"><a href="/id/topic/([^"]+)"',
                        html)
    assert "territory" in topics and "frozen-assets" in topics and topics == sorted(topics)
    istanbul, us, eu = rows["us-28-point-plan--territorial-concessions"]
    assert ">compared<" in istanbul
    for word in ("in this draft", "shifted toward Russia", "Government of Ukraine: rejects"):
        assert f">{word}<" in us
    assert ">softened<" in eu
    href = re.search(r'<a class="v softened" href="([^"]+)"', eu).group(1)
    start, end = map(int, href.split("#char=")[1].split(","))
    text = client.get(href.split("#")[0], headers={"Accept": "text/plain"}).data.decode()
    assert text[start:end].startswith("removes or softens")
    assert ">vague<" in rows["us-28-point-plan--security-guarantees"][1]
    assert ">added<" in rows["european-28-point-counterproposal--monitoring-implementation-modalities"][2]
    assert 'class="none"' in rows["us-28-point-plan--amnesty"][2]          # nothing recorded there
    # every cell entry links to a span of the source
    for entry in re.findall(r'<a class="v [\w-]+" href="([^"]+)"', html):
        assert re.fullmatch(r"/source/000_c087f7d81efda06d#char=\d+,\d+", entry), entry


def test_matrix_narrowed_to_a_topic_and_its_short_address(client):
    html = page(client, "/compare/matrix?topic=territory")
    assert re.findall(r'<tr class="topic">.*?href="/id/topic/([^"]+)"', html) == ["territory"]
    assert client.get("/compare/matrix?topic=nothing-here", headers={"Accept": BROWSER}).status_code == 404
    r = client.get("/matrix?topic=territory")
    assert r.status_code == 301 and r.headers["Location"].endswith("/compare/matrix?topic=territory")


@pytest.mark.parametrize("path", ["/compare/", f"/compare/{US}/{EU}", f"/compare/{ISTANBUL}/{US}", "/compare/matrix"])
def test_comparison_pages_stay_light(client, path):
    assert len(client.get(path, headers={"Accept": BROWSER}).data) < 100_000
