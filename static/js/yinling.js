/* Yinling: the few behaviours htmx does not cover. No framework, no build step. */
(function () {
  "use strict";

  // Phone: the top bar's menu button opens and closes the navigation.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("is-open", open);
      return;
    }
    // Elder list: "显示他们" (nothing in residence matched) sets the status filter to all and
    // lets the filter form search again (htmx); without JavaScript the button submits the form.
    var showStatus = event.target.closest("[data-show-status]");
    if (showStatus) {
      var select = document.getElementById("f-status");
      if (select && window.htmx) {
        event.preventDefault();
        select.value = showStatus.getAttribute("data-show-status");
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }
    // Phone: "筛选" shows the filters below the search box.
    var filterToggle = event.target.closest("[data-filters-toggle]");
    if (filterToggle) {
      var panel = filterToggle.closest(".filters");
      var shown = panel.classList.toggle("is-open");
      filterToggle.setAttribute("aria-expanded", String(shown));
    }
  });

  // Forms that do something hard to undo ask first: <form data-confirm="…">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Too many searches (429): show the server's message where the results go, instead of
  // htmx's default of swapping nothing for an error status.
  document.addEventListener("htmx:beforeSwap", function (event) {
    // 422: a form sent by htmx comes back with what to fix (the reason of a reveal).
    if (event.detail.xhr && (event.detail.xhr.status === 429 || event.detail.xhr.status === 422)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Elder form: when the ID number is read, fill sex and birth date from it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var config = event.detail.requestConfig;
    if (!config || !config.elt || config.elt.id !== "id_id_number") return;
    var ok = document.querySelector("#id-check [data-sex]");
    if (!ok) return;
    var sex = document.getElementById("id_sex");
    var birth = document.getElementById("id_birth_date");
    if (sex) sex.value = ok.getAttribute("data-sex");
    if (birth) birth.value = ok.getAttribute("data-birth-date");
  });
})();
