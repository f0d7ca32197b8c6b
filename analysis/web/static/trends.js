/* oreline control room: the trends on uPlot (vendored in static/vendor/uplot): the whole lot's history, drag to
   zoom (double-click resets), belt stops shaded on the rate chart, the NIR decision level on the NIR chart, and
   the lot's events (station faults, scale dropouts, increments, alarms) as coloured markers with a legend: a
   line through the rate chart at the event's time, a tick on the NIR chart at its tonnage. */
(function () {
  "use strict";
  const charts = {};
  const STOP_M_S = 0.05;
  // marker kind → [colour, legend text, shape]; the order is the legend's (analysis/decide/markers.py)
  const MARKERS = {
    station_fault: ["#ff4d6d", "station fault", "bar"], scale_dropout: ["#c77dff", "scale dropout", "bar"],
    increment_taken: ["#5bd36b", "increment taken", "tri"], increment_late: ["#ffd43b", "increment late", "tri"],
    increment_skipped: ["#ff922b", "increment skipped / missed", "tri"],
    alarm_raised: ["#ff6b6b", "alarm raised", "dia"], alarm_acknowledged: ["#74c0fc", "alarm acknowledged", "dia"],
  };

  function width(box) { return Math.max(240, box.clientWidth || 480); }

  function beltStops(xs, speeds) {
    const spans = [];
    let start = null;
    for (let i = 0; i < xs.length; i++) {
      const stopped = speeds[i] !== null && speeds[i] < STOP_M_S;
      if (stopped && start === null) start = xs[i];
      if (!stopped && start !== null) { spans.push([start, xs[i]]); start = null; }
    }
    if (start !== null && xs.length) spans.push([start, xs[xs.length - 1]]);
    return spans;
  }

  function shade(spans, colour) {
    return (u) => {
      const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
      ctx.save(); ctx.fillStyle = colour;
      for (const [a, b] of spans()) {
        const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
        ctx.fillRect(x0, top, Math.max(2, x1 - x0), h);
      }
      ctx.restore();
    };
  }

  function glyph(ctx, shape, x, y, r) {
    ctx.beginPath();
    if (shape === "tri") { ctx.moveTo(x, y + r); ctx.lineTo(x - r, y - r); ctx.lineTo(x + r, y - r); }
    else if (shape === "dia") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); }
    else { ctx.rect(x - r / 2, y - r, r, 2 * r); }
    ctx.closePath(); ctx.fill();
  }

  // markers(): the current list; key: "time_s" (rate chart) or "lot_t" (NIR chart); lines: draw a full-height line
  function drawMarkers(markers, key, lines) {
    return (u) => {
      const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = window.devicePixelRatio || 1, r = 5 * dpr;
      const x0 = u.scales.x.min, x1 = u.scales.x.max;
      ctx.save();
      for (const m of markers()) {
        const v = m[key], style = MARKERS[m.kind];
        if (v === null || v === undefined || !style || v < x0 || v > x1) continue;
        const x = u.valToPos(v, "x", true);
        ctx.fillStyle = style[0]; ctx.strokeStyle = style[0];
        if (lines) { ctx.globalAlpha = 0.55; ctx.lineWidth = dpr; ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke(); }
        ctx.globalAlpha = 1;
        const row = style[2] === "tri" ? 0 : (style[2] === "dia" ? 1 : 2);  // one row per family, so they do not hide each other
        glyph(ctx, style[2], x, top + r + row * 2.4 * r, r);
      }
      ctx.restore();
    };
  }

  function legend(markers) {
    const box = document.getElementById("trend-legend");
    if (!box) return;
    const seen = new Set(markers.map((m) => m.kind));
    const SYMBOL = { tri: "▼", dia: "◆", bar: "▮" };
    const items = [["mk mk-stop", "belt stop", "", ""]].concat(Object.keys(MARKERS).map((k) =>
      ["mk-glyph", MARKERS[k][1] + (seen.has(k) ? " (" + markers.filter((m) => m.kind === k).length + ")" : ""),
       MARKERS[k][0], SYMBOL[MARKERS[k][2]]]));
    const key = items.map((i) => i[1]).join("|");
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.replaceChildren(...items.map(([cls, text, colour, symbol]) => {
      const span = document.createElement("span"), sw = document.createElement("span");
      sw.className = cls; sw.textContent = symbol;
      if (colour) sw.style.color = colour;
      span.append(sw, " " + text); return span;
    }));
  }

  // the label of the marker under the cursor (within 6 px), under the charts
  function hover(key) {
    return (u) => {
      const info = document.getElementById("trend-marker-info");
      const left = u.cursor.left;
      if (!info || left === null || left < 0) return;
      let best = null, bestD = 6;
      for (const m of markers) {
        if (m[key] === null || m[key] === undefined) continue;
        const d = Math.abs(u.valToPos(m[key], "x") - left);
        if (d <= bestD) { best = m; bestD = d; }
      }
      info.textContent = best ? (MARKERS[best.kind] ? MARKERS[best.kind][1] : best.kind) + " at " +
        best.time_s.toFixed(0) + " s" + (best.lot_t !== null ? ", " + best.lot_t.toFixed(1) + " t" : "") + ": " + best.label : "";
    };
  }

  function level(y, colour) {
    return (u) => {
      const ctx = u.ctx, py = u.valToPos(y, "y", true);
      ctx.save(); ctx.strokeStyle = colour; ctx.setLineDash([6, 4]); ctx.beginPath();
      ctx.moveTo(u.bbox.left, py); ctx.lineTo(u.bbox.left + u.bbox.width, py); ctx.stroke(); ctx.restore();
    };
  }

  const axis = { stroke: "#c9d1d9", grid: { stroke: "#3a434c" }, ticks: { stroke: "#3a434c" } };

  function make(id, opts, data) {
    const box = document.getElementById(id);
    opts.scales = Object.assign({ x: { time: false } }, opts.scales || {});
    const u = new uPlot(Object.assign({ width: width(box), height: 170, legend: { show: true },
      cursor: { drag: { x: true, y: false } } }, opts), data, box);
    charts[id] = { u, zoomed: false };
    u.over.addEventListener("dblclick", () => { charts[id].zoomed = false; });
    return charts[id];
  }

  let stops = [], markers = [];
  // extra: {markers: [...] (analysis/decide/markers.py), stops: [[t0, t1]] (a past lot's, else from the belt speed)}
  function update(trend, nir, extra) {
    if (!window.uPlot) return;
    const tx = trend.map((p) => p.time_s), rate = trend.map((p) => p.rate_t_h), speed = trend.map((p) => p.belt_speed_m_s);
    stops = extra && extra.stops ? extra.stops : beltStops(tx, speed);
    markers = (extra && extra.markers) || [];
    legend(markers);
    const rateData = [tx, rate];
    const nirData = [nir.map((p) => p.lot_t), nir.map((p) => p.p_waste)];
    if (!charts["trend-rate"]) {
      make("trend-rate", { series: [{ label: "time, s" }, { label: "belt rate, t/h", stroke: "#7fb3e6", width: 1.5 }],
        axes: [Object.assign({ label: "time, s" }, axis), Object.assign({}, axis)],
        hooks: { drawClear: [shade(() => stops, "rgba(217,70,59,0.25)")], draw: [drawMarkers(() => markers, "time_s", true)],
                 setCursor: [hover("time_s")],
                 setSelect: [() => { charts["trend-rate"].zoomed = true; }] } }, rateData);
      make("trend-nir", { series: [{ label: "lot t" }, { label: "NIR p(waste)", stroke: "#e0a100", width: 1, points: { show: false } }],
        scales: { y: { range: [0, 1] } },
        axes: [Object.assign({ label: "lot tonnes" }, axis), Object.assign({}, axis)],
        hooks: { draw: [level(0.5, "#d9463b"), drawMarkers(() => markers, "lot_t", false)], setCursor: [hover("lot_t")],
                 setSelect: [() => { charts["trend-nir"].zoomed = true; }] } }, nirData);
      return;
    }
    // keep a zoomed view while new data arrive; a double-click returns to the whole lot
    charts["trend-rate"].u.setData(rateData, !charts["trend-rate"].zoomed);
    charts["trend-nir"].u.setData(nirData, !charts["trend-nir"].zoomed);
  }

  window.addEventListener("resize", () => {
    for (const id in charts) charts[id].u.setSize({ width: width(document.getElementById(id)), height: 170 });
  });
  function unzoom() { for (const id in charts) charts[id].zoomed = false; }
  window.Trends = { update, charts, beltStops, unzoom, markers: () => markers, MARKERS };
})();
