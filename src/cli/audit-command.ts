// latencylab audit <run dir>: the fills of a `replay --out` run checked against the dataset's tape and
// real-time BBO (src/audit/audit.ts; rules in docs/audit.md).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { tableFromIPC } from 'apache-arrow';
import { openDataset } from '../data/reader.js';
import { formatDurationNs } from '../data/time.js';
import type { FillRule } from '../simulation/matching.js';
import { auditRun, type AuditFill, type AuditReport, type AuditVenue } from '../audit/audit.js';

/** What `replay --out` writes to run.json: enough to find the run's market data again. */
export interface RunFile {
  format: 'latencylab-run';
  dataset: string;
  strategy: string;
  params: Record<string, string>;
  /** In the run's venue order: the fills' `venue` column indexes this. */
  venues: AuditVenue[];
  latency: string;
  seed: number;
  queue: string;
  /** How one print filled several resting orders (docs/matching.md); absent in runs written before it existed. */
  fill_rule?: FillRule;
  markout_horizon_ms: number;
}

export function auditRunDir(dir: string, maxExamples = 5): { run: RunFile; report: AuditReport } {
  const runFile = path.join(dir, 'run.json');
  if (!fs.existsSync(runFile)) throw new Error(`not a run folder (no run.json; write one with latencylab replay --out): ${dir}`);
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8')) as RunFile;
  if (run.format !== 'latencylab-run') throw new Error(`${runFile}: not a latencylab run file`);
  const ds = openDataset(run.dataset);
  const origin = ds.originNs;
  const rel = (x: bigint) => Number(x - origin);
  const orders = tableFromIPC(fs.readFileSync(path.join(dir, 'orders.arrow')));
  const arrived = new Map<number, number>();
  const oid = orders.getChild('order_id')!.toArray() as Int32Array;
  const oArr = orders.getChild('arrived_ts_ns')!.toArray() as BigInt64Array;
  for (let i = 0; i < oid.length; i++) arrived.set(oid[i]!, rel(oArr[i]!));
  const t = tableFromIPC(fs.readFileSync(path.join(dir, 'fills.arrow')));
  const id = t.getChild('order_id')!.toArray() as Int32Array;
  const venue = t.getChild('venue')!.toArray() as Uint8Array;
  const side = t.getChild('side')!.toArray() as Int8Array;
  const price = t.getChild('price')!.toArray() as Float64Array;
  const size = t.getChild('size')!.toArray() as Float64Array;
  const makerCol = t.getChild('maker')!;
  const exch = t.getChild('exch_ts_ns')!.toArray() as BigInt64Array;
  const midAfter = t.getChild('mid_after')!.toArray() as Float64Array;
  const fills: AuditFill[] = [];
  for (let i = 0; i < id.length; i++) {
    const a = arrived.get(id[i]!);
    if (a === undefined) throw new Error(`fills.arrow: fill ${i} of order ${id[i]} that orders.arrow does not list`);
    fills.push({ venue: venue[i]!, side: side[i]!, price: price[i]!, size: size[i]!, maker: makerCol.get(i) === true, exchNs: rel(exch[i]!), orderArrivedNs: a, midAfter: midAfter[i]! });
  }
  return { run, report: auditRun(ds, run.venues, fills, maxExamples) };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const sec = (ns: number) => `${(ns / 1e9).toFixed(3)} s`;

export function formatAudit(run: RunFile, r: AuditReport): string {
  const lines = [
    `audit: ${run.strategy} on ${run.dataset} at latency ${run.latency}${run.fill_rule ? `, fill rule ${run.fill_rule}` : ''}, ${r.fills} fill(s); PnL of a fill = side × size × (mid ${run.markout_horizon_ms}ms later − price)`,
    `  recorder clock: ${r.recorder_clock ?? 'none (no row carries an exchange time)'}`,
  ];
  for (const v of r.venues) {
    lines.push(
      `  ${v.venue} (exchange-time resolution ${formatDurationNs(v.resolution_ns)}; ${v.bbo_rows} BBO quotes)`,
      `    taker fills ${v.taker_fills} (${v.taker_checked} with a quote before and after): ${v.questionable_taker} questionable (${pct(v.questionable_taker_share)}), PnL ${v.questionable_taker_pnl.toFixed(4)}`,
      `    maker fills ${v.maker_fills}: ${v.unsupported_maker} unsupported (${pct(v.unsupported_maker_share)}), PnL ${v.unsupported_maker_pnl.toFixed(4)}`,
    );
    if (v.pnl_unknown) lines.push(`    ${v.pnl_unknown} fill(s) without a markout mid: PnL counted as 0`);
    for (const e of v.taker_examples) {
      lines.push(`    questionable: ${e.side} ${e.size} at ${e.price} at ${sec(e.exch_ns)}; quote ${e.before} at ${sec(e.before_ns!)} and ${e.after} at ${sec(e.after_ns!)}; PnL ${e.pnl.toFixed(4)}`);
    }
    for (const e of v.maker_examples) {
      lines.push(`    unsupported: maker ${e.side} ${e.size} at ${e.price} at ${sec(e.exch_ns)}, order arrived ${sec(e.order_arrived_ns!)}: no print or quote through it; PnL ${e.pnl.toFixed(4)}`);
    }
  }
  lines.push(`  flagged fills' PnL ${r.flagged_pnl.toFixed(4)} of ${r.total_pnl.toFixed(4)} (all fills, marked the same way); times from the dataset origin`);
  return lines.join('\n');
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit <run-dir>')
    .description('check every fill of a replay --out run against the recorded trades and real-time BBO (docs/audit.md)')
    .option('--json', 'print the audit as JSON')
    .option('--examples <n>', 'examples per kind and venue', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--examples must be a whole number >= 0, got "${v}"`);
      return n;
    }, 5)
    .option('--strict', 'exit with 1 when any fill is flagged')
    .action((dir: string, o: { json?: boolean; examples: number; strict?: boolean }) => {
      const { run, report } = auditRunDir(dir, o.examples);
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatAudit(run, report)) + '\n');
      if (o.strict && report.questionable_taker + report.unsupported_maker > 0) process.exitCode = 1;
    });
}
