// The wallboard: redrawn from each `wall` event of the live stream (the whole picture
// every time). Caller numbers, names and steps are set as text only (ccf.el).
"use strict";

(() => {
  const root = document.getElementById("wall");
  if (!root) return;
  const modes = (root.dataset.modes || "listen whisper barge").split(" ").filter(Boolean);
  const link = document.getElementById("wall-link");
  const device = root.dataset.device || "";
  const el = ccf.el;

  function setText(id, value) {
    const node = document.getElementById(id);
    if (node) node.textContent = String(value);
  }

  function body(tableId, rows, columns, emptyText) {
    const tbody = document.querySelector("#" + tableId + " tbody");
    if (!tbody) return;
    tbody.replaceChildren(...(rows.length ? rows
      : [el("tr", {class: "empty"}, el("td", {colspan: columns, class: "muted", text: emptyText}))]));
  }

  function pct(value) { return value === null || value === undefined ? "–" : value.toFixed(1) + " %"; }

  function queues(list) {
    body("wall-queues", list.map((q) => el("tr", {"data-queue": q.queue},
      el("td", {class: "lead", text: q.queue}),
      el("td", {class: "n", "data-label": "Waiting", text: q.waiting}),
      el("td", {class: "n", "data-label": "Longest", text: ccf.clock(q.longest_wait_s || 0)}),
      el("td", {class: "n", "data-label": "SL today", text: pct(q.sl_today_pct)}),
      el("td", {class: "n", "data-label": "Abandoned", text: q.abandoned_today}),
      el("td", {class: "n staffing", "data-label": "Ready / busy / paused",
                text: q.ready + " / " + q.busy + " / " + q.paused}))), 6, "no queues");
  }

  function monitorButtons(a) {
    if (!a.monitorable) return null;
    const cell = el("span");
    for (const mode of modes) {
      // without a device of the supervisor's the centre has nothing to ring: not offered
      cell.append(el("button", {type: "button", "data-monitor": mode, "data-call": a.call_id,
                                "data-agent": a.id, text: mode[0].toUpperCase() + mode.slice(1),
                                // one Listen a row: the name says whose call it is
                                "aria-label": mode[0].toUpperCase() + mode.slice(1) + ": " + a.name + "'s call",
                                disabled: !device, title: device ? null : "no device configured for you"}), " ");
    }
    return cell;
  }

  function agents(list) {
    body("wall-agents", list.map((a) => {
      const state = ccf.stateWords(a) + " (" + ccf.clock(ccf.stateSeconds(a)) + ")" + ccf.heldBy(a);
      return el("tr", {"data-agent": a.id},
        el("td", {class: "lead"}, a.name + " ", el("small", {class: "muted", text: a.id})),
        el("td", {class: "state-" + a.state + (a.held ? " held" : "") + " nowrap", "data-label": "State", text: state}),
        el("td", {"data-label": "Call"}, a.call_id ? (a.caller || "") + " " : "",
           a.call_id && a.queue ? el("span", {class: "muted", text: a.queue}) : null),
        el("td", {class: "step", "data-label": "Step", text: a.step || ""}),
        el("td", {class: "monitor wide"}, monitorButtons(a)));
    }), 5, "no agents");
  }

  function workers(list) {
    body("wall-workers", list.map((w) => el("tr", {"data-worker": w.host + " " + w.pid},
      el("td", {class: "lead"}, String(w.host) + " ", el("small", {class: "muted", text: w.pid})),
      el("td", {"data-label": "FastAGI", text: w.address || ""}),
      el("td", {class: "worker-" + w.status, "data-label": "Status", text: w.status}),
      el("td", {class: w.answering === false ? "worker-silent" : null, "data-label": "Its calls",
                text: w.answering === true ? "shown" : w.answering === false ? "not answering" : ""}),
      el("td", {class: "n", "data-label": "Calls", text: w.calls_running}),
      el("td", {class: "n", "data-label": "Served", text: w.served}),
      el("td", {"data-label": "Version", text: w.version || ""}),
      el("td", {class: "n", "data-label": "Last beat", text: ccf.clock(w.seconds_since_heartbeat || 0) + " ago"}))),
      // the page says why there are none: a simulated centre has no FastAGI workers
      8, document.getElementById("wall-workers").dataset.empty);
  }

  function callRows(list) {
    // every worker's calls; the worker's name is the peer's own text: set as text only
    body("wall-call-rows", list.map((c) => el("tr", {"data-call": c.call_id},
      el("td", {"data-label": "Worker"}, c.worker, c.here && c.worker ? el("small", {class: "muted", text: " (this one)"}) : null),
      el("td", {class: "lead", text: c.caller || ""}),
      el("td", {"data-label": "Flow", text: c.flow || ""}),
      el("td", {"data-label": "Step", text: c.step || ""}),
      el("td", {"data-label": "State", text: c.state || ""}),
      el("td", {"data-label": "Queue", text: c.queue || ""}),
      el("td", {"data-label": "Agent", text: c.agent || ""}),
      el("td", {class: "n", "data-label": "Time", text: ccf.clock(c.seconds || 0)}))), 8, "no calls in progress");
  }

  function silent(names) {
    const line = document.getElementById("wall-silent");
    if (!line) return;
    setText("wall-silent-names", names.join(", "));
    line.hidden = !names.length;
  }

  function ivr(pairs) {
    const list = document.getElementById("wall-ivr");
    if (!list) return;
    list.replaceChildren(...(pairs.length
      ? pairs.map(([step, count]) => el("li", {"data-step": step},
          el("span", {class: "step", text: step}), " ", el("strong", {text: count})))
      : [el("li", {class: "muted empty", text: "no caller in the IVR"})]));
  }

  root.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-monitor]");
    if (!button) return;
    button.disabled = true;
    try {
      const reply = await ccf.post("/wall/monitor", {call_id: button.dataset.call,
                                                     mode: button.dataset.monitor});
      if (reply.ok) ccf.notice(reply.mode + " on " + button.dataset.agent + "'s call: your device " +
                               reply.extension + " is ringing");
    } finally {
      button.disabled = false;
    }
  });

  const source = ccf.live({
    wall(snapshot) {
      setText("wall-at", ccf.when(snapshot.at));
      setText("wall-calls", snapshot.calls);
      setText("wall-calls-word", snapshot.calls === 1 ? "call" : "calls");
      queues(snapshot.queues || []);
      agents(snapshot.agents || []);
      ivr(snapshot.ivr || []);
      workers(snapshot.workers || []);
      callRows(snapshot.call_rows || []);
      silent(snapshot.not_answering || []);
      // a screen reader hears the board come back after a drop, never its ticks
      if (link.textContent === "reconnecting…") ccf.say("wallboard live again");
      link.textContent = "live";
      link.className = "badge live";
    },
  });
  source.addEventListener("error", () => {
    if (link.textContent !== "reconnecting…") ccf.say("wallboard reconnecting: it may be out of date");
    link.textContent = "reconnecting…"; link.className = "badge down";
  });
})();
