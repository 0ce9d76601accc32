"""Many source texts: which text a quote is in, the curated folders, and adding a text.

Which text a short-form quote is looked up in (graph/README.md, "Several sources"):

1. the evidence's own `pg:source`, when it gives one;
2. else the folder of its file: a file in ``graph/{stem}/`` quotes ``src:{stem}``;
3. else (a file directly in ``graph/``) the founding text: the first source text in file-name
   order. ``peacegraph source add`` numbers a new text after every existing one, so adding a
   text never changes which one that is.

So a statement, once valid, stays valid however many texts are added after it, and nothing that
exists needs restating.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import URIRef

from peacegraph.errors import InputError
from peacegraph.load import Interned, Loaded, folder_rows, graph_of, load_sources, rdf_files, read_text, sha256_hex
from peacegraph.namespaces import SRC

_STEM = re.compile(r"(\d{3,})_[0-9a-f]{16}")


def stem_of(source) -> str:
    s = str(source)
    return s[len(str(SRC)):] if s.startswith(str(SRC)) else s.rstrip("/").rsplit("/", 1)[-1]


def founding_source(texts) -> URIRef | None:
    """The text that files directly in graph/ quote: the first in file-name order."""
    return min(texts, key=stem_of) if texts else None


def default_source(file: str | None, texts) -> URIRef | None:
    """The text a quote without pg:source is in, for a file named as the loader names it
    (``graph/name.ttl`` or ``graph/{stem}/name.ttl``)."""
    if file:
        parts = str(file).replace("\\", "/").split("/")
        if len(parts) >= 3:
            folder_source = URIRef(str(SRC) + parts[-2])
            if folder_source in texts:
                return folder_source
    return founding_source(texts)


@dataclass
class CuratedFiles(Loaded):
    """The curated files loaded, and the file behind each name their origins give."""

    paths: dict = field(default_factory=dict)


def load_graph_folder(folder, stems=None, shared: Interned | None = None) -> CuratedFiles:
    """The curated files: ``graph/*`` and ``graph/{stem}/*`` for each source text's stem.

    A subfolder named after no source text is an error (its quotes would have no text to be
    looked up in). Origins read ``graph/name.ttl`` and ``graph/{stem}/name.ttl``; `.paths` maps
    each such name to its file. `shared`: terms already made for other folders."""
    folder = Path(folder)
    # every folder's rows first, then one graph of them all: a graph per folder merged into
    # another would store each statement twice over (seconds at a million)
    shared = shared or Interned()
    rows, origin, files = folder_rows(folder, shared=shared)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []
    for sub in subfolders:
        if not rdf_files(sub):
            continue
        if stems is not None and sub.name not in stems:
            raise InputError(f"folder {sub.name!r} is not named after a source text in seeds/ "
                             f"(expected one of: {', '.join(sorted(stems)) or 'none'})", file=str(sub))
        sub_rows, sub_origin, sub_files = folder_rows(sub, shared=shared)
        rows.extend(sub_rows)
        for k, v in sub_origin.items():
            origin.setdefault(k, f"{folder.name}/{v}")
        files.extend(sub_files)
    return CuratedFiles(graph=graph_of(rows), origin=origin, files=files,
                        paths={display_name(folder, f): f for f in files})


def display_name(folder: Path, file: Path) -> str:
    """The name errors give a curated file: relative to the graph folder's parent."""
    rel = Path(file).relative_to(folder)
    return "/".join((folder.name, *rel.parts)) if folder.name else "/".join(rel.parts)


# ------------------------------------------------------------------------------ source add

@dataclass
class NewSource:
    """What `source add` records about a text."""

    title: str
    url: str | None = None
    publisher: str | None = None
    authors: tuple = ()
    published: str | None = None
    retrieved: str | None = None
    language: str | None = None


@dataclass
class AddedSource:
    stem: str
    text_file: Path
    entry: str
    sha256: str

    def stub(self) -> str:
        """The start of a graph file for the new text."""
        return (f"# Statements quoting src:{self.stem}. Save as graph/{self.stem}/statements.ttl: quotes\n"
                "# in files of that folder are looked up in this text, no pg:source needed.\n\n"
                "@prefix pg:   <https://w3id.org/peacegraph/ontology#> .\n"
                "@prefix pgid: <https://w3id.org/peacegraph/id/> .\n"
                "@prefix src:  <https://w3id.org/peacegraph/source/> .\n"
                "@prefix rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
                "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
                "# pgid:some-thing a pg:Actor ;\n"
                "#     rdfs:label \"…\"@en ;\n"
                "#     pg:evidence [ pg:quote \"words copied from the text\" ] .\n")


def _date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _lit(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _iri(value: str, what: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        raise InputError(f"{what} {value!r} is not an http(s) URL")
    return f"<{value}>"


def next_stem(seeds: Path, digest: str) -> str:
    """``NNN_<first 16 hex digits of the sha256>``, NNN one more than the highest in seeds/."""
    numbers = [int(m.group(1)) for p in seeds.glob("*.txt") if (m := _STEM.fullmatch(p.stem))]
    return f"{(max(numbers) + 1) if numbers else 0:03d}_{digest[:16]}"


def source_entry(stem: str, digest: str, meta: NewSource) -> str:
    """The Turtle block describing the text in sources.ttl."""
    lines = [f"src:{stem} a pg:SourceText",
             f"dcterms:title {_lit(meta.title)}",
             f"rdfs:label {_lit(meta.title)}" + (f"@{meta.language}" if meta.language else ""),
             'dcterms:format "text/plain"',
             f'dcterms:identifier "{stem}.txt"']
    if meta.language:
        lines.append(f"dcterms:language {_lit(meta.language)}")
    if meta.url:
        lines.append(f"schema:url {_iri(meta.url, '--url')}")
    if meta.publisher:
        lines.append(f"dcterms:publisher {_lit(meta.publisher)}")
    for author in meta.authors:
        lines.append(f"dcterms:creator {_lit(author)}")
    if meta.published:
        lines.append(f'dcterms:issued "{meta.published}"^^xsd:date')
    if meta.retrieved:
        lines.append(f'schema:dateRead "{meta.retrieved}"^^xsd:date')
    lines.append(f'pg:sha256 "{digest}"')
    return " ;\n    ".join(lines) + " .\n"


_NEEDED_PREFIXES = {
    "pg": "https://w3id.org/peacegraph/ontology#", "src": str(SRC),
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/", "schema": "https://schema.org/",
}


def _missing_prefixes(turtle: str) -> str:
    declared = set(re.findall(r"(?im)^\s*@prefix\s+([A-Za-z][\w.-]*)?:", turtle))
    return "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in _NEEDED_PREFIXES.items() if p not in declared)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_source(seeds, text_file, meta: NewSource) -> AddedSource:
    """Copy a text into seeds/ byte for byte and describe it in sources.ttl.

    Refuses a text that is already there (same sha256) or is not a text the build can read;
    sources.ttl is rewritten atomically, and the copy is removed if that fails."""
    seeds = Path(seeds)
    if not meta.title.strip():
        raise InputError("--title must not be empty")
    meta.published = _date(meta.published, "--published")
    meta.retrieved = _date(meta.retrieved, "--retrieved")
    if meta.language is not None and not re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", meta.language):
        raise InputError(f"--language {meta.language!r} is not a language tag (e.g. en, uk, de-CH)")
    text_file = Path(text_file)
    read_text(text_file)  # strict UTF-8, no control characters: refused here, not at build time
    data = text_file.read_bytes()
    if not data.strip():
        raise InputError("the text is empty", file=str(text_file))
    digest = sha256_hex(data)
    existing = load_sources(seeds)
    for source, path in existing.text_files.items():
        if sha256_hex(path.read_bytes()) == digest:
            raise InputError(f"this text is already in seeds/ as {path.name} (src:{stem_of(source)})",
                             file=str(text_file))
    stem = next_stem(seeds, digest)
    target = seeds / f"{stem}.txt"
    if target.exists():
        raise InputError(f"{target.name} already exists", file=str(target))
    described = seeds / "sources.ttl"
    turtle = described.read_text(encoding="utf-8")
    entry = source_entry(stem, digest, meta)
    new_turtle = turtle.rstrip("\n") + "\n\n" + _missing_prefixes(turtle) + entry
    _write_atomically(target, data)
    try:
        _write_atomically(described, new_turtle.encode("utf-8"))
        load_sources(seeds)  # the result must load; otherwise undo both writes
    except BaseException:
        _write_atomically(described, turtle.encode("utf-8"))
        target.unlink(missing_ok=True)
        raise
    return AddedSource(stem=stem, text_file=target, entry=entry, sha256=hashlib.sha256(data).hexdigest())
