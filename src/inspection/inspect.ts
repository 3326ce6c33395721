// What `latencylab dataset check` computes: a pure function of a dataset folder returning a plain object (the
// --json output, documented in docs/cli.md). The CLI only formats it.
//
// One pass over the events table (Dataset.forEachEventBatch's typed arrays) hands every row to one checker per
// concern, in file order; memory is bounded by the number of streams, not rows. The report is assembled from
// the checkers' parts; errors and notes keep the order: read problems, then per stream (sequence, crossed
// book, gap markers, exch_ts order), then local_ts order, then clocks.
import { openDataset, type EventBatch, type ReadProblem } from '../data/reader.js';
import { BookMessages } from './book-messages.js';
import { ClockChecker, type ExchangeClock, type LatencySummaryMs, type RecorderClock } from './checkers/clock.js';
import { CrossedBookChecker, type CrossedCheck } from './checkers/crossed-book.js';
import { SequenceChecker, type ChainCheck } from './checkers/sequence.js';
import { StreamEventsChecker } from './checkers/stream-events.js';
import { TimeOrderChecker, type LocalOrderExample, type OrderCount } from './checkers/time-order.js';
import { TradeIdChecker, type TradeIdCheck } from './checkers/trade-ids.js';

export type { ChainBreak } from './checkers/sequence.js';
export type { CrossedExample } from './checkers/crossed-book.js';
export type { ExchangeClock, LatencySummaryMs, RecorderClock } from './checkers/clock.js';
export type { LocalOrderExample, OrderCount } from './checkers/time-order.js';
export type { TradeIdCheck, TradeIdJump } from './checkers/trade-ids.js';

export interface StreamCheck {
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  rows: number;
  snapshots: number;
  gaps: { total: number; by_reason: Record<string, number> };
  disconnects: number;
  reconnects: number;
  chain: ChainCheck;
  crossed: CrossedCheck;
  /** Trade-id continuity (checked where the stream's ids are consecutive: checkers/trade-ids.ts). */
  trade_ids: TradeIdCheck;
  exch_ts_order: OrderCount & { by_kind: Record<string, OrderCount> };
  latency_ms: LatencySummaryMs & { by_kind: Record<string, LatencySummaryMs> };
}

export interface DatasetCheck {
  dir: string;
  /** False when the check found an unreadable segment, unexplained sequence breaks or trade-id jumps, or
   *  unmarked crossed books (exit code 2). */
  ok: boolean;
  exit_code: 0 | 2;
  /** What made ok false, one sentence each. */
  errors: string[];
  /** Information: read problems, clock offsets, time order, explained gaps. */
  notes: string[];
  rows: number;
  problems: ReadProblem[];
  local_ts_order: OrderCount & { examples: LocalOrderExample[] };
  streams: StreamCheck[];
  exchanges: ExchangeClock[];
  /** The recorder's clock model, offset and drift (docs/replay.md, "Recorder clock"). */
  recorder_clock: RecorderClock;
}

export function checkDataset(dir: string): DatasetCheck {
  const ds = openDataset(dir);
  const nS = ds.streams.length;
  const messages = new BookMessages(nS);
  const streamEvents = new StreamEventsChecker(ds);
  const sequence = new SequenceChecker(ds, messages);
  const crossedBook = new CrossedBookChecker(ds, messages);
  const timeOrder = new TimeOrderChecker(ds);
  const clock = new ClockChecker(ds);
  const tradeIds = new TradeIdChecker(ds);

  let rows = 0;
  let unknownStreamRows = 0;
  // A damaged segment stops the check there: what was read is reported, and the damage is an error.
  const unreadable: string[] = [];
  try {
    ds.forEachRawBatch(() => {});
  } catch (e) {
    unreadable.push(`unreadable raw table: ${(e as Error).message}`);
  }
  try {
    ds.forEachEventBatch((b: EventBatch) => {
      const n = b.length;
      for (let i = 0; i < n; i++) {
        const row = rows + i;
        timeOrder.onRow(b, i, row);
        if (b.stream[i]! >= nS) {
          unknownStreamRows++;
          continue;
        }
        messages.onRow(b, i);
        streamEvents.onRow(b, i);
        sequence.onRow(b, i, row);
        crossedBook.onRow(b, i, row);
        clock.onRow(b, i);
        tradeIds.onRow(b, i, row);
      }
      rows += n;
    });
  } catch (e) {
    unreadable.push(`unreadable events table: ${(e as Error).message}`);
  }

  const events = streamEvents.finish();
  const chain = sequence.finish();
  const crossed = crossedBook.finish();
  const order = timeOrder.finish();
  const clocks = clock.finish();
  const trades = tradeIds.finish();

  const errors: string[] = [...unreadable];
  const notes: string[] = [];
  for (const p of ds.problems) notes.push(`read problem: ${p.message}`);
  if (unknownStreamRows > 0) {
    notes.push(`${unknownStreamRows} rows name a stream index the manifest does not list; they were skipped`);
  }
  const streams: StreamCheck[] = ds.streams.map((st, s) => {
    for (const f of [chain.findings[s]!, crossed.findings[s]!, trades.findings[s]!]) errors.push(...f.errors);
    for (const f of [chain.findings[s]!, crossed.findings[s]!, trades.findings[s]!, events.findings[s]!, order.findings[s]!]) notes.push(...f.notes);
    return {
      stream: s,
      exchange: st.exchange,
      market: st.market,
      symbol: st.symbol,
      ...events.counts[s]!,
      chain: chain.chain[s]!,
      crossed: crossed.crossed[s]!,
      trade_ids: trades.trade_ids[s]!,
      exch_ts_order: order.exch_ts_order[s]!,
      latency_ms: clocks.latency_ms[s]!,
    };
  });
  notes.push(...order.notes, ...clocks.notes);

  const ok = errors.length === 0;
  return {
    dir,
    ok,
    exit_code: ok ? 0 : 2,
    errors,
    notes,
    rows,
    problems: [...ds.problems],
    local_ts_order: order.local_ts_order,
    streams,
    exchanges: clocks.exchanges,
    recorder_clock: clocks.recorder_clock,
  };
}
