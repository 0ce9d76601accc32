// The search boxes' autocomplete: an ARIA 1.2 combobox with a listbox popup. Every
// input[data-suggest] asks /search for JSON as the visitor types; arrow keys move through the
// suggestions (aria-activedescendant), Enter opens the one chosen, Escape closes the list.
// Without this script the boxes are plain forms that submit to /search.
(function () {
  "use strict";
  var DELAY = 120;
  var status = document.getElementById("suggest-status");

  function setup(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    var timer = null, active = -1, items = [], asked = "", pending = null;

    function close() {
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      items = [];
    }

    function mark(index) {
      var options = list.querySelectorAll('[role="option"]');
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(hits, text) {
      list.textContent = "";
      items = hits;
      hits.forEach(function (hit, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "s-label";
        name.textContent = hit.label;
        li.appendChild(name);
        if (hit.type) {
          var kind = document.createElement("span");
          kind.className = "s-type";
          kind.textContent = hit.type;
          li.appendChild(kind);
        }
        if (hit.quote) {
          var q = document.createElement("span");
          q.className = "s-quote";
          q.textContent = "“" + hit.quote + "”";
          li.appendChild(q);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { go(i); });
        list.appendChild(li);
      });
      var all = document.createElement("li");
      all.id = list.id + "-all";
      all.className = "s-all";
      all.setAttribute("role", "option");
      all.setAttribute("aria-selected", "false");
      all.textContent = hits.length ? "All results for “" + text + "”" : "Nothing matches “" + text + "” — search quotes too";
      all.addEventListener("mousedown", function (e) { e.preventDefault(); });
      all.addEventListener("click", function () { go(hits.length); });
      list.appendChild(all);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      if (status) status.textContent = hits.length ? hits.length + " suggestions" : "No suggestions";
    }

    function go(index) {
      if (index >= 0 && index < items.length && items[index].href) {
        window.location.assign(items[index].href);
      } else {
        input.form.submit();
      }
    }

    function ask() {
      var text = input.value.trim();
      if (!text) { close(); return; }
      if (text === asked && !list.hidden) return;
      asked = text;
      if (pending) pending.abort();
      pending = new AbortController();
      fetch("/search?limit=8&q=" + encodeURIComponent(text),
            {headers: {"Accept": "application/json"}, signal: pending.signal})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (input.value.trim() !== text) return;
          if (body.hits) render(body.hits, text); else close();
        })
        .catch(function () { /* a superseded or failed request leaves the form as it is */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (e) {
      var count = list.querySelectorAll('[role="option"]').length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (list.hidden) { asked = ""; ask(); return; }
        mark(active + 1 >= count ? 0 : active + 1);
      } else if (e.key === "ArrowUp") {
        if (list.hidden) return;
        e.preventDefault();
        mark(active <= 0 ? count - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) {
          e.preventDefault();
          go(active);
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.querySelectorAll("input[data-suggest]").forEach(setup);
})();
