/* oreline control room page: live state over server-sent events; trends on uPlot (trends.js), the belt and the spectrum in SVG. */
(function () {
  "use strict";
  const { el, linePlot } = window.Plot;
  const $ = (id) => document.getElementById(id);

  // Client-side history is bounded: a page left open for hours holds at most these many items.
  const MAX_TREND = 3600, MAX_NIR = 20000, MAX_SEGMENTS = 5000, SHOWN_DETECTIONS = 12, SHOWN_INCREMENTS = 10;

  const S = {
    role: "none", commandsEnabled: false, lotId: null, snap: null,
    segments: [], trend: [], nir: [], selected: null,
    counts: { segments: 0, detections: 0, increments: 0, reports: -1 },
    fetching: {}, dirty: false, source: null,
    past: null,      // a past lot opened from its archive: {lotId, row, segments, trends, increments, detections}
    markers: [],     // the live lot's event markers (/api/markers)
  };
  window.controlroom = S; // for tests and the curious

  async function api(url, opts) {
    const res = await fetch(url, Object.assign({ credentials: "same-origin" }, opts || {}));
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      const msg = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : res.statusText;
      const err = new Error(res.status + ": " + msg);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function post(url, data, method) {
    return api(url, {
      method: method || "POST", headers: { "Content-Type": "application/json" },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
  }

  function notice(text) {
    const n = $("notice");
    n.textContent = text || "";
    n.hidden = !text;
  }

  const num = (v, d) => (v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(d));

  // ---- session --------------------------------------------------------------------------------
  function applySession(info) {
    S.role = info.role;
    S.person = info.person || "";
    S.commandsEnabled = info.commands_enabled;
    $("role").textContent = info.role;
    $("role").className = "role " + info.role;
    $("person").textContent = S.person;
    const op = info.role === "operator";
    $("token").hidden = op;
    $("user").hidden = op;
    $("login-btn").hidden = op;
    $("logout-btn").hidden = !(op || (info.role === "viewer" && !info.open_viewing));
    $("commands").hidden = !op;
    if (info.role === "none") notice("Log in with a viewer or operator token to see the line.");
    S.dirty = true;
    schedule();
  }

  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const name = $("user").value.trim();
      // A person logs in with name and password; a machine token alone still works.
      const body = name ? { name: name, password: $("token").value } : { token: $("token").value };
      applySession(await post("/api/session", body));
      $("token").value = "";
      notice("");
      connect();
    } catch (e) { notice("Login failed: " + e.message); }
  });
  $("logout-btn").addEventListener("click", async () => {
    applySession(await post("/api/session", undefined, "DELETE"));
  });

  // ---- live stream ----------------------------------------------------------------------------
  function setConn(cls, text) { $("conn").className = "conn " + cls; $("conn").textContent = text; }

  function connect() {
    if (S.source) S.source.close();
    const src = new EventSource("/api/stream");
    S.source = src;
    src.addEventListener("open", () => setConn("conn-live", "live"));
    src.addEventListener("state", (ev) => {
      setConn("conn-live", "live");
      onSnapshot(JSON.parse(ev.data));
    });
    src.addEventListener("error", async () => {
      setConn("conn-wait", "reconnecting…");
      if (src.readyState === EventSource.CLOSED) {
        // The server refused (401 / 429) or is gone: check the session, then retry later.
        try { applySession(await api("/api/session")); } catch (e) { setConn("conn-down", "server unreachable"); }
        setTimeout(() => { if (S.source === src) connect(); }, 3000);
      }
    });
  }

  function mergeBy(list, add, key, max) {
    const last = list.length ? list[list.length - 1][key] : -Infinity;
    for (const p of add) if (p[key] > last) list.push(p);
    if (list.length > max) list.splice(0, list.length - max);
  }

  function onSnapshot(snap) {
    const lotId = snap.state ? snap.state.lot_id : (snap.lot ? snap.lot.lot_id : null);
    if (lotId !== S.lotId) {
      S.lotId = lotId; S.segments = []; S.trend = []; S.nir = []; S.selected = null;
      S.counts = { segments: 0, detections: 0, increments: 0, reports: S.counts.reports };
      S.markers = [];
      if (!S.past) {
        $("detections").replaceChildren(); $("increments").replaceChildren();
        $("spectrum").replaceChildren(); $("segment-info").textContent = ""; $("evidence-title").textContent = "segment –";
      }
      refreshTrend();
    }
    S.snap = snap;
    document.body.dataset.version = snap.version;
    mergeBy(S.trend, snap.trend || [], "time_s", MAX_TREND);
    mergeBy(S.nir, snap.nir_trend || [], "lot_t", MAX_NIR);
    const c = snap.counts || {};
    if (c.segments > S.counts.segments || c.segments < S.counts.segments) refreshSegments(c.segments);
    if (c.detections !== S.counts.detections) refreshDetections(c.detections);
    if (c.increments !== S.counts.increments) refreshSamples(c.increments);
    if (c.reports !== S.counts.reports) { refreshReports(c.reports); refreshLab(); }
    const alarmSig = (snap.alarms || []).map((a) => a.alarm_id + a.state).join(",");
    if (alarmSig !== S.alarmSig) { S.alarmSig = alarmSig; refreshMarkers(); }
    S.dirty = true;
    schedule();
  }

  async function once(name, fn) {
    if (S.fetching[name]) return;
    S.fetching[name] = true;
    try { await fn(); } catch (e) { if (e.status !== 401) console.warn(name, e); } finally { S.fetching[name] = false; }
  }

  function refreshTrend() {
    once("trend", async () => {
      const [trend, nir] = await Promise.all([api("/api/trend?last_n=" + MAX_TREND), api("/api/nir-trend?last_n=" + MAX_NIR)]);
      S.trend = trend.concat(S.trend.filter((p) => trend.length === 0 || p.time_s > trend[trend.length - 1].time_s)).slice(-MAX_TREND);
      S.nir = nir.concat(S.nir.filter((p) => nir.length === 0 || p.lot_t > nir[nir.length - 1].lot_t)).slice(-MAX_NIR);
      S.dirty = true; schedule();
    });
  }

  function refreshSegments(total) {
    once("segments", async () => {
      if (total < S.segments.length) S.segments = [];
      const since = S.segments.length;
      const add = await api("/api/segments?since=" + since);
      if (S.segments.length === since) S.segments.push(...add);
      if (S.segments.length > MAX_SEGMENTS) S.segments.splice(0, S.segments.length - MAX_SEGMENTS);
      S.counts.segments = S.segments.length;
      S.dirty = true; schedule();
    });
  }

  function refreshDetections(total) {
    once("detections", async () => {
      const since = Math.max(0, total - SHOWN_DETECTIONS);
      const dets = await api("/api/detections?since=" + since + "&limit=" + SHOWN_DETECTIONS);
      S.counts.detections = total;
      if (!S.past) showDetections(dets, total);
    });
  }

  function showDetections(dets, total) {
      $("det-count").textContent = total + " in lot";
      const nodes = dets.slice().reverse().map((d) => {
        const box = document.createElement("div");
        box.className = "det";
        box.title = "segment " + d.segment;
        box.dataset.segment = d.segment;
        const img = document.createElement("img");
        img.alt = d.kind || "detection";
        img.loading = "lazy";
        if (d.thumbnail_url) img.src = d.thumbnail_url;
        const cap = document.createElement("div");
        cap.textContent = (d.kind || "?") + " " + num(d.length_mm, 0) + " mm @ " + num(d.mark_t, 1) + " t";
        box.replaceChildren(img, cap);
        box.addEventListener("click", () => selectSegment(d.segment));
        return box;
      });
      $("detections").replaceChildren(...nodes);
  }

  function refreshSamples(total) {
    once("samples", async () => {
      const body = await api("/api/samples?since=" + Math.max(0, total - SHOWN_INCREMENTS));
      S.counts.increments = body.total;
      if (!S.past) showIncrements(body.increments);
      refreshMarkers();
    });
  }

  function showIncrements(increments) {
    const rows = increments.slice().reverse().map((inc) => {
      const tr = document.createElement("tr");
      tr.className = "inc-" + inc.status;
      for (const v of [inc.number, inc.role, num(inc.mark_t, 1), inc.status, inc.reason || ""]) {
        const td = document.createElement("td"); td.textContent = v === undefined ? "" : v; tr.appendChild(td);
      }
      return tr;
    });
    $("increments").replaceChildren(...rows);
  }

  function refreshMarkers() {  // the live lot's faults, alarms and increments as markers on its trends
    once("markers", async () => {
      const body = await api("/api/markers");
      if (body.lot_id === S.lotId) { S.markers = body.markers; S.dirty = true; schedule(); }
    });
  }

  function refreshReports(total) {
    once("reports", async () => {
      const reports = await api("/api/reports");
      S.counts.reports = total;
      const items = reports.map((r) => {
        const li = document.createElement("li");
        li.append(r.lot_id + " ");
        for (const fmt in r.links) {
          const a = document.createElement("a");
          a.href = r.links[fmt]; a.textContent = fmt.toUpperCase(); a.target = "_blank";
          li.append(a, " ");
        }
        return li;
      });
      if (!items.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "none yet"; items.push(li); }
      $("reports").replaceChildren(...items);
    });
  }

  function refreshLab() {
    once("lab", async () => {
      // the catalogue's lab queue covers every lot (all folders, all lines); the folder scan is the fallback
      const lots = await api("/api/journal/lab").then((rows) => rows.map((r) => ({
        lot_id: r.lot_id, line_verdict: r.line_verdict, lab_verdict: r.lab_verdict, basis: r.lab_status,
        awaiting: r.samples_awaiting ? [r.samples_awaiting + " of " + r.samples + " samples"] : [],
        missing: r.lab_status === "none" ? ["no samples recorded"] : [] })))
        .catch(() => api("/api/lab"));
      const rows = lots.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.lot = r.lot_id;
        const waiting = r.error ? "unreadable: " + r.error
          : (r.awaiting && r.awaiting.length ? r.awaiting.join(", ")
            : (r.missing && r.missing.length ? r.missing.join("; ") : "nothing"));
        const cells = [r.lot_id, r.line_verdict || "", r.lab_verdict ? r.lab_verdict + " (" + r.basis + ")" : "", waiting];
        cells.forEach((v, i) => {
          const td = document.createElement("td"); td.textContent = v;
          if (i === 1 || i === 2) td.className = "lv-" + String(v).split(" ")[0];
          if (i === 0) td.className = "lot";
          if (i === 3 && r.awaiting && r.awaiting.length) td.className = "waiting";
          tr.appendChild(td);
        });
        return tr;
      });
      if (!rows.length) {
        const tr = document.createElement("tr"), td = document.createElement("td");
        td.colSpan = 4; td.className = "muted"; td.textContent = "no closed lot awaits the lab";
        tr.appendChild(td); rows.push(tr);
      }
      $("lab").replaceChildren(...rows);
    });
  }

  // ---- rendering ------------------------------------------------------------------------------
  let rafPending = false;
  function schedule() {
    if (rafPending) return;
    rafPending = true;
    requestAnimationFrame(() => { rafPending = false; if (S.dirty) { S.dirty = false; render(); } });
  }

  // ---- a past lot opened from its archive (read-only, in the same panels) -------------------------
  async function openPast(lotId, row) {
    const base = "/api/lots/" + encodeURIComponent(lotId);
    let parts;
    try {
      parts = await Promise.all([api(base + "/segments"), api(base + "/trends"), api(base + "/samples"),
        api(base + "/detections?limit=1000")]);
    } catch (e) {  // archive missing or unreadable: say so, keep the live panels
      pastBanner("Lot " + lotId + " cannot be opened from its archive: " + e.message, true);
      throw e;
    }
    const [segments, trends, samples, detections] = parts;
    S.past = { lotId, row: row || {}, segments, trends, increments: samples.increments, detections };
    window.Trends.unzoom();
    S.selected = null;
    $("spectrum").replaceChildren(); $("segment-info").textContent = ""; $("evidence-title").textContent = "segment –";
    showDetections(detections.slice(-SHOWN_DETECTIONS), detections.length);
    showIncrements(samples.increments.slice(-SHOWN_INCREMENTS));
    pastBanner("Viewing past lot " + lotId + " from its archive (read-only): segments, evidence, increments and trends.", false);
    document.body.classList.add("past");
    S.dirty = true; schedule();
  }

  function pastBanner(text, error) {
    const box = $("past-banner");
    $("past-text").textContent = text;
    box.className = "past-banner" + (error ? " past-error" : "");
    box.hidden = false;
  }

  function backToLive() {
    S.past = null; S.selected = null;
    window.Trends.unzoom();
    $("past-banner").hidden = true;
    document.body.classList.remove("past");
    $("spectrum").replaceChildren(); $("segment-info").textContent = ""; $("evidence-title").textContent = "segment –";
    S.counts.detections = -1; S.counts.increments = -1;  // the next snapshot refreshes the live panels
    S.dirty = true; schedule();
  }
  $("past-live").addEventListener("click", backToLive);

  function renderPastLot(p) {
    const l = p.row;
    $("lot-id").textContent = p.lotId + " (archive)";
    $("lot-vessel").textContent = l.vessel ? l.vessel + " / " + l.hold : "–";
    $("lot-product").textContent = l.product || "–";
    $("lot-tonnage").textContent = num(l.tonnage_t, 1);
    $("lot-mass").textContent = num(l.declared_mass_t, 0);
    $("phase").textContent = l.status || "closed";
    $("rate").textContent = "–"; $("speed").textContent = "–"; $("scale").textContent = "–";
    $("progress-bar").style.width = "100%";
    renderVerdict({ verdict: l.line_verdict || "pending", final: l.status === "complete", confidence: l.line_confidence,
      reasons: [], segments_by_class: l.segments_by_class, uninspected_fraction: l.uninspected_fraction });
    const rate = p.trends.rate.map((r) => ({ time_s: r.time_s, rate_t_h: r.rate_t_h, belt_speed_m_s: null }));
    window.Trends.update(rate, p.trends.nir, { stops: p.trends.stops, markers: p.trends.markers });
  }

  function render() {
    const snap = S.snap;
    if (!snap) return;
    const st = snap.state || {};
    const lot = snap.lot || {};
    $("line-name").textContent = snap.line || "oreline";
    $("sim-time").textContent = new Date().toLocaleString();
    renderAlarms(snap.alarms || [], snap);
    renderSampler(snap.sampler);
    if (S.past) {
      renderPastLot(S.past);
      const l = S.past.row;
      renderBelt({ stations: snap.stations, lot: l, state: { lot_mass_t: l.declared_mass_t || l.tonnage_t,
        lot_tonnage_t: l.tonnage_t, odometer_m: 0, running: false } }, S.past.segments);
      return;
    }
    $("lot-id").textContent = lot.lot_id || "–";
    $("lot-vessel").textContent = lot.vessel ? lot.vessel + " / " + lot.hold : "–";
    $("lot-product").textContent = lot.declared_product || "–";
    $("lot-tonnage").textContent = num(st.lot_tonnage_t, 1);
    $("lot-mass").textContent = num(st.lot_mass_t !== undefined ? st.lot_mass_t : lot.declared_mass_t, 0);
    $("rate").textContent = num(st.rate_t_h, 0);
    $("speed").textContent = num(st.belt_speed_m_s, 2);
    $("phase").textContent = st.phase || "idle";
    $("scale").textContent = st.scale_ok === false ? "NOT ANSWERING" : (st.scale_ok ? "ok" : "–");
    const progress = st.lot_mass_t ? Math.min(1, st.lot_tonnage_t / st.lot_mass_t) : 0;
    $("progress-bar").style.width = (100 * progress).toFixed(1) + "%";
    renderVerdict(snap.verdict);
    renderBelt(snap, S.segments);
    window.Trends.update(S.trend, S.nir, { markers: S.markers });  // uPlot (static/trends.js): the whole lot, zoomable
  }

  function renderVerdict(v) {
    const box = $("verdict");
    if (!v) { box.className = "verdict v-pending"; $("verdict-class").textContent = "no lot"; return; }
    box.className = "verdict v-" + v.verdict;
    $("verdict-class").textContent = v.verdict + (v.final ? " (final)" : "");
    $("verdict-confidence").textContent = "confidence " + num(v.confidence, 3);
    $("verdict-detail").textContent = "LLR " + num(v.log_likelihood_ratio, 2) + " · " + (v.reasons || []).join("; ") +
      (v.decided_at_t !== null && v.decided_at_t !== undefined ? " · decided at " + num(v.decided_at_t, 0) + " t" : "");
    const c = v.segments_by_class || {};
    $("verdict-counts").textContent = "segments: " + Object.keys(c).map((k) => k + " " + c[k]).join(", ") +
      " · uninspected " + num(100 * (v.uninspected_fraction || 0), 1) + " %";
  }

  // One delegated handler on the belt's <svg>, which stays while its segments are redrawn on every update: a
  // listener on each <rect> lost the click when the redraw came between the press and the release.
  $("belt").addEventListener("pointerdown", (ev) => {
    const r = ev.target && ev.target.closest ? ev.target.closest("rect.seg") : null;
    if (r) selectSegment(Number(r.getAttribute("data-index")));
  });

  function renderBelt(snap, segments) {
    const svg = $("belt");
    const st = snap.state || {};
    const W = 1000, x0 = 10, x1 = 990;
    const mass = st.lot_mass_t || (snap.lot && snap.lot.declared_mass_t) || 1;
    const sx = (t) => x0 + (x1 - x0) * Math.max(0, Math.min(1, t / mass));
    const nodes = [el("text", { x: x0, y: 12 }, "lot tonnage 0 … " + num(mass, 0) + " t")];
    const decidedTo = segments.length ? segments[segments.length - 1].end_t : 0;
    const weighed = st.lot_tonnage_t || 0;
    if (weighed > decidedTo) {
      nodes.push(el("rect", { class: "cls-pending", x: sx(decidedTo), y: 18, width: Math.max(1, sx(weighed) - sx(decidedTo)), height: 44 }));
    }
    for (const seg of segments) {
      const r = el("rect", {
        class: "seg cls-" + seg.segment_class + (S.selected === seg.index ? " selected" : ""),
        x: sx(seg.start_t), y: 18, width: Math.max(1, sx(seg.end_t) - sx(seg.start_t)), height: 44,
        "data-index": seg.index, "data-class": seg.segment_class,
      });
      r.appendChild(el("title", {}, "segment " + seg.index + " (" + num(seg.start_t, 0) + "–" + num(seg.end_t, 0) +
        " t): " + seg.segment_class + (seg.reasons && seg.reasons.length ? " — " + seg.reasons.join("; ") : "")));
      nodes.push(r);
    }
    nodes.push(el("line", { class: "axis", x1: sx(weighed), x2: sx(weighed), y1: 14, y2: 66, stroke: "#fff" }));
    // The belt itself: stations at their positions, chevrons moving with the odometer.
    const stations = snap.stations || [];
    const beltLen = Math.max(10, ...stations.map((s) => s.position_m)) * 1.1;
    const bx = (m) => x0 + (x1 - x0) * (m / beltLen);
    nodes.push(el("rect", { x: x0, y: 92, width: x1 - x0, height: 22, fill: "#23272b", stroke: "#4a5057" }));
    const odo = st.odometer_m || 0, spacing = beltLen / 40;
    for (let i = 0; i < 41; i++) {
      const m = ((i * spacing + odo) % beltLen + beltLen) % beltLen;
      nodes.push(el("path", { d: "M" + bx(m) + ",96 l6,7 l-6,7", fill: "none", stroke: st.running ? "#6c8fb3" : "#4a5057" }));
    }
    nodes.push(el("text", { x: x0, y: 88 }, "belt scale"));
    for (const s of stations) {
      const faulted = (st.stations_faulted || []).includes(s.name);
      nodes.push(el("line", { x1: bx(s.position_m), x2: bx(s.position_m), y1: 80, y2: 118, stroke: faulted ? "#d9463b" : "#e6e6e6", "stroke-width": 2 }));
      nodes.push(el("text", { x: bx(s.position_m) + 3, y: 128 + (stations.indexOf(s) % 2) * 12 }, s.name + " " + num(s.position_m, 0) + " m" + (faulted ? " FAULT" : "")));
    }
    svg.replaceChildren(...nodes);
  }

  function clock(epoch) {
    if (epoch === null || epoch === undefined) return "";
    const d = new Date(epoch * 1000);
    return d.toLocaleDateString(undefined, { month: "2-digit", day: "2-digit" }) + " " + d.toLocaleTimeString();
  }
  window.clockTime = clock;
  window.controlroomPast = { open: openPast, back: backToLive };

  // A logged-in operator is recorded by account (the server ignores "by"); a token client by this name.
  function operatorName() { return ($("operator-name").value || "").trim() || "operator"; }

  function renderAlarms(alarms, snap) {
    const unack = snap.alarms_unacknowledged || 0;
    $("alarm-counts").textContent = (snap.alarms_active || 0) + " active, " + unack + " unacknowledged";
    const summary = $("alarm-summary");
    summary.textContent = unack ? unack + " unacknowledged alarm" + (unack > 1 ? "s" : "") : "";
    summary.className = "alarm-summary" + (unack ? " has-unack" : "");
    const canAck = S.role === "operator";
    $("ack-all").disabled = !canAck || !unack;
    const now = Date.now() / 1000;
    // Rebuild the rows only when what they show changed: a table replaced on every snapshot (several a second on a
    // busy line) swallowed an operator's click that fell between the old rows and the new ones.
    const sig = canAck + "|" + (S.snap.lot || {}).lot_id + "|" + alarms.map((a) => [a.alarm_id, a.state, a.acknowledged_by,
      a.ack_comment, a.shelved_until_epoch_s > now, a.message].join("\u001f")).join("\u001e");
    if (sig === S.alarmRowsSig) return;
    S.alarmRowsSig = sig;
    const rows = alarms.map((a) => {
      const tr = document.createElement("tr");
      const shelved = a.shelved_until_epoch_s && a.shelved_until_epoch_s > now;
      tr.dataset.alarmId = a.alarm_id;
      tr.dataset.state = a.state;
      tr.className = "sev-" + a.severity + " st-" + a.state + (a.parent_id >= 0 ? " follow-on" : "") + (shelved ? " shelved" : "");
      const lot = a.lot_id && a.lot_id !== (S.snap.lot || {}).lot_id ? " [" + a.lot_id.slice(-6) + "]" : "";
      const cells = [a.alarm_id, clock(a.raised_epoch_s) || num(a.raised_time_s, 0) + " s", a.severity, a.category,
        (a.parent_id >= 0 ? "↳ follows #" + a.parent_id + ": " : "") + a.message + lot,
        (shelved ? "shelved until " + clock(a.shelved_until_epoch_s) + " (" + a.shelve_reason + ")" : a.state)
          + (a.acknowledged_by ? " (" + a.acknowledged_by + (a.ack_comment ? ": " + a.ack_comment : "") + ")" : "")];
      for (const v of cells) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
      const td = document.createElement("td");
      if (a.state === "raised" && a.parent_id < 0) {
        const b = document.createElement("button");
        b.className = "ack"; b.textContent = "Ack"; b.disabled = !canAck;
        b.title = canAck ? "acknowledge (your name and the comment above are recorded)" : "log in as operator to acknowledge";
        b.addEventListener("click", () => acknowledge(a, b));
        const sh = document.createElement("button");
        sh.className = "shelve"; sh.textContent = "Shelve"; sh.disabled = !canAck;
        sh.title = "shelve for 1 h with the comment above as the reason";
        sh.addEventListener("click", () => shelve(a, sh));
        td.append(b, sh);
      }
      tr.appendChild(td);
      if (a.segment_index >= 0) tr.addEventListener("dblclick", () => selectSegment(a.segment_index));
      return tr;
    });
    $("alarms").replaceChildren(...rows);
  }

  async function acknowledge(a, button) {
    const by = operatorName();
    button.disabled = true;
    try {
      // The server records a logged-in operator by account name; "by" only names token clients.
      await post("/api/alarms/" + a.alarm_id + "/acknowledge",
        { by: S.person || operatorName(), comment: $("ack-comment").value.trim(), lot_id: a.lot_id });
      notice("");
    } catch (e) { notice("Acknowledge failed: " + e.message); button.disabled = false; }
  }

  async function shelve(a, button) {
    const by = operatorName(), reason = $("ack-comment").value.trim();
    if (!reason) { notice("Enter a reason (Comment) before shelving."); return; }
    button.disabled = true;
    try {
      await post("/api/alarms/" + a.alarm_id + "/shelve", { by: by, reason: reason, duration_s: 3600 });
      notice("");
    } catch (e) { notice("Shelve failed: " + e.message); button.disabled = false; }
  }

  async function acknowledgeAll() {
    const by = operatorName();
    try {
      await post("/api/alarms/acknowledge-all", { by: by, comment: $("ack-comment").value.trim() });
      notice("");
    } catch (e) { notice("Acknowledge all failed: " + e.message); }
  }
  $("ack-all").addEventListener("click", acknowledgeAll);

  function renderSampler(status) {
    const dl = $("sampler");
    const nodes = [];
    if (!status) status = { status: "no sampler on this line" };
    for (const k in status) {
      const dt = document.createElement("dt"); dt.textContent = k.replace(/_/g, " ");
      const dd = document.createElement("dd");
      const v = status[k];
      dd.textContent = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      nodes.push(dt, dd);
    }
    dl.replaceChildren(...nodes);
  }

  async function selectSegment(index) {
    S.selected = index;
    S.dirty = true; schedule();
    $("evidence-title").textContent = "segment " + index;
    const seg = (S.past ? S.past.segments : S.segments).find((s) => s.index === index);
    $("segment-info").textContent = seg
      ? seg.segment_class + " · " + num(seg.start_t, 0) + "–" + num(seg.end_t, 0) + " t · NIR waste score " +
        num(seg.nir_waste_score, 3) + " from " + seg.nir_spectra + " spectra · " + seg.detections + " detections" +
        (seg.reasons && seg.reasons.length ? " · " + seg.reasons.join("; ") : "")
      : "not decided yet";
    try {
      const base = S.past ? "/api/lots/" + encodeURIComponent(S.past.lotId) : "/api";
      const sp = await api(base + "/segments/" + index + "/spectrum");
      const x = sp.wavelength_nm, m = sp.mean_reflectance, sd = sp.std_reflectance;
      linePlot($("spectrum"), [{ x, y: m, band: [m.map((v, i) => v - sd[i]), m.map((v, i) => v + sd[i])] }],
        { xLabel: (sp.axis === "wavelength_nm" ? "wavelength, nm" : "channel") + " · mean ± sd of " + sp.n_spectra + " spectra" });
      const idn = sp.identification;  // per-spectrum identification by absorption features (spectra.identify)
      if (idn && seg) $("segment-info").textContent += " · NIR identification: " +
        idn.groups.map((g) => g.label || g.group + " " + g.spectra).join(", ") + " · unknown " + num(100 * idn.unknown_share, 0) +
        " %" + (idn.unknown_features ? " (" + idn.unknown_features + ")" : "");
    } catch (e) {
      linePlot($("spectrum"), [], { empty: "no spectrum: " + e.message });
    }
  }

  // ---- commands -------------------------------------------------------------------------------
  $("targeted-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await post("/api/samples/targeted", { mark_t: Number($("targeted-mark").value), reason: $("targeted-reason").value });
      $("command-result").textContent = r.message;
    } catch (e) { $("command-result").textContent = "refused: " + e.message; }
  });
  $("stop-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!window.confirm("Stop the lot? It ends as aborted.")) return;
    try {
      const r = await post("/api/lot/stop", { reason: $("stop-reason").value, confirm: true });
      $("command-result").textContent = r.message;
    } catch (e) { $("command-result").textContent = "refused: " + e.message; }
  });

  // ---- start ----------------------------------------------------------------------------------
  api("/api/session").then((info) => { applySession(info); refreshLab(); }).catch(() => {});
  connect();
  setInterval(refreshLab, 15000); // lab results arrive days later, through `oreline archive import-lab`
})();
