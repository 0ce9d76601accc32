"""peacegraph release: versioned, immutable dumps whose IRIs carry the version, and the changelog
of the graph between two releases."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL

from peacegraph.cli import main
from peacegraph.errors import InputError
from peacegraph.namespaces import VOID
from peacegraph.release import changelog, make_release

DS = URIRef("https://w3id.org/peacegraph/dataset")


def _tree(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_release_is_versioned_and_immutable(pipeline_config, tmp_path):
    root = tmp_path / "releases"
    result = make_release(pipeline_config, root, "1.0.0", "2026-12-01")
    folder = root / "1.0.0"
    assert result.folder == folder and (folder / "peacegraph.trig").is_file()
    void = Graph().parse(folder / "void.ttl", format="turtle")
    assert void.value(DS, OWL.versionInfo) == Literal("1.0.0")
    assert void.value(DS, OWL.versionIRI) == URIRef(str(DS) + "?version=1.0.0")
    dumps = sorted(str(u) for u in void.objects(DS, VOID.dataDump))
    assert dumps and all(u.startswith("https://w3id.org/peacegraph/release/1.0.0/") for u in dumps)
    # read-only files in a read-only folder
    assert not os.access(folder / "peacegraph.nq", os.W_OK) or os.geteuid() == 0
    assert (folder.stat().st_mode & 0o222) == 0 and ((folder / "peacegraph.nq").stat().st_mode & 0o222) == 0
    assert [p.name for p in root.iterdir()] == ["1.0.0"]   # nothing left beside it
    before = _tree(folder)
    with pytest.raises(InputError, match="never overwritten"):
        make_release(pipeline_config, root, "1.0.0", "2026-12-02")
    assert _tree(folder) == before
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)


def test_the_changelog_between_two_releases(pipeline_config, pipeline_dirs, tmp_path):
    root = tmp_path / "releases"
    make_release(pipeline_config, root, "1.0.0", "2026-12-01")
    core = pipeline_dirs["graph"] / "core.ttl"
    text = core.read_text(encoding="utf-8")
    # one label changed, one provision removed, one thing added
    text = text.replace('"Kyiv (the government)"@en', '"Kyiv"@en')
    text = text.replace('''pgid:us-plan-elections a pg:Provision ; rdfs:label "election timetable"@en ;
    pg:provisionOf pgid:us-plan ;
    pg:evidence [ pg:quote "election timetable" ] .''', "")
    text += '\npgid:steve-witkoff a pg:Person ; rdfs:label "Steve Witkoff"@en ;\n' \
            '    pg:evidence [ pg:quote "Jared Kushner" ] .\n'
    core.write_text(text, encoding="utf-8")
    result = make_release(pipeline_config, root, "1.1.0", "2026-12-15", previous=root / "1.0.0")
    changes = result.changes
    pgid = "https://w3id.org/peacegraph/id/"
    assert changes.previous == "1.0.0" and changes.current == "1.1.0"
    assert pgid + "steve-witkoff" in changes.nodes_added
    assert pgid + "us-plan-elections" in changes.nodes_removed
    assert pgid + "kyiv" in changes.nodes_changed
    asserted = "https://w3id.org/peacegraph/graph/asserted"
    assert f'<{pgid}kyiv> <http://www.w3.org/2000/01/rdf-schema#label> "Kyiv"@en <{asserted}> .' \
        in changes.added[asserted]
    assert f'<{pgid}kyiv> <http://www.w3.org/2000/01/rdf-schema#label> "Kyiv (the government)"@en ' \
           f'<{asserted}> .' in changes.removed[asserted]
    folder = root / "1.1.0"
    md = (folder / "CHANGES.md").read_text(encoding="utf-8")
    assert "changes since 1.0.0" in md and f"- <{pgid}steve-witkoff>" in md
    data = json.loads((folder / "changes.json").read_text(encoding="utf-8"))
    assert data["nodes"]["removed"] == changes.nodes_removed
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8")
    assert "  CHANGES.md" in sums and "  changes.json" in sums
    # nothing changes between a release and itself, version statements aside
    same = changelog(root / "1.0.0" / "peacegraph.nq", root / "1.0.0" / "peacegraph.nq", "a", "b")
    assert same.added == same.removed == {} and same.nodes_changed == []


def test_release_command_line(pipeline_dirs, tmp_path, capsys):
    args = ["release", "0.9.0", "--out", str(tmp_path / "rel"), "--date", "2026-12-01", "--quiet"]
    for name in ("seeds", "ontology", "graph", "shapes"):
        args += [f"--{name}", str(pipeline_dirs[name])]
    assert main(args) == 0
    assert (tmp_path / "rel" / "0.9.0" / "void.ttl").is_file()
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err
    bad = list(args)
    bad[1] = "../escape"
    assert main(bad) == 2
    assert "invalid release version" in capsys.readouterr().err
    assert not (tmp_path / "escape").exists()
    no_previous = args[:1] + ["1.0.0"] + args[2:] + ["--previous", str(tmp_path / "nothing")]
    assert main(no_previous) == 2
    assert not (tmp_path / "rel" / "1.0.0").exists()
