"""Anchoring: the short `pg:quote` form of graph/*.ttl becomes W3C Web Annotation selectors.

    ?node pg:evidence [ pg:quote "…" ; pg:source src:stem ; pg:prefix "…" ; pg:suffix "…" ;
                        pg:occurrence 2 ]

becomes `?node pg:evidence <src:stem#char=S,E>` with a TextQuoteSelector and a
TextPositionSelector (graph/README.md, "What the build makes of it"). Offsets count code points
of the text as stored, end exclusive, so ``text[S:E]`` is recorded as ``oa:exact``.

Matching: a quote is looked up exactly first; if it does not occur, typographic variants are
folded on both sides (curly and straight quotes, the hyphens and dashes U+2010–2015 and U+2212,
non-breaking and other spaces, runs of white space; soft hyphens and zero-width characters are
ignored) and the match is mapped back to the text's own code points. A match starts at the
beginning of a word or at a punctuation mark, never inside a word. A quote found more than once
must be narrowed by `pg:prefix` / `pg:suffix` (words just before / after it) or `pg:occurrence`
(1 = first occurrence in the text); otherwise, or when it is not found, an AnchorError names
the file, the subject and the candidate offsets.

Each text is folded and indexed once (a table from the first characters of every word to its
positions), so anchoring many quotes costs a dictionary lookup and a few comparisons each.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from functools import cache
from typing import NamedTuple

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from peacegraph.errors import AnchorError, InputError
from peacegraph.namespaces import OA, PG, PGID, SRC, bind_prefixes, selector_iri, span_iri
from peacegraph.sources import default_source
from peacegraph.statements import statements
from peacegraph.terms import plain_literal, short_name

CONTEXT_CHARS = 32
KEY_LEN = 6
# searches of one text before it is indexed
SCANS_BEFORE_INDEX = 64
# looked up once: a Namespace attribute makes a new URIRef on every access
_QUOTE, _SOURCE, _PREFIX, _SUFFIX, _OCCURRENCE = PG.quote, PG.source, PG.prefix, PG.suffix, PG.occurrence
EVIDENCE_KEYS = frozenset({_QUOTE, _SOURCE, _PREFIX, _SUFFIX, _OCCURRENCE})
_REIFICATION = frozenset({RDF.subject, RDF.predicate, RDF.object})
_EVIDENCE, _TYPE, _ATTESTATION = PG.evidence, RDF.type, PG.Attestation
# The terms anchoring compares with the curated graph's. A load that makes the graph's terms
# these very objects (peacegraph.load.Interned.of) finds them by identity in every dictionary
# and set, where an equal object would be compared by rdflib's __eq__, in Python.
COMPARED_TERMS = (*EVIDENCE_KEYS, *_REIFICATION, _EVIDENCE, _TYPE, _ATTESTATION)

_FOLD = {}
for _c in "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4":
    _FOLD[_c] = "'"
for _c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb":
    _FOLD[_c] = '"'
for _c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d":
    _FOLD[_c] = "-"
_SPACES = set("\t\n\r\x0b\x0c \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_IGNORED = set("\u00ad\u200b\u200c\u200d\u2060\ufeff")


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def fold(text: str) -> str:
    """The folded form used for matching: one ASCII form per typographic variant, single spaces."""
    if text.isascii() and _ASCII_FOLDED.search(text) is None:
        return text.strip(" ")  # nothing _TABLE changes, nothing _JUNK collapses
    translated = text.translate(_TABLE)
    if _JUNK.search(translated) is None:
        return translated.strip(" ")  # what FoldedText makes of a text with nothing to collapse
    return FoldedText(text).folded.strip(" ")


_TABLE = str.maketrans({**_FOLD, **{c: " " for c in _SPACES}})
_IGNORED_CLASS = "".join(sorted(_IGNORED))
# in the translated text: a run of spaces and ignorable characters (two or more), or one
# ignorable character on its own
_JUNK = re.compile(f"[ {_IGNORED_CLASS}]{{2,}}|[{_IGNORED_CLASS}]")
# the ASCII characters _TABLE changes, and what _JUNK finds in ASCII
_ASCII_FOLDED = re.compile("[\t\n\r\x0b\x0c`]|  ")
# where a word or a punctuation mark starts: the positions the index of a text keys
_KEY_STARTS = re.compile(r"\w+|[^\w\s]")


class FoldedText:
    """A text, its folded form and the map from folded positions back to the text's code points.

    Folding is a one-to-one translation of characters except where a run of white space
    becomes one space and ignorable characters disappear; the map is kept as breakpoints
    (``_fb`` folded position, ``_ob`` text position, ``_run_end`` end of a collapsed run or -1),
    so a text without such runs costs one `str.translate`.
    """

    def __init__(self, text: str):
        self.text = text
        t = text.translate(_TABLE)
        pieces: list[str] = []
        fb, ob, run_end = [0], [0], [-1]
        f_pos = prev = 0
        for m in _JUNK.finditer(t):
            chunk = t[prev:m.start()]
            pieces.append(chunk)
            f_pos += len(chunk)
            if " " in m.group():
                pieces.append(" ")
                fb.append(f_pos)
                ob.append(m.start())
                run_end.append(m.end())
                f_pos += 1
            fb.append(f_pos)
            ob.append(m.end())
            run_end.append(-1)
            prev = m.end()
        pieces.append(t[prev:])
        self.folded = "".join(pieces)
        self._fb, self._ob, self._run_end = fb, ob, run_end
        self._index: dict[str, list[int]] | None = None
        self._scans = 0

    def _segment(self, i: int) -> int:
        return bisect_right(self._fb, i) - 1

    def start_of(self, i: int) -> int:
        """Text offset where folded character i begins."""
        k = self._segment(i)
        return self._ob[k] if self._run_end[k] >= 0 else self._ob[k] + (i - self._fb[k])

    def end_of(self, i: int) -> int:
        """Text offset where folded character i ends (a collapsed run: the end of the run)."""
        k = self._segment(i)
        return self._run_end[k] if self._run_end[k] >= 0 else self._ob[k] + (i - self._fb[k]) + 1

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Text offsets of the folded range [a, b)."""
        return self.start_of(a), self.end_of(b - 1)

    def is_boundary(self, i: int) -> bool:
        f = self.folded
        return i == 0 or not _is_word(f[i]) or not _is_word(f[i - 1])

    def _is_key_start(self, i: int) -> bool:
        """Position i starts a match of _KEY_STARTS: where the index has an entry."""
        f = self.folded
        if _is_word(f[i]):
            return i == 0 or not _is_word(f[i - 1])
        return not f[i].isspace()

    def index(self) -> dict[str, list[int]]:
        if self._index is None:
            f = self.folded
            idx: dict[str, list[int]] = {}
            for m in _KEY_STARTS.finditer(f):
                i = m.start()
                idx.setdefault(f[i:i + KEY_LEN], []).append(i)
            self._index = idx
        return self._index

    def find_all(self, q: str) -> list[int]:
        """Folded positions where the folded quote q occurs, starting at a word or punctuation."""
        f = self.folded
        if len(q) >= KEY_LEN:
            if self._index is None and self._scans < SCANS_BEFORE_INDEX:
                # a text asked for a few quotes is searched; indexing it costs as much as
                # searching it some dozens of times
                self._scans += 1
                return [i for i in _occurrences(f, q) if self._is_key_start(i)]
            return [i for i in self.index().get(q[:KEY_LEN], ()) if f.startswith(q, i)]
        return [i for i in _occurrences(f, q) if self.is_boundary(i)]


def _occurrences(f: str, q: str) -> list[int]:
    hits = []
    i = f.find(q)
    while i != -1:
        hits.append(i)
        i = f.find(q, i + 1)
    return hits


class Match(NamedTuple):
    start: int
    end: int


def _short(term) -> str:
    return "(no subject)" if term is None else short_name(term)


class _Named:
    """A node's short name, computed only when an error message needs it."""

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def __format__(self, spec: str) -> str:
        return format(_short(self.node), spec)

    def __str__(self) -> str:
        return _short(self.node)


def _clip(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


class Anchorer:
    """Finds quotes in a set of texts; each text is folded and indexed once, on first use."""

    def __init__(self, texts: dict):
        self.texts = texts
        self._folded: dict = {}

    def folded(self, source) -> FoldedText:
        ft = self._folded.get(source)
        if ft is None:
            ft = self._folded[source] = FoldedText(self.texts[source])
        return ft

    def candidates(self, source, quote: str) -> list[Match]:
        """Every place the quote occurs: exact occurrences if there are any, else folded ones."""
        ft = self.folded(source)
        q = fold(quote)
        if not q:
            return []
        text = ft.text
        folded_hits = [ft.span(a, a + len(q)) for a in ft.find_all(q)]
        exact = [Match(s, e) for s, e in folded_hits if text[s:e] == quote]
        if exact:
            return exact
        # an exact occurrence that folding cannot see (a quote with leading/trailing space)
        if quote != quote.strip() or "  " in quote:
            hits, i = [], text.find(quote)
            while i != -1:
                hits.append(Match(i, i + len(quote)))
                i = text.find(quote, i + 1)
            if hits:
                return hits
        return [Match(s, e) for s, e in folded_hits]

    def near_miss(self, source, quote: str) -> str:
        """The longest beginning of the quote that does occur (binary search), for the error."""
        ft = self.folded(source)
        q = fold(quote)
        lo, hi = 0, len(q)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if q[:mid] in ft.folded:
                lo = mid
            else:
                hi = mid - 1
        if lo < 4:
            return ""
        at = ft.folded.find(q[:lo])
        s, e = ft.span(at, at + lo)
        return f"; closest: the text has {_clip(ft.text[s:e])!r} at {s} but then continues " \
               f"{_clip(ft.text[e:e + 20], 20)!r}"

    def choose(self, source, quote: str, prefix=None, suffix=None, occurrence=None,
               *, file=None, subject=None) -> Match:
        """The one match of a quote, or an AnchorError naming file, subject and candidates."""
        found = self.candidates(source, quote)
        if len(found) == 1 and prefix is None and suffix is None and occurrence is None:
            return found[0]
        who = _Named(subject)
        if not found:
            raise AnchorError(f"{who}: quote {_clip(quote)!r} not found in {_short(source)}"
                              f"{self.near_miss(source, quote)}", file=file)
        ft = self.folded(source)
        text = ft.text

        def fits(m: Match) -> bool:
            if prefix is None and suffix is None:
                return True
            if prefix is not None:
                want = fold(prefix)
                before = fold(text[max(0, m.start - len(prefix) - 8):m.start])
                if not before.endswith(want):
                    return False
            if suffix is not None:
                want = fold(suffix)
                after = fold(text[m.end:m.end + len(suffix) + 8])
                if not after.startswith(want):
                    return False
            return True

        def offsets() -> str:
            return ", ".join(f"{m.start}-{m.end}" for m in found[:20])

        if occurrence is not None:
            if not 1 <= occurrence <= len(found):
                raise AnchorError(f"{who}: pg:occurrence {occurrence} of quote {_clip(quote)!r} but "
                                  f"it occurs {len(found)} time(s) in {_short(source)} (at {offsets()})",
                                  file=file)
            chosen = found[occurrence - 1]
            if not fits(chosen):
                raise AnchorError(f"{who}: occurrence {occurrence} of quote {_clip(quote)!r} (at "
                                  f"{chosen.start}-{chosen.end}) does not have the given "
                                  "pg:prefix/pg:suffix", file=file)
            return chosen
        chosen = [m for m in found if fits(m)]
        if len(chosen) == 1:
            return chosen[0]
        if not chosen:
            raise AnchorError(f"{who}: quote {_clip(quote)!r} occurs in {_short(source)} at {offsets()} "
                              "but never with the given pg:prefix/pg:suffix", file=file)
        narrowed = ", ".join(f"{m.start}-{m.end}" for m in chosen[:20])
        raise AnchorError(f"{who}: quote {_clip(quote)!r} is ambiguous: {len(chosen)} matches in "
                          f"{_short(source)} at {narrowed}; add pg:prefix, pg:suffix or "
                          "pg:occurrence", file=file)


def slug(term) -> str:
    """The slug of a node for attestation IRIs: the local part after the pgid:/pg: base
    (kebab-cased for pg: terms), else a short sha1 of the IRI."""
    s = str(term)
    if isinstance(term, URIRef):
        for ns, kebab in ((str(PGID), False), (str(PG), True)):
            if s.startswith(ns):
                local = s[len(ns):]
                if kebab:
                    local = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", local).lower()
                local = local.replace("/", "-")
                if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", local):
                    return local
    data = term.n3() if hasattr(term, "n3") else s
    return hashlib.sha1(data.encode("utf-8")).hexdigest()[:12]


def attestation_iri(s, p, o, slug_of=slug) -> URIRef:
    return URIRef(f"{PGID}attestation-{slug_of(s)}--{slug_of(p)}--{slug_of(o)}")


def _stem(source: URIRef) -> str:
    s = str(source)
    if not s.startswith(str(SRC)):
        raise InputError(f"source {source.n3()} is not under {SRC}")
    return s[len(str(SRC)):]


def _int(value, what, file, who) -> int:
    try:
        n = int(str(value))
    except ValueError:
        raise AnchorError(f"{who}: {what} {value!r} is not a whole number", file=file) from None
    return n


class _Curated:
    """The curated statements read in one pass (a pattern lookup per node would cost an index
    of the whole graph): the properties of its blank nodes and the reification properties of
    every node (all that anchoring asks of a named node: what an attestation attests), the
    evidence nodes with the subject that points at each, and the attestations."""

    def __init__(self, triples, origin: dict):
        self.origin = origin
        self.triples = triples
        self.props: dict = {}            # node -> {predicate: [objects]}
        self.evidence_nodes: dict = {}   # bnode -> the subject that points at it (for messages)
        self.attestations = set()
        evidence, rdf_type, attestation = _EVIDENCE, _TYPE, _ATTESTATION
        # set lookups rather than ==: rdflib compares terms in Python, a set by hash first
        wanted = frozenset({evidence, rdf_type})
        attestations = frozenset({attestation})
        props = self.props
        for s, p, o in triples:
            if type(s) is BNode or p in _REIFICATION:
                props.setdefault(s, {}).setdefault(p, []).append(o)
            if p not in wanted:
                continue
            if p == evidence:
                if type(o) is BNode and o not in self.evidence_nodes:
                    self.evidence_nodes[o] = s
            elif o in attestations:
                self.attestations.add(s)

    def objects(self, node, pred) -> list:
        """The objects of a blank node, or the rdf:subject/predicate/object of any node."""
        if type(node) is not BNode and pred not in _REIFICATION:
            raise ValueError(f"only {', '.join(map(_short, _REIFICATION))} are read of named nodes")
        return self.props.get(node, {}).get(pred, [])

    def file_of(self, node):
        f = self.origin.get(node)
        if f is None and isinstance(node, BNode):
            owner = self.evidence_nodes.get(node)
            if owner is not None:
                f = self.origin.get(owner)
                if f is None and isinstance(owner, BNode):
                    f = self.origin.get(self.evidence_nodes.get(owner))
        return f


def _name_attestations(cg: _Curated, names: dict, out: list) -> None:
    """Name each blank-node attestation after its triple and assert the triple it attests."""
    # the same predicates and objects recur in many attestations
    slug_of = cache(slug)
    for a in sorted(cg.attestations, key=lambda n: n.n3()):
        sub, pred, obj = (next(iter(cg.objects(a, k)), None) for k in (RDF.subject, RDF.predicate, RDF.object))
        if sub is None or pred is None or obj is None or any(isinstance(t, BNode) for t in (sub, pred, obj)):
            raise InputError(f"attestation about {_short(sub)} needs rdf:subject, rdf:predicate and "
                             "rdf:object, each a named node", file=cg.file_of(a))
        if isinstance(a, BNode):
            names[a] = attestation_iri(sub, pred, obj, slug_of)
        out.append((sub, pred, obj))


def _evidence_source(cg: _Curated, node, texts: dict, who, file):
    """The source text a piece of evidence quotes: its pg:source, else the one its file's folder
    names (peacegraph.sources)."""
    sources = cg.objects(node, _SOURCE)
    if len(sources) > 1:
        raise InputError(f"{who}: evidence has more than one pg:source", file=file)
    if sources:
        if sources[0] not in texts:
            raise AnchorError(f"{who}: pg:source {_short(sources[0])} is not a source text in seeds/",
                              file=file)
        return sources[0]
    if not texts:
        raise AnchorError(f"{who}: no source texts to anchor quotes in", file=file)
    return default_source(file, texts)


def _anchor_evidence(cg: _Curated, anchorer: Anchorer, node, subject) -> tuple[URIRef, Match]:
    """The source and the match of one short-form evidence node, its keys checked first, the
    match checked against the authored quote."""
    file = cg.file_of(node)
    who = _Named(subject)
    keys = cg.props.get(node, {})
    extra = () if EVIDENCE_KEYS.issuperset(keys) else set(keys) - EVIDENCE_KEYS
    if extra:
        raise InputError(f"{who}: evidence has {', '.join(sorted(_short(k) for k in extra))}; "
                         "only pg:quote, pg:source, pg:prefix, pg:suffix, pg:occurrence are "
                         "allowed", file=file)
    quotes = keys.get(_QUOTE, [])
    if len(quotes) != 1 or not isinstance(quotes[0], Literal):
        raise InputError(f"{who}: evidence needs exactly one pg:quote string", file=file)
    source = _evidence_source(cg, node, anchorer.texts, who, file)

    def one(pred):
        vals = keys.get(pred)
        if not vals:
            return None
        if len(vals) > 1:
            raise InputError(f"{who}: evidence has more than one {_short(pred)}", file=file)
        return vals[0]

    prefix, suffix, occ = one(_PREFIX), one(_SUFFIX), one(_OCCURRENCE)
    quote = str(quotes[0])
    try:
        m = _choose(anchorer, source, quote, prefix, suffix, occ, file, who, subject)
        check_span(anchorer.texts[source], m, quote, source, file=file, subject=subject)
    except AnchorError as exc:
        exc.quote, exc.subject = quote, subject  # for the file:line:column of the quote
        raise
    return source, m


def _choose(anchorer, source, quote, prefix, suffix, occ, file, who, subject) -> Match:
    return anchorer.choose(source, str(quote),
                           prefix=None if prefix is None else str(prefix),
                           suffix=None if suffix is None else str(suffix),
                           occurrence=None if occ is None else _int(occ, "pg:occurrence", file, who),
                           file=file, subject=subject)


def check_span(text: str, m: Match, quote: str, source, *, file=None, subject=None) -> None:
    """The characters at the match read as the authored quote, up to folding.

    oa:exact is copied from text[start:end], so the quote shape (exact == text at the offsets)
    holds for any offsets at all; only this comparison with the author's own words catches
    offsets that are consistent but wrong."""
    found = text[m.start:m.end]
    if found != quote and fold(found) != fold(quote):
        raise AnchorError(f"{_Named(subject)}: anchoring error: quote {_clip(quote)!r} was anchored "
                          f"at {m.start}-{m.end} of {_short(source)}, which reads {_clip(found)!r}",
                          file=file)


def _renamed_statements(cg: _Curated, names: dict, out: list) -> None:
    """Every other statement with the anchored names in place of the short forms; a blank node
    left over is an error naming the first file (in sorted order) that has one."""
    stray = []
    evidence_nodes = cg.evidence_nodes
    append = out.append
    for t in cg.triples:
        s, p, o = t
        if type(s) is not BNode and type(o) is not BNode:
            append(t)  # nothing to rename: the statement itself, not a copy
            continue
        if s in evidence_nodes:
            continue  # the short form itself is replaced by the anchored form
        s2 = names.get(s, s)
        o2 = names.get(o, o)
        if isinstance(s2, BNode) or isinstance(o2, BNode):
            where = cg.file_of(o2) if isinstance(o2, BNode) and cg.file_of(o2) else cg.file_of(s)
            stray.append((where or "", isinstance(s2, BNode), _short(s2), _short(p)))
            continue
        append((s2, p, o2))
    if stray:
        where, _, subj, pred = min(stray)
        raise InputError(f"blank node in the statement {subj} {pred} …: only the evidence and "
                         "attestation short forms may be blank nodes; give the node an IRI",
                         file=where or None)


def anchor_graph(graph: Graph, texts: dict, origin: dict | None = None, *,
                 into: Graph | None = None) -> Graph:
    """The curated graph with every short-form evidence anchored and every attestation named.

    ``texts`` maps source IRIs to their full text, ``origin`` maps subjects to the file that
    defines them (for error messages). Raises AnchorError for a quote that is missing or
    ambiguous and InputError for any other blank node. The input graph is not modified; the
    result is a new Graph, or ``into`` (e.g. a named graph of a Dataset) with the result added,
    in one step after everything has been anchored, so an error leaves ``into`` untouched.
    """
    out = anchored_statements(graph, texts, origin)
    target = into if into is not None else Graph()
    if into is None:
        bind_prefixes(target)
    target.addN((s, p, o, target) for s, p, o in out)
    return target


def anchored_statements(graph: Graph, texts: dict, origin: dict | None = None) -> list[tuple]:
    """What anchor_graph adds, as a list of (s, p, o): so that a caller can let the curated graph
    go before it stores them. Statements with nothing to rename are the graph's own tuples."""
    cg = _Curated(statements(graph), origin or {})
    anchorer = Anchorer(texts)
    out: list = []
    names: dict = {}
    # attestations first: their IRIs name the subjects in evidence error messages
    _name_attestations(cg, names, out)
    before = len(out), dict(names)
    try:
        _anchor_spans(cg, anchorer, cg.evidence_nodes.items(), names, out)
    except (AnchorError, InputError):
        # The error reported is the first in a stable order (by subject, then node): anchoring
        # again in that order raises it. Sorting every node by its N-Triples form costs a
        # tenth of anchoring them, so it is left to a build that fails.
        del out[before[0]:]
        in_order = sorted(cg.evidence_nodes.items(), key=lambda kv: (kv[1].n3(), kv[0].n3()))
        _anchor_spans(cg, anchorer, in_order, dict(before[1]), out)
        raise
    _renamed_statements(cg, names, out)
    return out


def _anchor_spans(cg: _Curated, anchorer: Anchorer, evidence, names: dict, out: list) -> None:
    """Anchor each (evidence node, subject pointing at it): name the node after its span, and
    add each span's statements once."""
    texts = anchorer.texts
    spans: dict = {}
    span_terms = _SpanTerms()
    for node, owner in evidence:
        source, m = _anchor_evidence(cg, anchorer, node, names.get(owner, owner))
        key = (source, m.start, m.end)
        span = spans.get(key)
        if span is None:
            made = span_triples(source, texts[source], m.start, m.end, span_terms)
            span = spans[key] = made[0][0]
            out.extend(made)
        names[node] = span


class _SpanTerms:
    """The terms every span's statements use, looked up once (a Namespace attribute makes a new
    URIRef on every access), and the offset literals made so far: spans in different texts
    share offsets, and an integer Literal costs microseconds to make."""

    def __init__(self):
        self.type, self.specific, self.has_source, self.has_selector = \
            _TYPE, OA.SpecificResource, OA.hasSource, OA.hasSelector
        self.quote_selector, self.exact, self.prefix, self.suffix = \
            OA.TextQuoteSelector, OA.exact, OA.prefix, OA.suffix
        self.position_selector, self.start, self.end = OA.TextPositionSelector, OA.start, OA.end
        self.offset = XSD.nonNegativeInteger
        self.offsets: dict[int, Literal] = {}
        self.stems: dict = {}

    def stem(self, source: URIRef) -> str:
        found = self.stems.get(source)
        if found is None:
            found = self.stems[source] = _stem(source)
        return found

    def offset_literal(self, n: int) -> Literal:
        found = self.offsets.get(n)
        if found is None:
            found = self.offsets[n] = Literal(n, datatype=self.offset)
        return found


def span_triples(source: URIRef, text: str, start: int, end: int,
                 terms: _SpanTerms | None = None) -> list[tuple]:
    """The anchored form of text[start:end] of `source` (graph/README.md)."""
    t = terms or _SpanTerms()
    stem = t.stem(source)
    span = span_iri(stem, start, end)
    quote_sel = selector_iri(stem, start, end, "quote")
    pos_sel = selector_iri(stem, start, end, "position")
    return [
        (span, t.type, t.specific),
        (span, t.has_source, source),
        (span, t.has_selector, quote_sel),
        (span, t.has_selector, pos_sel),
        (quote_sel, t.type, t.quote_selector),
        (quote_sel, t.exact, plain_literal(text[start:end])),
        (quote_sel, t.prefix, plain_literal(text[max(0, start - CONTEXT_CHARS):start])),
        (quote_sel, t.suffix, plain_literal(text[end:end + CONTEXT_CHARS])),
        (pos_sel, t.type, t.position_selector),
        (pos_sel, t.start, t.offset_literal(start)),
        (pos_sel, t.end, t.offset_literal(end)),
    ]

