// The query page: runs the editor's query against /sparql and shows the answer as a table.
(function () {
  "use strict";
  var cfg = window.PEACEGRAPH || {base: ""};
  var editor = document.getElementById("query");
  var results = document.getElementById("results");
  var status = document.getElementById("status");

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
    var names = [["id/topic/", "topic:"], ["id/", "pgid:"], ["ontology#", "pg:"], ["source/", "src:"]];
    for (var i = 0; i < names.length; i++) {
      var ns = cfg.base + names[i][0];
      if (iri.indexOf(ns) === 0 && iri.length > ns.length) { return names[i][1] + iri.slice(ns.length); }
    }
    return iri;
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri" && /^https?:\/\//i.test(term.value)) {
      var a = document.createElement("a");
      a.href = localHref(term.value);
      a.title = term.value;
      a.textContent = shortName(term.value);
      td.appendChild(a);
    } else {
      td.textContent = term.type === "bnode" ? "_:" + term.value : term.value;
      if (term["xml:lang"]) { td.title = "@" + term["xml:lang"]; }
      else if (term.datatype) { td.title = term.datatype; }
    }
    return td;
  }

  function showSolutions(doc, truncated) {
    results.textContent = "";
    if (typeof doc.boolean === "boolean") {
      var p = document.createElement("p");
      p.className = "boolean";
      p.textContent = doc.boolean ? "true" : "false";
      results.appendChild(p);
      status.textContent = "ASK answered.";
      return;
    }
    var vars = doc.head.vars, rows = doc.results.bindings;
    var table = document.createElement("table");
    table.className = "results";
    var head = table.createTHead().insertRow();
    vars.forEach(function (v) { var th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
    var body = table.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      vars.forEach(function (v) { tr.appendChild(cell(row[v])); });
    });
    results.appendChild(table);
    status.textContent = rows.length + " row" + (rows.length === 1 ? "" : "s") +
      (truncated ? " (truncated at the row limit)" : "") + ".";
    status.className = truncated ? "truncated" : "";
  }

  function run() {
    var query = editor.value;
    status.className = "";
    status.textContent = "Running…";
    results.textContent = "";
    updateDownloads();
    fetch("/sparql", {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "Accept": "application/sparql-results+json, application/n-triples;q=0.9"},
      body: "query=" + encodeURIComponent(query)
    }).then(function (resp) {
      var truncated = !!resp.headers.get("Peacegraph-Truncated");
      var type = resp.headers.get("Content-Type") || "";
      return resp.text().then(function (text) {
        if (!resp.ok) {
          status.className = "error";
          status.textContent = text;
          return;
        }
        if (type.indexOf("json") >= 0) {
          showSolutions(JSON.parse(text), truncated);
        } else {
          var pre = document.createElement("pre");
          pre.textContent = text;
          results.appendChild(pre);
          status.textContent = "Graph result" + (truncated ? " (truncated at the row limit)" : "") + ".";
        }
      });
    }).catch(function (err) {
      status.className = "error";
      status.textContent = "The request failed: " + err;
    });
  }

  function updateDownloads() {
    var links = document.querySelectorAll("a.download");
    for (var i = 0; i < links.length; i++) {
      links[i].href = "/sparql?query=" + encodeURIComponent(editor.value) +
        "&format=" + links[i].getAttribute("data-format");
    }
  }

  document.getElementById("query-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    run();
  });
  var buttons = document.querySelectorAll("button.example");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (ev) {
      var tpl = document.getElementById("example-" + ev.currentTarget.getAttribute("data-name"));
      editor.value = tpl.content ? tpl.content.textContent : tpl.textContent;
      run();
    });
  }
  editor.addEventListener("input", updateDownloads);
  updateDownloads();
  if (cfg.autorun) { run(); }
})();
