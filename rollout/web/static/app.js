/* rollout platform: the little behaviour the pages have (no inline script anywhere). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Forms that change much ask first (the question is in the form's data-confirm).
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    // Filter bars apply a choice at once.
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // A submitted form cannot be sent twice by a double click.
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) return;
        setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
  });
})();
