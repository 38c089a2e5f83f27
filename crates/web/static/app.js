// Progressive enhancement only: every form works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The language switcher applies a choice at once; its button stays for keyboards and no-JS.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      if (sel.form) { sel.form.submit(); }
    });
  });
});
