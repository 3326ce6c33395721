// Fuzzing every exchange's normalizer with mutated REAL frames: the captures in ../shared/data when they are
// there, plus the small sample bundled in sample-frames.ts (a fresh clone has only that). Each case takes a real
// frame of one exchange, mutates it (a field replaced by a hostile value, the text damaged, a key removed...)
// and feeds it to that exchange's normalizer, between unmutated frames that keep its books in sync, so the
// mutations reach the book-sync paths too. A case counts as:
//   crash   - an exception escapes the normalizer;
//   slow    - it takes over 100 ms, twice in a row (one retry, so a GC pause on a loaded machine is not a hang);
//   invalid - it writes an event with a non-finite or negative price or size (where one is required), a price
//             the dataset's fixed point cannot hold, a time outside 1970-2100, or an id outside int64.
// The generator is seeded (src/simulation/random.ts): a seed and a case count give the same cases every run.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ProblemLog, type EventSink, type InputPlace } from '../data/sink.js';
import { EventKind, type RawKind, type StreamInfo } from '../data/types.js';
import { adapter } from '../exchanges/registry.js';
import type { Normalizer } from '../exchanges/kit/normalizer.js';
import { MAX_TIME_NS, PRICE_MAX_DECIMALS, PRICE_MAX_DIGITS } from '../exchanges/kit/numbers.js';
import { Sfc32 } from '../simulation/random.js';
import type { FuzzReport } from './report.js';
import { SAMPLE_FRAMES, type SampleFrame } from './sample-frames.js';

const SLOW_MS = 100;
const MAX_EXAMPLES = 10;
/** Frames read from each shared capture (enough for every channel and a snapshot; the mutations do the rest). */
const SHARED_FRAMES_PER_FILE = 4000;
const I64_MAX = 0x7fffffffffffffffn;
/**
 * Frames longer than this are fed unmutated (to sync books) but not mutated: Coinbase's level2 snapshots are 1-6 MB,
 * and parsing one takes tens of ms by itself, so the 100 ms budget would measure the frame's size, not a hang.
 */
const MAX_MUTATED_CHARS = 64 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(root, '../shared/data');

interface Frame {
  localNs: bigint;
  rest: boolean;
  text: string;
}

type Frames = Map<string, Frame[]>;

function addSample(frames: Frames, exchange: string, list: readonly SampleFrame[]): void {
  const out = frames.get(exchange) ?? [];
  for (const [ns, kind, text] of list) out.push({ localNs: BigInt(ns), rest: kind === 'rest', text });
  frames.set(exchange, out);
}

function gzLines(file: string, max: number): string[] {
  const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n');
  return lines.slice(0, max).filter((l) => l.length > 0);
}

/** Real frames from the shared captures, by exchange id; none when ../shared is not here. */
function sharedFrames(frames: Frames): void {
  const binance: [string, string][] = [
    ['binance-2024-08-08/usdm_btcusdt_20240808.gz', 'binance-usdm'],
    ['binance-2024-08-08/spot_btcusdt_20240808.gz', 'binance-spot'],
    ['binance-2024-08-08/cm_btcusd_perp_20240808.gz', 'binance-coinm'],
  ];
  for (const [file, exchange] of binance) {
    const full = path.join(shared, file);
    if (!fs.existsSync(full)) continue;
    addSample(
      frames,
      exchange,
      gzLines(full, SHARED_FRAMES_PER_FILE).map((l): SampleFrame => {
        const sp = l.indexOf(' ');
        const body = l.slice(sp + 1);
        return [l.slice(0, sp), body.startsWith('{"lastUpdateId"') ? 'rest' : 'ws', body];
      }),
    );
  }
  const cryptofeed: [string, (addr: string) => string | null][] = [
    ['BYBIT.jsonl.gz', (a) => (a.includes('/spot') ? 'bybit-spot' : a.includes('/linear') ? 'bybit-linear' : null)],
    ['OKX.jsonl.gz', () => 'okx'],
    ['COINBASE.jsonl.gz', () => 'coinbase'],
  ];
  for (const [file, exchangeOf] of cryptofeed) {
    const full = path.join(shared, 'cryptofeed-samples', file);
    if (!fs.existsSync(full)) continue;
    const addr = new Map<string, string>();
    const byExchange = new Map<string, SampleFrame[]>();
    for (const l of gzLines(full, Infinity)) {
      const r = JSON.parse(l) as { t: string; conn: string; ts: number; addr?: string; data?: unknown };
      if (r.t === 'connect') addr.set(r.conn, r.addr ?? '');
      if (r.t !== 'recv' || typeof r.data !== 'string') continue;
      const ex = exchangeOf(addr.get(r.conn) ?? '');
      if (ex === null) continue;
      const list = byExchange.get(ex) ?? [];
      list.push([String(Math.round(r.ts * 1e6)) + '000', 'ws', r.data]);
      byExchange.set(ex, list);
    }
    for (const [ex, list] of byExchange) addSample(frames, ex, list.slice(0, SHARED_FRAMES_PER_FILE));
  }
}

export function loadFrames(useShared = true): Frames {
  const frames: Frames = new Map();
  for (const [exchange, list] of Object.entries(SAMPLE_FRAMES)) addSample(frames, exchange, list);
  if (useShared && fs.existsSync(shared)) sharedFrames(frames);
  return frames;
}

/** Values no exchange sends where a number, time, id or string is expected. */
const HOSTILE: unknown[] = [
  '0x1F', '0b11', '0o7', ' 5 ', '+5', '-5', '5.', '.5', '1e308', '1e-400', '1E5', '', 'NaN', 'Infinity', '-Infinity',
  '١٢٣', '1_000', '9223372036854775808', '99999999999999999999', '0.0000000000001', '123456789012345678', '61800.2000000000001',
  -1, -0, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 63, Number.MAX_SAFE_INTEGER, 4102444800001, 1e16, 0,
  null, true, false, [], {}, [[]], [['1']], [['1', '2', '3']], [['-1', '1']], [['1', '-1']], [[1, 2]],
  'snapshot', 'delta', 'update', 'x'.repeat(100_000),
];

/** A deeply nested JSON value as text (built as text: JSON.stringify would recurse as deep). */
function nestedText(depth: number, array: boolean): string {
  return (array ? '[' : '{"a":').repeat(depth) + '1' + (array ? ']' : '}').repeat(depth);
}

/** Every path to a value inside `v` (keys and indexes), for choosing what to mutate. */
function paths(v: unknown, prefix: (string | number)[], out: (string | number)[][], budget: { n: number }): void {
  if (budget.n-- <= 0) return;
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out, budget));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out, budget);
}

const NESTED_MARK = '"\u0000nested\u0000"';

class Mutator {
  constructor(private readonly rng: Sfc32) {}

  int(n: number): number {
    return Math.floor(this.rng.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** One mutation of a frame's text; the result may not even be JSON. */
  mutate(text: string): string {
    const how = this.int(10);
    if (how <= 5) return this.mutateValue(text);
    if (how === 6) return this.removeKey(text);
    return this.damageText(text);
  }

  private parsed(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Replace one value (any depth) by a hostile one, a deeply nested one, or a slightly changed number. */
  private mutateValue(text: string): string {
    const msg = this.parsed(text);
    if (msg === undefined) return this.damageText(text);
    const all: (string | number)[][] = [];
    paths(msg, [], all, { n: 5000 });
    const at = this.pick(all);
    let nested: string | null = null;
    let value: unknown;
    const kind = this.int(6);
    if (kind === 0) {
      nested = nestedText(1 + this.int(100_000), this.int(2) === 0);
      value = NESTED_MARK;
    } else if (kind === 1) {
      value = this.nudge(this.get(msg, at));
    } else {
      value = this.pick(HOSTILE);
    }
    const out = at.length === 0 ? value : this.set(msg, at, value);
    const s = JSON.stringify(out);
    return nested === null ? s : s.replace(NESTED_MARK, nested);
  }

  /** A number or numeric string changed a little: another digit, a sign, a huge or tiny scale. */
  private nudge(v: unknown): unknown {
    if (typeof v === 'number') return this.pick([v + 1, v - 1, -v, v * 1e9, v / 1e9, v + 0.5, v * 2 ** 20]);
    if (typeof v === 'string') {
      return this.pick([`-${v}`, `${v}0`, `${v}e5`, `${v}.5`, `0${v}`, v.slice(1), `${v}${'9'.repeat(20)}`, v.replace(/\d/, 'x'), ` ${v}`, `${v}.00000000000001`]);
    }
    return this.pick(HOSTILE);
  }

  private get(v: unknown, at: (string | number)[]): unknown {
    for (const k of at) v = (v as Record<string | number, unknown>)[k];
    return v;
  }

  private set(root: unknown, at: (string | number)[], value: unknown): unknown {
    const parent = this.get(root, at.slice(0, -1)) as Record<string | number, unknown>;
    parent[at[at.length - 1]!] = value;
    return root;
  }

  private removeKey(text: string): string {
    const msg = this.parsed(text);
    if (msg === undefined || msg === null || typeof msg !== 'object') return this.damageText(text);
    const all: (string | number)[][] = [];
    paths(msg, [], all, { n: 5000 });
    const at = this.pick(all.filter((p) => p.length > 0).concat([[]]));
    if (at.length === 0) return '{}';
    const parent = this.get(msg, at.slice(0, -1));
    if (Array.isArray(parent)) parent.splice(at[at.length - 1] as number, 1);
    else delete (parent as Record<string, unknown>)[at[at.length - 1] as string];
    return JSON.stringify(msg);
  }

  /** Byte-level damage: a character changed, dropped or repeated, the text cut, a slice duplicated. */
  private damageText(text: string): string {
    const i = this.int(text.length + 1);
    switch (this.int(6)) {
      case 0:
        return text.slice(0, i) + this.pick(['0', '9', '-', '.', 'e', '"', '{', '[', ']', '}', ',', ':', '\u0000', 'é']) + text.slice(i + 1);
      case 1:
        return text.slice(0, i) + text.slice(i + 1);
      case 2:
        return text.slice(0, i);
      case 3:
        return text.slice(0, i) + text.slice(i, i + 1 + this.int(50)) + text.slice(i);
      case 4:
        return text.slice(0, i) + '9'.repeat(1 + this.int(400)) + text.slice(i);
      default:
        return text.replace(/"(\d+(?:\.\d+)?)"/, `"${this.pick(['0x1F', '1e308', '-1', ' 5 ', '+5', '1e-400'])}"`);
    }
  }
}

/** A price the dataset's fixed point holds: at most 12 decimals and 15 digits (kit/numbers.ts). */
function priceFits(p: number): boolean {
  if (!Number.isFinite(p) || p < 0) return false;
  if (p === 0) return true;
  for (let d = 0; d <= PRICE_MAX_DECIMALS; d++) {
    const scaled = p * 10 ** d;
    const k = Math.round(scaled);
    if (Math.abs(k - scaled) <= Math.max(1e-7, k * 1e-12)) return k < 10 ** PRICE_MAX_DIGITS;
  }
  return false;
}

/** An EventSink that writes nothing and checks every event. */
class CheckingSink implements EventSink {
  readonly streams: StreamInfo[] = [];
  invalid: string | null = null;
  rows = 0;

  stream(info: StreamInfo): number {
    this.streams.push(info);
    return this.streams.length - 1;
  }

  rawMessage(_localTs: bigint, _exchange: string, _source: string, _line: number, _kind: RawKind, _data: string): void {}

  event(stream: number, _localTs: bigint, exchTs: bigint, kind: number, side: number, price: number, size: number, id: bigint, prevId: bigint, _flags: number, publishTs?: bigint): void {
    this.rows++;
    const bad = this.why(stream, exchTs, kind, side, price, size, id, prevId, publishTs ?? exchTs);
    if (bad !== null && this.invalid === null) this.invalid = `${bad} (kind ${kind}, price ${price}, size ${size}, exch_ts ${exchTs}, id ${id}, prev_id ${prevId})`;
  }

  private why(stream: number, exchTs: bigint, kind: number, side: number, price: number, size: number, id: bigint, prevId: bigint, pubTs: bigint): string | null {
    if (stream < 0 || stream >= this.streams.length) return 'unknown stream';
    if (exchTs < 0n || exchTs > MAX_TIME_NS) return 'exch_ts outside 1970-2100';
    if (pubTs < 0n || pubTs > MAX_TIME_NS) return 'publish_ts outside 1970-2100';
    if (id < -1n || id > I64_MAX || prevId < -1n || prevId > I64_MAX) return 'id outside -1..int64';
    if (side !== 1 && side !== -1 && side !== 0) return 'side not -1, 0 or 1';
    if (!Number.isFinite(size) || size < 0) return 'size not finite and non-negative';
    const marker = kind === EventKind.Gap || kind === EventKind.Disconnect || kind === EventKind.Reconnect;
    if (marker) return Number.isNaN(price) ? null : 'marker with a price';
    if (kind < EventKind.Trade || kind > EventKind.Reconnect) return 'unknown kind';
    // An empty snapshot and a side of a best bid/offer that has no level carry no price.
    if (Number.isNaN(price) && size === 0 && (kind === EventKind.BookSnapshot || kind === EventKind.BestBidOffer)) return null;
    if (!priceFits(price)) return 'price not a decimal the dataset holds';
    return null;
  }
}

interface Target {
  exchange: string;
  frames: Frame[];
  /** The frames mutated: those up to MAX_MUTATED_CHARS. */
  pool: Frame[];
  normalizer: Normalizer;
  sink: CheckingSink;
  next: number;
}

function feed(t: Target, frame: Frame, text: string, place: InputPlace): void {
  if (frame.rest) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return; // the importer logs an unparsable REST line before any normalizer sees it
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    // The shared and bundled Binance captures are BTC: USD-M and spot BTCUSDT, COIN-M BTCUSD_PERP.
    t.normalizer.onRestSnapshot?.(frame.localNs, body as Record<string, unknown>, t.exchange === 'binance-coinm' ? 'BTCUSD_PERP' : 'BTCUSDT', place);
    return;
  }
  t.normalizer.onMessage(frame.localNs, text, place);
}

/** Run `cases` mutated frames, spread over every exchange's normalizer, from `seed`. */
export async function run(seed: number, cases: number, opts: { useShared?: boolean } = {}): Promise<FuzzReport> {
  const rng = new Sfc32(seed);
  const mutator = new Mutator(rng);
  const frames = loadFrames(opts.useShared ?? true);
  const newTarget = (exchange: string, list: Frame[]): Target => {
    const sink = new CheckingSink();
    // Problems are counted, not kept: a million of them would only cost memory.
    return { exchange, frames: list, pool: list.filter((f) => f.text.length <= MAX_MUTATED_CHARS), normalizer: adapter(exchange).normalizer(sink, new ProblemLog(0)), sink, next: 0 };
  };
  const targets = [...frames].map(([ex, list]) => newTarget(ex, list));
  const report: FuzzReport = { name: 'normalizers', cases: 0, crashes: 0, slowCases: 0, invalidValues: 0, maxMs: 0, examples: [] };
  const example = (text: string) => {
    if (report.examples.length < MAX_EXAMPLES) report.examples.push(text);
  };
  for (let c = 0; c < cases; c++) {
    const k = c % targets.length;
    let t = targets[k]!;
    // Real frames in order between the mutated ones keep the books synced, so mutations meet live books.
    const real = t.frames[t.next % t.frames.length]!;
    t.next++;
    const place: InputPlace = { source: `fuzz-${t.exchange}`, line: c + 1 };
    try {
      feed(t, real, real.text, place);
    } catch {
      // a real frame failing after earlier mutations is counted through the mutated case that caused it
    }
    const frame = t.pool[mutator.int(t.pool.length)]!;
    const text = mutator.mutate(frame.text);
    t.sink.invalid = null;
    const timeCase = (): number => {
      const start = performance.now();
      try {
        feed(t, frame, text, place);
      } catch (e) {
        report.crashes++;
        example(`crash ${t.exchange} seed ${seed} case ${c}: ${e instanceof Error ? e.message.slice(0, 200) : String(e)} in ${text.slice(0, 200)}`);
      }
      return performance.now() - start;
    };
    let ms = timeCase();
    if (ms > SLOW_MS) ms = Math.min(ms, timeCase());
    report.cases++;
    report.maxMs = Math.max(report.maxMs, ms);
    if (ms > SLOW_MS) {
      report.slowCases++;
      example(`slow ${t.exchange} seed ${seed} case ${c}: ${ms.toFixed(1)} ms for ${text.slice(0, 200)}`);
    }
    if (t.sink.invalid !== null) {
      report.invalidValues++;
      example(`invalid ${t.exchange} seed ${seed} case ${c}: ${t.sink.invalid} from ${text.slice(0, 200)}`);
    }
    // A fresh normalizer now and then: states reached from a clean start are fuzzed again too.
    if (t.next % 50_000 === 0) targets[k] = t = newTarget(t.exchange, t.frames);
  }
  report.maxMs = +report.maxMs.toFixed(3);
  return report;
}
