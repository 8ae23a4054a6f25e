// Agents page: ask before logging an agent out. The forms post by themselves (no script
// needed); the server checks every action.
"use strict";

document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
});
