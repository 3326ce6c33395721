// Datasets must open in other Arrow implementations with correct types: polars (Rust arrow) reads them here.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { openDataset } from '../src/data/reader.js';
import { EventKind, Flag, RawKind } from '../src/data/types.js';
import { tempDir } from './helpers.js';

const pl = createRequire(import.meta.url)('nodejs-polars');
const bundled = path.resolve(__dirname, '../datasets/binance-2024-08-08');

describe('a dataset in other Arrow readers', () => {
  it('polars reads the bundled events with timestamps, categoricals and exact values', () => {
    const ds = openDataset(bundled);
    let first: { local: bigint; price: number; kind: number; symbol: string } | null = null;
    ds.forEachEventBatch((b) => {
      first ??= { local: b.localTs[0]!, price: b.price[0]!, kind: b.kind[0]!, symbol: ds.streams[b.stream[0]!]!.symbol };
    });
    const df = pl.readIPCStream(fs.readFileSync(path.join(bundled, 'events-000001.arrow')));
    expect(df.height).toBe(500_000);
    const types = Object.fromEntries(Object.entries(df.schema).map(([k, v]) => [k, String(v).replace(/^DataType\((.*)\)$/, '$1')]));
    expect(types).toMatchObject({
      local_ts: 'Datetime(ns,UTC)',
      exch_ts: 'Datetime(ns,UTC)',
      stream: 'UInt16',
      exchange: 'Categorical',
      market: 'Categorical',
      symbol: 'Categorical',
      kind: 'UInt8',
      side: 'Int8',
      price: 'Float64',
      size: 'Float64',
      id: 'Int64',
      prev_id: 'Int64',
      flags: 'UInt16',
      publish_ts: 'Datetime(ns,UTC)',
    });
    const row = df.head(1).toRecords()[0];
    expect(row.exchange).toBe('binance-spot');
    expect(row.symbol).toBe(first!.symbol);
    expect(row.symbol).toBe('ETHUSDT');
    expect(row.price).toBe(first!.price);
    expect(row.kind).toBe(first!.kind);
    // JS numbers cannot hold int64 ns: compare polars' own integer as text.
    const ns = df.select(pl.col('local_ts').cast(pl.Int64).cast(pl.Utf8)).getColumn('local_ts').toArray()[0];
    expect(BigInt(ns)).toBe(first!.local);
  });

  it('polars reads publish_ts: on USD-M rows it is E, at or after the match time T; spot depth has one clock', () => {
    const df = pl.readIPCStream(fs.readFileSync(path.join(bundled, 'events-000004.arrow')));
    const d = df
      .withColumns(pl.col('publish_ts').cast(pl.Int64).minus(pl.col('exch_ts').cast(pl.Int64)).alias('d'))
      .groupBy(['exchange', 'kind'])
      .agg(pl.col('d').min().alias('min'), pl.col('d').max().alias('max'))
      .sort(['exchange', 'kind']);
    const rows = d.toRecords().map((r: Record<string, unknown>) => [String(r.exchange), Number(r.kind), Number(r.min) / 1e6, Number(r.max) / 1e6]);
    // reader and polars agree on the first row
    const ds = openDataset(bundled);
    let firstPub: bigint | null = null;
    ds.forEachEventBatchOf(ds.segments[3]!, (b) => {
      firstPub ??= b.publishTs[0]!;
    });
    const ns = df.select(pl.col('publish_ts').cast(pl.Int64).cast(pl.Utf8)).getColumn('publish_ts').toArray()[0];
    expect(BigInt(ns)).toBe(firstPub);
    // min and max of publish_ts - exch_ts (ms) per exchange and kind in this segment: spot depth (2) and spot
    // bookTicker (4, no exchange time) have one clock; spot trades (1) and every USD-M kind have E >= T
    expect(rows).toEqual([
      ['binance-spot', 1, 0, 57],
      ['binance-spot', 2, 0, 0],
      ['binance-spot', 4, 0, 0],
      ['binance-usdm', 1, 0, 1],
      ['binance-usdm', 2, 0, 53],
      ['binance-usdm', 4, 0, 3],
    ]);
  });

  it('a dataset written and read back is identical, including symbols added mid-segment and the raw text', () => {
    const dir = path.join(tempDir(), 'ds');
    const w = new DatasetWriter(dir, { batchRows: 3 });
    const a = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    const rows: [number, bigint, bigint, number, number, number, number, bigint, bigint, number][] = [];
    for (let i = 0; i < 10; i++) {
      const s = i < 4 ? a : w.stream({ exchange: 'okx', market: 'spot', symbol: 'BTC-USDT' });
      const r: (typeof rows)[number] = [s, 1723161253937085768n + BigInt(i), 1723161255208000000n + BigInt(i * 1000), EventKind.BookLevel, i % 2 ? 1 : -1, 61000.1 + i, 0.001 * i, BigInt(5123107837557 + i), BigInt(5123107837556 + i), Flag.MessageEnd];
      rows.push(r);
      w.event(...r);
      w.rawMessage(r[1], 'okx', 'capture.gz', i + 1, RawKind.Received, `{"i":${i},"text":"é ✓"}`);
    }
    w.close();
    const back: typeof rows = [];
    const raw: string[] = [];
    const ds = openDataset(dir);
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) back.push([b.stream[i]!, b.localTs[i]!, b.exchTs[i]!, b.kind[i]!, b.side[i]!, b.price[i]!, b.size[i]!, b.id[i]!, b.prevId[i]!, b.flags[i]!]);
    });
    ds.forEachRawBatch((b) => {
      for (let i = 0; i < b.length; i++) raw.push(`${b.source(i)}:${b.line[i]} ${b.exchange(i)} ${b.data(i)}`);
    });
    expect(back).toEqual(rows);
    expect(raw[9]).toBe('capture.gz:10 okx {"i":9,"text":"é ✓"}');
    const df = pl.readIPCStream(fs.readFileSync(path.join(dir, 'events-000001.arrow')));
    expect(df.getColumn('symbol').toArray()).toEqual([...Array(4).fill('BTCUSDT'), ...Array(6).fill('BTC-USDT')]);
    const rawDf = pl.readIPCStream(fs.readFileSync(path.join(dir, 'raw-000001.arrow')));
    expect(rawDf.getColumn('data').toArray()[9]).toBe('{"i":9,"text":"é ✓"}');
  });
});
