// Segments are appended to, rotated, and survive a writer that never closed them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter, NODE_FILES, type WriterFiles } from '../src/data/writer.js';
import { openDataset } from '../src/data/reader.js';
import { readManifest } from '../src/data/manifest.js';
import { EventKind, Flag, GapReason, RawKind } from '../src/data/types.js';
import { NS_PER_S } from '../src/data/time.js';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { writeManifest } from '../src/data/manifest.js';
import { tempDir } from './helpers.js';

const T0 = 1_723_161_600n * NS_PER_S; // 2024-08-09T00:00:00Z

function trades(w: DatasetWriter, stream: number, from: number, count: number, stepNs: bigint): void {
  for (let i = from; i < from + count; i++) {
    const t = T0 + BigInt(i) * stepNs;
    w.event(stream, t, t - 1_000_000n, EventKind.Trade, 1, 100 + i, 1, BigInt(i), -1n, Flag.MessageEnd);
  }
}

function readIds(dir: string): number[] {
  const ids: number[] = [];
  openDataset(dir).forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) ids.push(Number(b.id[i]));
  });
  return ids;
}

describe('DatasetWriter', () => {
  it('rotates segments by local time (--rotate) and lists each with its time range', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir, { rotateNs: 60n * NS_PER_S, batchRows: 16 });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    trades(w, s, 0, 300, NS_PER_S); // one trade a second for 5 minutes
    const m = w.close();
    expect(m.segments.map((x) => x.rows)).toEqual([60, 60, 60, 60, 60]);
    expect(m.segments.map((x) => x.localTsMin)).toEqual([0, 60, 120, 180, 240].map((sec) => String(T0 + BigInt(sec) * NS_PER_S)));
    expect(m.segments.every((x) => x.closed)).toBe(true);
    expect(readIds(dir)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('appends to an existing dataset in new segments, keeping its streams', () => {
    const dir = path.join(tempDir(), 'ds');
    const a = new DatasetWriter(dir);
    trades(a, a.stream({ exchange: 'okx', market: 'spot', symbol: 'BTC-USDT' }), 0, 10, NS_PER_S);
    a.close();
    expect(() => new DatasetWriter(dir)).toThrow(/already holds a dataset/);
    const b = new DatasetWriter(dir, { append: true });
    const s = b.stream({ exchange: 'okx', market: 'spot', symbol: 'BTC-USDT' });
    expect(s).toBe(0);
    trades(b, s, 10, 10, NS_PER_S);
    const m = b.close();
    expect(m.streams).toHaveLength(1);
    expect(m.segments.map((x) => x.events)).toEqual(['events-000001.arrow', 'events-000002.arrow']);
    expect(readIds(dir)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a writer that dies without closing leaves every flushed batch readable, and the next writer lists its segment', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir, { batchRows: 8 });
    const s = w.stream({ exchange: 'bybit-linear', market: 'linear', symbol: 'BTCUSDT' });
    trades(w, s, 0, 20, NS_PER_S); // two full batches of 8 are on disk, 4 rows still in memory
    // The process dies here: no close(). Another process reads what is on disk.
    expect(readIds(dir)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(readManifest(dir).segments[0]!.closed).toBe(false);
    const next = new DatasetWriter(dir, { append: true });
    trades(next, next.stream({ exchange: 'bybit-linear', market: 'linear', symbol: 'BTCUSDT' }), 100, 2, NS_PER_S);
    next.close();
    expect(readIds(dir)).toEqual([...Array.from({ length: 16 }, (_, i) => i), 100, 101]);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('events-'))).toHaveLength(2);
  });

  it('flush() makes everything written so far readable at once (the recorder flushes every second)', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir);
    trades(w, w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' }), 0, 5, NS_PER_S);
    w.flush();
    expect(readIds(dir)).toEqual([0, 1, 2, 3, 4]);
    expect(readManifest(dir).segments[0]!.rows).toBe(5);
    w.close();
  });
});

describe('publish_ts: the second exchange clock', () => {
  const MS = 1_000_000n;
  function twoClocks(dir: string): void {
    const w = new DatasetWriter(dir);
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    // T = 10 ms, E = 12 ms, received at 15 ms; then a row given one clock (publish_ts omitted)
    w.event(s, T0 + 15n * MS, T0 + 10n * MS, EventKind.Trade, 1, 100, 1, 1n, -1n, Flag.MessageEnd, T0 + 12n * MS);
    w.event(s, T0 + 25n * MS, T0 + 20n * MS, EventKind.Trade, 1, 101, 1, 2n, -1n, Flag.MessageEnd);
    w.close();
  }

  it('is written and read back per row; omitted, it is the exchange time; the manifest says version 2', () => {
    const dir = path.join(tempDir(), 'ds');
    twoClocks(dir);
    const ds = openDataset(dir);
    expect(ds.manifest.version).toBe(2);
    expect(ds.hasPublishTs).toBe(true);
    const got: [bigint, bigint, number, number, boolean][] = [];
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) got.push([b.exchTs[i]! - T0, b.publishTs[i]! - T0, b.exchNs[i]!, b.pubNs[i]!, b.hasPublishTs]);
    });
    expect(got).toEqual([
      [10n * MS, 12n * MS, 10e6, 12e6, true],
      [20n * MS, 20n * MS, 20e6, 20e6, true],
    ]);
  });

  it('a version 1 dataset (no publish_ts column) stays readable: its publish time is its exchange time', () => {
    const dir = path.join(tempDir(), 'ds');
    twoClocks(dir);
    // Rewrite it as a version 1 writer did: the same events without the column, manifest version 1.
    const file = path.join(dir, 'events-000001.arrow');
    const t = tableFromIPC(fs.readFileSync(file));
    const old = t.select(t.schema.fields.map((f) => f.name).filter((n) => n !== 'publish_ts'));
    fs.writeFileSync(file, tableToIPC(old, 'stream'));
    const m = readManifest(dir);
    writeManifest(dir, { ...m, version: 1 });
    const ds = openDataset(dir);
    expect(ds.hasPublishTs).toBe(false);
    const got: [bigint, number, number, boolean][] = [];
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) got.push([b.publishTs[i]! - T0, b.exchNs[i]!, b.pubNs[i]!, b.hasPublishTs]);
    });
    expect(got).toEqual([
      [10n * MS, 10e6, 10e6, false],
      [20n * MS, 20e6, 20e6, false],
    ]);
  });
});

/** The raw rows' texts on disk, in order. */
function readRaw(dir: string): string[] {
  const out: string[] = [];
  openDataset(dir).forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) out.push(b.data(i));
  });
  return out;
}

/** Every events row as [kind, local s after T0, id, size]. */
function readRows(dir: string): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  openDataset(dir).forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) out.push([b.kind[i]!, Number((b.localTs[i]! - T0) / NS_PER_S), Number(b.id[i]), b.size[i]!]);
  });
  return out;
}

describe('crash safety', () => {
  it('raw and events tables go to disk together: a full events batch takes the raw rows with it', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir, { batchRows: 8 });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    for (let i = 0; i < 8; i++) {
      w.rawMessage(T0 + BigInt(i) * NS_PER_S, 'binance-usdm', 'ws1', i + 1, RawKind.Received, `frame ${i}`);
      trades(w, s, i, 1, NS_PER_S);
    }
    // No flush, no close (a kill -9 now): the 8th event filled the batch, and the raw rows went with it.
    expect(readIds(dir)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(readRaw(dir)).toEqual(Array.from({ length: 8 }, (_, i) => `frame ${i}`));
  });

  it('--append after a kill mid-write cuts the half batch off, ends the stream, and marks the outage with a Disconnect', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir, { batchRows: 4 });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' });
    trades(w, s, 0, 4, NS_PER_S); // one batch on disk
    const file = path.join(dir, 'events-000001.arrow');
    const complete = fs.statSync(file).size;
    trades(w, s, 4, 4, NS_PER_S); // a second batch ...
    const full = fs.statSync(file).size;
    fs.truncateSync(file, complete + Math.floor((full - complete) / 2)); // ... half written when the process died
    const next = new DatasetWriter(dir, { append: true, markSeam: true });
    // The half batch is gone and the file ends with an end-of-stream marker.
    expect(fs.statSync(file).size).toBe(complete + 8);
    expect(readManifest(dir).segments[0]).toMatchObject({ rows: 4, closed: true, localTsMax: String(T0 + 3n * NS_PER_S) });
    trades(next, 0, 20, 1, NS_PER_S);
    next.close();
    // Both streams get a Disconnect at the last local time on disk (3 s): the outage starts there.
    expect(readRows(dir)).toEqual([
      [EventKind.Trade, 0, 0, 1],
      [EventKind.Trade, 1, 1, 1],
      [EventKind.Trade, 2, 2, 1],
      [EventKind.Trade, 3, 3, 1],
      [EventKind.Disconnect, 3, -1, 0],
      [EventKind.Disconnect, 3, -1, 0],
      [EventKind.Trade, 20, 20, 1],
    ]);
    expect(openDataset(dir).problems).toEqual([]);
  });
});

/**
 * The writer's file calls with a switch: while `full`, writes go to /dev/full, which fails them with a real
 * ENOSPC from the kernel; `partial` lets the next write put only its first half into the real file first.
 */
function fillableDisk() {
  const devFull = fs.openSync('/dev/full', 'w');
  const disk = { full: false, partial: false, refused: 0 };
  const files: WriterFiles = {
    ...NODE_FILES,
    writeSync(fd, buf, off, len) {
      if (disk.partial) {
        disk.partial = false;
        disk.full = true;
        return fs.writeSync(fd, buf, off, Math.floor(len / 2));
      }
      if (disk.full) {
        disk.refused++;
        return fs.writeSync(devFull, buf, off, len);
      }
      return fs.writeSync(fd, buf, off, len);
    },
    writeFileSync(file, text) {
      if (disk.full) {
        disk.refused++;
        fs.writeFileSync('/dev/full', text);
      }
      fs.writeFileSync(file, text);
    },
  };
  return { disk, files, close: () => fs.closeSync(devFull) };
}

describe('disk full', () => {
  it('a write refused half way (real ENOSPC from /dev/full) keeps the rest and resumes exactly there: no garbage rows', () => {
    const dir = path.join(tempDir(), 'ds');
    const { disk, files, close } = fillableDisk();
    const w = new DatasetWriter(dir, { batchRows: 4, files });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    trades(w, s, 0, 4, NS_PER_S);
    disk.partial = true;
    trades(w, s, 4, 4, NS_PER_S); // batch 2: half its bytes reach the file, then ENOSPC
    expect(w.pause).toMatchObject({ error: 'ENOSPC', droppedEvents: 0, droppedRaw: 0 });
    trades(w, s, 8, 3, NS_PER_S);
    w.flush(); // still full: nothing thrown, still paused
    expect(disk.refused).toBeGreaterThanOrEqual(2);
    expect(w.pause?.error).toBe('ENOSPC');
    // A reader now sees the complete first batch and a cut-off tail, never a garbage row.
    expect(readIds(dir)).toEqual([0, 1, 2, 3]);
    disk.full = false;
    w.flush();
    expect(w.pause).toBeNull();
    w.close();
    close();
    expect(readIds(dir)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(openDataset(dir).problems).toEqual([]);
    expect(readManifest(dir).segments[0]!.rows).toBe(11);
  });

  it('past its memory bound it drops rows, counts them, and marks the loss with Gap rows (not_written) on resume', () => {
    const dir = path.join(tempDir(), 'ds');
    const { disk, files, close } = fillableDisk();
    const w = new DatasetWriter(dir, { batchRows: 2, files, maxPendingBytes: 1 });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' });
    trades(w, s, 0, 2, NS_PER_S);
    disk.full = true;
    trades(w, s, 2, 2, NS_PER_S); // a full batch the disk refuses: over the 1-byte bound, dropping starts at 3 s
    trades(w, s, 4, 5, NS_PER_S); // dropped
    w.rawMessage(T0 + 9n * NS_PER_S, 'binance-usdm', 'ws1', 1, RawKind.Received, 'lost');
    w.flush();
    expect(w.pause).toMatchObject({ error: 'ENOSPC', droppedEvents: 5, droppedRaw: 1 });
    disk.full = false;
    expect(w.flush()).toBe(true); // resumed after a loss
    expect(w.pause).toBeNull();
    trades(w, s, 10, 1, NS_PER_S);
    w.close();
    close();
    expect(readRows(dir)).toEqual([
      [EventKind.Trade, 0, 0, 1],
      [EventKind.Trade, 1, 1, 1],
      [EventKind.Trade, 2, 2, 1],
      [EventKind.Trade, 3, 3, 1],
      [EventKind.Gap, 3, -1, GapReason.NotWritten],
      [EventKind.Gap, 3, -1, GapReason.NotWritten],
      [EventKind.Trade, 10, 10, 1],
    ]);
  });
});
