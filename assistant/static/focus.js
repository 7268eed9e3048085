// After htmx replaces part of a page, the keyboard focus goes where a keyboard or screen-reader
// user needs it, as after a whole page loads: to the error an answer brought (an error summary,
// or an error message), else, when the element that had the focus was replaced, to the new
// content. Run after the page's own handlers (the chat gives its question box the focus back).
(function () {
  "use strict";

  var ERROR = ".error-summary, .error[role=alert]";

  function focusOn(element) {
    if (!element.hasAttribute("tabindex") && element.tabIndex < 0) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelector) return;
    setTimeout(function () {
      // A target that replaced itself (outerHTML) is found again by its id, or as the content
      // htmx has just added (marked until it settles).
      var root = document.body.contains(target)
        ? target
        : (target.id && document.getElementById(target.id)) || document.querySelector(".htmx-added");
      if (!root) return;
      var error = root.matches(ERROR) ? root : root.querySelector(ERROR);
      if (error) {
        focusOn(error);
        return;
      }
      var active = document.activeElement;
      if (active && active !== document.body && document.body.contains(active)) return;
      focusOn(root.querySelector("h1, h2, h3") || root);
    }, 0);
  });
})();
