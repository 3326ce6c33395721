// Importer for hftbacktest's collector files: gzipped lines "<local ns> <raw JSON as received>" from
// Binance spot, USD-M and COIN-M (depth diffs, trades, bookTicker, and REST snapshot lines).
//
// Files of one market and symbol are joined in time order; several markets are merged line by line by
// local time (ties: the order the files were given), so the dataset is one continuous timeline.
import path from 'node:path';
import type { EventSink, InputPlace, ProblemLog } from '../data/sink.js';
import { EventKind, GapReason, RawKind, type ExchangeId } from '../data/types.js';
import { adapter, ADAPTERS } from '../exchanges/registry.js';
import type { Normalizer } from '../exchanges/kit/normalizer.js';
import { refusedFrameGapFlags } from '../exchanges/kit/frames.js';
import { readLines, type Line } from './lines.js';
import { emptyStats, guardLine, type Importer, type ImporterStats } from './importer.js';

/** The markets hftbacktest's collector writes (Binance spot, USD-M, COIN-M), as the registry's adapters name them. */
const MARKETS = ADAPTERS.filter((a) => a.captures?.hftbacktest);

/** Market from the collector's file naming (spot_, usdm_/um_, cm_/coinm_), else null. */
function exchangeFromName(file: string): ExchangeId | null {
  const base = path.basename(file).toLowerCase();
  return MARKETS.find((a) => a.captures!.hftbacktest!.filePrefixes.some((p) => base.startsWith(p)))?.id ?? null;
}

interface FileHead {
  file: string;
  exchange: ExchangeId;
  symbol: string;
  firstTs: bigint;
}

/** Reads the first lines of a file to learn its market, symbol and first local time. */
async function inspectFile(file: string, forced: ExchangeId | undefined, problems: ProblemLog): Promise<FileHead> {
  const name = path.basename(file);
  let exchange: ExchangeId | null = forced ?? exchangeFromName(file);
  if (forced && !MARKETS.some((a) => a.id === forced)) throw new Error(`${name}: the hftbacktest importer reads Binance captures; --exchange ${forced} is not one`);
  let symbol: string | null = null;
  let firstTs: bigint | null = null;
  let seen = 0;
  outer: for await (const chunk of readLines(file, problems)) {
    for (const l of chunk) {
      const sp = l.text.indexOf(' ');
      if (sp <= 0) continue;
      const ts = l.text.slice(0, sp);
      if (firstTs === null && /^\d+$/.test(ts)) firstTs = BigInt(ts);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(l.text.slice(sp + 1)) as Record<string, unknown>;
      } catch {
        continue;
      }
      const stream = typeof msg.stream === 'string' ? msg.stream : null;
      const data = (stream ? msg.data : msg) as Record<string, unknown> | null;
      if (!stream && typeof msg.channel === 'string') {
        throw new Error(`${name}:${l.line}: channel "${msg.channel}" is not a Binance stream; the hftbacktest importer reads Binance spot, USD-M and COIN-M captures`);
      }
      if (data && typeof data.s === 'string') symbol ??= data.s;
      if (data && data.e === 'depthUpdate' && exchange === null) {
        exchange = MARKETS.find((a) => a.captures!.hftbacktest!.ownsDepthUpdate(data))?.id ?? null;
      }
      if (symbol && exchange && firstTs !== null) break outer;
      if (++seen > 2000) break outer;
    }
  }
  if (firstTs === null) throw new Error(`${name}: no line of the form "<local ns> <JSON>" found`);
  if (!symbol) throw new Error(`${name}: no message names a symbol (field "s")`);
  if (!exchange) throw new Error(`${name}: cannot tell spot, USD-M or COIN-M from the name or the first depth update; pass --exchange`);
  return { file, exchange, symbol, firstTs };
}

/** Walks one market's files in order, line by line. */
class MarketCursor {
  private chunk: Line[] = [];
  private pos = 0;
  private fileIdx = -1;
  private iter: AsyncGenerator<Line[]> | null = null;
  ts = 0n;
  line: Line | null = null;
  constructor(
    readonly files: FileHead[],
    readonly normalizer: Normalizer,
    readonly order: number,
    private readonly problems: ProblemLog,
  ) {}
  /** The current file's name (for raw rows and messages). */
  file = '';
  get symbol(): string {
    return this.files[0]!.symbol;
  }
  /** Moves to the next line; false at the end of the last file. */
  async advance(): Promise<boolean> {
    for (;;) {
      if (this.pos < this.chunk.length) {
        const l = this.chunk[this.pos++]!;
        this.line = l;
        const sp = l.text.indexOf(' ');
        const head = sp > 0 ? l.text.slice(0, sp) : '';
        // A line without a readable time keeps the previous one, so it still lands in order.
        if (/^\d{1,19}$/.test(head)) this.ts = BigInt(head);
        return true;
      }
      const next = this.iter ? await this.iter.next() : { done: true as const, value: undefined };
      if (!next.done) {
        this.chunk = next.value;
        this.pos = 0;
        continue;
      }
      if (++this.fileIdx >= this.files.length) return false;
      this.file = path.basename(this.files[this.fileIdx]!.file);
      this.iter = readLines(this.files[this.fileIdx]!.file, this.problems);
    }
  }
}

export const importHftbacktest: Importer = async (files, sink, problems, opts) => {
  const stats: ImporterStats = emptyStats();
  const heads: FileHead[] = [];
  for (const f of files) {
    try {
      heads.push(await inspectFile(f, opts.exchange, problems));
    } catch (e) {
      problems.add('unreadable_file', path.basename(f), (e as Error).message);
    }
  }
  if (heads.length === 0) throw new Error(`no importable input among ${files.length} file(s): ${problems.items.map((p) => p.message).join('; ')}`);

  // Group by market and symbol; one normalizer per exchange keeps that exchange's streams.
  const groups = new Map<string, FileHead[]>();
  for (const h of heads) {
    const key = `${h.exchange}:${h.symbol}`;
    groups.set(key, [...(groups.get(key) ?? []), h]);
  }
  const normalizers = new Map<ExchangeId, Normalizer>();
  const cursors: MarketCursor[] = [];
  for (const [, hs] of groups) {
    hs.sort((a, b) => (a.firstTs < b.firstTs ? -1 : a.firstTs > b.firstTs ? 1 : 0));
    const ex = hs[0]!.exchange;
    let n = normalizers.get(ex);
    if (!n) {
      n = adapter(ex).normalizer(sink, problems);
      normalizers.set(ex, n);
    }
    // Register streams in a stable order: the order markets were given.
    sink.stream({ exchange: ex, market: adapter(ex).market(hs[0]!.symbol), symbol: hs[0]!.symbol });
    cursors.push(new MarketCursor(hs, n, cursors.length, problems));
  }

  // k-way merge by local time; equal times go to the earlier-given market.
  const live: MarketCursor[] = [];
  for (const c of cursors) if (await c.advance()) live.push(c);
  while (live.length > 0) {
    let best = 0;
    for (let i = 1; i < live.length; i++) {
      const c = live[i]!;
      const b = live[best]!;
      if (c.ts < b.ts || (c.ts === b.ts && c.order < b.order)) best = i;
    }
    const c = live[best]!;
    guardLine(stats, problems, { source: c.file, line: c.line!.line }, () => handleLine(c, sink, problems, stats));
    if (!(await c.advance())) live.splice(best, 1);
  }
  for (const c of cursors) c.normalizer.finish?.(c.file);
  for (const n of normalizers.values()) {
    for (const [k, v] of Object.entries(n.gaps)) stats.gaps[k] = (stats.gaps[k] ?? 0) + v;
    stats.invalidFrames += n.invalidFrames;
  }
  return stats;
};

function handleLine(c: MarketCursor, sink: EventSink, problems: ProblemLog, stats: ImporterStats): void {
  const l = c.line!;
  stats.lines++;
  const place: InputPlace = { source: c.file, line: l.line };
  if (l.text.length === 0) return;
  const sp = l.text.indexOf(' ');
  const head = sp > 0 ? l.text.slice(0, sp) : '';
  const body = sp > 0 ? l.text.slice(sp + 1) : l.text;
  const exchange = c.normalizer.exchange;
  const isRest = body.startsWith('{"lastUpdateId"');
  sink.rawMessage(c.ts, exchange, c.file, l.line, isRest ? RawKind.Rest : RawKind.Received, body);
  if (!/^\d{1,19}$/.test(head)) {
    problems.add('bad_line', place, `line must start with the local receive time in ns, got ${JSON.stringify(head.slice(0, 30))}`);
    return;
  }
  let msg: unknown;
  try {
    msg = JSON.parse(body);
  } catch (e) {
    problems.add('malformed_json', place, `malformed JSON (${(e as Error).message})`);
    return;
  }
  stats.messages++;
  if (isRest) {
    try {
      if (!c.normalizer.onRestSnapshot) throw new Error(`${c.normalizer.exchange} takes no REST snapshots`);
      c.normalizer.onRestSnapshot(c.ts, msg as Record<string, unknown>, c.symbol, place);
    } catch (e) {
      problems.add('bad_message', place, (e as Error).message);
    }
    return;
  }
  const refusedBefore = c.normalizer.invalidFrames;
  c.normalizer.onMessage(c.ts, msg, place);
  if (c.normalizer.invalidFrames > refusedBefore) markRefused(c, sink, body);
}

/** A frame the normalizer refused: its loss is flagged on the file's stream (as the recorder does). */
function markRefused(c: MarketCursor, sink: EventSink, text: string): void {
  let channel = null;
  try {
    channel = adapter(c.normalizer.exchange).frames?.channelOfText(text) ?? null;
  } catch {
    channel = null;
  }
  const flags = refusedFrameGapFlags(channel);
  if (flags === null) return;
  const ex = c.normalizer.exchange;
  const stream = sink.stream({ exchange: ex, market: adapter(ex).market(c.symbol), symbol: c.symbol }); // registered at the start
  sink.event(stream, c.ts, c.ts, EventKind.Gap, 0, NaN, GapReason.BadInput, -1n, -1n, flags);
}
