// The query page: YASQE (editor) and YASR (results) from the YASGUI bundle, wired to /sparql,
// with the stored research queries as examples, their parameters as form fields, server-side
// downloads, a permalink, local links for the graph's IRIs and a bar chart drawn as SVG.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("editor-config").textContent);
  var Yasqe = window.Yasqe, Yasr = window.Yasr;
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var statusEl = document.getElementById("status");
  var permalink = document.getElementById("permalink");
  var SVG = "http://www.w3.org/2000/svg";
  if (!Yasqe || !Yasr) { return; }  // the plain form still works without the bundle

  // -- the graph's IRIs: links to the pages of this server, short names ----------------------
  function localHref(iri) {
    if (cfg.base && iri.indexOf(cfg.base) === 0) {
      var rest = iri.slice(cfg.base.length);
      if (/^(id|source|graph)\//.test(rest) || rest === "ontology" || rest.indexOf("ontology#") === 0) {
        return "/" + rest;
      }
    }
    return iri;
  }

  function shortName(iri) {
    var best = null;
    Object.keys(cfg.prefixes).forEach(function (p) {
      var ns = cfg.prefixes[p];
      if (iri.indexOf(ns) === 0 && iri.length > ns.length && /^[\w.%-]+$/.test(iri.slice(ns.length)) &&
          (best === null || ns.length > cfg.prefixes[best].length)) { best = p; }
    });
    return best === null ? iri : best + ":" + iri.slice(cfg.prefixes[best].length);
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  // -- YASR: the table links into this site; a chart plugin that needs no remote library -----
  var Table = Yasr.plugins.table;
  class LocalTable extends Table {
    getUriLinkFromBinding(binding) {
      var iri = binding.value, href = localHref(iri);
      var external = href === iri;
      return "<a class='iri' href='" + escapeHtml(href) + "' title='" + escapeHtml(iri) + "'" +
        (external ? " rel='noopener noreferrer'" : "") + ">" + escapeHtml(shortName(iri)) + "</a>";
    }
  }
  LocalTable.defaults = Object.assign({}, Table.defaults, {openIriInNewWindow: false});

  // A bar chart for an answer with a label column and a numeric column (the first of each).
  function chartColumns(results) {
    if (!results || results.hasError()) { return null; }
    var vars = results.getVariables() || [], rows = results.getBindings() || [];
    if (!rows.length || rows.length > 500) { return null; }
    var numeric = null, label = null;
    vars.forEach(function (v) {
      var allNumbers = rows.every(function (r) {
        return r[v] && r[v].type !== "uri" && r[v].value !== "" && isFinite(Number(r[v].value));
      });
      if (allNumbers && numeric === null) { numeric = v; }
      else if (!allNumbers && label === null) { label = v; }
    });
    return numeric !== null && label !== null ? {label: label, value: numeric} : null;
  }

  class BarChart {
    constructor(yasr) { this.yasr = yasr; this.priority = 5; this.label = "Chart"; }
    canHandleResults() { return !!chartColumns(this.yasr.results); }
    getIcon() {
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 16 16");
      svg.setAttribute("aria-hidden", "true");
      [[1, 9, 3, 6], [6, 4, 3, 11], [11, 7, 3, 8]].forEach(function (b) {
        var r = document.createElementNS(SVG, "rect");
        r.setAttribute("x", b[0]); r.setAttribute("y", b[1]); r.setAttribute("width", b[2]); r.setAttribute("height", b[3]);
        svg.appendChild(r);
      });
      return svg;
    }
    draw() {
      var cols = chartColumns(this.yasr.results);
      var rows = this.yasr.results.getBindings();
      var values = rows.map(function (r) { return Number(r[cols.value].value); });
      var max = Math.max.apply(null, values.concat([0])), min = Math.min.apply(null, values.concat([0]));
      var names = rows.map(function (r) {
        var term = r[cols.label], name = term ? (term.type === "uri" ? shortName(term.value) : term.value) : "";
        return name.length > 40 ? name.slice(0, 39) + "…" : name;
      });
      var longest = Math.max.apply(null, names.map(function (n) { return n.length; }).concat([4]));
      // Wide: labels left of the bars. Narrow (a phone): each label above its bar, so the text
      // keeps its size instead of the whole picture shrinking.
      var width = Math.max(280, Math.min(this.yasr.resultsEl.clientWidth || 760, 760));
      var stacked = width < 560, barH = 20, gap = stacked ? 8 : 6, top = 8, labelH = stacked ? 18 : 0;
      var labelW = stacked ? 0 : Math.min(310, Math.round(longest * 7.4) + 12);
      var plotW = width - labelW - 60, span = max - min || 1;
      var height = top + rows.length * (barH + gap + labelH) + 8;
      var figure = document.createElement("figure");
      figure.className = "bar-chart";
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 " + width + " " + height);
      svg.setAttribute("width", width);
      svg.setAttribute("role", "img");
      var title = document.createElementNS(SVG, "title");
      title.textContent = "Bar chart of ?" + cols.value + " by ?" + cols.label + ", " + rows.length + " bars";
      svg.appendChild(title);
      var zero = labelW + (0 - min) / span * plotW;
      rows.forEach(function (r, i) {
        var y = top + i * (barH + gap + labelH), v = values[i];
        var term = r[cols.label], name = names[i];
        var g = document.createElementNS(SVG, "g");
        var text = document.createElementNS(SVG, "text");
        if (stacked) {
          text.setAttribute("x", 0); text.setAttribute("y", y + 13);
        } else {
          text.setAttribute("x", labelW - 8); text.setAttribute("y", y + barH * 0.7);
          text.setAttribute("text-anchor", "end");
        }
        text.textContent = name;
        var barY = y + labelH;
        var rect = document.createElementNS(SVG, "rect");
        var x0 = Math.min(zero, labelW + (v - min) / span * plotW), w = Math.abs(v / span * plotW);
        rect.setAttribute("x", x0); rect.setAttribute("y", barY);
        rect.setAttribute("width", Math.max(w, 1)); rect.setAttribute("height", barH);
        var tip = document.createElementNS(SVG, "title");
        tip.textContent = name + ": " + r[cols.value].value;
        rect.appendChild(tip);
        var num = document.createElementNS(SVG, "text");
        num.setAttribute("x", x0 + Math.max(w, 1) + 6); num.setAttribute("y", barY + barH * 0.7);
        num.setAttribute("class", "value");
        num.textContent = r[cols.value].value;
        g.appendChild(text); g.appendChild(rect); g.appendChild(num);
        if (term && term.type === "uri") {
          var a = document.createElementNS(SVG, "a");
          a.setAttribute("href", localHref(term.value));
          a.appendChild(g);
          svg.appendChild(a);
        } else {
          svg.appendChild(g);
        }
      });
      var caption = document.createElement("figcaption");
      caption.textContent = "?" + cols.value + " for each ?" + cols.label + " (" + rows.length + " rows; the table has the same numbers)";
      figure.appendChild(svg);
      figure.appendChild(caption);
      this.yasr.resultsEl.appendChild(figure);
    }
  }

  Yasr.registerPlugin("table", LocalTable);
  Yasr.registerPlugin("chart", BarChart);

  // -- YASQE: the graph's prefixes declared and completed from the local list, no LOV --------
  var prefixList = Object.keys(cfg.prefixes).sort().map(function (p) { return p + ": <" + cfg.prefixes[p] + ">"; });
  Yasqe.registerAutocompleter(Object.assign({}, Yasqe.Autocompleters.prefixes, {get: prefixList, persistenceId: null}));
  // Classes and properties come from the graph's own ontologies, not from a service on the web.
  ["class", "property"].forEach(function (kind) {
    Yasqe.registerAutocompleter(Object.assign({}, Yasqe.Autocompleters[kind],
                                              {bulk: true, get: cfg.vocabulary[kind] || [], persistenceId: null}));
  });

  var holder = document.createElement("div");
  holder.id = "yasqe";
  textarea.parentNode.insertBefore(holder, textarea);
  textarea.hidden = true;
  var yasqe = new Yasqe(holder, {
    value: textarea.value,
    persistenceId: null,
    // the text itself is the input (screen readers read it; the scrolling area holds the focus)
    inputStyle: "contenteditable",
    consumeShareLink: null,
    createShareableLink: null,
    showQueryButton: false,
    autocompleters: ["prefixes", "variables", "class", "property"],
    editorHeight: window.innerWidth < 700 ? "240px" : "320px",
    requestConfig: {
      endpoint: "/sparql", method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle"
    }
  });
  var input = yasqe.getInputField();
  input.setAttribute("role", "textbox");
  input.setAttribute("aria-multiline", "true");
  input.setAttribute("aria-label", "SPARQL query (Ctrl+Enter runs it, Esc leaves the editor)");

  var yasr = new Yasr(document.getElementById("results"), {
    persistenceId: null,
    prefixes: cfg.prefixes,
    pluginOrder: ["table", "chart", "response"],
    defaultPlugin: "table",
    errorRenderers: [function (error) {
      var p = document.createElement("p");
      p.className = "query-error";
      p.setAttribute("role", "alert");
      p.textContent = oneLine(error.text || error.statusText || "the query failed");
      return Promise.resolve(p);
    }]
  });

  // YASR's controls, named for screen readers where the bundle leaves them unnamed.
  yasr.on("drawn", function () {
    var sizer = document.querySelector("#results .tableSizer");
    if (sizer) { sizer.setAttribute("aria-label", "Rows per page"); }
  });

  // Quotes are what a researcher reads: whole cells, plain values (the "Simple view" switch
  // brings datatypes and row numbers back).
  yasr.config.plugins.table.dynamicConfig = Object.assign({compact: true, isEllipsed: false},
                                                          yasr.config.plugins.table.dynamicConfig);

  function oneLine(message) {
    return String(message).replace(/^\s*\d{3}\s+/, "").split(/\r?\n/)[0];
  }

  // -- running, status, permalink, downloads ---------------------------------------------
  function queryUrl(extra) {
    return "/sparql?query=" + encodeURIComponent(yasqe.getValue()) + (extra || "");
  }

  function updateDownloads() {
    var form = yasqe.getQueryType ? yasqe.getQueryType() : "SELECT";
    var groups = document.querySelectorAll("#downloads [data-forms]");
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = groups[i].getAttribute("data-forms").split(" ").indexOf(form) < 0;
    }
    var links = document.querySelectorAll("a.download");
    for (var j = 0; j < links.length; j++) {
      links[j].href = queryUrl("&format=" + links[j].getAttribute("data-format"));
    }
  }

  var started = 0, truncated = false;
  yasqe.on("query", function () {
    started = Date.now();
    statusEl.className = "";
    statusEl.textContent = "Running…";
    updateDownloads();
    var url = queryUrl();
    permalink.href = url;
    permalink.hidden = false;
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", url); }
  });
  yasqe.on("queryResponse", function (_yasqe, response, duration) {
    truncated = !!(response && response.headers && response.headers.get && response.headers.get("Peacegraph-Truncated"));
    yasr.setResponse(response, duration);
    var results = yasr.results, ms = " in " + (duration || Date.now() - started) + " ms";
    if (!results || results.hasError()) {
      var err = results && results.getError();
      statusEl.className = "error";
      // the message itself is the alert in the results area
      statusEl.textContent = err ? "The query failed." : "The query failed: " + oneLine(String(response));
      return;
    }
    var bindings = results.getBindings();
    var bool = results.getBoolean ? results.getBoolean() : undefined;
    if (bindings) {
      var unit = /^(CONSTRUCT|DESCRIBE)$/.test(yasqe.getQueryType()) ? " triple" : " row";
      statusEl.textContent = bindings.length + unit + (bindings.length === 1 ? "" : "s") + ms +
        (truncated ? " (truncated at the row limit)" : "") + ".";
    } else {
      statusEl.textContent = (typeof bool === "boolean" ? "ASK: " + bool : "Answered") + ms + ".";
    }
    statusEl.className = truncated ? "truncated" : "";
  });
  yasqe.on("change", updateDownloads);

  function run() { yasqe.query().catch(function () {}); }
  form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });

  // -- the research questions and their parameters ---------------------------------------
  function valuesLine(name, value) { return "  VALUES ?" + name + " { " + value + " }"; }

  function setParameter(name, value) {
    var text = yasqe.getValue();
    var re = new RegExp("^[ \\t]*VALUES \\?" + name + " \\{[^}\\n]*\\}[ \\t]*\\n", "m");
    if (re.test(text)) {
      text = text.replace(re, value ? valuesLine(name, value) + "\n" : "");
    } else if (value) {
      var where = /\bWHERE\s*\{[ \t]*\n?/i.exec(text);
      if (!where) { return; }
      var at = where.index + where[0].length;
      text = text.slice(0, at) + (where[0].slice(-1) === "\n" ? "" : "\n") + valuesLine(name, value) + "\n" + text.slice(at);
    }
    var prefix = /^([A-Za-z][\w.-]*)?:/.exec(value || "");
    if (prefix && cfg.prefixes[prefix[1] || ""] && !new RegExp("^\\s*PREFIX\\s+" + (prefix[1] || "") + ":", "im").test(text)) {
      text = declarePrefix(text, prefix[1] || "");
    }
    yasqe.setValue(text);
  }

  // A PREFIX line goes after the query's last one (YASQE's addPrefixes puts it above the comments).
  function declarePrefix(text, name) {
    var line = "PREFIX " + name + ": <" + cfg.prefixes[name] + ">\n";
    var last = null, re = /^[ \t]*PREFIX[^\n]*\n/gim, m;
    while ((m = re.exec(text)) !== null) { last = m; }
    if (!last) { return line + text; }
    var at = last.index + last[0].length;
    return text.slice(0, at) + line + text.slice(at);
  }

  // The header's title stays as a comment; the rest of it is the form above the editor.
  function exampleText(raw) {
    return raw.replace(/^#\s*(description|param|default|choices)\s*:[^\n]*\n/gim, "");
  }

  function showParams(name) {
    var sets = document.querySelectorAll("fieldset.params");
    for (var i = 0; i < sets.length; i++) { sets[i].hidden = sets[i].getAttribute("data-example") !== name; }
    var current = document.getElementById("params-" + name);
    return current ? current.querySelectorAll("[data-param]") : [];
  }

  function loadExample(name, runIt) {
    var tpl = document.getElementById("example-" + name);
    yasqe.setValue(exampleText(tpl.content ? tpl.content.textContent : tpl.textContent));
    var fields = showParams(name);
    for (var i = 0; i < fields.length; i++) {
      setParameter(fields[i].getAttribute("data-param"), fields[i].value.trim());
    }
    var buttons = document.querySelectorAll("button.example");
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].setAttribute("aria-pressed", buttons[j].getAttribute("data-name") === name ? "true" : "false");
    }
    if (runIt) { run(); }
  }

  var exampleButtons = document.querySelectorAll("button.example");
  for (var i = 0; i < exampleButtons.length; i++) {
    exampleButtons[i].addEventListener("click", function (ev) {
      loadExample(ev.currentTarget.getAttribute("data-name"), true);
      if (window.innerWidth < 700) { document.getElementById("examples").open = false; }
    });
  }
  var fields = document.querySelectorAll("fieldset.params [data-param]");
  for (var k = 0; k < fields.length; k++) {
    fields[k].addEventListener("change", function (ev) {
      setParameter(ev.currentTarget.getAttribute("data-param"), ev.currentTarget.value.trim());
      run();
    });
  }

  if (window.innerWidth < 700) { document.getElementById("examples").open = false; }
  // ?example=NAME (the home page's research questions) opens that question and runs it.
  var asked = new URLSearchParams(window.location.search).get("example");
  if (asked && !document.getElementById("example-" + asked)) { asked = null; }
  if (!cfg.prefilled && exampleButtons.length) {
    loadExample(asked || exampleButtons[0].getAttribute("data-name"), cfg.autorun || !!asked);
  } else if (cfg.autorun) {
    run();
  }
  updateDownloads();
})();
