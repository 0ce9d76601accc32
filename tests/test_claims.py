"""The graph says what its source says, and marks what the editor reads into it.

Checks on the real build: the claims table (graph/CLAIMS.md) against the data; the editorial
notes on what comes from outside the text; the targets the article leaves open; and the stored
evidence query showing the source's words and the editor's readings side by side.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from peacegraph import paths
from peacegraph.namespaces import OA, PG, PGID, SRC, TOPIC
from test_research_questions import ask, oxigraph_store  # noqa: F401  (a fixture, used by q)

SOURCE = SRC["000_c087f7d81efda06d"]
US_PLAN = PGID["us-28-point-plan"]
FRAMEWORK = PGID["us-peace-framework"]
STATUSES = ("correct", "editorial reading", "fixed", "added")
CLAIMS = paths.data_dir("graph") / "CLAIMS.md"


@pytest.fixture
def q(built_dataset, oxigraph_store):  # noqa: F811
    return lambda name, **bindings: ask(built_dataset, oxigraph_store, name, **bindings)


def _claim_rows() -> list[list[str]]:
    rows = []
    for line in CLAIMS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0].isdigit():
            rows.append(cells)
    return rows


def _notes_of(dataset, node) -> set:
    return set(dataset.objects(node, PG.editorialNote))


def _quotes(dataset, node) -> list[str]:
    return [str(dataset.value(sel, OA.exact)) for span in dataset.objects(node, PG.evidence)
            for sel in dataset.objects(span, OA.hasSelector) if dataset.value(sel, OA.exact) is not None]


# ------------------------------------------------------------------------------ the claims table

def test_claims_table_counts_add_up():
    rows = _claim_rows()
    assert len(rows) >= 100
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    statuses = Counter(r[-1] for r in rows)
    assert set(statuses) <= set(STATUSES)
    summary = re.search(r"Counts: (\d+) claims — (\d+) correct, (\d+) editorial reading, (\d+) fixed, "
                        r"(\d+) added\.", CLAIMS.read_text(encoding="utf-8"))
    assert summary, "CLAIMS.md has no counts line"
    assert [int(x) for x in summary.groups()] == [len(rows)] + [statuses[s] for s in STATUSES]


def test_every_node_the_table_names_is_in_the_build(built_dataset):
    text = CLAIMS.read_text(encoding="utf-8")
    named = {m for m in re.findall(r"pgid:([A-Za-z0-9_.-]+)", text) if not m.endswith("-")}
    assert len(named) > 80
    missing = sorted(n for n in named if (PGID[n], None, None) not in built_dataset
                     and (None, None, PGID[n]) not in built_dataset)
    assert missing == []


def test_every_editorial_note_is_in_the_table_and_every_reading_names_one(built_dataset):
    text = CLAIMS.read_text(encoding="utf-8")
    notes = {str(n)[len(str(PGID)):] for n in built_dataset.subjects(RDF.type, PG.EditorialNote)}
    assert len(notes) >= 15
    assert sorted(n for n in notes if f"pgid:{n}`" not in text) == []
    for row in _claim_rows():
        if row[-1] == "editorial reading":
            assert "pgid:note-" in row[2], row


# ------------------------------------------------------------------------------ editorial notes

@pytest.mark.parametrize("node, prop, value, kind", [
    (SOURCE, URIRef("http://purl.org/dc/terms/temporal"), Literal("2025-11-27", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")), PG.OutsideKnowledge),
    (PGID["us-lawmakers"], SKOS.altLabel, Literal("U.S. lawmakers", lang="en"), PG.OutsideKnowledge),
    (PGID["volodymyr-zelenskiy"], SKOS.altLabel, Literal("Zelensky", lang="en"), PG.OutsideKnowledge),
    (PGID["volodymyr-zelenskiy"], SKOS.altLabel, Literal("Zelenskyy", lang="en"), PG.OutsideKnowledge),
    (PGID["european-19-point-counterproposal"], PG.pointCount, Literal(19), PG.Approximation),
], ids=["year-2025", "us-lawmakers", "zelensky", "zelenskyy", "about-19-points"])
def test_knowledge_from_outside_the_text_is_marked(built_dataset, node, prop, value, kind):
    assert (node, prop, value) in built_dataset  # kept, so researchers can find it
    marks = [n for n in _notes_of(built_dataset, node)
             if built_dataset.value(n, PG.qualifiedProperty) == prop
             and built_dataset.value(n, PG.qualifiedValue) == value]
    assert len(marks) == 1
    note = marks[0]
    assert (note, RDF.type, PG.EditorialNote) in built_dataset
    assert list(built_dataset.objects(note, PG.readingKind)) == [kind]
    assert str(built_dataset.value(note, PG.reason)).strip()
    # the note quotes the words it reads; the editor's value is not among them
    quotes = _quotes(built_dataset, note)
    assert quotes and not any(str(value) in qt for qt in quotes if prop == SKOS.altLabel)


def test_the_text_spells_the_name_zelenskiy_only(built_dataset, source_text):
    assert "Zelenskiy" in source_text
    assert "Zelensky " not in source_text and "Zelenskyy" not in source_text
    assert built_dataset.value(PGID["volodymyr-zelenskiy"], PG.quote) is None
    from rdflib.namespace import RDFS
    assert built_dataset.value(PGID["volodymyr-zelenskiy"], RDFS.label) == Literal("Volodymyr Zelenskiy", lang="en")
    assert built_dataset.value(PGID["us-lawmakers"], RDFS.label) == Literal("lawmakers", lang="en")


@pytest.fixture(scope="module")
def source_text(built_dataset) -> str:
    return str(built_dataset.value(SOURCE, PG.text))


# ------------------------------------------------------------------------------ which text is meant

def _mentions_28_points(dataset, node) -> bool:
    return any("28-point" in qt for qt in _quotes(dataset, node))


def test_only_what_the_article_ties_to_the_28_points_targets_that_draft(built_dataset):
    # a stance, statement or assessment on the 28-point plan either quotes words that name it,
    # or says (with an editorial note) why it is read as being about that draft
    checked = 0
    for prop in (PG.target, PG.about):
        for node in set(built_dataset.subjects(prop, US_PLAN)):
            checked += 1
            assert _mentions_28_points(built_dataset, node) or _notes_of(built_dataset, node), node
    assert checked >= 5
    # the remarks on "the framework", "the U.S. text", "a U.S. peace proposal", "the peace plan"
    on_framework = set(built_dataset.subjects(PG.target, FRAMEWORK)) | set(built_dataset.subjects(PG.about, FRAMEWORK))
    for name in ("stance-volodymyr-zelenskiy--us-peace-framework", "stance-vladimir-putin--us-peace-framework",
                 "statement-vladimir-putin--could-form-basis", "statement-donald-trump--plan-is-a-concept",
                 "statement-donald-trump--deal-getting-close", "statement-kremlin--too-early",
                 "statement-volodymyr-zelenskiy--ready-to-advance"):
        assert PGID[name] in on_framework, name
        assert PGID["note-which-draft"] in _notes_of(built_dataset, PGID[name])
    assert {US_PLAN, PGID["us-19-point-plan"]} == set(built_dataset.objects(FRAMEWORK, PG.hasDraft))


def test_a_position_on_a_matter_targets_the_topic(built_dataset):
    stance = PGID["stance-ukraine-government--security-guarantees"]
    assert built_dataset.value(stance, PG.target) == TOPIC["security-guarantees"]
    for s in built_dataset.subjects(RDF.type, PG.Stance):
        quotes = " ".join(_quotes(built_dataset, s))
        if "insists on sovereignty, security guarantees" in quotes:
            assert str(built_dataset.value(s, PG.target)).startswith(str(TOPIC)), s


def test_the_two_groups_of_critics_are_two_nodes(built_dataset):
    holders = {built_dataset.value(s, PG.holder) for s in built_dataset.subjects(RDF.type, PG.Stance)
               if any("drew particular criticism" in qt for qt in _quotes(built_dataset, s))}
    assert holders == {SOURCE}
    assert _quotes(built_dataset, PGID["critics"]) == ["Critics warn the initiative"]


@pytest.mark.parametrize("node, words", [
    ("assessment-agreement-waits-on-talks-with-putin", "Agreement on Ukraine Peace Plan now Waiting on Talks with Putin"),
    ("stance-ukraine-government--us-peace-framework", "Ukraine Supports New Peace Plan"),
    ("stance-russia--territory", "insistence on territorial “realities,”"),
    ("russian-battlefield-gains", "Moscow’s recent battlefield gains"),
    ("kushner-witkoff-engagement-with-officials", "have engaged with Russian and Ukrainian officials"),
    ("assessment-negotiations-restarted", "Negotiations have restarted"),
    ("stance-source-000_c087f7d81efda06d--us-28-point-plan", "has raised concerns"),
])
def test_claims_that_were_missing_are_recorded(built_dataset, node, words):
    assert (PGID[node], RDF.type, None) in built_dataset
    assert any(words in qt for qt in _quotes(built_dataset, PGID[node]))


# ------------------------------------------------------------------------------ the evidence query

def test_evidence_query_shows_source_words_and_editorial_readings(q, source_text):
    rows = q("13-evidence", node=PGID["volodymyr-zelenskiy"])
    kinds = {str(r["kind"]) for r in rows}
    assert kinds == {"source", "editorial reading"}
    editorial = [r for r in rows if str(r["kind"]) == "editorial reading"]
    assert {r["qualifiedValue"] for r in editorial} == {Literal("Zelensky", lang="en"), Literal("Zelenskyy", lang="en")}
    assert {r["readingKind"] for r in editorial} == {PG.OutsideKnowledge}
    assert all("Zelenskiy" in str(r["reason"]) for r in editorial)
    for r in rows:
        assert source_text[int(r["start"]):int(r["end"])] == str(r["quote"])
    source = [r for r in rows if str(r["kind"]) == "source"]
    assert source and all("note" not in r and "reason" not in r for r in source)


def test_evidence_query_shows_readings_on_a_node_relations(q):
    rows = q("13-evidence", node=US_PLAN)
    readings = [r for r in rows if str(r["kind"]) == "editorial reading"]
    assert {r["note"] for r in readings} == {PGID["note-kushner-proposal-is-the-28-point-plan"]}
    assert {r["predicate"] for r in readings} == {PG.draftedBy, PG.modelledOn, PG.status}
    assert {r["readingKind"] for r in readings} == {PG.Identification}
