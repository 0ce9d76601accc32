// The source page: a link to a span (#char=S,E, RFC 5147) marks that span; pointing at, tapping
// or focusing a highlight shows the facts it supports, copied from the page's list of facts (each
// listed once, with links to the spans supporting it).
(function () {
  "use strict";
  var pop, note, text, current = null, pinned = false, hideTimer = null, quiet = false;
  var factsOf = {};   // span id -> the list items of the facts it supports

  function marksOf(id) {
    return Array.prototype.filter.call(text.querySelectorAll("mark"), function (m) {
      return (" " + m.getAttribute("data-spans") + " ").indexOf(" " + id + " ") >= 0;
    });
  }

  function quoteOf(id) {
    return marksOf(id).map(function (m) { return m.textContent; }).join("");
  }

  // The span a fragment names: exactly, or else the shortest one holding the position or range.
  function spanFor(hash) {
    var m = /^#char=(\d+)(?:,(\d+))?$/.exec(decodeURIComponent(hash || ""));
    if (!m) { return null; }
    var s = +m[1], e = m[2] === undefined ? s + 1 : +m[2];
    if (document.getElementById("char=" + s + "," + e)) { return "char=" + s + "," + e; }
    var best = null, bestLen = Infinity;
    Array.prototype.forEach.call(text.querySelectorAll("span[id^='char=']"), function (anchor) {
      var p = /^char=(\d+),(\d+)$/.exec(anchor.id);
      var a = +p[1], b = +p[2];
      if (a <= s && e <= b && b - a < bestLen) { best = anchor.id; bestLen = b - a; }
    });
    return best;
  }

  function target() {
    Array.prototype.forEach.call(text.querySelectorAll("mark.is-target"), function (m) {
      m.classList.remove("is-target");
    });
    var id = spanFor(location.hash);
    if (!id) { note.hidden = true; return; }
    var marks = marksOf(id);
    marks.forEach(function (m) { m.classList.add("is-target"); });
    note.textContent = "Showing characters " + id.slice(5).replace(",", "–") + ": “" + quoteOf(id) + "”";
    note.hidden = false;
    if (marks.length) { marks[0].scrollIntoView({block: "center"}); }
  }

  function fill(mark) {
    pop.textContent = "";
    (mark.getAttribute("data-spans") || "").split(" ").forEach(function (id) {
      var facts = factsOf[id];
      if (!facts) { return; }
      var q = document.createElement("p");
      q.className = "pop-quote";
      var a = document.createElement("a");
      a.href = "#" + id;
      a.textContent = id.slice(5).replace(",", "–");
      q.appendChild(a);
      q.appendChild(document.createTextNode(" “" + quoteOf(id) + "”"));
      pop.appendChild(q);
      var ul = document.createElement("ul");
      facts.forEach(function (li) {
        var copy = li.cloneNode(true);
        Array.prototype.forEach.call(copy.querySelectorAll("a[href^='#']"), function (a) { a.remove(); });
        copy.normalize();
        ul.appendChild(copy);
      });
      pop.appendChild(ul);
    });
  }

  function show(mark) {
    clearTimeout(hideTimer);
    if (current !== mark) { fill(mark); }
    current = mark;
    var r = mark.getBoundingClientRect();
    pop.hidden = false;
    var left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 8));
    pop.style.left = left + "px";
    pop.style.top = (r.bottom + window.scrollY + 6) + "px";
    if (mark.hasAttribute("tabindex")) { mark.setAttribute("aria-expanded", "true"); }
  }

  function hide() {
    pop.hidden = true;
    pinned = false;
    if (current && current.hasAttribute("tabindex")) { current.setAttribute("aria-expanded", "false"); }
    current = null;
  }

  function later() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { if (!pinned) { hide(); } }, 250);
  }

  document.addEventListener("DOMContentLoaded", function () {
    pop = document.getElementById("span-pop");
    note = document.getElementById("target-note");
    text = document.getElementById("source-text");
    if (!pop || !text) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("ul.facts > li"), function (li) {
      Array.prototype.forEach.call(li.querySelectorAll("a[href^='#']"), function (a) {
        var id = a.getAttribute("href").slice(1);
        (factsOf[id] = factsOf[id] || []).push(li);
      });
    });
    Array.prototype.forEach.call(text.querySelectorAll("mark[tabindex]"), function (m) {
      m.setAttribute("role", "button");
      m.setAttribute("aria-controls", "span-pop");
      m.setAttribute("aria-expanded", "false");
    });
    text.addEventListener("mouseover", function (ev) {
      var m = ev.target.closest("#source-text mark");
      // what the keyboard focused keeps its popover while the pointer merely passes by
      var focused = current !== null && current === document.activeElement;
      if (m && !pinned && !focused) { show(m); }
    });
    text.addEventListener("mouseout", function (ev) {
      if (ev.target.closest("#source-text mark") && current !== document.activeElement) { later(); }
    });
    pop.addEventListener("mouseover", function () { clearTimeout(hideTimer); });
    pop.addEventListener("mouseout", later);
    text.addEventListener("click", function (ev) {
      var m = ev.target.closest("#source-text mark");
      if (!m) { return; }
      if (pinned && current === m) { hide(); return; }
      show(m);
      pinned = true;
    });
    text.addEventListener("focusin", function (ev) {
      var m = ev.target.closest("#source-text mark");
      if (m && !quiet) { show(m); }
      quiet = false;
    });
    text.addEventListener("focusout", function (ev) {
      if (!pop.contains(ev.relatedTarget)) { later(); }
    });
    pop.addEventListener("focusout", function (ev) {
      if (!pop.contains(ev.relatedTarget) && ev.relatedTarget !== current) { later(); }
    });
    text.addEventListener("keydown", function (ev) {
      var m = ev.target.closest("#source-text mark");
      if (!m) { return; }
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        show(m);
        pinned = true;
        var first = pop.querySelector("a");
        if (first) { first.focus(); }
      } else if (ev.key === "Escape") { hide(); }
    });
    pop.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && current) {
        var m = current;
        hide();
        quiet = true;   // back on the highlight, closed: the Escape was meant
        m.focus();
      }
    });
    document.addEventListener("click", function (ev) {
      if (pinned && !pop.contains(ev.target) && !ev.target.closest("#source-text mark")) { hide(); }
    });
    window.addEventListener("hashchange", target);
    target();
  });
}());
