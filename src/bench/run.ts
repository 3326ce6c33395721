// npm run bench: import speed and dataset read speed, each beside a baseline measured in the same run.
//   import   vs  gunzip + line split + JSON.parse of the same files (the floor any importer pays)
//   reading  vs  apache-arrow's own reader scanning the same columns of the same files, and a plain scan
//            of those columns already decoded in memory (the ceiling)
// Reading memory is sampled per batch on a dataset 1x and 5x the bundled one's size: it must not grow.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { RecordBatchReader, tableFromIPC } from 'apache-arrow';
import { runImport } from '../cli/import-command.js';
import { openDataset } from '../data/reader.js';
import { readManifest, writeManifest } from '../data/manifest.js';
import { ensureUnpacked } from '../data/segments.js';
import { benchOkxBook } from './okx-book.js';
import { benchRecorder } from './recorder.js';
import { benchReplay } from './replay.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bundled = path.join(root, 'datasets/binance-2024-08-08');
const shared = path.resolve(root, '../shared/data/binance-2024-08-08');

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function best<T>(runs: number, fn: () => T): { seconds: number; value: T } {
  let bestS = Infinity;
  let value!: T;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    value = fn();
    bestS = Math.min(bestS, (performance.now() - t) / 1000);
  }
  return { seconds: bestS, value };
}

async function benchImport(): Promise<void> {
  const files = ['usdm_btcusdt_20240808.gz', 'spot_btcusdt_20240808.gz'].map((f) => path.join(shared, f));
  if (!files.every((f) => fs.existsSync(f))) {
    console.log(`import: skipped (the capture ${shared} is not here; it comes with ../shared)`);
    return;
  }
  const base = best(3, () => {
    let msgs = 0;
    for (const f of files) {
      for (const line of zlib.gunzipSync(fs.readFileSync(f)).toString('utf8').split('\n')) {
        if (!line) continue;
        JSON.parse(line.slice(line.indexOf(' ') + 1));
        msgs++;
      }
    }
    return msgs;
  });
  let bestImport = Infinity;
  let messages = 0;
  let rows = 0;
  for (let r = 0; r < 3; r++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-bench-'));
    const t = performance.now();
    const { summary } = await runImport('hftbacktest', files, path.join(out, 'ds'));
    bestImport = Math.min(bestImport, (performance.now() - t) / 1000);
    messages = summary.messages;
    rows = summary.rows;
    fs.rmSync(out, { recursive: true, force: true });
  }
  const baseRate = base.value / base.seconds;
  const rate = messages / bestImport;
  console.log('import (hftbacktest, Binance USD-M + spot BTCUSDT, 2 files)');
  console.log(`  latencylab import         ${fmt(rate).padStart(12)} messages/s  (${fmt(rows / bestImport)} events/s written, raw kept)`);
  console.log(`  baseline gunzip+JSON.parse ${fmt(baseRate).padStart(11)} messages/s`);
  console.log(`  ratio import / baseline   ${(rate / baseRate).toFixed(2)}`);
}

/** A dataset of `copies` × the bundled one's segments (same files repeated), for bounded-memory checks. */
function enlarged(copies: number): string {
  const m = readManifest(bundled);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-bench-big-'));
  const segments = [];
  let index = 0;
  for (let c = 0; c < copies; c++) {
    for (const s of m.segments) {
      index++;
      const name = String(index).padStart(6, '0');
      const events = `events-${name}.arrow`;
      ensureUnpacked(path.join(bundled, s.events));
      fs.symlinkSync(path.join(bundled, s.events), path.join(dir, events));
      segments.push({ ...s, index, events, raw: '' });
    }
  }
  writeManifest(dir, { ...m, segments });
  return dir;
}

function scanDataset(dir: string): { rows: number; checksum: number; peakHeapGrowth: number; peakRssGrowth: number } {
  const ds = openDataset(dir);
  let rows = 0;
  let checksum = 0;
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakRss = 0;
  let batches = 0;
  ds.forEachEventBatch((b) => {
    const { length: n, localNs, exchNs, price, size, kind, side, stream, flags } = b;
    for (let i = 0; i < n; i++) {
      checksum += localNs[i]! * 1e-12 + exchNs[i]! * 1e-12 + price[i]! + size[i]! + kind[i]! + side[i]! + stream[i]! + flags[i]!;
    }
    rows += n;
    if (++batches % 8 === 0) {
      const mu = process.memoryUsage();
      peakHeap = Math.max(peakHeap, mu.heapUsed - heap0);
      peakRss = Math.max(peakRss, mu.rss - rss0);
    }
  });
  return { rows, checksum, peakHeapGrowth: peakHeap, peakRssGrowth: peakRss };
}

function benchRead(): void {
  const m = readManifest(bundled);
  // Baseline: the same columns, decoded once into memory, scanned as plain typed arrays.
  const tables = m.segments.map((s) => {
    const file = path.join(bundled, s.events);
    ensureUnpacked(file);
    return tableFromIPC(fs.readFileSync(file));
  });
  const cols = tables.flatMap((t) =>
    t.batches.map((b) => ({
      l: b.getChild('local_ts')!.data[0]!.values as BigInt64Array,
      e: b.getChild('exch_ts')!.data[0]!.values as BigInt64Array,
      p: b.getChild('price')!.data[0]!.values as Float64Array,
      s: b.getChild('size')!.data[0]!.values as Float64Array,
      k: b.getChild('kind')!.data[0]!.values as Uint8Array,
      d: b.getChild('side')!.data[0]!.values as Int8Array,
      st: b.getChild('stream')!.data[0]!.values as Uint16Array,
      f: b.getChild('flags')!.data[0]!.values as Uint16Array,
    })),
  );
  // Baseline from disk: apache-arrow's own reader on the same files, scanning the same columns.
  const files = m.segments.map((seg) => path.join(bundled, seg.events));
  const arrowDirect = best(5, () => {
    let sum = 0;
    let rows = 0;
    for (const file of files) {
      for (const b of RecordBatchReader.from(fs.readFileSync(file))) {
        const l = b.getChild('local_ts')!.data[0]!.values as BigInt64Array;
        const e = b.getChild('exch_ts')!.data[0]!.values as BigInt64Array;
        const lw = new Int32Array(l.buffer, l.byteOffset, l.length * 2);
        const ew = new Int32Array(e.buffer, e.byteOffset, e.length * 2);
        const p = b.getChild('price')!.data[0]!.values as Float64Array;
        const sz = b.getChild('size')!.data[0]!.values as Float64Array;
        const k = b.getChild('kind')!.data[0]!.values as Uint8Array;
        const d = b.getChild('side')!.data[0]!.values as Int8Array;
        const st = b.getChild('stream')!.data[0]!.values as Uint16Array;
        const f = b.getChild('flags')!.data[0]!.values as Uint16Array;
        const n = b.numRows;
        for (let i = 0; i < n; i++) sum += lw[2 * i]! * 1e-12 + ew[2 * i]! * 1e-12 + p[i]! + sz[i]! + k[i]! + d[i]! + st[i]! + f[i]!;
        rows += n;
      }
    }
    return { sum, rows };
  });
  const raw = best(5, () => {
    let sum = 0;
    let rows = 0;
    for (const c of cols) {
      const lw = new Int32Array(c.l.buffer, c.l.byteOffset, c.l.length * 2);
      const ew = new Int32Array(c.e.buffer, c.e.byteOffset, c.e.length * 2);
      const n = c.p.length;
      for (let i = 0; i < n; i++) {
        sum += lw[2 * i]! * 1e-12 + ew[2 * i]! * 1e-12 + c.p[i]! + c.s[i]! + c.k[i]! + c.d[i]! + c.st[i]! + c.f[i]!;
      }
      rows += n;
    }
    return { sum, rows };
  });
  const read = best(5, () => scanDataset(bundled));
  const rawRate = raw.value.rows / raw.seconds;
  const readRate = read.value.rows / read.seconds;
  const directRate = arrowDirect.value.rows / arrowDirect.seconds;
  console.log(`\nread (bundled dataset, ${fmt(read.value.rows)} events, ${m.segments.length} segments, all 8 numeric columns)`);
  console.log(`  openDataset batch by batch      ${fmt(readRate).padStart(13)} events/s  (from disk, times converted to float64 ns)`);
  console.log(`  baseline: apache-arrow reader   ${fmt(directRate).padStart(13)} events/s  (same files from disk, same columns)`);
  console.log(`  ceiling: in-memory column scan  ${fmt(rawRate).padStart(13)} events/s  (same columns, already decoded)`);
  console.log(`  ratio arrow reader / openDataset ${(directRate / readRate).toFixed(2)}; in-memory scan / openDataset ${(rawRate / readRate).toFixed(2)}`);

  tables.length = 0;
  const small = scanDataset(bundled);
  const bigDir = enlarged(5);
  const big = scanDataset(bigDir);
  fs.rmSync(bigDir, { recursive: true, force: true });
  console.log(`\nmemory while reading (growth over the start of the read, sampled every 8 batches)`);
  console.log(`  ${fmt(small.rows).padStart(11)} events: heap +${(small.peakHeapGrowth / 2 ** 20).toFixed(1)} MiB, rss +${(small.peakRssGrowth / 2 ** 20).toFixed(1)} MiB`);
  console.log(`  ${fmt(big.rows).padStart(11)} events: heap +${(big.peakHeapGrowth / 2 ** 20).toFixed(1)} MiB, rss +${(big.peakRssGrowth / 2 ** 20).toFixed(1)} MiB`);
}

await benchImport();
benchRead();
await benchReplay(root);
await benchRecorder(root);
benchOkxBook();
