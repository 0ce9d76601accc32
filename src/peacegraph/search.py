"""Full-text search over the things of the graph: an SQLite FTS5 index built with the store.

What is indexed comes from one stored query (queries/_search-index.rq), so the same index is
built from the embedded store and from a remote one: for every thing (IRI under id/ or source/)
its labels (rdfs:label, skos:prefLabel, dcterms:title), alternative labels (skos:altLabel),
descriptions (rdfs:comment, dcterms:description, skos:definition) and classes, and the exact
words of every evidence span, each tied to the thing it is evidence for. An editorial note is
not a hit of its own: its label and reason count as descriptions, and its quotes as quotes, of
the things it qualifies.

Matching is case- and diacritics-insensitive (the text is folded the same way on both sides:
``fold`` below, then FTS5's ``unicode61 remove_diacritics 2``), every query word matches as a
word prefix ("witk" finds Witkoff), and every word of five letters or more also matches the
indexed names within a small edit distance ("zelensky" finds Zelenskiy). A query's words must
all occur in one field. Hits are one per thing, ranked by what matched: a label, then an
alternative label (names matched only through a near spelling come after exact ones), a
description, a class, a quote; within each, by BM25. The user's words are never passed to FTS5
as syntax: each is reduced to letters and digits and quoted, so operators, column filters,
NEAR and stray quotes are plain text.

The index is one SQLite file written under a temporary name and renamed into place, so a reader
sees the previous index or the complete new one, never a half-written one. Readers open it
read-only; a SearchIndex is safe to use from many threads.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from peacegraph.errors import InputError, StoreError
from peacegraph.namespaces import PG

INDEX_VERSION = 1
INDEX_QUERY = "_search-index.rq"
MAX_QUERY_CHARS = 200        # longer search text is refused with a one-line error
MAX_WORDS = 8                # words beyond these are ignored
MAX_WORD_CHARS = 40
MAX_LIMIT = 100
MAX_OFFSET = 1000
FUZZY_MIN_CHARS = 5          # shorter words only match as prefixes
MAX_VARIANTS = 8             # near spellings per word

# Fields in rank order: (kind in the query rows, FTS table, name in a Hit).
FIELDS = (("label", "fts_label", "label"), ("alt", "fts_alt", "altLabel"),
          ("description", "fts_description", "description"), ("type", "fts_type", "type"),
          ("quote", "fts_quote", "quote"))
_FIELD_NUMBER = {kind: number for number, (kind, _, _) in enumerate(FIELDS)}
_NAME_TABLES = ("fts_label", "fts_alt")     # the vocabulary near spellings are taken from
_TOKENIZE = "unicode61 remove_diacritics 2"
_WORD = re.compile(r"[^\W_]+")
# Letters that Unicode does not decompose into a base letter and a mark, folded by hand.
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ŀ": "l",
                          "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ŋ": "n", "ĸ": "k"})
_PREFERRED_LANGS = ("en", "")


def fold(text: str) -> str:
    """Lower case without diacritics, for both the indexed text and the query words."""
    if text.isascii():
        # what the steps below make of ASCII: NFKD leaves it as it is, it holds no combining
        # mark and none of _LETTERS, and its case folding is lower()
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():
        decomposed = decomposed.translate(_combining_marks())
    return decomposed.casefold().translate(_LETTERS)


@cache
def _combining_marks() -> dict:
    """The str.translate table that deletes every combining character (Unicode canonical
    combining class other than 0). Made on first use, in 70 ms: one C-level pass over a text
    instead of a Python step per character, which was a third of building the index at 1M."""
    return dict.fromkeys(cp for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp)))


def query_words(text: str) -> list[str]:
    """The searchable words of a user's text: folded runs of letters and digits, nothing else.

    Raises InputError for text longer than MAX_QUERY_CHARS; returns [] when nothing searchable
    is left (empty text, only punctuation)."""
    if not isinstance(text, str):
        raise InputError("the search text must be a string")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the search text is {len(text)} characters long; at most "
                         f"{MAX_QUERY_CHARS} are allowed")
    words = []
    for word in _WORD.findall(fold(text)):
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def _fts_string(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _term(word: str) -> str:
    # A one-letter prefix would expand to a large part of the vocabulary.
    return _fts_string(word) + ("*" if len(word) > 1 else "")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts 1); limit+1 when above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _allowed_distance(word: str) -> int:
    return 1 if len(word) < 8 else 2


# ---------------------------------------------------------------------------- hits

@dataclass
class Hit:
    """One thing found. `match` is the field that matched ("label", "altLabel", "description",
    "type" or "quote") and `text` its words; a quote hit also names the evidence `span` (the IRI
    of the span of the source text) and the `quote` itself."""

    iri: str
    label: str
    types: list[dict] = field(default_factory=list)     # [{"iri", "label"}], most specific classes
    match: str = "label"
    text: str = ""
    quote: str | None = None
    span: str | None = None
    score: float = 0.0

    @property
    def type_label(self) -> str:
        return self.types[0]["label"] if self.types else ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["type"] = self.type_label
        return out


# ---------------------------------------------------------------------------- building

def index_query() -> str:
    """The text of the stored query whose rows build_index takes."""
    from peacegraph.paths import queries_dir

    return (queries_dir() / INDEX_QUERY).read_text(encoding="utf-8")


def rows_from_solutions(variables: list[str], rows: Iterable[tuple]) -> Iterator[tuple]:
    """The (thing, kind, text, lang, span) string rows of index_query's solutions, given as
    engine terms (pyoxigraph, or anything with .value) in the order of `variables`."""
    at = {name: i for i, name in enumerate(variables)}
    missing = {"thing", "kind", "text"} - at.keys()
    if missing:
        raise StoreError("the answer to the search index query lacks the variables "
                         + ", ".join(sorted(missing)))
    order = [at.get(name) for name in ("thing", "kind", "text", "lang", "span")]
    for row in rows:
        yield tuple("" if i is None or row[i] is None else getattr(row[i], "value", "") for i in order)


def _local_name(iri: str) -> str:
    name = re.split(r"[#/]", iri)[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() or iri


def _pick_label(labels: list[tuple[str, str]]) -> str | None:
    for lang in _PREFERRED_LANGS:
        for text, label_lang in labels:
            tag = label_lang.lower()
            if tag == lang or (lang and tag.startswith(lang + "-")):
                return text
    return labels[0][0] if labels else None


class _Collected:
    def __init__(self) -> None:
        self.things: dict[str, dict] = {}
        self.class_labels: dict[str, list[tuple[str, str]]] = {}
        self.superclasses: dict[str, set[str]] = {}

    def add(self, thing: str, kind: str, text: str, lang: str, span: str) -> None:
        if kind == "class":
            self.class_labels.setdefault(thing, []).append((text, lang))
            return
        if kind == "subclass":
            if text != thing:
                self.superclasses.setdefault(thing, set()).add(text)
            return
        if kind not in _FIELD_NUMBER or not thing:
            raise InputError(f"the search index query returned a row of unknown kind {kind!r}")
        entry = self.things.setdefault(thing, {"labels": [], "entries": set(), "types": set()})
        if kind == "type":
            entry["types"].add(text)
            return
        if kind == "label":
            entry["labels"].append((text, lang))
        if text.strip():
            entry["entries"].add((_FIELD_NUMBER[kind], text, span if kind == "quote" else ""))

    def ancestors(self, cls: str, memo: dict) -> set[str]:
        if cls not in memo:
            memo[cls] = set()       # a cycle in the data must not recurse forever
            found = set()
            for parent in self.superclasses.get(cls, ()):
                found.add(parent)
                found |= self.ancestors(parent, memo)
            memo[cls] = found
        return memo[cls]

    def class_label(self, cls: str) -> str:
        return _pick_label(self.class_labels.get(cls, [])) or _local_name(cls)


def build_index(rows: Iterable[tuple], path: Path | str, fingerprint: str = "") -> dict:
    """Write the index of `rows` ((thing, kind, text, lang, span) strings, see index_query) to
    `path`, replacing any previous index only once the new one is complete. `fingerprint`
    names what the index was built from (see SearchIndex.fingerprint). Returns counts."""
    path = Path(path)
    collected = _Collected()
    for row in rows:
        collected.add(*row)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".search-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        counts = _write(collected, tmp, fingerprint)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _described_types(collected: _Collected, types: tuple[str, ...], memo: dict) -> tuple[str, str]:
    """A thing's classes (`types`, sorted) as the things table keeps them, JSON of the most
    specific ones with their labels, and as the words of its type entry: the labels of those
    classes and of all their superclasses."""
    specific = [t for t in types if not any(t in collected.ancestors(u, memo) for u in types if u != t)]
    type_list = [{"iri": t, "label": collected.class_label(t)} for t in specific]
    # pg: classes first, then any other (SKOS for the topics and their scheme)
    type_list.sort(key=lambda t: (not t["iri"].startswith(str(PG)), t["label"]))
    names = {collected.class_label(t) for t in types}
    for t in types:
        names |= {collected.class_label(a) for a in collected.ancestors(t, memo)}
    return json.dumps(type_list, ensure_ascii=False), " ".join(sorted(names))


def _write(collected: _Collected, target: Path, fingerprint: str) -> dict:
    memo: dict = {}
    db = sqlite3.connect(str(target))
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE things(id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, label TEXT NOT NULL,"
            " types TEXT NOT NULL);"
            "CREATE TABLE entries(id INTEGER PRIMARY KEY, thing INTEGER NOT NULL, field INTEGER NOT NULL,"
            " text TEXT NOT NULL, span TEXT);")
        for _, table, _ in FIELDS:
            # contentless: the words are folded for matching, the entries table keeps the originals
            db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(text, content='', "
                       f"tokenize='{_TOKENIZE}', prefix='2 3 4')")
        for table in _NAME_TABLES:
            db.execute(f"CREATE VIRTUAL TABLE vocab_{table} USING fts5vocab({table}, 'row')")
        things = entries = 0
        thing_rows, entry_rows = [], []
        fts_rows: dict[str, list] = {table: [] for _, table, _ in FIELDS}
        # things share a few combinations of classes: each is described once
        described: dict[tuple, tuple[str, str]] = {}
        for iri in sorted(collected.things):
            data = collected.things[iri]
            if not data["entries"]:
                continue        # a thing with nothing but a class (an attestation) is no hit
            things += 1
            types = tuple(sorted(data["types"]))
            if types not in described:
                described[types] = _described_types(collected, types, memo)
            type_json, type_words = described[types]
            label = _pick_label(data["labels"]) or _local_name(iri)
            thing_rows.append((things, iri, label, type_json))
            texts = sorted(data["entries"])
            if types:
                texts.append((_FIELD_NUMBER["type"], type_words, ""))
            for number, text, span in texts:
                entries += 1
                entry_rows.append((entries, things, number, text, span or None))
                fts_rows[FIELDS[number][1]].append((entries, fold(text)))
        db.executemany("INSERT INTO things VALUES (?, ?, ?, ?)", thing_rows)
        db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", entry_rows)
        for table, values in fts_rows.items():
            db.executemany(f"INSERT INTO {table}(rowid, text) VALUES (?, ?)", values)
            db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        meta = {"version": str(INDEX_VERSION), "fingerprint": fingerprint, "things": str(things),
                "entries": str(entries)}
        db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        db.commit()
    finally:
        db.close()
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    # mkstemp creates the file private; the index is as readable as the store beside it
    os.chmod(target, 0o644)
    return {"things": things, "entries": entries}


# ---------------------------------------------------------------------------- searching

class SearchIndex:
    """A built index, opened read-only. search / suggest / nearest return lists of Hit."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"no search index at {self.path}")
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        meta = self.meta()
        if meta.get("version") != str(INDEX_VERSION):
            raise StoreError(f"{self.path} is a search index of another version "
                             f"({meta.get('version')!r}, expected {INDEX_VERSION}); rebuild it")

    # -- connections: a pool rather than one per thread, so threads that come and go leave none behind
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreError("the search index is closed")
            db = self._idle.pop() if self._idle else None
        if db is None:
            # immutable: the file is only ever replaced by a rename, never changed in place
            uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
            try:
                db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path} is not a search index: {exc}") from None
        try:
            yield db
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the search index {self.path} could not answer: {exc}") from None
        finally:
            with self._lock:
                if self._closed:
                    db.close()
                else:
                    self._idle.append(db)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in self._idle:
                db.close()
            self._idle.clear()

    def meta(self) -> dict:
        with self._connection() as db:
            try:
                return dict(db.execute("SELECT key, value FROM meta"))
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path} is not a search index: {exc}") from None

    @property
    def fingerprint(self) -> str:
        return self.meta().get("fingerprint", "")

    # -- queries
    def search(self, text: str, limit: int = 20, offset: int = 0) -> list[Hit]:
        """Things matching every word of `text`, best first (see the module doc for the order)."""
        _check_window(limit, offset)
        words = query_words(text)
        if not words:
            return []
        with self._connection() as db:
            strict, expanded = self._expressions(db, words, "AND")
            tiers = [("fts_label", strict), ("fts_alt", strict)]
            if expanded != strict:
                fuzzy_only = f"({expanded}) NOT ({strict})"
                tiers += [("fts_label", fuzzy_only), ("fts_alt", fuzzy_only)]
            tiers += [(table, expanded) for _, table, _ in FIELDS[2:]]
            return self._collect(db, tiers, offset + limit)[offset:]

    def suggest(self, text: str, limit: int = 10) -> list[Hit]:
        """Autocomplete: things whose label or alternative label has every word as a prefix."""
        _check_window(limit, 0)
        words = query_words(text)
        if not words:
            return []
        strict = " AND ".join(_term(w) for w in words)
        with self._connection() as db:
            return self._collect(db, [("fts_label", strict), ("fts_alt", strict)], limit)

    def nearest(self, slug: str, limit: int = 5) -> list[Hit]:
        """The things whose names are closest to the words of `slug` (the path of a missing
        page, e.g. "jared-kushnr"): any word may match, more matching words rank higher."""
        _check_window(limit, 0)
        words = query_words(slug[:MAX_QUERY_CHARS])
        if not words:
            return []
        with self._connection() as db:
            _, expanded = self._expressions(db, words, "OR")
            return self._collect(db, [("fts_label", expanded), ("fts_alt", expanded)], limit)

    def _expressions(self, db, words: list[str], operator: str) -> tuple[str, str]:
        strict = f" {operator} ".join(_term(w) for w in words)
        groups = []
        for word in words:
            variants = self._variants(db, word)
            group = [_term(word)] + [_fts_string(v) for v in variants]
            groups.append(group[0] if len(group) == 1 else "(" + " OR ".join(group) + ")")
        return strict, f" {operator} ".join(groups)

    def _variants(self, db, word: str) -> list[str]:
        """Indexed name words within the allowed edit distance of `word` that it is not a prefix of."""
        if len(word) < FUZZY_MIN_CHARS:
            return []
        limit = _allowed_distance(word)
        low, high = word[:3], word[:3] + "\U0010ffff"
        found: dict[str, int] = {}
        for table in _NAME_TABLES:
            for (term,) in db.execute(f"SELECT term FROM vocab_{table} WHERE term >= ? AND term < ?",
                                      (low, high)):
                if term.startswith(word) or term in found or abs(len(term) - len(word)) > limit:
                    continue
                distance = edit_distance(word, term, limit)
                if distance <= limit:
                    found[term] = distance
        return sorted(found, key=lambda t: (found[t], t))[:MAX_VARIANTS]

    def _collect(self, db, tiers: list[tuple[str, str]], wanted: int) -> list[Hit]:
        best: dict[int, tuple] = {}
        order: list[int] = []
        for table, expression in tiers:
            if len(order) >= wanted:
                break
            window = wanted * 2 + 8
            while True:
                rows = db.execute(
                    f"SELECT e.thing, e.field, e.text, e.span, m.rank FROM "
                    f"(SELECT rowid, rank FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?) m "
                    f"JOIN entries e ON e.id = m.rowid ORDER BY m.rank, e.id", (expression, window)).fetchall()
                # a thing can match several times (quotes, alternative labels): widen the window
                # until it holds enough different things or every match
                new_things = {r[0] for r in rows} - best.keys()
                if len(new_things) + len(order) >= wanted or len(rows) < window:
                    break
                window *= 4
            for thing, number, text, span, rank in rows:
                if thing in best:
                    continue
                best[thing] = (number, text, span, rank)
                order.append(thing)
                if len(order) >= wanted:
                    break
        if not order:
            return []
        marks = ",".join("?" * len(order))
        info = {row[0]: row[1:] for row in db.execute(
            f"SELECT id, iri, label, types FROM things WHERE id IN ({marks})", order)}
        hits = []
        for thing in order:
            number, text, span, rank = best[thing]
            iri, label, types = info[thing]
            match = FIELDS[number][2]
            hits.append(Hit(iri=iri, label=label, types=json.loads(types), match=match, text=text,
                            quote=text if match == "quote" else None, span=span,
                            score=round(-rank, 4)))
        return hits


def _check_window(limit: int, offset: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"the number of search results must be between 1 and {MAX_LIMIT}")
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InputError(f"the search offset must be between 0 and {MAX_OFFSET}")


def index_is_current(path: Path | str, fingerprint: str) -> bool:
    """Whether `path` holds a readable index of this version built from `fingerprint`."""
    try:
        index = SearchIndex(path)
    except StoreError:
        return False
    try:
        return index.fingerprint == fingerprint
    except StoreError:
        return False
    finally:
        index.close()
