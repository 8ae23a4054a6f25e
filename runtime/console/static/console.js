// The console's shared script: posting actions with the CSRF token, the live stream, text.
// Plain JavaScript, no build step, nothing from another host. Values from callers and the
// CRM are only ever set as text (textContent), never as HTML.
"use strict";

const ccf = {
  csrf() {
    const meta = document.querySelector('meta[name="csrf"]');
    return meta ? meta.content : "";
  },

  // POST a form-encoded action; resolves to the JSON reply, shows its error if any
  async post(url, fields = {}) {
    const body = new URLSearchParams(fields);
    const reply = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: {"X-CSRF-Token": ccf.csrf(), "Accept": "application/json"},
    });
    let data = {};
    try { data = await reply.json(); } catch (e) { data = {ok: reply.ok}; }
    if (reply.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); }
    if (!reply.ok || data.ok === false) { ccf.notice(data.error || ("failed: HTTP " + reply.status), true); }
    return {status: reply.status, ...data};
  },

  // a notice at the foot of the window, closed by its button or after a while; while it
  // shows, the page may scroll its own end above it (nothing stays under it)
  notice(text, bad = false) {
    const box = document.getElementById("notice");
    if (!box) return;
    const hide = () => { box.hidden = true; document.body.style.paddingBottom = ""; };
    // the button's × is drawn by the style sheet: the notice's text stays the message alone
    box.replaceChildren(ccf.el("span", {text}),
                        ccf.el("button", {type: "button", class: "close", "aria-label": "close", title: "close", onclick: hide}));
    box.className = bad ? "notice bad" : "notice";
    box.hidden = false;
    ccf.say(text, bad);
    document.body.style.paddingBottom = (box.offsetHeight + 16) + "px";
    clearTimeout(ccf._noticeTimer);
    ccf._noticeTimer = setTimeout(hide, bad ? 8000 : 4000);
  },

  // said to a screen reader: #said (polite: after what it is reading) or #said-urgent (at
  // once: a call ringing, an error). Emptied first and filled a moment later, so the same
  // words said twice are announced twice; what is said meanwhile joins them, unless it
  // has the same `key` (a newer version of the same news: it takes the older one's place).
  say(text, urgent = false, key = null) {
    const box = document.getElementById(urgent ? "said-urgent" : "said");
    if (!box) return;
    box.textContent = "";
    const saying = (box._saying || []).filter((s) => key === null || s.key !== key);
    box._saying = saying.concat([{text, key}]);
    clearTimeout(box._sayTimer);
    box._sayTimer = setTimeout(() => {
      box.textContent = box._saying.map((s) => s.text).join(". ");
      box._saying = [];
    }, 100);
  },

  // the live stream: handlers by event name; EventSource reconnects by itself and the
  // server sends the whole state first on every (re)connection
  live(handlers) {
    const source = new EventSource("/live");
    for (const [name, fn] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    }
    source.addEventListener("logged_out", () => { window.location = "/login"; });
    return source;
  },

  // an element with children; text is always text
  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = String(v);
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, String(v));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  // an ISO time as people read it, in the centre's zone (<body data-zone>), else in the
  // offset the time was written with: "2026-11-30 10:00:45". Anything that is not an
  // ISO time is given back unchanged.
  when(iso) {
    const s = String(iso ?? "");
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
    if (!m) return s;
    let day = m[1], time = m[2].length === 5 ? m[2] : m[2].slice(0, 8);
    const zone = document.body && document.body.dataset.zone;
    if (zone && m[3]) {
      try {
        const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
          timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
          minute: "2-digit", second: "2-digit", hourCycle: "h23"}).formatToParts(new Date(s))
          .map((p) => [p.type, p.value]));
        day = parts.year + "-" + parts.month + "-" + parts.day;
        time = parts.hour + ":" + parts.minute + (m[2].length === 5 ? "" : ":" + parts.second);
      } catch (e) { /* an unknown zone: the time as written */ }
    }
    return day + " " + time;
  },

  // an agent's state as the wallboard and the agents page show it (a row of the `wall`
  // event): a held caller shows the hold's own time, which is what a supervisor watches
  stateWords(a) {
    if (a.held) return "on hold";
    return (a.state === "wrapup" ? "wrap-up" : a.state.replace("_", " ")) + (a.reason ? ": " + a.reason : "");
  },

  // who holds a held caller, after its time ("on hold (1:05) by the phone"): a phone's hold
  // is resumed only on the phone, so a supervisor reads whose it is (words, not colour)
  heldBy(a) {
    const who = a.held && Array.isArray(a.held_by) ? a.held_by : [];
    return who.length ? " by the " + who.join(" and the ") : "";
  },

  stateSeconds(a) { return a.held ? (a.held_seconds || 0) : a.seconds; },

  clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + two(m) : String(m)) + ":" + two(r);
  },
};
window.ccf = ccf;

// times the server wrote as ISO (<time datetime>) shown in the centre's zone
document.addEventListener("DOMContentLoaded", () => {
  for (const node of document.querySelectorAll("time[datetime]")) {
    const shown = ccf.when(node.getAttribute("datetime"));
    if (shown !== node.textContent) { node.title = node.getAttribute("datetime"); node.textContent = shown; }
  }
});
