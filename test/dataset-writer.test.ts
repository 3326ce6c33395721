// Segments are appended to, rotated, and survive a writer that never closed them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { openDataset } from '../src/data/reader.js';
import { readManifest } from '../src/data/manifest.js';
import { EventKind, Flag } from '../src/data/types.js';
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
