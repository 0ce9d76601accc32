"""peacegraph diff: provision by provision, from the recorded pg:ProvisionChange nodes."""

from __future__ import annotations

import pytest

from peacegraph.cli import main
from peacegraph.diff import compare, render, resolve_document
from peacegraph.errors import InputError
from peacegraph.namespaces import PGID


def test_compare_classifies_every_provision(pipeline_dataset):
    entries = compare(pipeline_dataset, PGID["us-plan"], PGID["pared-plan"])
    got = [(e.verdict, e.provision, e.resulting) for e in entries]
    assert got == [
        ("kept", PGID["us-plan-monitoring"], PGID["pared-plan-monitoring"]),
        ("removed", PGID["us-plan-amnesty"], None),
        ("added", None, PGID["pared-plan-commission"]),
        ("no recorded change", PGID["us-plan-elections"], None),
    ]


def test_render_shows_quotes(pipeline_dataset):
    a, b = PGID["us-plan"], PGID["pared-plan"]
    text = render(pipeline_dataset, a, b, compare(pipeline_dataset, a, b))
    lines = text.splitlines()
    assert lines[0] == "the U.S.-backed plan (pgid:us-plan)  →  the pared 19-point plan (pgid:pared-plan)"
    removed = next(i for i, line in enumerate(lines) if line.strip().startswith("removed"))
    assert "amnesty clause  [pgid:us-plan-amnesty]" in lines[removed]
    assert lines[removed + 1].strip() == "A: “the amnesty clause”"
    assert lines[removed + 2].strip() == "change: “drops the amnesty clause”"
    assert lines[-1] == "1 kept; 1 removed; 1 added; 1 no recorded change"


@pytest.mark.parametrize("name", ["us-plan", "pgid:us-plan", "https://w3id.org/peacegraph/id/us-plan",
                                  "<https://w3id.org/peacegraph/id/us-plan>"])
def test_document_names(pipeline_dataset, name):
    assert resolve_document(pipeline_dataset, name) == PGID["us-plan"]


def test_unknown_document_lists_the_known_ones(pipeline_dataset):
    with pytest.raises(InputError, match="no document 'vienna-plan' in the data; documents: .*pgid:pared-plan"):
        resolve_document(pipeline_dataset, "vienna-plan")


def test_cli(pipeline_trig, capsys):
    assert main(["diff", "us-plan", "pared-plan", "--data", str(pipeline_trig)]) == 0
    out = capsys.readouterr().out
    assert "removed" in out and "ceasefire commission" in out
    assert main(["diff", "us-plan", "nowhere", "--data", str(pipeline_trig)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("peacegraph diff: error: no document 'nowhere'") and err.count("\n") == 1
    assert main(["diff", "us-plan", "us-plan", "--data", str(pipeline_trig)]) == 2


def test_shipped_european_counterproposal(built_dataset):
    a, b = PGID["us-28-point-plan"], PGID["european-28-point-counterproposal"]
    entries = compare(built_dataset, a, b)
    verdicts = {(e.provision or e.resulting): e.verdict for e in entries}
    # graph/changes.ttl records pg:Softened for both (the weaker reading of "removes or softens",
    # marked by an editorial note); every other provision of the plan has no recorded change
    assert verdicts.pop(PGID["us-28-point-plan--territorial-concessions"]) == "softened"
    assert verdicts.pop(PGID["us-28-point-plan--frozen-assets-for-reconstruction"]) == "softened"
    assert verdicts.pop(PGID["european-28-point-counterproposal--monitoring-implementation-modalities"]) == "added"
    assert set(verdicts.values()) == {"no recorded change"} and len(verdicts) == 12
    text = render(built_dataset, a, b, entries)
    assert "asset-control clauses" in text
