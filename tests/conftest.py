"""Shared fixtures: the real build of the shipped data (once per session) and the small
pipeline fixture folders under tests/fixtures/pipeline/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testdata import PIPELINE


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory) -> Path:
    """The dist/ folder of a real build of the shipped data (seeds, ontology, graph, shapes)."""
    from peacegraph.build import BuildConfig, build

    out = tmp_path_factory.mktemp("built") / "dist"
    build(BuildConfig.defaults(out=out, quiet=True))
    return out


@pytest.fixture(scope="session")
def built_dataset(built_dist):
    """The built TriG as an rdflib Dataset; its default graph is the union of the named graphs."""
    from peacegraph.query import load_dataset

    return load_dataset([built_dist / "peacegraph.trig"])


@pytest.fixture(scope="session")
def shipped_shapes():
    """The shapes of shapes/, loaded as the validator takes them."""
    from peacegraph import paths
    from peacegraph.validate import load_shapes

    return load_shapes(paths.data_dir("shapes"))


@pytest.fixture
def pipeline_dirs(tmp_path) -> dict:
    """A writable copy of the small pipeline fixture: seeds, ontology, graph, shapes, out."""
    dirs = {}
    for name in ("seeds", "ontology", "graph", "shapes"):
        shutil.copytree(PIPELINE / name, tmp_path / name)
        dirs[name] = tmp_path / name
    dirs["out"] = tmp_path / "dist"
    return dirs


@pytest.fixture
def pipeline_config(pipeline_dirs):
    from peacegraph.build import BuildConfig

    return BuildConfig(quiet=True, **pipeline_dirs)


@pytest.fixture(scope="module")
def anchored_dataset(tmp_path_factory):
    """The small pipeline fixture loaded and anchored, not reasoned: the Dataset a build hands
    to validation and export (one per test module)."""
    from peacegraph.build import BuildConfig, assemble

    config = BuildConfig(seeds=PIPELINE / "seeds", ontology=PIPELINE / "ontology",
                         graph=PIPELINE / "graph", shapes=PIPELINE / "shapes",
                         out=tmp_path_factory.mktemp("anchored") / "dist", quiet=True)
    return assemble(config, reason=False).dataset


@pytest.fixture(scope="session")
def pipeline_trig(tmp_path_factory) -> Path:
    """The TriG of a build of the small pipeline fixture (not the shipped data)."""
    from peacegraph.build import BuildConfig, build

    out = tmp_path_factory.mktemp("pipeline-built") / "dist"
    build(BuildConfig(seeds=PIPELINE / "seeds", ontology=PIPELINE / "ontology",
                      graph=PIPELINE / "graph", shapes=PIPELINE / "shapes", out=out, quiet=True))
    return out / "peacegraph.trig"


@pytest.fixture(scope="session")
def pipeline_dataset(pipeline_trig):
    from peacegraph.query import load_dataset

    return load_dataset([pipeline_trig])
