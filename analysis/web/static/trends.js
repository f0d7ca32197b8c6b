/* oreline control room: the trends on uPlot (vendored in static/vendor/uplot): the whole lot's history, drag to
   zoom (double-click resets), belt stops shaded on the rate chart, the NIR decision level on the NIR chart. */
(function () {
  "use strict";
  const charts = {};
  const STOP_M_S = 0.05;

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

  let stops = [];
  function update(trend, nir) {
    if (!window.uPlot) return;
    const tx = trend.map((p) => p.time_s), rate = trend.map((p) => p.rate_t_h), speed = trend.map((p) => p.belt_speed_m_s);
    stops = beltStops(tx, speed);
    const rateData = [tx, rate];
    const nirData = [nir.map((p) => p.lot_t), nir.map((p) => p.p_waste)];
    if (!charts["trend-rate"]) {
      make("trend-rate", { series: [{ label: "time, s" }, { label: "belt rate, t/h", stroke: "#7fb3e6", width: 1.5 }],
        axes: [Object.assign({ label: "time, s" }, axis), Object.assign({}, axis)],
        hooks: { drawClear: [shade(() => stops, "rgba(217,70,59,0.25)")],
                 setSelect: [() => { charts["trend-rate"].zoomed = true; }] } }, rateData);
      make("trend-nir", { series: [{ label: "lot t" }, { label: "NIR p(waste)", stroke: "#e0a100", width: 1, points: { show: false } }],
        scales: { y: { range: [0, 1] } },
        axes: [Object.assign({ label: "lot tonnes" }, axis), Object.assign({}, axis)],
        hooks: { draw: [level(0.5, "#d9463b")], setSelect: [() => { charts["trend-nir"].zoomed = true; }] } }, nirData);
      return;
    }
    // keep a zoomed view while new data arrive; a double-click returns to the whole lot
    charts["trend-rate"].u.setData(rateData, !charts["trend-rate"].zoomed);
    charts["trend-nir"].u.setData(nirData, !charts["trend-nir"].zoomed);
  }

  window.addEventListener("resize", () => {
    for (const id in charts) charts[id].u.setSize({ width: width(document.getElementById(id)), height: 170 });
  });
  window.Trends = { update, charts, beltStops };
})();
