/**
 * The report page's own stylesheet and script (uPlot is inlined beside them). The script reads the
 * JSON blob and draws one uPlot chart per question a reader asks of a run: was the limit used,
 * how much was in flight, where did the 429s and retries come, how fast were answers, what did it
 * cost. Plain ES2017, no build step: it is shipped as written.
 */

export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --dim: #666; --line: #ddd; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161616; --dim: #999; --line: #333; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 16px auto; max-width: 1140px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.sub { color: var(--dim); margin: 0 0 12px; }
.numbers { display: flex; gap: 32px; flex-wrap: wrap; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 500; color: var(--dim); } td.n, .numbers td { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 20px 0 0; } .uplot .u-title { font-size: 14px; font-weight: 600; text-align: left; }
code { font-size: 12px; } footer { color: var(--dim); margin: 32px 0 0; font-size: 12px; }
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('claw-data').textContent);
  var s = data.series;
  var root = document.getElementById('charts');
  var charts = {};
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  var axisStroke = dark ? '#aaa' : '#444';
  var grid = { stroke: dark ? '#2a2a2a' : '#eee' };
  var colors = { a: '#2f6fdf', b: '#e0802a', c: '#2a9d5b', d: '#c0392b', limit: dark ? '#bbb' : '#555' };
  var startSec = Math.floor(data.startedAt / 1000);

  function width() { return Math.max(320, Math.min(1100, root.clientWidth || 1100)); }
  function fmt(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
    return String(Math.round(v * 100) / 100);
  }
  // Vertical lines where something happened (a deadline's cut-over).
  function drawMarks(u) {
    if (!data.marks.length) return;
    var ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colors.d;
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    data.marks.forEach(function (m) {
      var x = u.valToPos(startSec + m.t, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    });
    ctx.restore();
  }
  function line(label, color, extra) {
    var o = { label: label, stroke: color, width: 1.5, value: function (u, v) { return fmt(v); } };
    for (var k in extra || {}) o[k] = extra[k];
    return o;
  }
  function limit(label) { return line(label, colors.limit, { dash: [6, 4], width: 1 }); }
  function chart(key, title, series, arrays, yLabel, extra) {
    var el = document.createElement('div');
    el.className = 'chart';
    el.id = 'chart-' + key;
    root.appendChild(el);
    var opts = {
      title: title,
      width: width(),
      height: 220,
      series: [{ value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' }].concat(series),
      axes: [
        { stroke: axisStroke, grid: grid },
        { stroke: axisStroke, grid: grid, size: 60, label: yLabel, values: function (u, vals) { return vals.map(fmt); } },
      ],
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } },
      hooks: { draw: [drawMarks] },
    };
    if (extra) extra(opts);
    charts[key] = new uPlot(opts, [s.t].concat(arrays), el);
  }
  function any(xs) { for (var i = 0; i < xs.length; i++) if (xs[i] != null) return true; return false; }

  chart('requests', 'Requests per minute, against the RPM limit',
    [line('requests sent', colors.a), line('answers', colors.c), limit('RPM limit')],
    [s.requests, s.answers, s.rpm], 'per minute');
  chart('tokens', 'Tokens per minute, against the ITPM and OTPM limits',
    [line('input tokens', colors.a), line('output tokens', colors.b), limit('ITPM limit'), limit('OTPM limit')],
    [s.inputTokens, s.outputTokens, s.itpm, s.otpm], 'tokens/min');
  chart('inflight', 'Requests in flight (most at once within each point)',
    [line('in flight', colors.a, { fill: colors.a + '22' })], [s.inFlight], 'requests');
  chart('retries', '429s, retries and faults',
    [line('429s', colors.d, { points: { show: true } }), line('retries', colors.b), line('faults (5xx, 529, dropped)', colors.limit)],
    [s.rateLimited, s.retried, s.faults], 'count');
  chart('latency', 'Answer latency, p50 and p90',
    [line('p50', colors.a), line('p90', colors.b)], [s.p50, s.p90], 'ms');
  chart('cost', 'Cost accumulating, and items done',
    [line('US$ at list price', colors.c, { scale: 'usd', value: function (u, v) { return v == null ? '' : '$' + v.toFixed(4); } }), line('items done', colors.a, { scale: 'items' })],
    [s.usd, s.done], 'US$', function (o) {
      o.scales = { x: { time: true }, usd: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } }, items: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } };
      o.axes = [o.axes[0], { scale: 'usd', stroke: axisStroke, grid: grid, size: 60, label: 'US$', values: function (u, vals) { return vals.map(function (v) { return '$' + v; }); } },
        { scale: 'items', side: 1, stroke: axisStroke, grid: { show: false }, size: 60, label: 'items', values: function (u, vals) { return vals.map(fmt); } }];
    });
  if (any(s.batchProcessing)) {
    chart('batch', 'Batches API: requests still processing', [line('processing', colors.b)], [s.batchProcessing], 'requests');
  }
  window.addEventListener('resize', function () {
    for (var k in charts) charts[k].setSize({ width: width(), height: 220 });
  });
  window.clawReport = { data: data, charts: charts };
})();
`;
