// Select to quote: on a source text's page, selecting words offers the evidence to paste into a
// graph file — pg:quote with the text's own characters, pg:prefix / pg:suffix (the fewest words
// around it) when the words occur more than once, and pg:source — chosen so that the build's
// anchorer (peacegraph.anchor) finds exactly the selected place. The matching rules mirror the
// anchorer's: a quote starts and ends at word boundaries, exact occurrences count, and prefix
// and suffix are compared folded (typographic quotes, dashes and white space).
(function () {
  "use strict";

  var MAX_WORDS = 12;
  var FOLD = {};
  "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4".split("").forEach(function (c) { FOLD[c] = "'"; });
  "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb".split("").forEach(function (c) { FOLD[c] = '"'; });
  "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d".split("").forEach(function (c) { FOLD[c] = "-"; });
  var SPACE = /[\t\n\r\u000b\u000c \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
  var IGNORED = /[\u00ad\u200b\u200c\u200d\u2060\ufeff]/g;

  function fold(s) {
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      out += SPACE.test(c) ? " " : (FOLD[c] || c);
    }
    return out.replace(IGNORED, "").replace(/ {2,}/g, " ").trim();
  }

  function isWord(c) { return c !== undefined && /[\p{L}\p{N}_]/u.test(c); }

  function boundary(text, i) { return i === 0 || !isWord(text[i]) || !isWord(text[i - 1]); }

  function occurrences(text, quote) {
    var hits = [];
    for (var i = text.indexOf(quote); i !== -1; i = text.indexOf(quote, i + 1)) {
      if (boundary(text, i)) hits.push(i);
    }
    return hits;
  }

  // the k words before `at` (or after `at`, forward), as written in the text
  function wordsBefore(text, at, k) {
    var i = at;
    for (var n = 0; n < k && i > 0; n++) {
      while (i > 0 && !isWord(text[i - 1])) i--;
      while (i > 0 && isWord(text[i - 1])) i--;
    }
    return text.slice(i, at).trim();
  }

  function wordsAfter(text, at, k) {
    var i = at;
    for (var n = 0; n < k && i < text.length; n++) {
      while (i < text.length && !isWord(text[i])) i++;
      while (i < text.length && isWord(text[i])) i++;
    }
    return text.slice(at, i).trim();
  }

  function fitsPrefix(text, start, prefix) {
    return fold(text.slice(Math.max(0, start - prefix.length - 8), start)).endsWith(fold(prefix));
  }

  function fitsSuffix(text, end, suffix) {
    return fold(text.slice(end, end + suffix.length + 8)).startsWith(fold(suffix));
  }

  // the evidence that anchors at [start, end): {quote, prefix, suffix, occurrence}
  function evidence(text, start, end) {
    var quote = text.slice(start, end);
    var hits = occurrences(text, quote);
    if (hits.length <= 1) return { quote: quote };
    for (var k = 1; k <= MAX_WORDS; k++) {
      var prefix = wordsBefore(text, start, k);
      var suffix = wordsAfter(text, end, k);
      var tries = [{ prefix: prefix }, { suffix: suffix }, { prefix: prefix, suffix: suffix }];
      for (var t = 0; t < tries.length; t++) {
        var c = tries[t];
        if ((c.prefix !== undefined && !c.prefix) || (c.suffix !== undefined && !c.suffix)) continue;
        var left = hits.filter(function (h) {
          return (c.prefix === undefined || fitsPrefix(text, h, c.prefix)) &&
                 (c.suffix === undefined || fitsSuffix(text, h + quote.length, c.suffix));
        });
        if (left.length === 1 && left[0] === start) {
          return { quote: quote, prefix: c.prefix, suffix: c.suffix };
        }
      }
    }
    return { quote: quote, occurrence: hits.indexOf(start) + 1 };
  }

  function turtleString(s) {
    return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
      .replace(/\r/g, "\\r").replace(/\t/g, "\\t") + '"';
  }

  function snippet(ev, stem) {
    var parts = ["pg:quote " + turtleString(ev.quote)];
    if (ev.prefix) parts.push("pg:prefix " + turtleString(ev.prefix));
    if (ev.suffix) parts.push("pg:suffix " + turtleString(ev.suffix));
    if (ev.occurrence) parts.push("pg:occurrence " + ev.occurrence);
    parts.push("pg:source src:" + stem);
    return "pg:evidence [ " + parts.join(" ; ") + " ]";
  }

  // offset of a DOM position inside the text element, counted in UTF-16 units of its text
  function offsetIn(root, node, offset) {
    var range = document.createRange();
    range.setStart(root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  // JavaScript strings count UTF-16 units; the anchorer counts code points
  function codePoints(text, units) { return Array.from(text.slice(0, units)).length; }

  function init() {
    var pre = document.querySelector("[data-source-text], pre.source-text");
    if (!pre) return;
    var stem = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
    var text = pre.textContent;
    var panel = document.createElement("aside");
    panel.id = "quote-snippet";
    panel.className = "quote-snippet";
    panel.hidden = true;
    panel.setAttribute("aria-live", "polite");
    var label = document.createElement("p");
    label.textContent = "Evidence for the selected words (paste into a graph file):";
    var code = document.createElement("code");
    var block = document.createElement("pre");
    block.appendChild(code);
    var where = document.createElement("p");
    where.className = "quote-offsets";
    var copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "Copy";
    copy.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code.textContent);
      } else {
        var r = document.createRange();
        r.selectNodeContents(code);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        document.execCommand("copy");
      }
      copy.textContent = "Copied";
    });
    panel.append(label, block, where, copy);
    pre.insertAdjacentElement("afterend", panel);

    function update() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
      var range = sel.getRangeAt(0);
      if (!pre.contains(range.startContainer) || !pre.contains(range.endContainer)) return;
      var start = offsetIn(pre, range.startContainer, range.startOffset);
      var end = offsetIn(pre, range.endContainer, range.endOffset);
      // whole words only, and no white space at either end: where the anchorer can start a match
      while (start < end && SPACE.test(text[start])) start++;
      while (end > start && SPACE.test(text[end - 1])) end--;
      while (start > 0 && isWord(text[start]) && isWord(text[start - 1])) start--;
      while (end < text.length && end > 0 && isWord(text[end - 1]) && isWord(text[end])) end++;
      if (start >= end) { panel.hidden = true; return; }
      code.textContent = snippet(evidence(text, start, end), stem);
      var s = codePoints(text, start), e = codePoints(text, end);
      where.textContent = "Characters " + s + "–" + e + " of src:" + stem;
      panel.dataset.start = s;
      panel.dataset.end = e;
      copy.textContent = "Copy";
      panel.hidden = false;
    }

    document.addEventListener("mouseup", update);
    document.addEventListener("keyup", update);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
