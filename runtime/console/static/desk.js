// The agent's desk: state buttons, call control, the pop, the wrap-up form, follow-ups, live.
// The server renders the page first; this keeps it current from /live and the JSON reads.
// Caller and CRM values are set only as text (ccf.el / textContent), never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const root = $("desk");
  if (!root) return;
  // the centre's clock may not be this browser's (a simulated centre runs its own): times
  // in state are measured against the server's now, as last told
  let skew = (Date.parse(root.dataset.now) || Date.now()) - Date.now();
  const now = () => Date.now() + skew;
  const me = {
    state: root.dataset.state, since: Date.parse(root.dataset.since) || now(),
    call: root.dataset.call || null, reason: null,
  };
  const canAnswer = root.dataset.canAnswer === "yes";
  let pop = null;  // the pop's call id shown
  let popData = null;
  let wrapupCall = root.dataset.wrapupCall || null;
  let held = false;
  let heldBy = [];  // who holds the caller: "console" (Resume ends it), "phone" (its own)

  const words = (s) => String(s || "").replace(/_/g, " ");

  // ---- state ---------------------------------------------------------------------------
  function showMe(status) {
    const before = me.state, wasHeld = held;
    me.state = status.state; me.reason = status.reason; me.call = status.call_id || null;
    me.since = Date.parse(status.since) || now();
    root.dataset.state = me.state; root.dataset.call = me.call || "";
    held = me.state === "on_call" && Boolean(status.held);
    heldBy = held && Array.isArray(status.held_by) ? status.held_by : [];
    const box = $("state");
    // a caller on hold is said so: the agent (and whoever looks) sees why it is quiet, and
    // that only the phone takes off a hold the phone made
    box.textContent = ccf.stateWords({state: me.state, reason: me.reason, held: held}) +
      (heldBy.includes("phone") ? " (" + heldBy.join(" and ") + ")" : "");
    box.className = "state state-" + me.state + (held ? " state-held" : "");
    $("btn-ready").disabled = me.state === "ready" || ["ringing", "on_call"].includes(me.state);
    $("btn-pause").disabled = ["ringing", "on_call", "logged_out"].includes(me.state);
    $("btn-pause").title = me.state === "logged_out" ? "join the queues first" : "";
    $("btn-leave").textContent = me.state === "logged_out" ? "Join the queues" : "Leave the queues";
    $("btn-leave").disabled = ["ringing", "on_call"].includes(me.state);
    $("call-controls").hidden = !me.call || !(me.state === "on_call" || (me.state === "ringing" && canAnswer));
    // hold, transfer, a party and reading need the conversation: not offered while it rings
    $("call-controls").classList.toggle("ringing", me.state === "ringing");
    $("btn-answer").hidden = !canAnswer || me.state !== "ringing";
    // a ringing call is answered (or left to ring on), never hung up: that would drop a
    // caller still waiting in the queue (the server refuses it too)
    $("btn-hangup").hidden = me.state !== "on_call";
    // the console's own hold: Hold adds it beside a phone's, Resume takes off only it
    const consoleHolds = heldBy.includes("console");
    $("btn-hold").hidden = consoleHolds; $("btn-resume").hidden = !consoleHolds;
    $("btn-hold").title = heldBy.includes("phone")
      ? "your phone holds the call and alone takes it off hold; Hold holds it here too" : "";
    // the form exists once the flow has asked for it, as the conversation ends; it stays
    // until saved whatever the agent does meanwhile (the server keeps the list)
    // (a call wrapped up now is in the list until saved: once saved, though the phone system
    // kept the agent paused, its form is not asked for again)
    const due = (status.wrapups || [])[0] || null;
    if (due && wrapupCall !== due) {
      loadWrapup(due);
    }
    if (["ringing", "on_call"].includes(me.state) && $("wrapup-form").hidden) {
      $("wrapup-none").textContent = "The form of your call appears here when the conversation ends.";
    }
    if (before !== me.state && ["ready", "paused", "logged_out", "wrapup"].includes(me.state)) {
      refresh();
    }
    if (before !== me.state || wasHeld !== held) announce(before);
    tick();
    keepFocus();
  }

  // ---- what a screen reader is told ------------------------------------------------------------
  // each change of the agent's state once (never the clocks' ticks); a ringing call at once,
  // with its caller when the pop has come
  let toldRinging = null;  // the ringing call whose caller was said

  function caller() {
    if (!popData || text(popData.call.id) !== me.call) return "";
    const call = popData.call;
    return " from " + (text(call.caller) || "an unknown number") +
      (call.caller_name ? " (" + text(call.caller_name) + ")" : "");
  }

  function sayRinging() {
    const from = caller();
    if (from) toldRinging = me.call;
    ccf.say("call ringing" + from + (canAnswer ? ": Answer is in the Call section" : ": answer it on your phone"), true, "ringing");
  }

  function announce(before) {
    if (me.state === "ringing") sayRinging();
    else if (me.state === "on_call" && before === "on_call") ccf.say(held ? "caller on hold" : "caller back from hold");
    else if (me.state === "on_call") ccf.say("on call" + caller());
    else if (me.state === "wrapup") ccf.say("call ended" + (wrapupCall ? "" : ": no form to fill in"));
    else ccf.say(ccf.stateWords({state: me.state, reason: me.reason}));
  }

  // ---- focus -----------------------------------------------------------------------------------
  // the keyboard's place must not vanish with the button it was on (Answer, Hang up and Save
  // go as the call goes on): it moves to the desk's next step. Focus anywhere else stays, and
  // a click outside any control (mousedown) means nothing is to be kept.
  let placed = null;
  document.addEventListener("focusin", (e) => { placed = e.target; });
  document.addEventListener("mousedown", () => { placed = null; });

  function nextStep() {
    const form = $("wrapup-form");
    if (!form.hidden) {
      const fields = [...form.querySelectorAll("#wrapup-fields :is(input, select, textarea)")];
      return fields.find((f) => !f.value) || fields[0] || $("btn-wrapup");
    }
    if (me.state === "wrapup" && wrapupCall) return null;  // its form is on its way
    // Hold and Resume take each other's place
    if (placed === $("btn-hold") && !$("btn-resume").hidden) return $("btn-resume");
    if (placed === $("btn-resume") && !$("btn-hold").hidden) return $("btn-hold");
    if (["ringing", "on_call"].includes(me.state)) return $("call-heading");
    return $("btn-ready").disabled ? $("desk-heading") : $("btn-ready");
  }

  function keepFocus() {
    if (!placed) return;
    const at = document.activeElement;
    // (Save is disabled only while it saves: the keyboard waits on it for the answer)
    const off = placed.disabled && placed !== $("btn-wrapup");
    const gone = !placed.isConnected || off || placed.getClientRects().length === 0;
    if (!gone && at && at !== document.body) return;
    const next = nextStep();
    if (next && next !== at) next.focus();
  }

  function tick() {
    $("state-time").textContent = ccf.clock((now() - me.since) / 1000);
    const status = $("pop-status");
    if (status && pop && pop === me.call) {
      status.textContent = ccf.stateWords({state: me.state}) + " " + ccf.clock((now() - me.since) / 1000);
    } else if (status) {
      status.textContent = pop ? "· ended" : "";
    }
  }

  // ---- the pop ---------------------------------------------------------------------------
  const text = (v) => (v === null || v === undefined) ? "" :
    typeof v === "string" ? v : typeof v === "boolean" ? (v ? "yes" : "no") :
    typeof v === "number" ? String(v) : JSON.stringify(v);

  function pathText(path) {
    const parts = [];
    for (const e of path || []) {
      if ("queue" in e) parts.push("queue " + e.queue + " " + e.key);
      else if ("key" in e) parts.push((e.menu || "menu") + " " + e.key);
      else if ("collected" in e) parts.push(e.collected + " " + text(e.value));
    }
    return parts.join(" → ");
  }

  function showPop(data) {
    popData = data && data.call ? data : null;
    const box = $("pop");
    box.replaceChildren();
    if (!popData) {
      pop = null; box.dataset.call = "";
      box.append(ccf.el("p", {class: "muted", id: "pop-empty", text: "No call. A call offered to you appears here."}));
      showCustomer(null, []);
      return;
    }
    const call = popData.call;
    pop = text(call.id); box.dataset.call = pop;
    box.append(
      ccf.el("p", {class: "pop-head"},
        ccf.el("span", {id: "pop-caller", class: "caller", text: text(call.caller) || "unknown number"}), " ",
        call.caller_name ? ccf.el("span", {id: "pop-caller-name", class: "caller-name", text: text(call.caller_name)}) : null, " ",
        ccf.el("span", {id: "pop-status", class: "muted"})),
      ccf.el("p", {class: "muted"},
        ...(call.dialled ? ["dialled ", ccf.el("span", {id: "pop-dialled", text: text(call.dialled)}), " · "] : []),
        "flow ", ccf.el("span", {id: "pop-flow", text: text(call.flow)}),
        " · call ", ccf.el("span", {id: "pop-call", text: pop})),
      ccf.el("p", {}, "IVR: ", ccf.el("span", {id: "pop-path", text: pathText(call.path) || "(no menu choices)"})));
    showCustomer(popData.customer, popData.recent_calls || [], popData.items);
    tick();
    if (me.state === "ringing" && pop === me.call && toldRinging !== pop) sayRinging();
  }

  // a CRM or flow value as people read it: times in the centre's zone, a record by its
  // name (else its fields), a list comma-separated; never HTML
  function shown(v) {
    if (typeof v === "string") return ccf.when(v);
    if (Array.isArray(v)) return v.map(shown).join(", ");
    if (v && typeof v === "object") {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "duration_ms" && typeof v.duration_ms === "number") {
        return ccf.clock(v.duration_ms / 1000);  // a duration: 75000 -> 1:15
      }
      if (v.name !== undefined && v.name !== null) {
        const tag = [v.kind, v.id].filter((x) => x !== undefined && x !== null).map(text).join(" ");
        return text(v.name) + (tag ? " (" + tag + ")" : "");
      }
      return Object.entries(v).map(([k, x]) => /_ms$/.test(k) && typeof x === "number"
        ? k.slice(0, -3).replace(/_/g, " ") + ": " + ccf.clock(x / 1000)  // duration_ms: 120005 -> duration: 2:00
        : k.replace(/_/g, " ") + ": " + shown(x)).join(", ");
    }
    return text(v);
  }

  // what the flow's `screen_pop` statement chose: values, or records (a heading each,
  // then their fields); when it chose something, that is what the desk shows
  function flowItems(items) {
    const rows = [];
    for (const item of Array.isArray(items) ? items : []) {
      if (item && typeof item === "object" && !Array.isArray(item)) {
        const head = [item.kind, item.id].filter((v) => v !== undefined && v !== null).join(" ");
        if (head) rows.push([head, null]);  // desk_pages.flow_items renders the same
        for (const [k, v] of Object.entries(item)) {
          if (k !== "kind" && k !== "id") rows.push([k, v === null || v === undefined ? "" : v]);
        }
      } else {
        rows.push(["", item]);
      }
    }
    return rows;
  }

  function showCustomer(customer, recent, items) {
    const table = $("crm");
    table.replaceChildren();
    const pick = $("read-field");
    pick.replaceChildren(ccf.el("option", {value: "", text: "(type a text, or pick a CRM field)"}));
    // one shape ringing or answered: the CRM record alone is shown as a flow's chosen record
    let chosen = flowItems(items);
    if (!chosen.length && customer && typeof customer === "object" && !Array.isArray(customer)) {
      chosen = flowItems([customer]);
    }
    for (const [key, value] of chosen) {
      if (value === null) {
        table.append(ccf.el("tr", {class: "flow-item"}, ccf.el("th", {colspan: 2, scope: "colgroup", text: key})));
        continue;
      }
      table.append(ccf.el("tr", {class: "flow-item"}, ccf.el("th", {scope: "row", text: key || "flow"}),
                          ccf.el("td", {text: shown(value)})));
      pick.append(ccf.el("option", {value: shown(value), text: (key || "flow") + ": " + shown(value)}));
    }
    const entries = !chosen.length && customer && typeof customer === "object"
      ? Object.entries(customer) : [];
    if (!entries.length && !chosen.length) {
      table.append(ccf.el("tr", {}, ccf.el("td", {class: "muted", text: "No customer record."})));
    }
    for (const [key, value] of entries) {
      table.append(ccf.el("tr", {}, ccf.el("th", {scope: "row", text: key}), ccf.el("td", {text: shown(value)})));
      pick.append(ccf.el("option", {value: shown(value), text: key + ": " + shown(value)}));
    }
    const list = $("recent-calls");
    list.replaceChildren();
    if (!recent.length) {
      list.append(ccf.el("li", {class: "muted", text: popData ? "No earlier calls from this number." : "None: no call."}));
    }
    for (const r of recent) {
      const id = encodeURIComponent(text(r.call_id));
      // an agent opens only the calls they took (the server's rule): no link that gives a 404
      const mine = Boolean(r.agent) && text(r.agent) === root.dataset.agent;
      const shown = (v) => v && typeof v === "object"
        ? Object.entries(v).map(([k, x]) => k + ": " + text(x)).join(", ") : text(v);
      // a transferred call: each agent's saved wrap-up, named
      const saved = Array.isArray(r.wrapups) ? r.wrapups : [];
      const wrap = saved.length > 1
        ? saved.map((w) => text(w.agent || "?") + ": " + shown(w.values)).join("; ") : shown(r.wrapup);
      list.append(ccf.el("li", {},
        ccf.el("time", {class: "when", datetime: text(r.time), title: text(r.time), text: ccf.when(r.time)}), " ",
        ccf.el("span", {class: "outcome", text: words(r.outcome)}),
        r.agent ? " · agent " + text(r.agent) : "",
        wrap ? ccf.el("span", {class: "wrapup", text: " · " + wrap}) : null, " ",
        mine ? ccf.el("a", {href: "/history/" + id, text: "details"}) : null, " ",
        mine && r.recorded ? ccf.el("a", {href: "/recordings/" + id, class: "rec"},
                                      ccf.el("span", {"aria-hidden": "true", text: "▶ "}), "recording") : null));
    }
  }

  // ---- the day and the follow-ups ----------------------------------------------------------
  async function refresh() {
    let data;
    try {
      const reply = await fetch("/desk/summary", {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!reply.ok) return;
      data = await reply.json();
    } catch (e) { return; }
    $("today-calls").textContent = data.today.calls === null ? "?" : String(data.today.calls);
    $("today-talk").textContent = data.today.talk;
    showFollowups(data.followups || []);
  }

  function showFollowups(items) {
    const list = $("followups");
    list.replaceChildren();
    if (!items.length) list.append(ccf.el("li", {class: "muted", text: "Nothing to follow up."}));
    for (const m of items) {
      const id = text(m.call_id);
      list.append(ccf.el("li", {"data-call": id},
        ccf.el("audio", {controls: "", preload: "none", src: "/recordings/" + encodeURIComponent(id),
                         "aria-label": "message from " + text(m.caller)}),
        ccf.el("span", {class: "len", text: text(m.length)}), " ",
        ccf.el("span", {class: "caller", text: text(m.caller)}), " ",
        ccf.el("span", {class: "muted", text: text(m.left)}), " ",
        m.called_back ? ccf.el("span", {class: "badge", text: "called back: " + text(m.called_back)}) : null, " ",
        ccf.el("button", {type: "button", class: "btn-callback", "data-call": id, text: "Call back",
                          "aria-label": "Call back " + text(m.caller)}), " ",
        ccf.el("button", {type: "button", class: "btn-done", "data-call": id, text: "Mark done",
                          "aria-label": "Mark done: " + text(m.caller)})));
    }
  }

  $("followups").addEventListener("click", async (e) => {
    const button = e.target.closest("button");
    if (!button) return;
    const id = encodeURIComponent(button.dataset.call);
    button.disabled = true;
    if (button.classList.contains("btn-callback")) {
      const r = await ccf.post("/desk/callback/" + id);
      if (r.ok) ccf.notice("calling back: your phone rings first");
    } else if (button.classList.contains("btn-done")) {
      const r = await ccf.post("/desk/done/" + id);
      if (r.ok) ccf.notice("marked done");
    }
    button.disabled = false;
    refresh();
  });

  // ---- the wrap-up form ---------------------------------------------------------------------
  async function loadWrapup(callId) {
    wrapupCall = callId;
    let data;
    try {
      const reply = await fetch("/desk/wrapup/" + encodeURIComponent(callId), {credentials: "same-origin", headers: {Accept: "application/json"}});
      data = await reply.json();
    } catch (e) { return; }
    if (!data.ok) {
      wrapupCall = null;  // asked again on the next change (the form comes at the conversation's end)
      if (me.state === "wrapup" && data.error) $("wrapup-none").textContent = data.error;
      return;
    }
    showWrapup(callId, data.fields);
    $("wrapup").classList.add("due");
  }

  function showWrapup(callId, fields) {
    const form = $("wrapup-form");
    form.action = "/desk/wrapup/" + encodeURIComponent(callId);
    $("wrapup-of").textContent = callId;
    const box = $("wrapup-fields");
    box.replaceChildren();
    fields.forEach((f, i) => {
      const id = "wf-" + (i + 1);
      const name = "f." + f.name;
      // the hint and the field's problem are read with the field
      const about = (f.hint ? id + "-hint " : "") + id + "-problem";
      let input;
      if (f.input === "yesno") {
        input = ccf.el("select", {id, name, required: f.required, "aria-describedby": about},
          ccf.el("option", {value: "", text: "choose…"}), ccf.el("option", {value: "yes", text: "yes"}), ccf.el("option", {value: "no", text: "no"}));
      } else if (f.input === "textarea") {
        input = ccf.el("textarea", {id, name, rows: 2, required: f.required, "aria-describedby": about});
      } else {
        input = ccf.el("input", {id, name, type: f.input, step: f.input === "number" ? "any" : null,
                                 required: f.required, "aria-describedby": about});
      }
      box.append(ccf.el("div", {class: "field", "data-field": f.name},
        // the star is for the eye: a screen reader says "required" from the field itself
        ccf.el("label", {for: id}, f.name, f.required ? ccf.el("abbr", {class: "required", title: "required", "aria-hidden": "true", text: " *"}) : null),
        input, f.hint ? ccf.el("small", {class: "hint", id: id + "-hint", text: f.hint}) : null,
        ccf.el("small", {class: "error problem", id: id + "-problem"})));
    });
    $("wrapup-problems").textContent = "";
    form.hidden = false;
    $("wrapup-none").hidden = true;
    ccf.say("wrap-up form of call " + callId + (fields.length ? ": " + fields.length + " fields" : ""));
    keepFocus();
  }

  $("wrapup-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    const fields = {};
    for (const [k, v] of new FormData(form).entries()) if (k !== "csrf") fields[k] = v;
    for (const box of form.querySelectorAll(".problem")) box.textContent = "";
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    // one save at a time: a double click must not post the wrap-up twice
    const save = $("btn-wrapup");
    if (save.disabled) return;
    save.disabled = true;
    let reply;
    try {
      reply = await ccf.post(form.getAttribute("action"), fields);
    } finally {
      save.disabled = false;
    }
    // saved before (another tab), or its call pruned (404): the form waits no more, and the
    // notice has said why
    if ((reply.status === 409 || reply.status === 404) && reply.me) {
      form.hidden = true; wrapupCall = null;
      $("wrapup").classList.remove("due");
      showMe(reply.me);
      keepFocus();
      return;
    }
    if (reply.ok) {
      ccf.notice("wrap-up saved");
      form.hidden = true; wrapupCall = null;
      $("wrapup").classList.remove("due");
      $("wrapup-none").hidden = false;
      $("wrapup-none").textContent = "Saved.";
      if (reply.me) showMe(reply.me);  // the next unsaved form, if any
      refresh();
      keepFocus();
      return;
    }
    let first = null;
    for (const [name, said] of Object.entries(reply.problems || {})) {
      const field = [...form.querySelectorAll(".field")].find((d) => d.dataset.field === name);
      if (!field) continue;
      field.querySelector(".problem").textContent = said.join("; ");
      const input = field.querySelector("input, select, textarea");
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
    $("wrapup-problems").textContent = (reply.other || []).join("; ");
    // to the first field to correct: its label and its problem are read there
    if (first) first.focus();
  });

  // ---- buttons -------------------------------------------------------------------------------
  async function act(url, fields) {
    const reply = await ccf.post(url, fields);
    if (reply.ok && reply.me) showMe(reply.me);
    return reply;
  }
  const callUrl = (action) => "/desk/call/" + encodeURIComponent(me.call || "") + "/" + action;

  // logged out, Ready joins the queues first (ready at once)
  $("btn-ready").addEventListener("click", () => act(me.state === "logged_out" ? "/desk/join" : "/desk/ready"));
  $("btn-pause").addEventListener("click", () => act("/desk/pause", {reason: $("pause-reason").value}));
  $("btn-leave").addEventListener("click", () => act(me.state === "logged_out" ? "/desk/join" : "/desk/leave"));
  $("btn-answer").addEventListener("click", () => act(callUrl("answer")));
  $("btn-hangup").addEventListener("click", () => act(callUrl("hangup")));
  // the reply's state (held or not) is shown by act
  $("btn-hold").addEventListener("click", () => act(callUrl("hold")));
  $("btn-resume").addEventListener("click", () => act(callUrl("resume")));
  $("btn-transfer").addEventListener("click", async () => {
    const r = await act(callUrl("transfer"), {kind: $("transfer-kind").value, value: $("transfer-value").value, mode: $("transfer-mode").value});
    if (r.ok) ccf.notice("transferred to " + $("transfer-value").value);
  });
  $("btn-add-party").addEventListener("click", async () => {
    const r = await act(callUrl("add_party"), {kind: $("party-kind").value, value: $("party-value").value});
    if (r.ok) ccf.notice("ringing " + $("party-value").value);
  });
  $("read-field").addEventListener("change", (e) => { if (e.target.value) $("read-text").value = e.target.value; });
  $("btn-read").addEventListener("click", async () => {
    const r = await act(callUrl("read"), {text: $("read-text").value, language: $("read-language").value});
    if (r.ok) ccf.notice("reading to the caller (" + r.language + ")");
  });

  // log out asks the server, which refuses while a call rings, is talked on or waits for its
  // wrap-up: the refusal is shown here and the desk stays
  const logoutForm = document.querySelector("form[action='/logout']");
  if (logoutForm) {
    logoutForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await ccf.post("/logout");
      if (r.ok) window.location = r.next || "/login";
    });
  }

  // ---- live -------------------------------------------------------------------------------------
  ccf.live({
    state: (d) => { skew = (Date.parse(d.now) || Date.now()) - Date.now(); showPop(d.pop); showMe(d.me); },
    agent: (d) => { skew = (Date.parse(d.since) || Date.now()) - Date.now(); showMe(d); },
    pop: (d) => { showPop(d); },
  });
  // the unsaved forms as the server rendered them: without them the first state would
  // fetch the current call's form over the oldest one's the page shows
  let rendered = [];
  try { rendered = JSON.parse(root.dataset.wrapups || "[]"); } catch (e) { rendered = []; }
  showMe({state: me.state, since: root.dataset.since, call_id: me.call, reason: root.dataset.reason || null,
          held: root.dataset.held === "yes",
          held_by: (root.dataset.heldBy || "").split(" ").filter(Boolean), wrapups: Array.isArray(rendered) ? rendered : []});
  setInterval(tick, 1000);
})();
