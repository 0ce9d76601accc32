"""Pictures of the graph, drawn on the server as SVG: the lineage of the documents, the actor
network, the stance map and the sequence of events.

Each picture has a stored query (server/queries/picture_*.rq) and a renderer that takes the
query's rows (dicts of variable name -> pyoxigraph term or plain string, None for unbound) and
an ``href`` function mapping an IRI to the URL of its page, and returns ``(svg, alternative)``:
the SVG markup (no script, no external resource, sizes computed from the content, a viewBox so
it scales down to the width of a phone) and a :class:`TextAlternative`, the same facts as a
table of links for the page to show as HTML. Rendering needs no server: the functions
``lineage``, ``actor_network``, ``stance_map`` and ``event_sequence`` fetch the rows through a
site object's ``run`` (peacegraph.server.app.Site) and call the renderers.

Everything taken from the data is treated as hostile: text is XML-escaped and stripped of
characters XML cannot carry, and a link is drawn only when ``href`` gives a local path or an
http(s) URL. The same rows always give the same bytes.

The root element has ``role="graphics-document"`` (SVG-AAM) rather than ``role="img"``: the
img role makes its children presentational, which would hide the node links from assistive
technology (axe-core reports that as nested-interactive); the name and description come from
the ``<title>`` and ``<desc>`` the root points to with aria-labelledby and aria-describedby.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from peacegraph.namespaces import PG as _PG
from peacegraph.namespaces import SKOS as _SKOS
from peacegraph.server import views
from peacegraph.server.stored import page_query

PG = str(_PG)
SKOS_CONCEPT = str(_SKOS.Concept)

Href = Callable[[str], "str | None"]

# What one picture shows at most: beyond this a drawing is no longer readable (nor light).
MAX_DOCUMENTS = 60
MAX_ACTORS, MAX_THINGS = 40, 60
MAX_HOLDERS, MAX_TARGETS = 24, 40
MAX_EVENTS, MAX_PER_EVENT = 40, 12

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
INK = "#1d1d1f"
MUTED = "#5f6368"
LINE = "#c9ccd1"


# -- the text alternative ----------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """One item of a cell: its text, and the URL of its page when it has one (already checked)."""
    text: str
    href: str | None = None


@dataclass(frozen=True)
class TextAlternative:
    """The facts a picture shows, as a table: each cell is a tuple of Links."""
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[tuple[Link, ...], ...], ...]


def text_alternative_html(alt: TextAlternative) -> str:
    """The text alternative as an HTML table (every value escaped, links checked)."""
    out = ['<table class="pgpic-alt">', f"<caption>{_esc(alt.caption)}</caption>", "<thead><tr>"]
    out += [f'<th scope="col">{_esc(c)}</th>' for c in alt.columns]
    out.append("</tr></thead><tbody>")
    for row in alt.rows:
        out.append("<tr>")
        for cell in row:
            items = [f'<a href="{_esc(item.href)}">{_esc(item.text)}</a>' if item.href else _esc(item.text)
                     for item in cell]
            out.append(f"<td>{', '.join(items)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# -- values from query rows ----------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff"
                      "\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")


def _value(term) -> str:
    if term is None:
        return ""
    value = getattr(term, "value", None)
    return str(term) if value is None else str(value)


def _clean(text: str) -> str:
    """Text safe to put in XML: no control or bidi-override characters, one line."""
    return _SPACE.sub(" ", _NOT_XML.sub("", text)).strip()


def _esc(text) -> str:
    return (_clean(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _language(term) -> str:
    return getattr(term, "language", None) or ""


def _fallback_label(iri: str) -> str:
    tail = re.split(r"[/#:]", iri.rstrip("/#"))[-1] if iri else ""
    return _clean(tail.replace("-", " ").replace("_", " ")) or _clean(iri) or "(unnamed)"


class _Labels:
    """The best label seen for each IRI: English first, then untagged, then any; ties by text."""

    def __init__(self):
        self._best: dict[str, tuple] = {}

    def add(self, iri: str, term) -> None:
        text = _clean(_value(term))
        if not iri or not text:
            return
        lang = _language(term).lower()
        rank = (0 if lang == "en" or lang.startswith("en-") else 1 if not lang else 2, text)
        if iri not in self._best or rank < self._best[iri]:
            self._best[iri] = rank

    def __call__(self, iri: str) -> str:
        found = self._best.get(iri)
        return found[1] if found else _fallback_label(iri)


def safe_href(href: Href, iri: str) -> str | None:
    """The URL ``href`` gives for ``iri`` when it may be a link (the pages' one check,
    peacegraph.server.views.safe_href) and XML can carry it, else None."""
    if not iri:
        return None
    try:
        url = href(iri)
    except Exception:  # a caller's mapping that fails on odd input must not break the picture
        return None
    if not isinstance(url, str) or _NOT_XML.search(url):
        return None
    return views.safe_href(url)


# -- text measure ----------------------------------------------------------------------------

# Advance widths in 1/2048 em of DejaVu Sans, a wide face: estimates err on the long side, so
# text measured here never overflows its box in narrower fonts.
_WIDTHS = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    (651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690)
    + (1303,) * 10
    + (690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604,
       1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403,
       799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
       569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303,
       690, 1303, 1716), strict=True))


def text_width(text: str, size: float, bold: bool = False) -> float:
    units = 0
    for ch in text:
        width = _WIDTHS.get(ch)
        if width is None:
            if unicodedata.east_asian_width(ch) in ("W", "F"):
                width = 2048
            elif unicodedata.combining(ch):
                width = 0
            elif ch in "–’‘“”·":
                width = 1024
            else:
                width = 1400
        units += width
    return units / 2048 * size * (1.2 if bold else 1.06)


def fit(text: str, width: float, size: float, bold: bool = False) -> str:
    """``text``, cut with an ellipsis to fit ``width``."""
    if text_width(text, size, bold) <= width:
        return text
    cut = text
    while cut and text_width(cut + "…", size, bold) > width:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def wrap(text: str, width: float, size: float, max_lines: int, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into at most ``max_lines`` lines of ``width``; the last cut with an
    ellipsis when the rest does not fit."""
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for i, word in enumerate(words):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= width or not current:
            current = trial
            continue
        if len(lines) + 1 == max_lines:  # the last line allowed takes the rest, to be cut
            current = " ".join([current] + words[i:])
            break
        lines.append(current)
        current = word
    lines.append(current)
    return [fit(line, width, size, bold) for line in lines]


# -- SVG writing -----------------------------------------------------------------------------

def _n(x: float) -> str:
    """A coordinate, rounded so output does not depend on float noise."""
    text = f"{round(x, 1):.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _attrs(**attrs) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = _n(value)
        parts.append(f' {name}="{_esc(value)}"')
    return "".join(parts)


class _Svg:
    def __init__(self, name: str):
        self.name = name
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def el(self, tag: str, content: str | None = None, **attrs) -> None:
        if content is None:
            self.parts.append(f"<{tag}{_attrs(**attrs)}/>")
        else:
            self.parts.append(f"<{tag}{_attrs(**attrs)}>{content}</{tag}>")

    def text(self, x: float, y: float, text: str, **attrs) -> None:
        self.el("text", _esc(text), x=float(x), y=float(y), **attrs)

    def open_link(self, url: str | None, title: str) -> None:
        """A link around what follows (or a plain group when there is no safe URL), with the full
        label as its tooltip."""
        if url:
            self.parts.append(f"<a{_attrs(href=url)}><title>{_esc(title)}</title>")
        else:
            self.parts.append(f"<g><title>{_esc(title)}</title>")

    def close_link(self, url: str | None) -> None:
        self.parts.append("</a>" if url else "</g>")

    def render(self, width: float, height: float, title: str, desc: str) -> str:
        width, height = math.ceil(width), math.ceil(height)
        pid = f"pgpic-{self.name}"
        style = ("svg.pgpic{max-width:100%;height:auto}"
                 ".pgpic a:focus{outline:3px solid #1a5fb4;outline-offset:1px}"
                 ".pgpic a:hover .pgpic-hl{stroke:#1a5fb4;stroke-width:2.5}"
                 ".pgpic a:hover text{text-decoration:underline}")
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="pgpic {pid}" role="graphics-document"'
                f' aria-labelledby="{pid}-title" aria-describedby="{pid}-desc"'
                f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
                f' font-family="{_esc(FONT)}" font-size="14" fill="{INK}">'
                f'<title id="{pid}-title">{_esc(title)}</title><desc id="{pid}-desc">{_esc(desc)}</desc>'
                f"<style>{style}</style>")
        return head + "".join(self.parts) + "</svg>"


def _legend(svg: _Svg, items: list[tuple[str, Callable[[_Svg, float, float], float]]],
            x0: float, y0: float, width: float, title: str = "") -> float:
    """Legend entries laid out in rows within ``width``; each entry draws its own sample and
    returns the sample's width. Returns the height used."""
    size, row_h, gap = 13, 22, 22
    x, y = x0, y0
    if title:
        svg.text(x0, y0 + 14, fit(title, width, 13, bold=True), font_weight="bold", font_size=13)
        y += row_h
    for label, sample in items:
        sample_w = getattr(sample, "width", 34)
        entry_w = sample_w + 6 + text_width(label, size)
        if x > x0 and x + entry_w > x0 + width:
            x, y = x0, y + row_h
        sample(svg, x, y + 10)
        svg.text(x + sample_w + 6, y + 14, label, font_size=size)
        x += entry_w + gap
    return y + row_h - y0


def _most_connected(nodes: set[str], links: Iterable[tuple[str, str]], limit: int, key) -> set[str]:
    """The ``limit`` nodes with the most links (ties by ``key``): what a picture keeps when the
    graph has more than a picture can show."""
    if len(nodes) <= limit:
        return set(nodes)
    degree = dict.fromkeys(nodes, 0)
    for a, b in links:
        for n in (a, b):
            if n in degree:
                degree[n] += 1
    return set(sorted(nodes, key=lambda n: (-degree[n], key(n)))[:limit])


def _note(svg: _Svg, text: str, x: float, y: float, width: float) -> float:
    """A line under the picture saying what was left out; returns the height used."""
    if not text:
        return 0.0
    svg.text(x, y + 14, fit(text, width, 12.5), font_size=12.5, font_style="italic", fill=MUTED)
    return 22.0


# -- layered layout (lineage) ----------------------------------------------------------------

def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Layer of each node for edges (newer -> older): 0 for nodes that point to nothing, else one
    more than the deepest node they point to. Edges closing a cycle are ignored (data may be
    hostile), found by a depth-first search in a fixed order."""
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a != b:
            out[a].append(b)
    for targets in out.values():
        targets.sort()
    layer: dict[str, int] = {}
    state: dict[str, int] = {}

    def visit(start: str) -> None:
        stack = [(start, iter(out[start]))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                layer[node] = 1 + max((layer[t] for t in out[node] if t in layer), default=-1)
                state[node] = 2
                stack.pop()
            elif state.get(nxt, 0) == 0:
                state[nxt] = 1
                stack.append((nxt, iter(out[nxt])))
            # state 1: a back edge, ignored; state 2: already placed

    for node in sorted(nodes):
        if state.get(node, 0) == 0:
            visit(node)
    return layer


def _order_layers(layers: list[list[str]], edges: list[tuple[str, str]], key) -> list[list[str]]:
    """Order the nodes within each layer by the barycentre of their neighbours in the layers
    next to it (a few sweeps each way), ties broken by ``key``."""
    neighbours: dict[str, set[str]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    layers = [sorted(layer, key=key) for layer in layers]
    for sweep in range(6):
        indices = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for i in indices:
            ref = layers[i - 1] if sweep % 2 == 0 else layers[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            current = {n: k for k, n in enumerate(layers[i])}

            def bary(n, pos=pos, current=current):
                ps = [pos[m] for m in neighbours.get(n, ()) if m in pos]
                return (sum(ps) / len(ps) if ps else current[n], key(n))
            layers[i] = sorted(layers[i], key=bary)
    return layers


# -- 1. lineage ------------------------------------------------------------------------------

LINEAGE_RELATIONS = {
    # relation: (label, colour, dash, arrow)
    PG + "revisionOf": ("revision of", "#1f5fa8", None, True),
    PG + "respondsTo": ("responds to", "#c2410c", "7 4", True),
    PG + "modelledOn": ("modelled on", "#2e7d32", "2 4", True),
    PG + "derivedFrom": ("derived from", "#5f6368", "10 4 2 4", True),
    PG + "draftOf": ("draft of", "#00838f", "12 4", True),
    PG + "comparedWith": ("compared with", "#7b3fa0", "4 3", False),
}
_OTHER_RELATION = ("related to", "#5f6368", "1 3", True)
DOCUMENT_CLASSES = {
    PG + "Counterproposal": ("counterproposal", "#fdf0dc", "#b26a00"),
    PG + "Communique": ("communiqué", "#eef3ea", "#4f7a3a"),
    PG + "PeacePlan": ("peace plan", "#e8f0fb", "#1f5fa8"),
}
_DOCUMENT = ("document", "#f1f3f4", "#5f6368")


def _relation_style(relation: str):
    return LINEAGE_RELATIONS.get(relation, _OTHER_RELATION)


def _line_sample(colour: str, dash: str | None, arrow: bool = False, width: float = 2.2):
    def draw(svg: _Svg, x: float, y: float) -> float:
        svg.el("line", x1=float(x), y1=float(y), x2=float(x + 30), y2=float(y), stroke=colour,
               stroke_width=width, stroke_dasharray=dash, stroke_linecap="round" if dash == "2 4" else None)
        if arrow:
            svg.el("path", d=f"M{_n(x)} {_n(y)} l7 -4 v8 z", fill=colour)
        return 34.0
    draw.width = 34
    return draw


def _transitive_reduction(derived: set[tuple[str, str]], others: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The derivedFrom edges not implied by a path of other derivation edges: the inferred
    closure of a transitive property says nothing a picture of the chain does not show."""
    graph: dict[str, set[str]] = {}
    for a, b in derived | others:
        graph.setdefault(a, set()).add(b)

    def reachable(a: str, b: str, skip: tuple[str, str]) -> bool:
        seen, stack = {a}, [a]
        while stack:
            node = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if (node, nxt) == skip or nxt in seen:
                    continue
                if nxt == b:
                    return True
                seen.add(nxt)
                stack.append(nxt)
        return False

    return {edge for edge in derived if edge not in others and not reachable(edge[0], edge[1], edge)}


def lineage_picture(rows: Iterable[dict], href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    """The documents as a layered drawing, earlier documents on the left, one arrow per relation
    (newer -> older), styled per relation and named in a legend. ``narrow`` (for phones) lists the
    documents one a row, earliest first, with the relations running up a gutter on the left.
    Rows: those of picture_lineage.rq."""
    labels, classes, points = _Labels(), {}, {}
    nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for row in rows:
        doc = _value(row.get("doc"))
        if not doc:
            continue
        nodes.add(doc)
        labels.add(doc, row.get("label"))
        cls = _value(row.get("class"))
        if cls in DOCUMENT_CLASSES:
            classes.setdefault(doc, set()).add(cls)
        if row.get("points") is not None:
            points.setdefault(doc, set()).add(_clean(_value(row.get("points"))))
        relation, other = _value(row.get("relation")), _value(row.get("other"))
        if relation and other and other != doc:
            nodes.add(other)
            edges.add((doc, relation, other))
    derived = {(a, b) for a, r, b in edges if r == PG + "derivedFrom"}
    # a draft is a version of its negotiated text, not derived from it
    other_derivations = {(a, b) for a, r, b in edges
                         if r not in (PG + "derivedFrom", PG + "comparedWith", PG + "draftOf")}
    kept_derived = _transitive_reduction(derived, other_derivations)
    edges = {e for e in edges if e[1] != PG + "derivedFrom" or (e[0], e[2]) in kept_derived}

    def doc_class(doc):
        for cls in DOCUMENT_CLASSES:  # most specific first
            if cls in classes.get(doc, ()):
                return DOCUMENT_CLASSES[cls]
        return _DOCUMENT

    def sort_key(doc):
        return (labels(doc).casefold(), doc)

    total = len(nodes)
    nodes = _most_connected(nodes, [(a, b) for a, _, b in edges], MAX_DOCUMENTS, sort_key)
    edges = {e for e in edges if e[0] in nodes and e[2] in nodes}
    shown = f"Showing the {len(nodes)} most connected of {total} documents." if total > len(nodes) else ""
    layer_of = _layers(sorted(nodes), sorted((a, b) for a, _, b in edges))
    count = max(layer_of.values(), default=-1) + 1
    layers = _order_layers([[n for n in nodes if layer_of[n] == i] for i in range(count)],
                           sorted((a, b) for a, _, b in edges), sort_key)

    size, small, line_h, pad, margin = 14, 12, 17, 9, 16
    svg = _Svg("lineage-narrow" if narrow else "lineage")
    styles = sorted({_relation_style(r) for _, r, _ in edges}, key=lambda s: s[0])
    marker_ids = {}
    svg.add("<defs>")
    for i, (label, colour, _, arrow) in enumerate(styles):
        if arrow:
            mid = f"pgpic-{svg.name}-arrow-{i}"
            marker_ids[label] = mid
            svg.add(f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                    f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>')
    svg.add("</defs>")

    def make_box(doc, box_w):
        lines = wrap(labels(doc), box_w - 2 * pad, size, 3, bold=True)
        count_text = "/".join(sorted(points.get(doc, ())))
        sub = doc_class(doc)[0] + (f" · {count_text} points" if count_text else "")
        return {"w": box_w, "h": pad * 2 + line_h * len(lines) + 16, "lines": lines,
                "sub": fit(sub, box_w - 2 * pad, small)}

    ordered = sorted(edges, key=lambda e: (e[0], e[2], e[1]))
    boxes: dict[str, dict] = {}
    drawn: list[tuple[str, tuple, tuple | None]] = []  # path data, style, label (x, y, rotated)
    if narrow:
        # one document a row, earliest first, full width; relations run up a gutter on the
        # left, each in its own lane, so the picture is no wider than a phone.
        sequence = [doc for layer in layers for doc in layer]
        row_of = {doc: i for i, doc in enumerate(sequence)}
        spans = sorted(ordered, key=lambda e: (abs(row_of[e[0]] - row_of[e[2]]), row_of[e[0]], e))
        lanes: list[list[tuple[int, int]]] = []
        lane_of = {}
        for e in spans:
            lo, hi = sorted((row_of[e[0]], row_of[e[2]]))
            for k, taken in enumerate(lanes):
                if all(hi < a or lo > b for a, b in taken):
                    taken.append((lo, hi))
                    lane_of[e] = k
                    break
            else:
                lanes.append([(lo, hi)])
                lane_of[e] = len(lanes) - 1
        # lanes narrow down (to 12) before the boxes do (to 220), so the picture stays within 390
        lane_w = min(18.0, max(12.0, (390 - 2 * margin - 14 - 220) / max(len(lanes), 1)))
        box_x = margin + lane_w * len(lanes) + 14
        box_w = max(220.0, 360 - box_x - margin)
        y = margin + 4.0
        for doc in sequence:
            boxes[doc] = make_box(doc, box_w)
            boxes[doc].update(x=box_x, y=y)
            y += boxes[doc]["h"] + 16
        width, height_nodes = box_x + box_w + margin, y - 16 + margin
        out_n = {d: sorted((e for e in ordered if e[0] == d), key=lambda e: (row_of[e[2]], e)) for d in nodes}
        in_n = {d: sorted((e for e in ordered if e[2] == d), key=lambda e: (row_of[e[0]], e)) for d in nodes}
        for e in ordered:
            a, rel, b = e
            ya = boxes[a]["y"] + boxes[a]["h"] * (out_n[a].index(e) + 1) / (len(out_n[a]) + len(in_n[a]) + 1)
            yb = boxes[b]["y"] + boxes[b]["h"] * (len(out_n[b]) + in_n[b].index(e) + 1) / (len(out_n[b]) + len(in_n[b]) + 1)
            lx = box_x - 14 - lane_w * lane_of[e] - lane_w / 2
            r = 6.0
            up = 1 if yb < ya else -1
            d = (f"M{_n(box_x)} {_n(ya)}H{_n(lx + r)}Q{_n(lx)} {_n(ya)} {_n(lx)} {_n(ya - up * r)}"
                 f"V{_n(yb + up * r)}Q{_n(lx)} {_n(yb)} {_n(lx + r)} {_n(yb)}H{_n(box_x)}")
            style = _relation_style(rel)
            length = abs(ya - yb) - 2 * r
            label_at = (lx, (ya + yb) / 2, True) if length > text_width(style[0], 11) + 12 else None
            drawn.append((d, style, label_at))
    else:
        box_w, gap_main, gap_cross = 196, 104, 22  # gap_main leaves room for the edge labels
        heights = []
        for layer in layers:
            for doc in layer:
                boxes[doc] = make_box(doc, box_w)
            heights.append(sum(boxes[d]["h"] for d in layer) + gap_cross * (len(layer) - 1))
        tallest = max(heights, default=0)
        x = float(margin)
        for layer, h in zip(layers, heights, strict=True):
            y = margin + 4 + (tallest - h) / 2
            for doc in layer:
                boxes[doc].update(x=x, y=y)
                y += boxes[doc]["h"] + gap_cross
            x += box_w + gap_main
        width, height_nodes = max(x - gap_main + margin, 340), margin + 4 + tallest + margin
        # an edge leaves the newer document on the side facing the older one, spread along each
        # side in the order of the other end, so edges do not cross at the boxes
        out_ports = {d: [e for e in ordered if e[0] == d] for d in nodes}
        in_ports = {d: [e for e in ordered if e[2] == d] for d in nodes}

        def port(doc, group, edge, other_end):
            items = sorted(group[doc], key=lambda e: (boxes[other_end(e)]["y"], e[1], other_end(e)))
            return boxes[doc]["y"] + boxes[doc]["h"] * (items.index(edge) + 1) / (len(items) + 1)

        for e in ordered:
            a, rel, b = e
            ba, bb = boxes[a], boxes[b]
            y1, y2 = port(a, out_ports, e, lambda e: e[2]), port(b, in_ports, e, lambda e: e[0])
            if ba["x"] > bb["x"]:
                x1, x2 = ba["x"], bb["x"] + bb["w"]
            elif ba["x"] < bb["x"]:
                x1, x2 = ba["x"] + ba["w"], bb["x"]
            else:  # same layer (a cycle was cut): loop out past the right side
                x1 = x2 = ba["x"] + ba["w"]
            bend = max(36.0, abs(x2 - x1) / 2) * (1 if x1 >= x2 else -1) if x1 != x2 else -40.0
            d = (f"M{_n(x1)} {_n(y1)}C{_n(x1 - bend)} {_n(y1)} {_n(x2 + bend)} {_n(y2)} {_n(x2)} {_n(y2)}")
            drawn.append((d, _relation_style(rel), ((x1 + x2) / 2 if x1 != x2 else x1 + 30, (y1 + y2) / 2, False)))

    for d, (label, colour, dash, arrow), _ in drawn:
        svg.el("path", d=d, fill="none", stroke=colour, stroke_width=2.2, stroke_dasharray=dash,
               stroke_linecap="round" if dash == "2 4" else None,
               marker_end=f"url(#{marker_ids[label]})" if arrow else None)
    for _, (label, colour, _, _), at in drawn:
        if at is None:
            continue
        mx, my, rotated = at
        w = text_width(label, 11) + 8
        turn = f"rotate(-90 {_n(mx)} {_n(my)})" if rotated else None
        svg.el("rect", x=mx - w / 2, y=my - 8.0, width=w, height=16.0, rx=3.0, fill="#ffffff",
               fill_opacity=0.92, transform=turn)
        svg.text(mx, my + 4, label, font_size=11, text_anchor="middle", fill=colour, transform=turn)

    for doc in sorted(boxes, key=lambda d: (boxes[d]["y"], boxes[d]["x"])):
        b = boxes[doc]
        _, fill, stroke = doc_class(doc)
        url = safe_href(href, doc)
        svg.open_link(url, labels(doc))
        svg.el("rect", x=float(b["x"]), y=float(b["y"]), width=float(b["w"]), height=float(b["h"]),
               rx=7.0, fill=fill, stroke=stroke, stroke_width=1.3, class_="pgpic-hl")
        ty = b["y"] + pad + 13
        for line in b["lines"]:
            svg.text(b["x"] + pad, ty, line, font_weight="bold", fill="#1a4f8b" if url else INK)
            ty += line_h
        svg.text(b["x"] + pad, ty + 2, b["sub"], font_size=small, fill=MUTED)
        svg.close_link(url)
    legend_y = height_nodes - 8
    items = [(label, _line_sample(colour, dash, arrow)) for label, colour, dash, arrow in styles]
    legend_h = _legend(svg, items, margin, legend_y, width - 2 * margin,
                       title="Arrows lead to an earlier or negotiated text") if items else 0
    legend_h += _note(svg, shown, margin, legend_y + legend_h, width - 2 * margin)
    height = legend_y + legend_h + margin

    alt_rows = []
    for a, rel, b in sorted(edges, key=lambda e: (sort_key(e[0]), _relation_style(e[1])[0], sort_key(e[2]))):
        alt_rows.append(((Link(labels(a), safe_href(href, a)),), (Link(_relation_style(rel)[0]),),
                         (Link(labels(b), safe_href(href, b)),)))
    linked = {a for a, _, _ in edges} | {b for _, _, b in edges}
    for doc in sorted(nodes - linked, key=sort_key):
        alt_rows.append(((Link(labels(doc), safe_href(href, doc)),), (Link("no recorded relation"),), ()))
    title = "Lineage of the documents"
    desc = (f"{len(nodes)} documents and {len(edges)} relations between them, earlier documents "
            f"{'first' if narrow else 'to the left'}; each arrow goes from a document to the one it is a revision of, responds to, is "
            "modelled on or derived from, or from a draft to the negotiated text it is a draft of, which "
            "stands before its drafts; compared-with lines join a draft to a document a source "
            f"measures it against. The same relations are listed in the table that follows. {shown}").strip()
    alt = TextAlternative(title, ("Document", "Relation", "Earlier or negotiated document"), tuple(alt_rows))
    return svg.render(width, height, title, desc), alt


# -- 2. actor network ------------------------------------------------------------------------

ACTOR_RELATIONS = {
    # relation as the query names it: (label, colour, dash, width)
    "drafted": ("drafted", "#1f5fa8", None, 2.4),
    "backed": ("backed", "#1f5fa8", "6 3", 1.6),
    "took part in": ("took part in", "#2e7d32", None, 1.6),
    "spoke about": ("spoke about", "#c2410c", "2 3", 1.8),
    "held a stance on": ("stance on", "#7b3fa0", "7 3", 1.6),
    "assessed": ("assessed", "#5f6368", "8 3 2 3", 1.4),
    "affiliated with": ("affiliated with", "#8a6d00", None, 1.2),
}
_OTHER_ACTOR_RELATION = ("related to", "#5f6368", "1 3", 1.2)
ACTOR_GROUPS = [(PG + "Person", "People"), (PG + "Organization", "Organisations"), (PG + "Group", "Groups"),
                (PG + "SourceText", "Source texts")]
THING_GROUPS = [(PG + "Document", "Documents"), (PG + "Provision", "Provisions"), (PG + "Event", "Events"),
                (PG + "Place", "Places"), (SKOS_CONCEPT, "Topics")]


def _marker(svg: _Svg, kind: str, x: float, y: float, colour: str) -> None:
    """A small shape per kind of node, so kinds differ in more than colour."""
    if kind == PG + "Person":
        svg.el("circle", cx=float(x), cy=float(y), r=5.5, fill=colour)
    elif kind == PG + "Organization":
        svg.el("rect", x=x - 5.0, y=y - 5.0, width=10.0, height=10.0, fill=colour)
    elif kind == PG + "Group":
        svg.el("path", d=f"M{_n(x)} {_n(y - 6)}L{_n(x + 6)} {_n(y + 5)}L{_n(x - 6)} {_n(y + 5)}z", fill=colour)
    elif kind == PG + "Document":
        svg.el("rect", x=x - 4.5, y=y - 6.0, width=9.0, height=12.0, fill=colour)
    elif kind == PG + "SourceText":
        svg.el("rect", x=x - 4.5, y=y - 6.0, width=9.0, height=12.0, fill="#ffffff", stroke=colour, stroke_width=2.0)
    elif kind == PG + "Provision":
        svg.el("rect", x=x - 4.5, y=y - 4.5, width=9.0, height=9.0, fill="#ffffff", stroke=colour, stroke_width=2.0)
    elif kind == PG + "Event":
        svg.el("path", d=f"M{_n(x)} {_n(y - 6)}L{_n(x + 6)} {_n(y)}L{_n(x)} {_n(y + 6)}L{_n(x - 6)} {_n(y)}z", fill=colour)
    else:
        svg.el("circle", cx=float(x), cy=float(y), r=5.0, fill="#ffffff", stroke=colour, stroke_width=2.0)


def actor_network_picture(rows: Iterable[dict], href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    """Actors on the left (people, organisations, groups, and source texts that hold a view of
    their own), what they drafted, backed, took part in, spoke about, held stances on or assessed
    on the right, one line per relation styled per kind with a legend; relations between two
    actors (affiliation, an assessment of an actor) are arcs between the actors. ``narrow`` packs
    the columns for phones. Rows: those of picture_actors.rq."""
    labels = _Labels()
    kinds: dict[str, set[str]] = {}
    edges: set[tuple[str, str, str]] = set()
    actors: set[str] = set()
    for row in rows:
        actor, relation, thing = _value(row.get("actor")), _clean(_value(row.get("relation"))), _value(row.get("thing"))
        if not actor or not thing or not relation or actor == thing:
            continue
        actors.add(actor)
        labels.add(actor, row.get("actorLabel"))
        labels.add(thing, row.get("thingLabel"))
        if row.get("actorClass") is not None:
            kinds.setdefault(actor, set()).add(_value(row.get("actorClass")))
        if row.get("thingClass") is not None:
            kinds.setdefault(thing, set()).add(_value(row.get("thingClass")))
        edges.add((actor, relation, thing))
    for _, _, thing in edges:
        if PG + "Actor" in kinds.get(thing, ()) or thing in actors:
            actors.add(thing)
    things = {t for _, _, t in edges} - actors

    def sort_key(node):
        return (labels(node).casefold(), node)

    links = [(a, t) for a, _, t in edges]
    total_actors, total_things = len(actors), len(things)
    actors = _most_connected(actors, links, MAX_ACTORS, sort_key)
    things = _most_connected(things, links, MAX_THINGS, sort_key)
    edges = {e for e in edges if e[0] in actors and (e[2] in actors or e[2] in things)}
    shown = (f"Showing the {len(actors)} most connected of {total_actors} actors and {len(things)} of "
             f"{total_things} things they acted on." if (total_actors, total_things) != (len(actors), len(things)) else "")

    def group_of(node: str, groups) -> int:
        found = kinds.get(node, set())
        for i, (cls, _) in enumerate(groups):
            if cls in found:
                return i
        return len(groups)

    # order each column by groups, and within a group by the barycentre of its neighbours
    neighbours: dict[str, list[str]] = {}
    for a, _, t in sorted(edges):
        neighbours.setdefault(a, []).append(t)
        neighbours.setdefault(t, []).append(a)
    left_groups = ACTOR_GROUPS + [(None, "Other actors")]
    right_groups = THING_GROUPS + [(None, "Other")]
    left = [sorted((n for n in actors if group_of(n, ACTOR_GROUPS) == i), key=sort_key) for i in range(len(left_groups))]
    right = [sorted((n for n in things if group_of(n, THING_GROUPS) == i), key=sort_key) for i in range(len(right_groups))]
    for sweep in range(8):
        fixed, moving = (left, right) if sweep % 2 == 0 else (right, left)
        pos = {n: k for k, n in enumerate(n for g in fixed for n in g)}
        for g, members in enumerate(moving):
            current = {n: k for k, n in enumerate(members)}

            def bary(n, pos=pos, current=current):
                ps = [pos[m] for m in neighbours.get(n, ()) if m in pos]
                return (sum(ps) / len(ps) if ps else current[n], sort_key(n))
            moving[g] = sorted(members, key=bary)

    size, line_h, margin = (13, 16, 12) if narrow else (14, 17, 12)
    left_w, right_w, gap = (112.0, 140.0, 78.0) if narrow else (170.0, 250.0, 230.0)
    max_lines = 3 if narrow else 2
    x_left = margin + left_w + 10
    x_right = x_left + gap
    width = x_right + 10 + right_w + margin
    place: dict[str, float] = {}

    def column(groups, names, label_w):
        y = 40.0
        out = []
        for (cls, heading), members in zip(groups, names, strict=True):
            if not members:
                continue
            out.append(("heading", heading, y + 14))
            y += 24
            for node in members:
                lines = wrap(labels(node), label_w, size, max_lines)
                h = 8 + line_h * len(lines)
                place[node] = y + h / 2
                out.append(("node", node, y, lines, cls))
                y += h + 2
            y += 8
        return out, y

    left_items, left_end = column(left_groups, left, left_w)
    right_items, right_end = column(right_groups, right, right_w)
    height_nodes = max(left_end, right_end)
    # the shorter column is centred against the longer, so lines run as level as they can
    for items, end in ((left_items, left_end), (right_items, right_end)):
        shift = (height_nodes - end) / 2
        for k, item in enumerate(items):
            if item[0] == "heading":
                items[k] = (item[0], item[1], item[2] + shift)
            else:
                items[k] = item[:2] + (item[2] + shift,) + item[3:]
                place[item[1]] += shift

    svg = _Svg("actors-narrow" if narrow else "actors")
    svg.text(x_left, 18, "Actors", font_weight="bold", text_anchor="end", font_size=14)
    svg.text(x_right, 18, "Acted on", font_weight="bold", font_size=14)
    # parallel edges between the same two nodes fan out a little at both ends
    pairs: dict[tuple[str, str], list[str]] = {}
    for a, rel, t in sorted(edges):
        pairs.setdefault((a, t), []).append(rel)
    for (a, t), rels in sorted(pairs.items()):
        for i, rel in enumerate(rels):
            _, colour, dash, w = ACTOR_RELATIONS.get(rel, _OTHER_ACTOR_RELATION)
            off = (i - (len(rels) - 1) / 2) * 4
            y1, y2 = place[a] + off, place[t] + off
            if t in actors:  # actor to actor: an arc into the middle
                bulge = min(gap - 14, 26 + abs(y2 - y1) * 0.25)
                d = (f"M{_n(x_left + 6)} {_n(y1)}C{_n(x_left + bulge)} {_n(y1)} {_n(x_left + bulge)} {_n(y2)} "
                     f"{_n(x_left + 6)} {_n(y2)}")
            else:
                mid = (x_left + x_right) / 2
                d = f"M{_n(x_left + 6)} {_n(y1)}C{_n(mid)} {_n(y1)} {_n(mid)} {_n(y2)} {_n(x_right - 6)} {_n(y2)}"
            svg.el("path", d=d, fill="none", stroke=colour, stroke_width=w, stroke_dasharray=dash,
                   stroke_opacity=0.75, stroke_linecap="round" if dash == "2 3" else None)

    for items, anchor_x, side in ((left_items, x_left, "end"), (right_items, x_right, "start")):
        for item in items:
            if item[0] == "heading":
                svg.text(anchor_x + (-12 if side == "end" else 12), item[2], item[1], font_size=12,
                         fill=MUTED, text_anchor=side, font_weight="bold", letter_spacing="0.04em")
                continue
            _, node, y, lines, cls = item
            url = safe_href(href, node)
            svg.open_link(url, labels(node))
            tx = anchor_x + (-12 if side == "end" else 12)
            tw = max(text_width(line, size) for line in lines)
            svg.el("rect", x=(tx - tw - 3 if side == "end" else tx - 3), y=float(y), width=tw + 6,
                   height=float(8 + line_h * len(lines)), fill="#ffffff", fill_opacity=0.0, class_="pgpic-hl",
                   rx=3.0)
            _marker(svg, cls or "", anchor_x, place[node], "#37474f" if side == "end" else "#5f6368")
            ty = y + 4 + 12
            for line in lines:
                svg.text(tx, ty, line, text_anchor=side, fill="#1a4f8b" if url else INK)
                ty += line_h
            svg.close_link(url)

    used = sorted({rel for _, rel, _ in edges}, key=lambda r: list(ACTOR_RELATIONS).index(r)
                  if r in ACTOR_RELATIONS else len(ACTOR_RELATIONS))
    items = []
    for rel in used:
        label, colour, dash, w = ACTOR_RELATIONS.get(rel, _OTHER_ACTOR_RELATION)
        items.append((label if rel in ACTOR_RELATIONS else fit(rel, 120, 13), _line_sample(colour, dash, width=w + 0.6)))
    legend_h = _legend(svg, items, margin, height_nodes + 6, width - 2 * margin) if items else 0
    legend_h += _note(svg, shown, margin, height_nodes + 6 + legend_h, width - 2 * margin)
    height = height_nodes + 6 + legend_h + margin

    alt_rows = tuple(((Link(labels(a), safe_href(href, a)),),
                      (Link(ACTOR_RELATIONS.get(rel, (rel,))[0]),),
                      (Link(labels(t), safe_href(href, t)),))
                     for a, rel, t in sorted(edges, key=lambda e: (sort_key(e[0]), e[1], sort_key(e[2]))))
    title = "Actor network"
    sources = sum(1 for a in actors if PG + "SourceText" in kinds.get(a, ()))
    among = f" (of them {sources} source {'text' if sources == 1 else 'texts'} holding a view)" if sources else ""
    desc = (f"{len(actors)} actors{among} on the left and {len(things)} documents, provisions, events and topics "
            f"on the right, joined by {len(edges)} relations: who drafted or backed a document, took "
            "part in an event, spoke about something, held a stance on it or assessed it; arcs join "
            f"actors to actors. The same relations are listed in the table that follows. {shown}").strip()
    return (svg.render(width, height, title, desc),
            TextAlternative(title, ("Actor", "Relation", "Thing"), alt_rows))


# -- 3. stance map ---------------------------------------------------------------------------

POSITIONS = {
    # position: (label, letter, fill, text colour)
    PG + "Supports": ("supports", "S", "#1a7f37", "#ffffff"),
    PG + "ConditionallySupports": ("conditionally supports", "CS", "#8fd19e", "#0b3d18"),
    PG + "OpenTo": ("open to", "O", "#cfe3f7", "#123a63"),
    PG + "Doubts": ("doubts", "D", "#f7dc7a", "#4d3b00"),
    PG + "Criticizes": ("criticizes", "Cr", "#f29b5c", "#4a1c00"),
    PG + "Rejects": ("rejects", "R", "#b3261e", "#ffffff"),
}
TARGET_GROUPS = [(PG + "Document", "Documents"), (PG + "Provision", "Provisions"), (PG + "Event", "Events"),
                 (SKOS_CONCEPT, "Topics")]


@dataclass(frozen=True)
class _GridRow:
    target: str
    y: float
    h: float
    lines: list
    group: int
    cells_y: float
    label_y: float


def _position(position: str) -> tuple[str, str, str, str]:
    if position in POSITIONS:
        return POSITIONS[position]
    return (_fallback_label(position), "?", "#e0e0e0", INK)


def stance_map_picture(rows: Iterable[dict], href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    """A grid of targets (rows: documents, provisions, events, topics) by holders (columns); each
    cell holds the holder's stances on the target, coloured by position and marked with its
    letter, linking to the stance; a source text that takes a stance itself is a column after the
    actors, named "source: " and its title. ``narrow`` puts each target's name above its row, for
    phones. Rows: those of picture_stances.rq."""
    labels = _Labels()
    kinds: dict[str, set[str]] = {}
    sources: set[str] = set()
    stances: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        stance, holder, target = _value(row.get("stance")), _value(row.get("holder")), _value(row.get("target"))
        position = _value(row.get("position"))
        if not (stance and holder and target and position):
            continue
        labels.add(stance, row.get("stanceLabel"))
        labels.add(holder, row.get("holderLabel"))
        labels.add(target, row.get("targetLabel"))
        if row.get("targetClass") is not None:
            kinds.setdefault(target, set()).add(_value(row.get("targetClass")))
        if _value(row.get("holderClass")) == PG + "SourceText":
            sources.add(holder)
        # a stance with several positions or targets (bad data) keeps the first in a fixed order
        key = (holder, target, position)
        if stance not in stances or key < stances[stance]:
            stances[stance] = key

    def sort_key(node):
        return (labels(node).casefold(), node)

    def holder_name(holder):
        # a title alone would read as the name of an actor
        return f"source: {labels(holder)}" if holder in sources else labels(holder)

    def holder_key(holder):
        return (holder in sources,) + sort_key(holder)

    def group_of(node):
        for i, (cls, _) in enumerate(TARGET_GROUPS):
            if cls in kinds.get(node, ()):
                return i
        return len(TARGET_GROUPS)

    total = len(stances)
    pairs = [(h, t) for h, t, _ in stances.values()]
    keep_holders = _most_connected({h for h, _ in pairs}, pairs, MAX_HOLDERS, sort_key)
    keep_targets = _most_connected({t for _, t in pairs}, pairs, MAX_TARGETS, sort_key)
    stances = {s: v for s, v in stances.items() if v[0] in keep_holders and v[1] in keep_targets}
    shown = (f"Showing the {len(stances)} stances of the most active {len(keep_holders)} holders on the "
             f"{len(keep_targets)} most discussed targets, of {total} stances." if total > len(stances) else "")
    holders = sorted({h for h, _, _ in stances.values()}, key=holder_key)
    targets = sorted({t for _, t, _ in stances.values()}, key=lambda t: (group_of(t), sort_key(t)))
    cells: dict[tuple[str, str], list[str]] = {}
    for stance, (h, t, _) in sorted(stances.items(), key=lambda kv: (kv[1], kv[0])):
        cells.setdefault((h, t), []).append(stance)

    size, line_h, margin, cell = 13, 16, 12, 34.0
    # wide: target names left of their row, holder names slanted above the columns; narrow (for
    # phones): target names on a line above their row and holder names upright, so the grid is
    # no wider than its cells.
    slant = 90 if narrow else 55
    header_lines = {h: fit(holder_name(h), 176, size) for h in holders}
    header_h = max((text_width(t, size) for t in header_lines.values()), default=40) * math.sin(math.radians(slant)) + 22
    grid_w = cell * len(holders)
    row_label_w = max(grid_w, 200.0) if narrow else 196.0
    grid_x = margin if narrow else margin + row_label_w + 8
    grid_y = margin + header_h
    row_geo = []
    y = grid_y
    last_group = None
    for t in targets:
        g = group_of(t)
        if g != last_group:
            y += 6 if last_group is not None else 0
            last_group = g
        lines = wrap(labels(t), row_label_w - 8, size, 2)
        label_h = line_h * len(lines) + 4
        if narrow:
            h, cells_y, label_y = label_h + cell, y + label_h, y + 14
        else:
            h = max(cell, label_h + 2)
            cells_y, label_y = y + (h - cell) / 2, y + (h - line_h * len(lines)) / 2 + 12
        row_geo.append(_GridRow(t, y, h, lines, g, cells_y, label_y))
        y += h
    grid_bottom = y
    overhang = 0 if narrow else max((text_width(t, size) * math.cos(math.radians(slant))
                                     for t in header_lines.values()), default=0)
    right = max(grid_x + grid_w, margin + row_label_w if narrow else 0)
    width = max(right + overhang + margin, 320)

    svg = _Svg("stances-narrow" if narrow else "stances")
    for i, h in enumerate(holders):
        cx = grid_x + cell * i + cell / 2
        url = safe_href(href, h)
        svg.open_link(url, holder_name(h))
        tx = cx + (4 if narrow else 4)
        svg.el("text", _esc(header_lines[h]), x=float(tx), y=grid_y - 8.0,
               transform=f"rotate(-{slant} {_n(tx)} {_n(grid_y - 8)})", fill="#1a4f8b" if url else INK,
               font_style="italic" if h in sources else None)
        svg.close_link(url)
    for k, row in enumerate(row_geo):
        if k % 2 == 0:
            svg.el("rect", x=float(margin), y=float(row.y), width=right - margin, height=float(row.h), fill="#f1f3f4")
        url = safe_href(href, row.target)
        svg.open_link(url, labels(row.target))
        text_y = row.label_y
        for line in row.lines:
            svg.text(margin + 4, text_y, line, fill="#1a4f8b" if url else INK)
            text_y += line_h
        svg.close_link(url)
    seen_groups = set()
    for row in row_geo:
        if row.group not in seen_groups:
            seen_groups.add(row.group)
            svg.el("line", x1=float(margin), y1=float(row.y), x2=float(right), y2=float(row.y), stroke=LINE,
                   stroke_width=1.0)
    rules = "".join(f"M{_n(grid_x + cell * i)} {_n(row.cells_y)}v{_n(cell)}"
                    for row in row_geo for i in range(len(holders) + 1))
    if rules:
        svg.el("path", d=rules, stroke="#e3e5e8", stroke_width=1.0)
    for row in row_geo:
        t, cells_y = row.target, row.cells_y
        for i, holder in enumerate(holders):
            found = cells.get((holder, t), [])
            for j, stance in enumerate(found):
                part = (cell - 4) / len(found)
                x = grid_x + cell * i + 2 + part * j
                label, letter, fill, ink = _position(stances[stance][2])
                url = safe_href(href, stance)
                svg.open_link(url, f"{labels(stance)} ({holder_name(holder)} {label} {labels(t)})")
                svg.el("rect", x=x, y=cells_y + 2, width=part - (1 if len(found) > 1 else 0),
                       height=cell - 4, rx=4.0, fill=fill, class_="pgpic-hl")
                svg.text(x + part / 2, cells_y + cell / 2 + 4.5, letter, text_anchor="middle", font_weight="bold",
                         font_size=12 if len(letter) > 1 or len(found) > 1 else 13, fill=ink)
                svg.close_link(url)

    used = sorted({stances[s][2] for s in stances},
                  key=lambda p: (list(POSITIONS).index(p) if p in POSITIONS else len(POSITIONS), p))
    items = []
    for position in used:
        label, letter, fill, ink = _position(position)

        def sample(svg, x, y, letter=letter, fill=fill, ink=ink):
            svg.el("rect", x=float(x), y=y - 10.0, width=28.0, height=20.0, rx=4.0, fill=fill)
            svg.text(x + 14, y + 4.5, letter, text_anchor="middle", font_weight="bold", font_size=12, fill=ink)
            return 28.0
        sample.width = 28
        items.append((fit(label, 200, 13), sample))
    legend_h = _legend(svg, items, margin, grid_bottom + 12, width - 2 * margin, title="Position") if items else 0
    legend_h += _note(svg, shown, margin, grid_bottom + 12 + legend_h, width - 2 * margin)
    height = grid_bottom + 12 + legend_h + margin

    alt_rows = tuple(((Link(holder_name(h), safe_href(href, h)),), (Link(_position(p)[0]),),
                      (Link(labels(t), safe_href(href, t)),), (Link(labels(s), safe_href(href, s)),))
                     for s, (h, t, p) in sorted(stances.items(), key=lambda kv: (holder_key(kv[1][0]), sort_key(kv[1][1]), kv[0])))
    title = "Stance map"
    shown_sources = sum(1 for h in holders if h in sources)
    last = (f", the last {'one' if shown_sources == 1 else shown_sources} a source text taking a stance itself"
            if shown_sources else "")
    desc = (f"{len(stances)} stances of {len(holders)} holders (columns{last}) on {len(targets)} documents, "
            "provisions, events and topics (rows); each cell is coloured by the position and marked "
            "with its letter (S supports, CS conditionally supports, O open to, D doubts, Cr criticizes, "
            f"R rejects) and links to the stance. The same stances are listed in the table that follows. {shown}").strip()
    return (svg.render(width, height, title, desc),
            TextAlternative(title, ("Holder", "Position", "Target", "Stance"), alt_rows))


# -- 4. sequence of events -------------------------------------------------------------------

EVENT_KINDS = {PG + "Negotiation": "talks", PG + "Strike": "strike"}
_DATE = re.compile(r"-?\d{4,}(-\d{2}(-\d{2})?)?")


def _chips(items: list[tuple[str, str]], width: float, size: float) -> list[list[tuple[str, str, float]]]:
    """Labelled chips (iri, text) flowed into lines of ``width``: [(iri, text, chip width)]."""
    lines: list[list] = [[]]
    used = 0.0
    for iri, text in items:
        text = fit(text, width - 30, size)
        w = text_width(text, size) + 13
        if lines[-1] and used + w > width:
            lines.append([])
            used = 0.0
        lines[-1].append((iri, text, w))
        used += w + 6
    return [line for line in lines if line]


def event_sequence_picture(rows: Iterable[dict], href: Href) -> tuple[str, TextAlternative]:
    """The events down a time line: dated events first, by date; then the undated ones, marked
    as such, in the order the sources first mention them. Each event shows its kind, whether it
    was only planned, its participants and its places, all linked. Rows: those of
    picture_events.rq."""
    labels = _Labels()
    events: dict[str, dict] = {}
    for row in rows:
        event = _value(row.get("event"))
        if not event:
            continue
        e = events.setdefault(event, {"kinds": set(), "dates": set(), "planned": False, "mentioned": None,
                                      "participant": set(), "place": set()})
        labels.add(event, row.get("label"))
        cls = _value(row.get("class"))
        if cls in EVENT_KINDS:
            e["kinds"].add(EVENT_KINDS[cls])
        date = _clean(_value(row.get("date")))
        if date and _DATE.fullmatch(date):
            e["dates"].add(date)
        if _value(row.get("planned")).lower() in ("true", "1"):
            e["planned"] = True
        mentioned = _value(row.get("mentioned"))
        if mentioned.isdigit() and (e["mentioned"] is None or int(mentioned) < e["mentioned"]):
            e["mentioned"] = int(mentioned)
        role, thing = _value(row.get("role")), _value(row.get("thing"))
        if role in ("participant", "place") and thing:
            e[role].add(thing)
            labels.add(thing, row.get("thingLabel"))

    def sort_key(node):
        return (labels(node).casefold(), node)

    def order(event):
        e = events[event]
        date = min(e["dates"]) if e["dates"] else None
        return (date is None, date or "", e["mentioned"] if e["mentioned"] is not None else math.inf,
                sort_key(event))

    ordered = sorted(events, key=order)[:MAX_EVENTS]
    crowded = any(len(events[ev][role]) > MAX_PER_EVENT for ev in ordered for role in ("participant", "place"))
    shown = " ".join(filter(None, [
        f"Showing the first {len(ordered)} of {len(events)} events." if len(events) > len(ordered) else "",
        f"At most {MAX_PER_EVENT} participants and places an event." if crowded else ""]))
    for ev in ordered:
        for role in ("participant", "place"):
            if len(events[ev][role]) > MAX_PER_EVENT:
                events[ev][role] = set(sorted(events[ev][role], key=sort_key)[:MAX_PER_EVENT])
    line_h, margin = 18, 12
    axis_x = 92.0
    content_x = axis_x + 20
    content_w = 284.0
    width = content_x + content_w + margin
    svg = _Svg("events")
    layout = []
    y = margin + 8.0
    for event in ordered:
        e = events[event]
        title_lines = wrap(labels(event), content_w, 15, 3, bold=True)
        tags = sorted(e["kinds"]) or ["event"]
        if e["planned"]:
            tags.append("planned")
        people = _chips(sorted(((p, labels(p)) for p in e["participant"]), key=lambda c: sort_key(c[0])),
                        content_w - 24, 12.5)
        places = _chips(sorted(((p, labels(p)) for p in e["place"]), key=lambda c: sort_key(c[0])),
                        content_w - 24, 12.5)
        h = line_h * len(title_lines) + 22 + 26 * (len(people) + len(places)) + 18
        layout.append((event, y, h, title_lines, tags, people, places))
        y += h
    height_items = y
    svg.el("line", x1=axis_x, y1=margin + 4.0, x2=axis_x, y2=height_items - 18, stroke=LINE, stroke_width=3.0,
           stroke_linecap="round")

    first_undated = next((ev for ev in ordered if not events[ev]["dates"]), None)
    for event, top, _, title_lines, tags, people, places in layout:
        e = events[event]
        dated = bool(e["dates"])
        mark_y = top + 13
        # the date, or a mark that the sources give none
        if dated:
            svg.text(axis_x - 16, mark_y + 5, min(e["dates"]), text_anchor="end", font_weight="bold", font_size=13)
        else:
            svg.text(axis_x - 16, mark_y + 5, "undated", text_anchor="end", font_style="italic", font_size=13,
                     fill=MUTED)
        if event == first_undated and any(events[ev]["dates"] for ev in ordered):
            svg.el("line", x1=float(margin), y1=top - 6.0, x2=width - margin, y2=top - 6.0, stroke=LINE,
                   stroke_dasharray="3 3")
        colour = "#b3261e" if "strike" in tags else "#1f5fa8"
        if e["planned"] or not dated:
            svg.el("circle", cx=axis_x, cy=float(mark_y), r=7.0, fill="#ffffff", stroke=colour, stroke_width=2.5,
                   stroke_dasharray="3 2" if e["planned"] else None)
        else:
            svg.el("circle", cx=axis_x, cy=float(mark_y), r=7.0, fill=colour)
        url = safe_href(href, event)
        svg.open_link(url, labels(event))
        ty = top + 18
        for line in title_lines:
            svg.text(content_x, ty, line, font_weight="bold", font_size=15, fill="#1a4f8b" if url else INK)
            ty += line_h
        svg.close_link(url)
        tx = content_x
        for tag in tags:
            w = text_width(tag, 11.5) + 12
            svg.el("rect", x=tx, y=ty - 9.0, width=w, height=18.0, rx=9.0,
                   fill="#fbe9e7" if tag == "strike" else "#fff4d6" if tag == "planned" else "#eef3fb",
                   stroke="#b3261e" if tag == "strike" else "#b58900" if tag == "planned" else "#9db6d9",
                   stroke_width=1.0, stroke_dasharray="3 2" if tag == "planned" else None)
            svg.text(tx + w / 2, ty + 4, tag, text_anchor="middle", font_size=11.5, fill=INK)
            tx += w + 6
        ty += 20
        for chips, icon in ((people, "person"), (places, "place")):
            for k, line in enumerate(chips):
                if k == 0:
                    _chip_icon(svg, icon, content_x + 8, ty + 4)
                cx = content_x + 24
                for iri, text, w in line:
                    curl = safe_href(href, iri)
                    svg.open_link(curl, labels(iri))
                    svg.el("rect", x=cx, y=ty - 7.0, width=w, height=22.0, rx=11.0, fill="#ffffff",
                           stroke="#c9ccd1", stroke_width=1.0, class_="pgpic-hl")
                    svg.text(cx + 8, ty + 8.5, text, font_size=12.5, fill="#1a4f8b" if curl else INK)
                    svg.close_link(curl)
                    cx += w + 6
                ty += 26

    legend_y = height_items
    items = [("took place", _dot_sample(True, False)), ("undated", _dot_sample(False, False)),
             ("planned", _dot_sample(False, True)), ("participants", _icon_sample("person")),
             ("places", _icon_sample("place"))]
    legend_h = _legend(svg, items, margin, legend_y, width - 2 * margin)
    legend_h += _note(svg, shown, margin, legend_y + legend_h, width - 2 * margin)
    height = legend_y + legend_h + margin

    alt_rows = []
    for event in ordered:
        e = events[event]
        when = min(e["dates"]) if e["dates"] else "undated"
        if e["planned"]:
            when += " (planned)"
        alt_rows.append(((Link(labels(event), safe_href(href, event)),), (Link(when),),
                         tuple(Link(labels(p), safe_href(href, p)) for p in sorted(e["participant"], key=sort_key)),
                         tuple(Link(labels(p), safe_href(href, p)) for p in sorted(e["place"], key=sort_key))))
    dated = sum(1 for ev in ordered if events[ev]["dates"])
    title = "Sequence of events"
    desc = (f"{len(ordered)} events down a time line, {dated} with a date the sources give, the others "
            "marked undated and in the order the sources first mention them; each with its kind, its "
            f"participants and its places. The same events are listed in the table that follows. {shown}").strip()
    return (svg.render(width, height, title, desc),
            TextAlternative(title, ("Event", "Date", "Participants", "Places"), tuple(alt_rows)))


def _chip_icon(svg: _Svg, icon: str, x: float, y: float) -> None:
    if icon == "person":
        svg.el("circle", cx=float(x), cy=y - 4.0, r=3.5, fill=MUTED)
        svg.el("path", d=f"M{_n(x - 6)} {_n(y + 6)}a6 6 0 0 1 12 0z", fill=MUTED)
    else:  # a map pin
        svg.el("path", d=f"M{_n(x)} {_n(y + 7)}C{_n(x - 7)} {_n(y - 1)} {_n(x - 6)} {_n(y - 9)} {_n(x)} {_n(y - 9)}"
               f"C{_n(x + 6)} {_n(y - 9)} {_n(x + 7)} {_n(y - 1)} {_n(x)} {_n(y + 7)}z", fill=MUTED)
        svg.el("circle", cx=float(x), cy=y - 3.0, r=2.2, fill="#ffffff")


def _dot_sample(filled: bool, planned: bool):
    def draw(svg: _Svg, x: float, y: float) -> float:
        if filled:
            svg.el("circle", cx=x + 8.0, cy=float(y), r=7.0, fill="#1f5fa8")
        else:
            svg.el("circle", cx=x + 8.0, cy=float(y), r=7.0, fill="#ffffff", stroke="#1f5fa8", stroke_width=2.5,
                   stroke_dasharray="3 2" if planned else None)
        return 16.0
    draw.width = 16
    return draw


def _icon_sample(icon: str):
    def draw(svg: _Svg, x: float, y: float) -> float:
        _chip_icon(svg, icon, x + 7, y)
        return 14.0
    draw.width = 14
    return draw


# -- fetching -----------------------------------------------------------------------------------

def picture_rows(site, name: str) -> list[dict]:
    """The rows of stored query server/queries/{name}.rq, run through ``site.run`` (the server's
    Site, or anything with the same ``run(text, bindings=...)`` returning variables and rows)."""
    result = site.run(page_query(name))
    return [dict(zip(result.variables, row, strict=True)) for row in result.rows]


def lineage(site, href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    return lineage_picture(picture_rows(site, "picture_lineage"), href, narrow)


def actor_network(site, href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    return actor_network_picture(picture_rows(site, "picture_actors"), href, narrow)


def stance_map(site, href: Href, narrow: bool = False) -> tuple[str, TextAlternative]:
    return stance_map_picture(picture_rows(site, "picture_stances"), href, narrow)


def event_sequence(site, href: Href) -> tuple[str, TextAlternative]:
    return event_sequence_picture(picture_rows(site, "picture_events"), href)
