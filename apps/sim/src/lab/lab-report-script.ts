/**
 * The browser side of the lab's HTML report (lab-report.ts inlines it after uPlot): draws each
 * chart of the JSON in `<script id="lab-data">` as uPlot lines, one per strategy, over the
 * varied parameter. Each chart spec is `{ id, title, xLabel, yLabel, xs, series: [{ label,
 * values }] }` (a `null` value: that run stopped on a violation, no point). A chart's element
 * gets `data-drawn="true"` after uPlot drew it, and the body `data-charts="N"` once all N
 * charts are made (what the browser test waits for).
 *
 * Plain ES2017 in a string (no build step for the page).
 */
export const LAB_CHARTS_SCRIPT = `(function () {
  'use strict';
  var COLORS = ['#3367d6', '#e8710a', '#188038', '#a142f4', '#c5221f'];
  var data = JSON.parse(document.getElementById('lab-data').textContent);
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    var series = [{ label: c.xLabel }].concat(c.series.map(function (s, j) {
      var color = COLORS[j % COLORS.length];
      return { label: s.label, stroke: color, width: 2, points: { show: true, size: 6 } };
    }));
    var opts = {
      title: c.title,
      width: Math.max(360, Math.min(960, el.clientWidth || 800)),
      height: 280,
      scales: {
        x: { time: false },
        y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } },
      },
      axes: [{ label: c.xLabel }, { label: c.yLabel }],
      series: series,
      hooks: { draw: [function () { el.setAttribute('data-drawn', 'true'); }] },
    };
    new uPlot(opts, [c.xs].concat(c.series.map(function (s) { return s.values; })), el);
  });
  document.body.setAttribute('data-charts', String(data.charts.length));
})();
`;
