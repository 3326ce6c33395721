// Shared test helpers: temp folders, real capture paths, damaged copies, book rebuilds over typed arrays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe } from 'vitest';
import { openDataset } from '../src/data/reader.js';
import { StreamBook } from '../src/book/stream-book.js';
import { EventKind, Flag } from '../src/data/types.js';

export const SHARED = path.resolve(__dirname, '../../shared/data');
export const BINANCE = path.join(SHARED, 'binance-2024-08-08');
export const CRYPTOFEED = path.join(SHARED, 'cryptofeed-samples');

/** The real captures come with ../shared (CI and developers have it; a user's fresh clone does not). */
export const HAVE_SHARED = fs.existsSync(SHARED);
export const withCaptures = describe.skipIf(!HAVE_SHARED);

export function tempDir(prefix = 'latencylab-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function gunzipLines(file: string): string[] {
  return zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n').filter((l, i, a) => l.length > 0 || i < a.length - 1);
}

/** Writes a gzipped copy of `lines` under `dir` with the given name. */
export function writeGz(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'));
  return file;
}

export interface BookReplay {
  /** Complete book updates (MessageEnd rows of snapshots and diffs) per stream after which the book crossed. */
  crossed: number[];
  /** bookTicker rows whose update id equals a depth update id: equal / different best prices. */
  bboEqual: number[];
  bboDifferent: number[];
  gaps: number[];
  /** Level rows that came while the stream's book was not valid (must stay 0: nothing is patched). */
  rowsWhileInvalid: number[];
  /** local_ts went backwards in file order. */
  localTimeReversals: number;
  counts: Record<number, number>[];
}

/** Rebuilds every stream's book from a dataset's events and checks it against the exchange's own BBO. */
export function replayBooks(dir: string): BookReplay {
  const ds = openDataset(dir);
  const n = ds.streams.length;
  const zero = () => new Array<number>(n).fill(0);
  const r: BookReplay = {
    crossed: zero(),
    bboEqual: zero(),
    bboDifferent: zero(),
    gaps: zero(),
    rowsWhileInvalid: zero(),
    localTimeReversals: 0,
    counts: Array.from({ length: n }, () => ({})),
  };
  const books = Array.from({ length: n }, () => new StreamBook());
  const bestAtId = Array.from({ length: n }, () => new Map<bigint, [number, number]>());
  const bbos: [number, bigint, number, number][] = [];
  let bidPx = NaN;
  let lastLocal = -Infinity;
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      const s = b.stream[i]!;
      const k = b.kind[i]!;
      const f = b.flags[i]!;
      r.counts[s]![k] = (r.counts[s]![k] ?? 0) + 1;
      if (b.localNs[i]! < lastLocal) r.localTimeReversals++;
      lastLocal = b.localNs[i]!;
      const sb = books[s]!;
      if (k === EventKind.BookLevel && !sb.valid) r.rowsWhileInvalid[s]!++;
      sb.apply(b, i);
      if (k === EventKind.Gap) r.gaps[s]!++;
      else if (k === EventKind.BestBidOffer) {
        if (b.side[i]! > 0) bidPx = b.price[i]!;
        else bbos.push([s, b.id[i]!, bidPx, b.price[i]!]);
      }
      if ((k === EventKind.BookLevel || k === EventKind.BookSnapshot) && f & Flag.MessageEnd && sb.valid) {
        if (sb.book.isCrossed()) r.crossed[s]!++;
        bestAtId[s]!.set(b.id[i]!, [sb.book.bestBid(), sb.book.bestAsk()]);
      }
    }
  });
  for (const [s, id, bid, ask] of bbos) {
    const best = bestAtId[s]!.get(id);
    if (!best) continue;
    if (best[0] === bid && best[1] === ask) r.bboEqual[s]!++;
    else r.bboDifferent[s]!++;
  }
  return r;
}

/** A simulator and a recorder connected to it (structural, so this file needs neither module). */
export interface RecordingRun {
  sim: { done: Promise<void>; close(): Promise<void> };
  rec: { stats(): { messages: number }; stop(): Promise<unknown> };
  out: string;
}

/** Until the simulator has sent everything and the recorder has taken it all in; then both stop. */
export async function finishRecording(run: RecordingRun, timeoutMs = 90_000): Promise<void> {
  await Promise.race([run.sim.done, sleep(timeoutMs)]);
  let last = -1;
  while (run.rec.stats().messages !== last) {
    last = run.rec.stats().messages;
    await sleep(300);
  }
  await run.rec.stop();
  await run.sim.close();
}
