/* The portal's only script of its own: charts from data attributes (no inline script: CSP), print buttons.
   Pages work without it; htmx swaps results in place when it is there. */
(function () {
  "use strict";
  function chartData(el, attr) {
    try { return JSON.parse(el.getAttribute(attr)); } catch (e) { return null; }
  }
  function gauge(el) {
    var d = chartData(el, "data-gauge");
    if (!d || !window.echarts) return;
    var c = window.echarts.init(el, null, { renderer: "svg" });
    c.setOption({
      animation: false,
      series: [{
        type: "gauge", min: 0, max: d.max, splitNumber: 4, radius: "95%",
        progress: { show: d.value != null, width: 14 }, pointer: { show: d.value != null },
        axisLine: { lineStyle: { width: 14, color: [[1, "#c8cdd3"]] } },
        axisLabel: { color: "#1a1a1a", distance: 20, formatter: function (v) { return (v / 10000) + (d.unit || "万"); } },
        detail: { show: true, fontSize: 14, color: "#1a1a1a", offsetCenter: [0, "60%"],
                  formatter: function () { return d.label; } },
        data: d.value != null ? [{ value: d.value }] : []
      }]
    });
    window.addEventListener("resize", function () { c.resize(); });
  }
  function curve(el) {
    var d = chartData(el, "data-curve");
    if (!d || !window.echarts) return;
    var c = window.echarts.init(el, null, { renderer: "svg" });
    var x = d.totals.map(function (v) { return v / 100; });
    function s(name, values, dash, symbol) {
      return { name: name, type: "line", stack: "pay", areaStyle: { opacity: 0.25 }, symbol: symbol, symbolSize: 5,
               showSymbol: true, lineStyle: { type: dash, width: 2 },
               data: values.map(function (v, i) { return [x[i], v / 100]; }) };
    }
    var series = [s(d.labels.fund, d.fund, "solid", "circle"), s(d.labels.catastrophic, d.catastrophic, "dashed", "triangle"),
                  s(d.labels.personal, d.personal, "dotted", "rect")];
    if (d.marker != null) {
      series[0].markLine = { symbol: "none", label: { formatter: d.labels.marker }, lineStyle: { color: "#1a1a1a", type: "dashed" },
                             data: [{ xAxis: d.marker / 100 }] };
    }
    c.setOption({
      animation: false, color: ["#0b4f8a", "#b35c00", "#6b2c91"],
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v.toLocaleString() + " " + d.labels.unit; } },
      legend: { top: 0 }, grid: { left: 56, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "value", name: d.labels.x, nameLocation: "middle", nameGap: 28, max: x[x.length - 1],
               axisLabel: { formatter: function (v) { return (v / 10000) + d.labels.wan; } } },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v / 10000) + d.labels.wan; } } },
      series: series
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { c.resize(); });
  }
  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-gauge]").forEach(gauge);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-curve]").forEach(curve);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target); });
})();
