"""What a user needs to cite and reuse the data: a valid CITATION.cff, the code and data licenses,
and the rights of each source text stated on its own node."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDF

from peacegraph import __version__, paths
from peacegraph.namespaces import PG
from peacegraph.void import DATA_LICENSE

ROOT = Path(__file__).resolve().parent.parent


def _cffconvert() -> str:
    found = shutil.which("cffconvert", path=str(Path(sys.executable).parent))
    assert found, "cffconvert is a test dependency (pyproject [test])"
    return found


def _validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_cffconvert(), "--validate", "-i", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_citation_cff_is_valid():
    result = _validate(ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_the_validator_rejects_a_citation_without_authors(tmp_path):
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    broken = tmp_path / "CITATION.cff"
    broken.write_text(text.replace('authors:\n  - name: "peacegraph contributors"\n', ""), encoding="utf-8")
    assert "authors" not in broken.read_text(encoding="utf-8")
    assert _validate(broken).returncode != 0


def test_citation_matches_the_package_and_the_data_license():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{__version__}"' in text
    assert "license: CC-BY-4.0" in text and DATA_LICENSE == "https://creativecommons.org/licenses/by/4.0/"
    assert "https://w3id.org/peacegraph/dataset" in text


def test_licenses_for_code_and_data():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    data = (ROOT / "LICENSE-DATA").read_text(encoding="utf-8")
    assert DATA_LICENSE in data and "reserve all rights" in data


@pytest.fixture(scope="module")
def sources() -> Graph:
    return Graph().parse(paths.data_dir("seeds") / "sources.ttl", format="turtle")


def test_every_source_text_states_its_own_rights(sources):
    texts = list(sources.subjects(RDF.type, PG.SourceText))
    assert texts
    for text in texts:
        rights = [str(r) for r in sources.objects(text, DCTERMS.rights)]
        assert rights and all("All rights reserved by its authors" in r for r in rights), text
        # the data license is never claimed for a source text
        assert sources.value(text, DCTERMS.license) is None
