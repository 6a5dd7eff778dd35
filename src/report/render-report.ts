/**
 * The report as ONE self-contained HTML file: uPlot's script and stylesheet are read from
 * node_modules and inlined, the run's numbers are a JSON blob in the page, and nothing is fetched
 * to open it (it works offline, attached to a ticket, years later). The tables are plain HTML, so
 * the numbers read even with scripts off; the charts are drawn by the page's own script.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportData } from './report-data.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './page-assets.js';

const require = createRequire(import.meta.url);

let uplot: { js: string; css: string } | undefined;

/** uPlot's minified build and stylesheet, read once per process. */
function uplotAssets(): { js: string; css: string } {
  uplot ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return uplot;
}

/** `refreshSeconds`: a live page (the proxy's) reloads itself this often. */
export function renderReport(data: ReportData, options: { refreshSeconds?: number } = {}): string {
  const { js, css } = uplotAssets();
  const title = `claw-batch ${data.command} ${data.id}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${options.refreshSeconds ? `\n<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${css}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="sub">${esc(describeRun(data))}</p>
</header>
${totalsTable(data)}
${planTable(data)}
<section id="charts"></section>
${marksList(data)}
${errorsTable(data)}
<footer>Drawn with uPlot (MIT), inlined. Points are ${data.stepSeconds} s wide; rates are per minute over each point.</footer>
<script id="claw-data" type="application/json">${jsonForScript(data)}</script>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function describeRun(d: ReportData): string {
  const parts = [
    `${d.mode}`,
    `started ${new Date(d.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    `${formatSeconds(d.seconds)}${d.ended ? '' : ' so far (still running, or stopped without its last line)'}`,
  ];
  if (d.input) parts.push(`input ${d.input}${d.items !== undefined ? ` (${d.items} items)` : ''}`);
  parts.push(`results ${d.output ?? 'stdout'}`);
  return parts.join(' · ');
}

function totalsTable(d: ReportData): string {
  const t = d.totals;
  const p = d.peaks;
  const cell = (id: string, label: string, value: string) => `<tr><th>${label}</th><td id="${id}">${value}</td></tr>`;
  return `<section class="numbers"><table>
${cell('total-requests', 'requests sent', num(t.requests))}
${cell('total-answers', 'answers', num(t.answers))}
${cell('total-errored', 'written as errored', num(t.errored))}
${cell('total-429', '429s', num(t.rateLimited))}
${cell('total-retried', 'retries', num(t.retried))}
${cell('total-faults', 'faults (5xx, 529, dropped)', num(t.faults))}
${cell('total-tokens', 'tokens in · out', `${num(t.inputTokens)} · ${num(t.outputTokens)}`)}
${cell('total-cost', 'cost at list price', t.usd === null ? 'unknown (no price)' : usd(t.usd))}
</table><table>
${cell('peak-rpm', 'peak requests/min', num(p.requestsPerMinute))}
${cell('peak-itpm', 'peak input tokens/min', num(p.inputTokensPerMinute))}
${cell('peak-otpm', 'peak output tokens/min', num(p.outputTokensPerMinute))}
${cell('peak-inflight', 'peak in flight', num(p.inFlight))}
${cell('peak-p90', 'worst p90 latency', p.p90 === null ? '—' : `${num(p.p90)} ms`)}
${cell('done', 'items done', `${num(t.done)}${d.items !== undefined ? ` of ${num(d.items)}` : ''}`)}
</table></section>`;
}

/** The plan's estimate beside what happened, when the run made a plan. */
function planTable(d: ReportData): string {
  const plan = d.plan;
  if (!plan) return '';
  const rows: string[] = [];
  const seconds = typeof plan.realtime_seconds === 'number' ? plan.realtime_seconds : undefined;
  if (d.mode === 'realtime' && seconds !== undefined) rows.push(`<tr><th>time</th><td>${formatSeconds(seconds)}</td><td id="actual-seconds">${formatSeconds(d.seconds)}</td></tr>`);
  const tokens = plan.tokens as { input?: number; output_expected?: number } | undefined;
  if (tokens?.input !== undefined) rows.push(`<tr><th>input tokens</th><td>${num(tokens.input)}</td><td>${num(d.totals.inputTokens)}</td></tr>`);
  if (tokens?.output_expected !== undefined) rows.push(`<tr><th>output tokens</th><td>${num(tokens.output_expected)}</td><td>${num(d.totals.outputTokens)}</td></tr>`);
  const cost = plan.cost as { realtime?: number; batch?: number } | null | undefined;
  const planned = d.mode === 'batch' ? cost?.batch : cost?.realtime;
  if (planned !== undefined) rows.push(`<tr><th>cost</th><td>${usd(planned)}</td><td>${d.totals.usd === null ? '—' : usd(d.totals.usd)}</td></tr>`);
  const classes = (plan.classes as Array<{ model_class: string; requests_per_minute: number; binding: string }> | undefined) ?? [];
  for (const c of classes) rows.push(`<tr><th>pace ${esc(c.model_class)}</th><td>${num(c.requests_per_minute)} req/min (${esc(c.binding)})</td><td>peak ${num(d.peaks.requestsPerMinute)} req/min</td></tr>`);
  if (typeof plan.cut_over_at === 'string') rows.push(`<tr><th>deadline cut-over</th><td>${esc(plan.cut_over_at)}</td><td>${d.marks.some((m) => /cut-over/.test(m.text)) ? 'happened (marked on the charts)' : 'not needed'}</td></tr>`);
  if (rows.length === 0) return '';
  return `<section><h2>Plan and what happened</h2><table class="plan"><tr><th></th><th>plan</th><th>actual</th></tr>${rows.join('')}</table>
<p class="sub">${esc(((plan.reasons as string[] | undefined) ?? []).join('; '))}</p></section>`;
}

function marksList(d: ReportData): string {
  if (d.marks.length === 0) return '';
  return `<section><h2>Events</h2><ul>${d.marks.map((m) => `<li>${formatSeconds(m.t)}: ${esc(m.text)}</li>`).join('')}</ul></section>`;
}

function errorsTable(d: ReportData): string {
  if (d.errors.length === 0) return `<section><h2>Errors</h2><p id="no-errors">None.</p></section>`;
  const rows = d.errors
    .map(
      (e) =>
        `<tr><td>${esc(e.type)}</td><td class="n">${num(e.retried)}</td><td class="n">${num(e.errored)}</td><td>${e.examples
          .map((x) => `<code>${esc(x.custom_id)}</code> ${esc(x.message)}`)
          .join('<br>')}</td></tr>`,
    )
    .join('');
  return `<section><h2>Errors by type</h2><table id="errors"><tr><th>type</th><th>retried</th><th>written as errored</th><th>examples (custom_id)</th></tr>${rows}</table></section>`;
}

/** JSON inside a script element: `<` escaped so no string in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function usd(n: number): string {
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
