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
      el("td", {text: q.queue}),
      el("td", {class: "n", text: q.waiting}),
      el("td", {class: "n", text: ccf.clock(q.longest_wait_s || 0)}),
      el("td", {class: "n", text: pct(q.sl_today_pct)}),
      el("td", {class: "n", text: q.abandoned_today}),
      el("td", {class: "n", text: q.ready + " / " + q.busy + " / " + q.paused}))), 6, "no queues");
  }

  function monitorButtons(a) {
    if (!a.monitorable) return null;
    const cell = el("span");
    for (const mode of modes) {
      // without a device of the supervisor's the centre has nothing to ring: not offered
      cell.append(el("button", {type: "button", "data-monitor": mode, "data-call": a.call_id,
                                "data-agent": a.id, text: mode[0].toUpperCase() + mode.slice(1),
                                disabled: !device, title: device ? null : "no device configured for you"}), " ");
    }
    return cell;
  }

  function agents(list) {
    body("wall-agents", list.map((a) => {
      const state = ccf.stateWords(a) + " (" + ccf.clock(ccf.stateSeconds(a)) + ")";
      return el("tr", {"data-agent": a.id},
        el("td", {}, a.name + " ", el("small", {class: "muted", text: a.id})),
        el("td", {class: "state-" + a.state + (a.held ? " held" : "") + " nowrap", text: state}),
        el("td", {}, a.call_id ? (a.caller || "") + " " : "",
           a.call_id && a.queue ? el("span", {class: "muted", text: a.queue}) : null),
        el("td", {text: a.step || ""}),
        el("td", {class: "monitor"}, monitorButtons(a)));
    }), 5, "no agents");
  }

  function workers(list) {
    body("wall-workers", list.map((w) => el("tr", {"data-worker": w.host + " " + w.pid},
      el("td", {}, String(w.host) + " ", el("small", {class: "muted", text: w.pid})),
      el("td", {text: w.address || ""}),
      el("td", {class: "worker-" + w.status, text: w.status}),
      el("td", {class: w.answering === false ? "worker-silent" : null,
                text: w.answering === true ? "shown" : w.answering === false ? "not answering" : ""}),
      el("td", {class: "n", text: w.calls_running}),
      el("td", {class: "n", text: w.served}),
      el("td", {text: w.version || ""}),
      el("td", {class: "n", text: ccf.clock(w.seconds_since_heartbeat || 0) + " ago"}))),
      8, "no workers in the call store");
  }

  function callRows(list) {
    // every worker's calls; the worker's name is the peer's own text: set as text only
    body("wall-call-rows", list.map((c) => el("tr", {"data-call": c.call_id},
      el("td", {}, c.worker, c.here && c.worker ? el("small", {class: "muted", text: " (this one)"}) : null),
      el("td", {text: c.caller || ""}),
      el("td", {text: c.flow || ""}),
      el("td", {text: c.step || ""}),
      el("td", {text: c.state || ""}),
      el("td", {text: c.queue || ""}),
      el("td", {text: c.agent || ""}),
      el("td", {class: "n", text: ccf.clock(c.seconds || 0)}))), 8, "no calls in progress");
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
      link.textContent = "live";
      link.className = "badge live";
    },
  });
  source.addEventListener("error", () => { link.textContent = "reconnecting…"; link.className = "badge down"; });
})();
