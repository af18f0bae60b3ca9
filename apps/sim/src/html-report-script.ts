/**
 * The browser side of the HTML report (html-report.ts inlines it after uPlot): draws every
 * chart of the JSON in `<script id="report-data">` as uPlot bars. Each chart spec is
 * `{ id, title, xLabel, yLabel, labels, series: [{ label, values }], log }`: one bar per label
 * and series (side by side when there are two), y on an asinh scale when `log` (counts that
 * span orders of magnitude, zero included). A chart's element gets `data-drawn="true"` after
 * uPlot drew it, and the body `data-charts="N"` once all N charts are made.
 *
 * Plain ES2017 in a string (no build step for the page); the browser test
 * (test/html-report.test.ts) loads it in Chromium and checks that every chart drew.
 */
export const CHARTS_SCRIPT = `(function () {
  'use strict';
  var COLORS = ['#3367d6', '#e8710a', '#188038', '#a142f4'];
  var data = JSON.parse(document.getElementById('report-data').textContent);
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    var xs = c.labels.map(function (_, i) { return i; });
    var two = c.series.length > 1;
    var series = [{
      label: c.xLabel,
      value: function (u, v) { return v == null ? '-' : c.labels[v]; },
    }].concat(c.series.map(function (s, j) {
      var color = COLORS[j % COLORS.length];
      return {
        label: s.label,
        stroke: color,
        fill: color + 'b0',
        width: 1,
        points: { show: false },
        paths: uPlot.paths.bars({ size: [two ? 0.4 : 0.7, 80], align: two ? (j === 0 ? -1 : 1) : 0 }),
      };
    }));
    var opts = {
      title: c.title,
      width: Math.max(360, Math.min(960, el.clientWidth || 800)),
      height: 300,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.5, c.labels.length - 0.5] },
        y: {
          distr: c.log ? 4 : 1,
          range: function (u, min, max) { return [0, Math.max(1, max) * 1.08]; },
        },
      },
      axes: [
        {
          label: c.xLabel,
          splits: function () { return xs; },
          values: function (u, splits) {
            return splits.map(function (i) { return c.labels[i] === undefined ? '' : c.labels[i]; });
          },
          grid: { show: false },
        },
        {
          label: c.yLabel,
          // An asinh scale may put a tick below 0: counts have none.
          values: function (u, splits) {
            return splits.map(function (v) { return v == null || v < 0 ? '' : v.toLocaleString('en'); });
          },
        },
      ],
      series: series,
      hooks: { draw: [function () { el.setAttribute('data-drawn', 'true'); }] },
    };
    new uPlot(opts, [xs].concat(c.series.map(function (s) { return s.values; })), el);
  });
  document.body.setAttribute('data-charts', String(data.charts.length));
})();
`;
