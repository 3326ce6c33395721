// A latency sweep's results: the grid, one row per point, the break-even latency of each parameter set,
// and the tables written from them (Arrow IPC stream and CSV share one column list).
import { Bool, Table, Utf8, makeVector, vectorFromArray, tableToIPC, type Vector } from 'apache-arrow';
import type { RunSummary } from '../engine/session.js';
import { formatDurationNs } from '../data/time.js';
import type { ResolutionWarning, StreamResolution } from './resolution.js';

export type ParamValue = number | string | boolean;
export type ParamType = 'number' | 'string' | 'boolean';

export interface SweepLatency {
  /** As given on the command line, e.g. "250us". */
  text: string;
  ns: number;
}

export interface SweepGrid {
  latencies: SweepLatency[];
  /** Every strategy parameter in declaration order with its type: the parameter columns of the tables. */
  param_types: Record<string, ParamType>;
  /** Parameters given with more than one value, in the order given. */
  varying_params: string[];
  /** Each parameter set's raw values (as given; defaults are not listed), in point order. */
  param_sets: Record<string, string>[];
  /** Which latency legs take the swept value, and the ones fixed by an override. */
  legs: { varying: string[]; fixed: Record<string, string> };
  /** Point i runs param_sets[param_set] at latencies[latency]: parameter sets outermost, latencies ascending. */
  points: { index: number; param_set: number; latency: number }[];
}

export interface SweepPointResult {
  index: number;
  param_set: number;
  latency: string;
  latency_ns: number;
  summary: RunSummary;
}

export type Crossing =
  | { kind: 'crossed'; latency_ns: number; text: string }
  | { kind: 'never'; latency_ns: null; text: string }
  | { kind: 'at_lowest'; latency_ns: number; text: string };

export interface BreakEven {
  param_set: number;
  label: string;
  /** Lowest latency at which net PnL <= 0, linearly interpolated between grid points. */
  net: Crossing;
  /** The same for gross PnL (before fees): where the edge itself is gone. */
  gross: Crossing;
}

export interface SweepSummaryFile {
  dataset: string;
  strategy: string;
  seed: number;
  queue: string;
  fees: string | null;
  rate_limit: string | null;
  grid: SweepGrid;
  break_even: BreakEven[];
  /** Each swept venue's exchange-time resolution (src/report/resolution.ts). */
  exchange_time_resolution: StreamResolution[];
  /** Adjacent grid latencies closer together than a venue's exchange-time resolution. */
  resolution_warnings: ResolutionWarning[];
  points: SweepPointResult[];
}

/** The metric columns after the parameter columns, with their Arrow types. */
const METRICS = [
  ['gross_pnl', 'f64'],
  ['net_pnl', 'f64'],
  ['fees_paid', 'f64'],
  ['orders', 'i32'],
  ['fills', 'i32'],
  ['fill_ratio', 'f64'],
  ['maker_share', 'f64'],
  ['taker_share', 'f64'],
  ['traded_volume', 'f64'],
  ['max_drawdown', 'f64'],
  ['sharpe', 'f64'],
  ['markout_bps', 'f64'],
  ['maker_markout_bps', 'f64'],
  ['events', 'i32'],
] as const satisfies readonly (readonly [keyof RunSummary, 'f64' | 'i32'])[];

const FIXED_COLUMNS = new Set<string>(['point', 'latency', 'latency_ns', ...METRICS.map((m) => m[0])]);

/** A parameter's column name: its own, or param_<name> when that would clash with a fixed column. */
export function paramColumn(name: string): string {
  return FIXED_COLUMNS.has(name) ? `param_${name}` : name;
}

interface Column {
  name: string;
  type: 'i32' | 'f64' | 'utf8' | 'bool';
  values: ParamValue[];
}

export function resultColumns(grid: SweepGrid, points: SweepPointResult[]): Column[] {
  const cols: Column[] = [
    { name: 'point', type: 'i32', values: points.map((p) => p.index) },
    { name: 'latency', type: 'utf8', values: points.map((p) => p.latency) },
    { name: 'latency_ns', type: 'f64', values: points.map((p) => p.latency_ns) },
  ];
  for (const [name, t] of Object.entries(grid.param_types)) {
    cols.push({
      name: paramColumn(name),
      type: t === 'number' ? 'f64' : t === 'boolean' ? 'bool' : 'utf8',
      values: points.map((p) => {
        const v = p.summary.params[name];
        if (v === undefined) throw new Error(`point ${p.index}: the run reports no parameter "${name}"`);
        return v;
      }),
    });
  }
  // A markout without fills is null in the summary and NaN in the tables.
  for (const [name, t] of METRICS) cols.push({ name, type: t, values: points.map((p) => p.summary[name] ?? NaN) });
  return cols;
}

export function toArrowIPC(grid: SweepGrid, points: SweepPointResult[]): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const c of resultColumns(grid, points)) {
    switch (c.type) {
      case 'i32':
        vectors[c.name] = makeVector(Int32Array.from(c.values as number[]));
        break;
      case 'f64':
        vectors[c.name] = makeVector(Float64Array.from(c.values as number[]));
        break;
      case 'bool':
        vectors[c.name] = vectorFromArray(c.values as boolean[], new Bool());
        break;
      case 'utf8':
        vectors[c.name] = vectorFromArray(c.values.map(String), new Utf8());
        break;
    }
  }
  return tableToIPC(new Table(vectors), 'stream');
}

function csvField(v: ParamValue): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV; numbers in JavaScript's shortest round-trip form, so they read back exactly. */
export function toCsv(grid: SweepGrid, points: SweepPointResult[]): string {
  const cols = resultColumns(grid, points);
  const lines = [cols.map((c) => csvField(c.name)).join(',')];
  for (let i = 0; i < points.length; i++) lines.push(cols.map((c) => csvField(c.values[i]!)).join(','));
  return lines.join('\n') + '\n';
}

/** "fast=5 slow=30" from the varying parameters, or "defaults" / the fixed ones when nothing varies. */
export function paramSetLabel(grid: SweepGrid, set: number): string {
  const raw = grid.param_sets[set] ?? {};
  const keys = grid.varying_params.length ? grid.varying_params : Object.keys(raw);
  const parts = keys.filter((k) => raw[k] !== undefined).map((k) => `${k}=${raw[k]}`);
  return parts.length ? parts.join(' ') : 'default parameters';
}

/** A latency in ns with its unit: 0, 250us, 1ms, 1.5ms. */
export function latencyText(ns: number): string {
  return formatDurationNs(Math.round(ns));
}

/**
 * The lowest latency at which `value` (net or gross PnL) is <= 0, from points sorted by latency: linearly
 * interpolated between the last point above 0 and the first at or below it. Points without a finite value
 * (a run that could not price its PnL) say nothing about the crossing and are left out.
 */
export function crossing(allPoints: { latency_ns: number; value: number }[], what: string): Crossing {
  const points = allPoints.filter((p) => Number.isFinite(p.value));
  if (points.length === 0) return { kind: 'never', latency_ns: null, text: 'no points' };
  const first = points[0]!;
  if (first.value <= 0) {
    const state = first.value < 0 ? 'negative' : 'zero';
    return { kind: 'at_lowest', latency_ns: first.latency_ns, text: `already ${state} at the lowest latency (${latencyText(first.latency_ns)})` };
  }
  for (let i = 1; i < points.length; i++) {
    const b = points[i]!;
    if (b.value > 0) continue;
    const a = points[i - 1]!;
    const ns = a.latency_ns + ((b.latency_ns - a.latency_ns) * a.value) / (a.value - b.value);
    return { kind: 'crossed', latency_ns: Math.round(ns), text: latencyText(ns) };
  }
  const last = points[points.length - 1]!;
  return { kind: 'never', latency_ns: null, text: `never (${what} > 0 up to ${latencyText(last.latency_ns)})` };
}

export function breakEvens(grid: SweepGrid, points: SweepPointResult[]): BreakEven[] {
  return grid.param_sets.map((_, set) => {
    const own = points.filter((p) => p.param_set === set).sort((a, b) => a.latency_ns - b.latency_ns);
    return {
      param_set: set,
      label: paramSetLabel(grid, set),
      net: crossing(own.map((p) => ({ latency_ns: p.latency_ns, value: p.summary.net_pnl })), 'net PnL'),
      gross: crossing(own.map((p) => ({ latency_ns: p.latency_ns, value: p.summary.gross_pnl })), 'gross PnL'),
    };
  });
}
