/* oreline control room: the catalogue's history — lot list with search, a past lot's record, the alarm journal. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const clock = (e) => (window.clockTime ? window.clockTime(e) : String(e));
  const td = (text, cls) => { const c = document.createElement("td"); c.textContent = text; if (cls) c.className = cls; return c; };

  function lotCell(lotId) {  // the lot id's distinctive end; the whole id on hover, a click opens the lot
    const c = td(lotId.length > 24 ? "…" + lotId.slice(-22) : lotId, "lot");
    c.title = lotId;
    c.addEventListener("click", () => showLot(lotId));
    return c;
  }

  async function get(url) {
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) throw new Error(res.status + " " + ((await res.json().catch(() => ({}))).detail || res.statusText));
    return res.json();
  }

  function reportLinks(lot) {
    const cell = document.createElement("td");
    for (const fmt of ["html", "pdf"]) {
      if (!lot["report_" + fmt]) continue;
      const a = document.createElement("a");
      a.href = "/api/lots/" + encodeURIComponent(lot.lot_id) + "/report/" + fmt; a.target = "_blank";
      a.textContent = fmt.toUpperCase();
      cell.append(a, " ");
    }
    return cell;
  }

  async function refreshLots() {
    const q = new URLSearchParams({ q: $("lot-q").value.trim(), verdict: $("lot-verdict").value,
      lab_status: $("lot-lab").value, limit: "100" });
    let lots;
    try { lots = await get("/api/lots?" + q); } catch (e) { return; }
    const rows = lots.map((l) => {
      const tr = document.createElement("tr");
      tr.dataset.lot = l.lot_id;
      tr.append(td(clock(l.started_epoch_s)), td(l.lot_id, "lot"), td(l.vessel + " / " + l.hold),
        td(Number(l.tonnage_t || 0).toFixed(0)), td(l.line_verdict + (l.status === "open" ? " (open)" : ""), "lv-" + l.line_verdict),
        td(l.lab_status + (l.lab_verdict ? ": " + l.lab_verdict : "")), td(String(l.alarms)), reportLinks(l));
      tr.addEventListener("click", () => showLot(l.lot_id));
      return tr;
    });
    if (!rows.length) { const tr = document.createElement("tr"); const c = td("no lot matches", "muted"); c.colSpan = 8; tr.append(c); rows.push(tr); }
    $("lots").replaceChildren(...rows);
  }

  async function showLot(lotId) {
    const rec = await get("/api/lots/" + encodeURIComponent(lotId));
    const box = $("lot-record");
    const l = rec.lot;
    const head = document.createElement("p");
    head.textContent = l.lot_id + " · " + l.vessel + " " + l.hold + " · " + l.product + " · " + Number(l.tonnage_t).toFixed(0)
      + " t · line " + l.line_verdict + (l.line_verdict_epoch_s ? " at " + clock(l.line_verdict_epoch_s) : "")
      + " · lab " + (l.lab_verdict || "–") + " (" + l.lab_status + ")" + " · segments " + JSON.stringify(l.segments_by_class || {})
      + (l.review_decision ? " · review " + l.review_decision + " by " + l.reviewer : "");
    const table = document.createElement("table");
    const items = [
      ...rec.events.map((e) => [e.epoch_s, "event", e.kind, e.source + ": " + e.message]),
      ...rec.alarms.map((a) => [a.raised_epoch_s, "alarm #" + a.alarm_id, a.severity, a.message + " — " + a.state
        + (a.acknowledged_by ? " by " + a.acknowledged_by + (a.ack_comment ? ": " + a.ack_comment : "") : "")]),
      ...rec.commands.map((c) => [c.epoch_s, "command", c.command, c.operator + ": " + c.result]),
    ].sort((a, b) => (a[0] || 0) - (b[0] || 0));
    for (const [t, what, kind, text] of items.slice(-200)) {
      const tr = document.createElement("tr"); tr.append(td(clock(t)), td(what), td(kind), td(text)); table.append(tr);
    }
    const links = document.createElement("p");
    links.append("Report: ", reportLinks(l).cloneNode(true));
    const live = window.controlroom && window.controlroom.lotId === l.lot_id;
    const open = document.createElement("button");
    open.type = "button"; open.className = "open-past";
    open.textContent = live ? "This is the live lot (panels above)" : "Open in the panels (from its archive)";
    open.disabled = live;
    open.addEventListener("click", () => openInPanels(l));
    links.append(" ", open);
    box.replaceChildren(head, links, table);
    box.hidden = false;
    if (!live) openInPanels(l);
  }

  function openInPanels(lot) {  // segments, evidence, increments and trends of the past lot, from its archive
    if (!window.controlroomPast) return;
    window.controlroomPast.open(lot.lot_id, lot).then(() => {
      document.getElementById("belt-panel").scrollIntoView({ behavior: "smooth" });
    }).catch(() => {});  // the banner says why (archive missing or unreadable); the record above stays
  }

  async function refreshJournal() {
    const q = new URLSearchParams({ severity: $("j-severity").value, state: $("j-state").value,
      lot_id: $("j-lot").value.trim(), limit: "200" });
    let alarms;
    try { alarms = await get("/api/journal/alarms?" + q); } catch (e) { return; }
    $("journal").replaceChildren(...alarms.map((a) => {
      const tr = document.createElement("tr");
      tr.className = "sev-" + a.severity + " st-" + a.state;
      tr.append(td(String(a.alarm_id)), td(clock(a.raised_epoch_s)), td(a.severity), td(a.category), lotCell(a.lot_id),
        td((a.parent_id ? "↳ follows #" + a.parent_id + ": " : "") + a.message),
        td(a.state + (a.acknowledged_by ? " (" + a.acknowledged_by + (a.ack_comment ? ": " + a.ack_comment : "") + ")" : "")));
      return tr;
    }));
  }

  $("lot-search").addEventListener("submit", (ev) => { ev.preventDefault(); refreshLots(); });
  $("journal-filter").addEventListener("submit", (ev) => { ev.preventDefault(); refreshJournal(); });
  window.controlroomHistory = { refreshLots, refreshJournal, showLot };
  refreshLots(); refreshJournal();
  setInterval(() => { if (!document.hidden) { refreshLots(); refreshJournal(); } }, 10000);
})();
