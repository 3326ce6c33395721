// report.html for a latency sweep: one self-contained page (uPlot's script and stylesheet inlined from
// node_modules, the data embedded as JSON; nothing is fetched). PnL and fills against latency on an
// arcsinh ("log-ish") axis that keeps 0, the break-even latency of each parameter set, and the results table.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { RunSummary } from '../engine/session.js';
import { latencyText, paramColumn, paramSetLabel, resultColumns, type SweepSummaryFile } from './sweep-results.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const js = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js, css };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text safe inside <script> / <style>: no closing tag can appear. */
const inlineSafe = (s: string) => s.replace(/<\/(script|style)/gi, '<\\/$1');

/** Colours of the parameter sets (net PnL solid, gross PnL dashed in the same colour). */
const PALETTE = ['#1f6fb4', '#d1495b', '#2a9d5c', '#8e5cc4', '#e08a1e', '#1aa3b8', '#8c564b', '#d45fb0', '#6b6b6b', '#a3a31b'];

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function renderSweepReport(file: SweepSummaryFile): string {
  const { grid, points } = file;
  if (points.length === 0) throw new Error('a sweep report needs at least one point');
  const first: RunSummary = points[0]!.summary;
  const cur = first.currency;
  const latencies = grid.latencies.map((l) => ({ text: l.text, ns: l.ns, label: latencyText(l.ns) }));
  const sets = grid.param_sets.map((_, i) => ({ label: paramSetLabel(grid, i), color: PALETTE[i % PALETTE.length]! }));
  // Chart data: x = latency in ms (ascending), one y array per parameter set and metric.
  const byCell = new Map(points.map((p) => [`${p.param_set}:${p.latency_ns}`, p.summary]));
  const series = (metric: 'net_pnl' | 'gross_pnl' | 'fills' | 'orders' | 'markout_bps' | 'maker_markout_bps') =>
    sets.map((_, s) => latencies.map((l) => byCell.get(`${s}:${l.ns}`)?.[metric] ?? null));
  const chartData = {
    currency: cur,
    x_ms: latencies.map((l) => l.ns / 1e6),
    x_labels: latencies.map((l) => l.label),
    sets,
    net: series('net_pnl'),
    gross: series('gross_pnl'),
    fills: series('fills'),
    orders: series('orders'),
    markout: series('markout_bps'),
    makerMarkout: series('maker_markout_bps'),
    markout_ms: first.markout_horizon_ms,
    break_even_ms: file.break_even.map((b) => (b.net.kind === 'crossed' ? b.net.latency_ns / 1e6 : null)),
  };

  const fixedParams = Object.entries(first.params).filter(([k]) => !grid.varying_params.includes(k));
  const varying = grid.varying_params.map((k) => {
    const vals = [...new Set(grid.param_sets.map((s) => s[k]!))];
    return `${k} ∈ {${vals.join(', ')}}`;
  });
  const legsFixed = Object.entries(grid.legs.fixed).map(([leg, v]) => `${leg} ${v}`);
  const facts: [string, string][] = [
    ['Dataset', `${file.dataset} — ${first.venues.join(', ')}; ${first.events.toLocaleString('en-US')} market events over ${first.span_s} s`],
    ['Strategy', first.strategy],
    ['Swept parameters', varying.length ? varying.join('; ') : 'none (one parameter set)'],
    ['Fixed parameters', fixedParams.map(([k, v]) => `${k}=${v}`).join(', ') || 'none'],
    ['Latencies', `${latencies.map((l) => l.label).join(', ')} (one-way; units: us = microseconds, ms = milliseconds)`],
    [
      'Legs swept',
      `${grid.legs.varying.join(', ') || 'none'} take the swept latency${legsFixed.length ? `; fixed: ${legsFixed.join(', ')}` : ''}`,
    ],
    ['Seed', String(file.seed)],
    ['Queue model', first.queue_model],
    ['Fees', `${first.fees.join('; ')}${file.fees ? ' (set with --fees)' : ' (each exchange\'s base tier)'}`],
    ['Rate limits', first.rate_limits.join('; ')],
    ['Currency', `${cur} (PnL of every venue in the first venue's quote currency)`],
    [
      'Exchange-time resolution',
      file.exchange_time_resolution
        .map((r) => `${r.exchange} ${r.symbol}: ${r.resolution_ns === null ? 'unknown (no exchange times)' : latencyText(r.resolution_ns)}`)
        .join('; ') || 'unknown',
    ],
    ['Points', `${points.length} = ${latencies.length} latenc${latencies.length === 1 ? 'y' : 'ies'} × ${sets.length} parameter set${sets.length === 1 ? '' : 's'}`],
  ];

  const atLowest = (set: number) => points.find((p) => p.param_set === set && p.latency_ns === latencies[0]!.ns)?.summary;
  const breakEvenRows = file.break_even
    .map((b) => {
      const low = atLowest(b.param_set);
      return `<tr><td><span class="swatch" style="background:${sets[b.param_set]!.color}"></span>${esc(b.label)}</td>
<td class="num">${low ? fmt(low.net_pnl, 4) : ''}</td><td class="num">${low ? fmt(low.gross_pnl, 4) : ''}</td>
<td class="${b.net.kind === 'crossed' ? 'be' : ''}">${esc(b.net.text)}</td><td>${esc(b.gross.text)}</td></tr>`;
    })
    .join('\n');

  // The table shows the varying parameters only; the fixed ones are stated above.
  const hidden = new Set(Object.keys(grid.param_types).filter((k) => !grid.varying_params.includes(k)).map(paramColumn));
  // The latency as given is in results.csv; the page shows it normalised (latency_ns with its unit).
  hidden.add('latency');
  // Every point replays the same events unless a parameter changes the venues; then the column matters.
  if (points.every((p) => p.summary.events === first.events)) hidden.add('events');
  const shown = resultColumns(grid, points).filter((c) => !hidden.has(c.name));
  // Latencies in a resolution warning carry a mark beside them, its text as the tooltip.
  const warnedAt = new Map<number, string[]>();
  for (const w of file.resolution_warnings) {
    for (const ns of [w.low_ns, w.high_ns]) warnedAt.set(ns, [...(warnedAt.get(ns) ?? []), w.text]);
  }
  const cell = (name: string, v: unknown): string => {
    if (typeof v !== 'number') return esc(String(v));
    if (name === 'latency_ns') {
      const w = warnedAt.get(v);
      return w ? `${latencyText(v)} <span class="res-warn" title="${esc(w.join('\n'))}">⚠ below resolution</span>` : latencyText(v);
    }
    if (/pnl|fees_paid|max_drawdown/.test(name)) return fmt(v, 4);
    if (/ratio|share/.test(name)) return pct(v);
    if (name === 'traded_volume') return fmt(v, 2);
    return String(v);
  };
  const NAMES: Record<string, string> = {
    point: 'point',
    latency_ns: 'latency',
    gross_pnl: 'gross PnL',
    net_pnl: 'net PnL',
    fees_paid: 'fees',
    fill_ratio: 'fill ratio',
    maker_share: 'maker',
    taker_share: 'taker',
    traded_volume: 'volume',
    max_drawdown: 'max drawdown',
    markout_bps: 'markout bp',
    maker_markout_bps: 'maker markout bp',
  };
  const header = shown.map((c) => `<th>${esc(NAMES[c.name] ?? c.name)}</th>`).join('');
  const body = points
    .map((p, i) => {
      const neg = p.summary.net_pnl <= 0 ? ' class="neg"' : '';
      return `<tr${neg}>${shown.map((c) => `<td class="${typeof c.values[i] === 'number' ? 'num' : ''}">${cell(c.name, c.values[i])}</td>`).join('')}</tr>`;
    })
    .join('\n');

  const legend = (solid: string, dashed: string) =>
    `<div class="legend"><span class="key"><span class="ln"></span>${esc(solid)}</span><span class="key"><span class="ln dash"></span>${esc(dashed)}</span>` +
    sets.map((s) => `<span class="set"><span class="swatch" style="background:${s.color}"></span>${esc(s.label)}</span>`).join('') +
    '</div>';
  const { js, css } = uplotAssets();
  const title = `Latency sweep: ${first.strategy} on ${file.dataset}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${inlineSafe(css)}</style>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2125; margin: 0; background: #f6f7f9; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
p.sub { color: #5b6470; margin: 0 0 16px; }
table { border-collapse: collapse; }
table.facts td { padding: 3px 14px 3px 0; vertical-align: top; }
table.facts td:first-child { color: #5b6470; white-space: nowrap; }
table.grid { width: 100%; font-size: 12.5px; }
table.grid th, table.grid td { padding: 4px 6px; border-bottom: 1px solid #eceef1; text-align: left; }
table.grid th { background: #f1f3f5; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.neg td.num:nth-child(n) { color: inherit; }
td.be { font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.chart { margin: 8px 0 4px; }
.note { color: #5b6470; font-size: 12.5px; }
.tip { position: absolute; display: none; pointer-events: none; background: rgba(255,255,255,.95); border: 1px solid #cfd4da; border-radius: 4px; padding: 6px 8px; font-size: 12px; white-space: nowrap; z-index: 10; box-shadow: 0 2px 6px rgba(0,0,0,.08); }
.tip td { padding: 1px 6px 1px 0; font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; margin: 2px 0 8px 70px; }
.legend .key { color: #5b6470; }
.legend .ln { display: inline-block; width: 22px; border-top: 2px solid #5b6470; vertical-align: middle; margin-right: 6px; }
.legend .ln.dash { border-top-style: dashed; }
.scroll { overflow-x: auto; }
.res-warn { color: #9a5b00; }
</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
<p class="sub">How profit depends on latency: every point is one deterministic replay of the same recorded market data.</p>
<table class="facts">
${facts.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')}
</table>

${
  file.resolution_warnings.length
    ? `<h2>Resolution warnings</h2>
<p class="note">Adjacent swept latencies closer together than the exchange-time resolution of the data: the replay cannot tell them apart. These points are marked ⚠ in the results table.</p>
<ul id="resolution-warnings">
${file.resolution_warnings.map((w) => `<li class="res-warn">${esc(w.text)}</li>`).join('\n')}
</ul>
`
    : ''
}<h2>Break-even latency</h2>
<p class="note">The lowest latency at which PnL is ≤ 0, linearly interpolated between the two grid points around it (${esc(cur)}).</p>
<div class="scroll"><table class="grid">
<tr><th>parameter set</th><th>net PnL at ${esc(latencies[0]!.label)}</th><th>gross PnL at ${esc(latencies[0]!.label)}</th><th>net break-even</th><th>gross break-even (before fees)</th></tr>
${breakEvenRows}
</table></div>

<h2>PnL vs latency</h2>
<p class="note">Net PnL solid, gross PnL (before fees) dashed, in ${esc(cur)}; one colour per parameter set. Latency axis: arcsinh scale (linear near 0, logarithmic above ${esc(latencyText(linthreshNs(latencies.map((l) => l.ns))))}); ticks at the swept latencies. Vertical marks: net break-even.</p>
<div id="chart-pnl" class="chart"></div>
${legend('net PnL', 'gross PnL')}

<h2>Fills vs latency</h2>
<p class="note">Fills solid, orders sent dashed.</p>
<div id="chart-fills" class="chart"></div>
${legend('fills', 'orders')}

<h2>Adverse selection vs latency</h2>
<p class="note">Markout of the fills in bps: the exchange-side mid ${esc(String(first.markout_horizon_ms))} ms after each fill against its price, size-weighted; all fills solid, maker fills dashed. Below zero, the market moved against the fills.</p>
<div id="chart-markout" class="chart"></div>
${legend('all fills', 'maker fills')}

<h2>Results</h2>
<p class="note">One row per point${fixedParams.length ? '; the fixed parameters are listed above (every parameter is a column of results.csv and results.arrow)' : ''}. PnL, fees, drawdown and volume in ${esc(cur)}; Sharpe over the run (not annualised).</p>
<div class="scroll"><table class="grid">
<tr>${header}</tr>
${body}
</table></div>
<p class="note">Files next to this page: results.arrow (Arrow IPC stream), results.csv, summary.json (every point's full run summary and the grid).</p>
</main>
<script id="sweep-data" type="application/json">${JSON.stringify(chartData).replace(/</g, '\\u003c')}</script>
<script>${inlineSafe(js)}</script>
<script>
${inlineSafe(PAGE_SCRIPT)}
</script>
</body>
</html>
`;
}

/** The arcsinh scale's linear range: the smallest positive latency (1 ms when all are 0). */
function linthreshNs(ns: number[]): number {
  const pos = ns.filter((x) => x > 0);
  return pos.length ? Math.min(...pos) : 1e6;
}

/** The page's own script: builds both charts from #sweep-data with uPlot. */
const PAGE_SCRIPT = String.raw`
(function () {
  var D = JSON.parse(document.getElementById('sweep-data').textContent);
  var xs = D.x_ms;
  var pos = xs.filter(function (x) { return x > 0; });
  var k = pos.length ? Math.min.apply(null, pos) : 1;
  var T = function (x) { return Math.asinh(x / k); };
  var Ti = function (t) { return k * Math.sinh(t); };
  var t0 = T(xs[0]), t1 = T(xs[xs.length - 1]);
  var padT = Math.max((t1 - t0) * 0.04, 0.05);
  var labelOf = function (v) {
    for (var i = 0; i < xs.length; i++) if (Math.abs(xs[i] - v) <= 1e-9 * Math.max(1, Math.abs(v))) return D.x_labels[i];
    return v >= 1 ? (+v.toFixed(3)) + 'ms' : (+(v * 1000).toFixed(3)) + 'us';
  };
  var fmtNum = function (v, d) { return v == null ? '' : v.toFixed(d); };

  function xAxis() {
    return {
      label: 'latency (one-way)',
      splits: function () { return xs.slice(); },
      // Label every swept latency (a log-type axis would otherwise keep only powers of ten).
      filter: function (u, splits) { return splits; },
      values: function (u, splits) { return splits.map(labelOf); },
      grid: { stroke: '#eceef1' },
    };
  }
  function xScale() {
    return {
      distr: 4, asinh: k, time: false,
      range: function () { return [Ti(t0 - padT), Ti(t1 + padT)]; },
    };
  }
  function zeroAndMarks(marks) {
    return function (u) {
      var ctx = u.ctx;
      ctx.save();
      var y0 = u.valToPos(0, 'y', true);
      if (y0 >= u.bbox.top && y0 <= u.bbox.top + u.bbox.height) {
        ctx.strokeStyle = '#8a939e';
        ctx.lineWidth = 1 * devicePixelRatio;
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y0);
        ctx.lineTo(u.bbox.left + u.bbox.width, y0);
        ctx.stroke();
      }
      if (marks) {
        marks.forEach(function (ms, i) {
          if (ms == null) return;
          var x = u.valToPos(ms, 'x', true);
          ctx.strokeStyle = D.sets[i].color;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        });
      }
      ctx.restore();
    };
  }
  // A hover box: the latency under the cursor and every parameter set's two values there.
  function tooltip(solidName, dashedName, digits) {
    var box = null;
    return function (u) {
      if (!box) {
        box = document.createElement('div');
        box.className = 'tip';
        u.over.appendChild(box);
      }
      var i = u.cursor.idx;
      if (i == null || u.cursor.left == null || u.cursor.left < 0) { box.style.display = 'none'; return; }
      var html = '<b>' + D.x_labels[i] + '</b><table>';
      D.sets.forEach(function (s, j) {
        html += '<tr><td><span class="swatch" style="background:' + s.color + '"></span>' + s.label.replace(/&/g, '&amp;').replace(/</g, '&lt;') +
          '</td><td>' + solidName + ' ' + fmtNum(u.data[1 + 2 * j][i], digits) + '</td><td>' + dashedName + ' ' + fmtNum(u.data[2 + 2 * j][i], digits) + '</td></tr>';
      });
      box.innerHTML = html + '</table>';
      box.style.display = 'block';
      var x = u.valToPos(xs[i], 'x');
      var w = box.offsetWidth;
      box.style.left = (x + 12 + w > u.over.clientWidth ? x - 12 - w : x + 12) + 'px';
      box.style.top = '8px';
    };
  }
  function make(el, yLabel, solid, dashed, solidName, dashedName, digits, marks) {
    var series = [{ label: 'latency', value: function (u, v) { return v == null ? '' : labelOf(v); } }];
    var data = [xs];
    D.sets.forEach(function (s, i) {
      series.push({ label: solidName + (D.sets.length > 1 || s.label !== 'default parameters' ? ' ' + s.label : ''), stroke: s.color, width: 2,
        points: { show: true, size: 6 }, value: function (u, v) { return fmtNum(v, digits); } });
      data.push(solid[i]);
      series.push({ label: dashedName + (D.sets.length > 1 || s.label !== 'default parameters' ? ' ' + s.label : ''), stroke: s.color, width: 1.5, dash: [6, 4],
        points: { show: true, size: 4 }, value: function (u, v) { return fmtNum(v, digits); } });
      data.push(dashed[i]);
    });
    var width = function () { return Math.max(320, el.clientWidth); };
    var u = new uPlot({
      width: width(), height: 340,
      scales: { x: xScale(), y: { auto: true } },
      axes: [xAxis(), { label: yLabel, size: 70, grid: { stroke: '#eceef1' },
        values: digits === 0 ? function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) ? String(v) : ''; }); } : undefined }],
      series: series,
      hooks: { draw: [zeroAndMarks(marks)], setCursor: [tooltip(solidName, dashedName, digits)] },
      cursor: { drag: { x: false, y: false } },
      legend: { show: false },
    }, data, el);
    window.addEventListener('resize', function () { u.setSize({ width: width(), height: 340 }); });
    return u;
  }
  make(document.getElementById('chart-pnl'), 'PnL (' + D.currency + ')', D.net, D.gross, 'net', 'gross', 4, D.break_even_ms);
  make(document.getElementById('chart-fills'), 'count', D.fills, D.orders, 'fills', 'orders', 0, null);
  make(document.getElementById('chart-markout'), 'markout (bps)', D.markout, D.makerMarkout, 'all fills', 'maker fills', 2, null);
})();
`;
