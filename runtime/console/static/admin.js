// Agents page: ask before logging an agent out, and keep each agent's state, whether it has
// the console open and the actions it allows live from the wallboard's own `wall` events (the
// same /live stream, no second one). The forms post by themselves (no script needed); the
// server checks every action.
"use strict";

document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
});

(() => {
  const table = document.getElementById("agents-table");
  const link = document.getElementById("agents-live");
  if (!table || !link) return;
  // what the server allows in each state (operations/agent_desk.py): the page only hides
  // what would be refused, the server still decides
  const PAUSE = ["ready", "paused", "wrapup"], READY = ["paused", "wrapup"], BUSY = ["ringing", "on_call"];

  function show(a) {
    const row = table.querySelector('tr[data-agent="' + CSS.escape(a.id) + '"]');
    if (!row) return;
    const cell = row.querySelector("td.state");
    cell.className = "state state-" + a.state + (a.held ? " held" : "");
    cell.replaceChildren(ccf.stateWords(a) + " ",
                         ccf.el("small", {class: "muted", text: "(" + ccf.clock(ccf.stateSeconds(a)) + ")"}),
                         ccf.heldBy(a));
    const form = (name) => row.querySelector('form[data-form="' + name + '"]') || {};
    const busy = BUSY.includes(a.state);
    form("logout").hidden = a.state === "logged_out";
    const button = row.querySelector("button[data-action=logout]");
    if (button) button.disabled = busy;
    const why = row.querySelector(".why");
    if (why) why.hidden = !busy;
    const seat = row.querySelector("td.console");
    // the agent's open console sessions (the template's words), as the board counts them now
    if (seat && typeof a.console === "number") {
      seat.replaceChildren(a.console ? "logged in" + (a.console > 1 ? " (" + a.console + ")" : "")
                                     : ccf.el("span", {class: "muted", text: "–"}));
    }
    form("pause").hidden = !PAUSE.includes(a.state);
    form("ready").hidden = !READY.includes(a.state);
  }

  const source = ccf.live({
    wall(snapshot) {
      for (const a of snapshot.agents || []) show(a);
      link.textContent = "live";
      link.className = "badge live";
    },
  });
  source.addEventListener("error", () => { link.textContent = "reconnecting…"; link.className = "badge down"; });
})();
