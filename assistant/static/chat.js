// The chat's conversation scrolls in its own area, which shows its end by itself (app.css).
// When the newest exchange is taller than the area, this shows it from its start instead: the
// question and the top of the answer, on load and after htmx adds a turn.
(function () {
  "use strict";

  function showFromStart(item) {
    var area = item.closest(".chat-scroll");
    if (!area) return;
    var margin = parseFloat(getComputedStyle(item).scrollMarginTop) || 0;
    // Only the area scrolls (never the page), and the browser stops it at either end.
    area.scrollTop += item.getBoundingClientRect().top - area.getBoundingClientRect().top - margin;
  }

  function newestQuestion() {
    var asked = document.querySelectorAll("#conversation > .msg-user");
    return asked.length ? asked[asked.length - 1] : null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (location.hash) return; // the browser has already scrolled to the answer asked for
    var question = newestQuestion();
    if (question) showFromStart(question);
  });

  var before = 0;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id === "conversation") before = event.detail.target.children.length;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (list.id !== "conversation") return;
    var added = list.children[before];
    if (added) showFromStart(added);
    // The question box was replaced by an empty one: give it the focus back, unless the person
    // has moved on (typing in a hand-off form, say), whose typing must not land in the box.
    var active = document.activeElement;
    var box = document.getElementById("q");
    if (box && (!active || active === document.body || active.closest("form.ask"))) box.focus();
  });
})();
