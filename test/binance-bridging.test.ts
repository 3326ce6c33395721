// Binance's snapshot-bridging rules on small hand-written frames (no captures needed): which buffered diffs a
// REST snapshot drops, which diff must bridge it, how the chain continues and how a break is written.
//   spot:    drop u <= lastUpdateId; first kept diff U <= lastUpdateId+1 <= u; then U == previous u + 1
//   futures: drop u <  lastUpdateId; first kept diff U <= lastUpdateId <= u (or pu == lastUpdateId); then pu == previous u
import { describe, expect, it } from 'vitest';
import { ProblemLog, type EventSink } from '../src/data/sink.js';
import { EventKind, Flag, GapReason, type StreamInfo } from '../src/data/types.js';
import { BinanceNormalizer } from '../src/exchanges/binance/normalizer.js';
import { bridgesSnapshot, containedInSnapshot } from '../src/exchanges/binance/bridging.js';

type Row = [local_ms: number, exch_ms: number, kind: number, side: number, price: number, size: number, id: number, prev: number, flags: number];

class RowSink implements EventSink {
  readonly streams: StreamInfo[] = [];
  readonly rows: Row[] = [];
  /** Each row's publish_ts, ms (the exchange time when the normalizer gave none). */
  readonly pubs: number[] = [];
  stream(info: StreamInfo): number {
    this.streams.push(info);
    return this.streams.length - 1;
  }
  event(_s: number, localTs: bigint, exchTs: bigint, kind: number, side: number, price: number, size: number, id: bigint, prevId: bigint, flags: number, publishTs?: bigint): void {
    this.pubs.push(Number((publishTs ?? exchTs) / 1_000_000n));
    this.rows.push([Number(localTs / 1_000_000n), Number(exchTs / 1_000_000n), kind, side, price, size, Number(id), Number(prevId), flags]);
  }
  rawMessage(): void {}
  /** The book the rows leave (snapshot rows reset it), as [price, size] lists, best first. */
  book(): { bids: number[][]; asks: number[][] } {
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const [, , kind, side, price, size, , , flags] of this.rows) {
      if (kind === EventKind.BookSnapshot && flags & Flag.SnapshotBegin) {
        bids.clear();
        asks.clear();
      }
      if (kind !== EventKind.BookLevel && kind !== EventKind.BookSnapshot) continue;
      const m = side === 1 ? bids : asks;
      if (size === 0) m.delete(price);
      else m.set(price, size);
    }
    return { bids: [...bids].sort((a, b) => b[0]! - a[0]!), asks: [...asks].sort((a, b) => a[0]! - b[0]!) };
  }
}

const ms = (t: number) => BigInt(t) * 1_000_000n;
const place = (line: number) => ({ source: 'hand', line });

function spotDiff(U: number, u: number, E: number, b: string[][], a: string[][]) {
  return { stream: 'btcusdt@depth@100ms', data: { e: 'depthUpdate', E, s: 'BTCUSDT', U, u, b, a } };
}
function futuresDiff(U: number, u: number, pu: number, T: number, b: string[][], a: string[][]) {
  return { stream: 'btcusdt@depth@0ms', data: { e: 'depthUpdate', E: T + 1, T, s: 'BTCUSDT', U, u, pu, b, a } };
}

const { BookSnapshot: SNAP, BookLevel: LEVEL, Gap: GAP } = EventKind;
const REST = Flag.FromRest;
const BEGIN = Flag.SnapshotBegin;
const END = Flag.SnapshotEnd | Flag.MessageEnd;
const BUF = Flag.Buffered;
const ME = Flag.MessageEnd;

describe('Binance spot bridging', () => {
  it('drops u <= lastUpdateId, bridges with U <= lastUpdateId+1 <= u, chains U == u+1, writes a gap on a break', () => {
    const sink = new RowSink();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-spot', sink, problems);
    expect(n.onMessage(ms(1), spotDiff(96, 101, 1001, [['99.0', '5']], []), place(1))).toBe(true); // u 101 <= 101: dropped
    expect(n.onMessage(ms(2), spotDiff(102, 102, 1002, [['99.0', '2']], [['101.0', '1.5']]), place(2))).toBe(true); // 102 <= 101+1 <= 102: bridges
    expect(sink.rows).toEqual([]); // buffered until the snapshot
    n.onSnapshot(ms(3), { lastUpdateId: 101, bids: [['99.0', '1'], ['98.0', '4']], asks: [['101.0', '1']] }, 'BTCUSDT', place(3));
    expect(n.isSynced('BTCUSDT')).toBe(true);
    n.onMessage(ms(4), spotDiff(103, 104, 1004, [], [['101.0', '0'], ['102.0', '3']]), place(4)); // U == 102 + 1
    expect(sink.book()).toEqual({ bids: [[99, 2], [98, 4]], asks: [[102, 3]] });
    n.onMessage(ms(5), spotDiff(106, 107, 1005, [['97.0', '1']], []), place(5)); // U 106 != 104 + 1: gap
    n.onMessage(ms(6), spotDiff(108, 109, 1006, [['96.0', '1']], []), place(6)); // waits for a snapshot: no second gap
    expect(sink.rows).toEqual([
      // The snapshot takes the exchange time of the diff that bridges it (spot REST snapshots carry none).
      [3, 1002, SNAP, 1, 99, 1, 101, -1, REST | BEGIN],
      [3, 1002, SNAP, 1, 98, 4, 101, -1, REST],
      [3, 1002, SNAP, -1, 101, 1, 101, -1, REST | END],
      // The buffered diff is applied when the snapshot lets it be: at the snapshot's local time.
      [3, 1002, LEVEL, 1, 99, 2, 102, 101, BUF],
      [3, 1002, LEVEL, -1, 101, 1.5, 102, 101, BUF | ME],
      [4, 1004, LEVEL, -1, 101, 0, 104, 102, 0],
      [4, 1004, LEVEL, -1, 102, 3, 104, 102, ME],
      [5, 1005, GAP, 0, NaN, GapReason.Sequence, 107, 104, ME],
    ]);
    expect(n.isSynced('BTCUSDT')).toBe(false);
    expect(problems.counts).toEqual({ gap_sequence: 1 });
    expect(problems.items[0]!.message).toBe('binance-spot BTCUSDT: U 106 != previous u 104 + 1');
  });

  it('refuses a snapshot older than the first kept diff (U > lastUpdateId+1)', () => {
    const sink = new RowSink();
    const n = new BinanceNormalizer('binance-spot', sink, new ProblemLog());
    n.onMessage(ms(1), spotDiff(99, 102, 1001, [['99.0', '2']], []), place(1));
    n.onSnapshot(ms(2), { lastUpdateId: 97, bids: [['99.0', '1']], asks: [['101.0', '1']] }, 'BTCUSDT', place(2)); // 99 > 98
    expect(n.isSynced('BTCUSDT')).toBe(false);
    expect(sink.rows).toEqual([[2, 1001, GAP, 0, NaN, GapReason.NoSnapshot, 102, -1, ME]]);
  });
});

describe('Binance futures bridging', () => {
  it('drops u < lastUpdateId, keeps u == lastUpdateId, bridges with U <= lastUpdateId <= u, chains pu == previous u', () => {
    const sink = new RowSink();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-usdm', sink, problems);
    n.onMessage(ms(1), futuresDiff(90, 99, 89, 2001, [['50000.0', '1']], []), place(1)); // u 99 < 100: dropped
    n.onMessage(ms(2), futuresDiff(96, 100, 95, 2002, [['50000.0', '2']], []), place(2)); // 96 <= 100 <= 100: bridges
    n.onSnapshot(ms(3), { lastUpdateId: 100, E: 2004, T: 2003, bids: [['50000.0', '3'], ['49999.9', '1']], asks: [['50000.1', '2']] }, 'BTCUSDT', place(3));
    expect(n.isSynced('BTCUSDT')).toBe(true);
    n.onMessage(ms(4), futuresDiff(101, 105, 100, 2004, [], [['50000.1', '0'], ['50000.2', '1']]), place(4)); // pu 100 == previous u
    expect(sink.book()).toEqual({ bids: [[50000, 2], [49999.9, 1]], asks: [[50000.2, 1]] });
    n.onMessage(ms(5), futuresDiff(106, 108, 104, 2005, [['49999.8', '1']], []), place(5)); // pu 104 != 105: gap
    expect(sink.rows).toEqual([
      // Futures snapshots carry their own time T.
      [3, 2003, SNAP, 1, 50000, 3, 100, -1, REST | BEGIN],
      [3, 2003, SNAP, 1, 49999.9, 1, 100, -1, REST],
      [3, 2003, SNAP, -1, 50000.1, 2, 100, -1, REST | END],
      [3, 2002, LEVEL, 1, 50000, 2, 100, 100, BUF | ME],
      [4, 2004, LEVEL, -1, 50000.1, 0, 105, 100, 0],
      [4, 2004, LEVEL, -1, 50000.2, 1, 105, 100, ME],
      [5, 2005, GAP, 0, NaN, GapReason.Sequence, 108, 105, ME],
    ]);
    expect(problems.items.map((p) => p.message)).toEqual(['binance-usdm BTCUSDT: pu 104 != previous u 105']);
  });

  it('also bridges on pu == lastUpdateId, and refuses a first diff that neither spans nor follows it', () => {
    const bridged = new RowSink();
    const a = new BinanceNormalizer('binance-usdm', bridged, new ProblemLog());
    a.onMessage(ms(1), futuresDiff(101, 103, 100, 2001, [['50000.0', '2']], []), place(1)); // U 101 > 100, but pu == 100
    a.onSnapshot(ms(2), { lastUpdateId: 100, E: 2002, T: 2002, bids: [['50000.0', '1']], asks: [] }, 'BTCUSDT', place(2));
    expect(a.isSynced('BTCUSDT')).toBe(true);
    expect(bridged.book()).toEqual({ bids: [[50000, 2]], asks: [] });

    const refused = new RowSink();
    const b = new BinanceNormalizer('binance-usdm', refused, new ProblemLog());
    b.onMessage(ms(1), futuresDiff(102, 104, 101, 2001, [['50000.0', '2']], []), place(1)); // 102 > 100 and pu 101 != 100
    b.onSnapshot(ms(2), { lastUpdateId: 100, E: 2002, T: 2002, bids: [['50000.0', '1']], asks: [] }, 'BTCUSDT', place(2));
    expect(b.isSynced('BTCUSDT')).toBe(false);
    expect(refused.rows).toEqual([[2, 2001, GAP, 0, NaN, GapReason.NoSnapshot, 104, -1, ME]]);
  });
});

describe('the rule the recorder shares', () => {
  it('a diff ending at lastUpdateId is contained on spot, not on futures; bridging edges are inclusive', () => {
    expect([containedInSnapshot(false, 100, 100), containedInSnapshot(false, 100, 101), containedInSnapshot(true, 100, 99), containedInSnapshot(true, 100, 100)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(bridgesSnapshot(false, 100, { U: 101, u: 101, pu: 100 })).toBe(true);
    expect(bridgesSnapshot(false, 100, { U: 102, u: 105, pu: 101 })).toBe(false);
    expect(bridgesSnapshot(false, 100, { U: 90, u: 100, pu: 89 })).toBe(false);
    expect(bridgesSnapshot(true, 100, { U: 100, u: 100, pu: 99 })).toBe(true);
    expect(bridgesSnapshot(true, 100, { U: 101, u: 102, pu: 100 })).toBe(true);
    expect(bridgesSnapshot(true, 100, { U: 101, u: 102, pu: 99 })).toBe(false);
  });
});

describe('two exchange clocks: exch_ts = T (match), publish_ts = E (publish)', () => {
  const exchAndPub = (sink: RowSink) => sink.rows.map((r, i) => [r[2], r[1], sink.pubs[i]]);

  it('futures: depth, trade and bookTicker carry T and E; the snapshot and its diffs too', () => {
    const sink = new RowSink();
    const n = new BinanceNormalizer('binance-usdm', sink, new ProblemLog());
    n.onMessage(ms(100), { stream: 'btcusdt@trade', data: { e: 'trade', E: 57, T: 50, s: 'BTCUSDT', t: 7, p: '100', q: '1', m: true, X: 'MARKET' } }, place(1));
    n.onMessage(ms(101), { stream: 'btcusdt@bookTicker', data: { e: 'bookTicker', u: 9, E: 60, T: 58, s: 'BTCUSDT', b: '99', B: '1', a: '101', A: '2' } }, place(2));
    n.onMessage(ms(102), futuresDiff(10, 12, 9, 61, [['99', '3']], []), place(3)); // E = T + 1
    n.onSnapshot(ms(103), { lastUpdateId: 11, E: 64, T: 63, bids: [['99', '2']], asks: [['101', '1']] }, 'BTCUSDT', place(4));
    expect(exchAndPub(sink)).toEqual([
      [EventKind.Trade, 50, 57],
      [EventKind.BestBidOffer, 58, 60],
      [EventKind.BestBidOffer, 58, 60],
      [SNAP, 63, 64],
      [SNAP, 63, 64],
      [LEVEL, 61, 62], // the buffered diff keeps its own T and E
    ]);
  });

  it('spot: trades carry T and E; depth only E (one clock); bookTicker none (local time)', () => {
    const sink = new RowSink();
    const n = new BinanceNormalizer('binance-spot', sink, new ProblemLog());
    n.onMessage(ms(100), { stream: 'btcusdt@trade', data: { e: 'trade', E: 52, T: 50, s: 'BTCUSDT', t: 7, p: '100', q: '1', m: false } }, place(1));
    n.onMessage(ms(101), { stream: 'btcusdt@bookTicker', data: { u: 9, s: 'BTCUSDT', b: '99', B: '1', a: '101', A: '2' } }, place(2));
    n.onSnapshot(ms(102), { lastUpdateId: 9, bids: [['99', '2']], asks: [['101', '1']] }, 'BTCUSDT', place(3));
    n.onMessage(ms(103), spotDiff(10, 11, 70, [['99', '3']], []), place(4));
    expect(exchAndPub(sink)).toEqual([
      [EventKind.Trade, 50, 52],
      [EventKind.BestBidOffer, 101, 101],
      [EventKind.BestBidOffer, 101, 101],
      [SNAP, 102, 102],
      [SNAP, 102, 102],
      [LEVEL, 70, 70],
    ]);
  });
});

describe('Binance: the snapshot arrives before the diff that bridges it', () => {
  it('futures: the first diff after the snapshot is judged by U <= lastUpdateId <= u, not by pu == previous u', () => {
    const sink = new RowSink();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-usdm', sink, problems);
    n.onSnapshot(ms(1), { lastUpdateId: 100, E: 2001, T: 2001, bids: [['50000.0', '1']], asks: [['50000.1', '1']] }, 'BTCUSDT', place(1));
    expect(n.isSynced('BTCUSDT')).toBe(true);
    n.onMessage(ms(2), futuresDiff(95, 103, 94, 2002, [['50000.0', '4']], []), place(2)); // 95 <= 100 <= 103, pu 94 != 100
    n.onMessage(ms(3), futuresDiff(104, 106, 103, 2003, [], [['50000.1', '0']]), place(3)); // pu 103 == previous u
    expect(n.isSynced('BTCUSDT')).toBe(true);
    expect(sink.rows).toEqual([
      [1, 2001, SNAP, 1, 50000, 1, 100, -1, REST | BEGIN],
      [1, 2001, SNAP, -1, 50000.1, 1, 100, -1, REST | END],
      [2, 2002, LEVEL, 1, 50000, 4, 103, 100, ME],
      [3, 2003, LEVEL, -1, 50000.1, 0, 106, 103, ME],
    ]);
    expect(problems.total).toBe(0);
  });

  it('futures: a first diff after the snapshot that does not reach it is a gap naming the rule', () => {
    const sink = new RowSink();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-usdm', sink, problems);
    n.onSnapshot(ms(1), { lastUpdateId: 100, E: 2001, T: 2001, bids: [['50000.0', '1']], asks: [] }, 'BTCUSDT', place(1));
    n.onMessage(ms(2), futuresDiff(102, 103, 101, 2002, [['50000.0', '4']], []), place(2)); // U 102 > 100, pu 101 != 100
    expect(n.isSynced('BTCUSDT')).toBe(false);
    expect(sink.rows.slice(1)).toEqual([[2, 2002, GAP, 0, NaN, GapReason.Sequence, 103, 100, ME]]);
    expect(problems.items.map((p) => p.message)).toEqual([
      'binance-usdm BTCUSDT: first diff after snapshot lastUpdateId 100 has U 102, u 103, pu 101: neither U <= 100 <= u nor pu == 100',
    ]);
  });

  it('spot: the first diff after the snapshot needs U <= lastUpdateId+1 <= u, then U == previous u + 1', () => {
    const sink = new RowSink();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-spot', sink, problems);
    n.onSnapshot(ms(1), { lastUpdateId: 101, bids: [['99.0', '1']], asks: [] }, 'BTCUSDT', place(1));
    n.onMessage(ms(2), spotDiff(100, 104, 1002, [['99.0', '3']], []), place(2)); // 100 <= 102 <= 104, U != 102
    n.onMessage(ms(3), spotDiff(105, 105, 1003, [['98.0', '1']], []), place(3));
    expect(sink.rows.slice(1)).toEqual([
      [2, 1002, LEVEL, 1, 99, 3, 104, 101, ME],
      [3, 1003, LEVEL, 1, 98, 1, 105, 104, ME],
    ]);
    expect(problems.total).toBe(0);
  });
});
