/* Hand-written SVG plotting for the control room (no libraries). Exposes window.Plot. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** About n "nice" tick values covering [lo, hi]. */
  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, n);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(+v.toPrecision(10));
    return out;
  }

  function fmt(v) {
    const a = Math.abs(v);
    if (a >= 1000) return v.toFixed(0);
    if (a >= 10) return v.toFixed(0);
    if (a >= 1) return v.toFixed(1);
    return v.toFixed(2);
  }

  function extent(values, fallback) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(hi >= lo)) return fallback;
    if (hi === lo) { const pad = Math.abs(hi) * 0.1 || 1; return [lo - pad, hi + pad]; }
    return [lo, hi];
  }

  /**
   * Draw a line plot into an <svg> with a viewBox. series: [{x: [], y: [], cls, band: [lo[], hi[]]}].
   * opts: {xLabel, yLabel, yDomain: [lo, hi], xDomain, empty}. Null / non-finite y values break the line.
   */
  function linePlot(svg, series, opts) {
    opts = opts || {};
    const vb = svg.viewBox.baseVal;
    const W = vb.width || 480, H = vb.height || 150;
    const m = { l: 44, r: 8, t: 8, b: 26 };
    const pw = W - m.l - m.r, ph = H - m.t - m.b;
    const xs = [], ys = [];
    for (const s of series) {
      xs.push(...s.x);
      ys.push(...s.y);
      if (s.band) { ys.push(...s.band[0], ...s.band[1]); }
    }
    const [x0, x1] = opts.xDomain || extent(xs, [0, 1]);
    const [y0, y1] = opts.yDomain || extent(ys, [0, 1]);
    const sx = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
    const sy = (y) => m.t + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
    const nodes = [];
    for (const t of ticks(y0, y1, 4)) {
      nodes.push(el("line", { class: "grid", x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t) }));
      nodes.push(el("text", { x: m.l - 4, y: sy(t) + 3, "text-anchor": "end" }, fmt(t)));
    }
    for (const t of ticks(x0, x1, 6)) {
      nodes.push(el("text", { x: sx(t), y: H - m.b + 12, "text-anchor": "middle" }, fmt(t)));
    }
    nodes.push(el("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph }));
    nodes.push(el("line", { class: "axis", x1: m.l, x2: W - m.r, y1: m.t + ph, y2: m.t + ph }));
    if (opts.xLabel) nodes.push(el("text", { x: W - m.r, y: H - 2, "text-anchor": "end" }, opts.xLabel));
    for (const s of series) {
      if (s.band) {
        const [lo, hi] = s.band;
        let d = "";
        for (let i = 0; i < s.x.length; i++) d += (i ? "L" : "M") + sx(s.x[i]).toFixed(1) + "," + sy(hi[i]).toFixed(1);
        for (let i = s.x.length - 1; i >= 0; i--) d += "L" + sx(s.x[i]).toFixed(1) + "," + sy(lo[i]).toFixed(1);
        if (s.x.length) nodes.push(el("path", { class: "band", d: d + "Z" }));
      }
      let d = "", pen = false;
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i];
        if (y === null || !isFinite(y) || !isFinite(s.x[i])) { pen = false; continue; }
        d += (pen ? "L" : "M") + sx(s.x[i]).toFixed(1) + "," + sy(Math.min(y1, Math.max(y0, y))).toFixed(1);
        pen = true;
      }
      nodes.push(el("path", { class: s.cls || "series", d: d || "M0,0" }));
    }
    if (opts.hline !== undefined) {
      nodes.push(el("line", { class: "series2", x1: m.l, x2: W - m.r, y1: sy(opts.hline), y2: sy(opts.hline) }));
    }
    if (!xs.length && opts.empty) {
      nodes.push(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, opts.empty));
    }
    svg.replaceChildren(...nodes);
  }

  window.Plot = { el, ticks, linePlot, fmt };
})();
