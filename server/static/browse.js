// The browse list's filter, as you type: items whose name lacks the typed text are hidden, and
// groups left empty with them. Submitting the form filters on the server over every thing, not
// only those on the page; without this script that is the only way.
(function () {
  "use strict";
  var input = document.querySelector("input[data-filter]");
  if (!input) return;
  var root = document.querySelector(input.getAttribute("data-filter"));
  var status = document.getElementById("filter-status");
  if (!root) return;

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function apply() {
    var needle = fold(input.value.trim());
    var shown = 0;
    root.querySelectorAll("section.kind-group").forEach(function (group) {
      var visible = 0;
      group.querySelectorAll("ul.things > li").forEach(function (li) {
        var match = !needle || fold(li.textContent).indexOf(needle) !== -1;
        li.hidden = !match;
        if (match) visible += 1;
      });
      group.hidden = visible === 0 && needle !== "";
      shown += visible;
    });
    if (status) status.textContent = shown + " shown";
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 80);
  });
})();
