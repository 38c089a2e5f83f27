// Progressive enhancement only: every form works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The language switcher applies a choice at once; its button stays for keyboards and no-JS.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      if (sel.form) { sel.form.submit(); }
    });
  });

  // At phone width the menu folds behind one button (app.css shows the button only there, and
  // only once this script has run, so without it the menu simply stays open).
  var toggle = document.getElementById("menu-toggle");
  if (toggle) {
    var top = toggle.closest("header");
    top.classList.add("folding");
    toggle.addEventListener("click", function () {
      var open = top.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Review shortcuts. A key typed into a field is text, never a shortcut.
  var queueItems = Array.prototype.slice.call(document.querySelectorAll("[data-queue-item]"));
  function keyed(k) { return document.querySelector('[data-key="' + k + '"]'); }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing) { return; }
    var k = e.key;
    if (queueItems.length > 0 && (k === "j" || k === "k")) {
      // On the queue: move focus from row to row; Enter then opens the pair.
      var i = queueItems.indexOf(document.activeElement);
      var n = k === "j" ? (i < 0 ? 0 : Math.min(i + 1, queueItems.length - 1)) : Math.max(i - 1, 0);
      queueItems[n].focus();
      e.preventDefault();
      return;
    }
    var el = keyed(k);
    if (!el) { return; }
    e.preventDefault();
    if (el.tagName === "A") {
      window.location.assign(el.href);
    } else if (el.tagName === "BUTTON") {
      // The first c focuses the button (so a stray key does not decide); the second submits.
      if (document.activeElement === el) { el.form.requestSubmit(el); } else { el.focus(); }
    } else {
      el.focus();
    }
  });
});
