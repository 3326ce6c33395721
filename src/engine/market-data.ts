// Market data decoded once for a run (or a whole sweep): the rows of the chosen streams as typed arrays,
// in recorded order, with each row's exchange-side effect time.
//
// The exchange timeline: each venue's rows take effect at the exchange in recorded (receive) order, each at
// effNs = max(its exch_ts, the venue's previous row's effNs). Trade, depth and ticker channels are
// independent at the exchange, so their true relative order is unknowable; the order the recorder saw them
// in is the best evidence, and an exchange clock never runs backwards. Venues are separate matching engines,
// so one venue's times never hold back another's. Rows without an exchange time (Flag.NoExchangeTime) take
// the venue's previous effNs (or their local time, before any).
import { openDataset, type Dataset } from '../data/reader.js';
import { ClockModelBuilder, measuresClock, type ClockModel } from '../data/clock-model.js';
import { EventKind, Flag } from '../data/types.js';
import type { VenueRef } from '../strategy/api.js';

export interface MarketChunk {
  length: number;
  kind: Uint8Array;
  side: Int8Array;
  flags: Uint16Array;
  price: Float64Array;
  size: Float64Array;
  /** Exchange-side effect time (non-decreasing within the venue), ns since the origin. */
  effNs: Float64Array;
  /** The row's own exchange time and receive time, ns since the origin. */
  exchNs: Float64Array;
  localNs: Float64Array;
  /** The row's publish time (publish_ts; its exchange time in a dataset without the column), ns since the origin. */
  pubNs: Float64Array;
}

export interface MarketData {
  dir: string;
  venues: VenueRef[];
  /** Dataset origin in ns since epoch: relative times are measured from here. */
  originNs: bigint;
  /** Each venue's rows in recorded order, in chunks (one per dataset batch). */
  byVenue: MarketChunk[][];
  rows: number;
  /** The recorder's clock against the exchanges' (src/data/clock-model.ts): one model for the dataset,
   *  estimated over every stream's rows, so every venue is corrected alike. */
  clock: ClockModel;
  /** Contract and market facts per venue, from the manifest. */
  markets: string[];
}

const KEEP = new Set<number>([EventKind.Trade, EventKind.BookLevel, EventKind.BookSnapshot, EventKind.Gap, EventKind.Disconnect]);

/** Loads the rows of `venues` from a dataset folder (read batch by batch; kept in memory for the run). */
export function loadMarketData(dir: string, venues: VenueRef[]): MarketData {
  const ds: Dataset = openDataset(dir);
  const streamToVenue = new Int16Array(ds.streams.length).fill(-1);
  venues.forEach((v, i) => {
    streamToVenue[ds.findStream(v.exchange, v.symbol)] = i;
  });
  if (venues.length > 255) throw new Error('a run trades at most 255 venues');
  const byVenue: MarketChunk[][] = venues.map(() => []);
  const clock = new ClockModelBuilder();
  const counts = new Int32Array(venues.length);
  const eff = new Array<number>(venues.length).fill(-Infinity);
  let rows = 0;
  ds.forEachEventBatch((b) => {
    counts.fill(0);
    for (let i = 0; i < b.length; i++) {
      // Every stream of the dataset was received by the same recorder: all of them estimate its clock.
      if (measuresClock(b.kind[i]!, b.flags[i]!)) clock.add(b.localNs[i]!, b.pubNs[i]!);
      const v = streamToVenue[b.stream[i]!]!;
      if (v >= 0 && KEEP.has(b.kind[i]!)) counts[v]!++;
    }
    const chunks = venues.map((_, v) => (counts[v]! > 0 ? newChunk(counts[v]!) : null));
    const fill = new Int32Array(venues.length);
    for (let i = 0; i < b.length; i++) {
      const v = streamToVenue[b.stream[i]!]!;
      const kind = b.kind[i]!;
      if (v < 0 || !KEEP.has(kind)) continue;
      const flags = b.flags[i]!;
      const exch = b.exchNs[i]!;
      const local = b.localNs[i]!;
      if (!(flags & Flag.NoExchangeTime)) {
        if (exch > eff[v]!) eff[v] = exch;
      } else if (eff[v] === -Infinity) eff[v] = local;
      const c = chunks[v]!;
      const k = fill[v]!++;
      c.kind[k] = kind;
      c.side[k] = b.side[i]!;
      c.flags[k] = flags;
      c.price[k] = b.price[i]!;
      c.size[k] = b.size[i]!;
      c.effNs[k] = eff[v]!;
      c.exchNs[k] = exch;
      c.localNs[k] = local;
      c.pubNs[k] = b.pubNs[i]!;
      rows++;
    }
    chunks.forEach((c, v) => {
      if (c) byVenue[v]!.push(c);
    });
  });
  if (ds.problems.length > 0) {
    // Cut-off segments are read up to their last complete batch; say so rather than hide it.
    for (const p of ds.problems) process.stderr.write(`warning: ${p.message}\n`);
  }
  return {
    dir,
    venues,
    originNs: ds.originNs,
    byVenue,
    rows,
    clock: clock.finish(),
    markets: venues.map((v) => ds.streams[ds.findStream(v.exchange, v.symbol)]!.market),
  };
}

function newChunk(n: number): MarketChunk {
  return {
    length: n,
    kind: new Uint8Array(n),
    side: new Int8Array(n),
    flags: new Uint16Array(n),
    price: new Float64Array(n),
    size: new Float64Array(n),
    effNs: new Float64Array(n),
    exchNs: new Float64Array(n),
    localNs: new Float64Array(n),
    pubNs: new Float64Array(n),
  };
}
