// Damaged segments: the reader validates every batch and names the file and the batch; `dataset check` fails
// and `replay` refuses with that error (never a crash of the process or "NaN s"). The damage is done
// deterministically to a copy of a real segment (the bundled dataset's last one, 24,353 rows in one batch).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../src/data/reader.js';
import { readManifest, writeManifest } from '../src/data/manifest.js';
import { DatasetWriter } from '../src/data/writer.js';
import { EventKind, Flag, RawKind } from '../src/data/types.js';
import { checkDataset } from '../src/inspection/inspect.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLED = path.join(ROOT, 'datasets/binance-2024-08-08');

/** A dataset of the bundled dataset's segment 5 alone (events and raw), unpacked into a new folder. */
function copyOfSegment5(): string {
  const dir = tempDir('latencylab-damage-');
  const m = readManifest(BUNDLED);
  m.segments = m.segments.filter((s) => s.index === 5);
  writeManifest(dir, m);
  for (const f of ['events-000005.arrow', 'raw-000005.arrow']) {
    fs.writeFileSync(path.join(dir, f), zlib.gunzipSync(fs.readFileSync(path.join(BUNDLED, `${f}.gz`))));
  }
  return dir;
}

/** Overwrite 400 bytes at `offset` with a fixed pattern. */
function overwrite400(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 37 + 11) % 256)), 0, 400, offset);
  fs.closeSync(fd);
}

function readAll(dir: string): number {
  const ds = openDataset(dir);
  let rows = 0;
  ds.forEachEventBatch((b) => (rows += b.length));
  ds.forEachRawBatch(() => {});
  return rows;
}

describe('the reader validates each batch', () => {
  it('an intact copy reads all 24,353 rows without a problem', () => {
    const dir = copyOfSegment5();
    expect(readAll(dir)).toBe(24_353);
    expect(openDataset(dir).problems).toEqual([]);
  });

  // Each offset hits a different part of the file: the schema, a dictionary message's prefix, the batch's
  // metadata (buffer lengths), the local_ts column, the size column.
  const cases: [offset: number, message: string][] = [
    [0, 'events-000005.arrow: cut off after 0 complete batch(es) (message metadata of 2052403211 bytes at byte 0 goes past the end of the file (1609912 bytes)): 0 row(s) read, but the manifest lists 24353'],
    [1400, 'events-000005.arrow: damaged at byte 1568 (IPC message 4): metadata length -1029867437 is negative'],
    [1900, 'events-000005.arrow: batch 1 cannot be read (8815004669450387456 is not safe to convert to a number.)'],
    [100_000, "events-000005.arrow: batch 1, row 12180: local_ts 1074606175335821323 is outside the segment's range 1723161886925895811..1723161904543279633 (manifest)"],
    [800_000, 'events-000005.arrow: batch 1, row 2266: size -6.076573531940958e-278 is negative'],
  ];
  for (const [offset, message] of cases) {
    it(`400 bytes overwritten at byte ${offset}: a clear error naming the file and the batch; check fails`, () => {
      const dir = copyOfSegment5();
      overwrite400(path.join(dir, 'events-000005.arrow'), offset);
      expect(() => readAll(dir)).toThrow(path.join(dir, message));
      const c = checkDataset(dir);
      expect(c.ok).toBe(false);
      expect(c.exit_code).toBe(2);
      expect(c.errors[0]).toBe(`unreadable events table: ${path.join(dir, message)}`);
    });
  }

  it('a segment cut short of the rows its manifest lists is damage, not a crash tail', () => {
    const dir = copyOfSegment5();
    fs.truncateSync(path.join(dir, 'events-000005.arrow'), 1_000_000);
    const want = `${path.join(dir, 'events-000005.arrow')}: cut off after 0 complete batch(es) (message body of 1607344 bytes at byte 2560 goes past the end of the file (1000000 bytes)): 0 row(s) read, but the manifest lists 24353`;
    expect(() => readAll(dir)).toThrow(want);
    const c = checkDataset(dir);
    expect(c.exit_code).toBe(2);
    expect(c.errors).toEqual([`unreadable events table: ${want}`]);
  });

  it('a raw table with a damaged batch fails the check too', () => {
    const dir = copyOfSegment5();
    overwrite400(path.join(dir, 'raw-000005.arrow'), 1300); // the batch's metadata
    const c = checkDataset(dir);
    expect(c.exit_code).toBe(2);
    expect(c.errors[0]).toMatch(/^unreadable raw table: .*raw-000005\.arrow: /);
  });

  it('rows past what the manifest lists, cut off mid-batch (a writer killed mid-write), are a read problem only', () => {
    const dir = tempDir('latencylab-tail-');
    const w = new DatasetWriter(dir, { batchRows: 2 });
    const s = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    for (let i = 0; i < 4; i++) w.event(s, 1000n + BigInt(i), 900n + BigInt(i), EventKind.Trade, 1, 100, 1, BigInt(i + 1), -1n, Flag.MessageEnd);
    w.rawMessage(1000n, 'binance-usdm', 'test', 1, RawKind.Received, '{}');
    w.flush();
    // Two rows more, then the manifest as it was before them and the file cut inside their batch: what a
    // kill -9 in the middle of a write leaves.
    const listed = fs.readFileSync(path.join(dir, 'manifest.json'));
    const file = path.join(dir, 'events-000001.arrow');
    const size = fs.statSync(file).size;
    for (let i = 4; i < 6; i++) w.event(s, 1000n + BigInt(i), 900n + BigInt(i), EventKind.Trade, 1, 100, 1, BigInt(i + 1), -1n, Flag.MessageEnd);
    w.flush();
    expect(fs.statSync(file).size).toBeGreaterThan(size + 100);
    fs.truncateSync(file, size + 100);
    fs.writeFileSync(path.join(dir, 'manifest.json'), listed);
    const ds = openDataset(dir);
    let rows = 0;
    ds.forEachEventBatch((b) => (rows += b.length));
    expect(rows).toBe(4);
    expect(ds.problems.length).toBe(1);
    expect(ds.problems[0]!.message).toMatch(/events-000001\.arrow: cut off after 2 complete batch\(es\)/);
    expect(checkDataset(dir).exit_code).toBe(0);
  });
});

describe('the CLI refuses a damaged dataset', () => {
  beforeAll(() => {
    const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
  }, 120_000);
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

  it('replay exits 1 naming the file and batch (not 133, not "NaN s"); dataset check exits 2', () => {
    const damaged = copyOfSegment5();
    overwrite400(path.join(damaged, 'events-000005.arrow'), 2200);
    const truncated = copyOfSegment5();
    fs.truncateSync(path.join(truncated, 'events-000005.arrow'), 1_000_000);
    for (const dir of [damaged, truncated]) {
      const r = cli('replay', '--dataset', dir, '--strategy', 'perp-leads-spot', '--latency', '1ms');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(path.join(dir, 'events-000005.arrow'));
      expect(r.stdout + r.stderr).not.toContain('NaN');
      const c = cli('dataset', 'check', dir);
      expect(c.status).toBe(2);
      expect(c.stdout).toContain('PROBLEMS FOUND');
      expect(c.stdout).toContain(`unreadable events table: ${path.join(dir, 'events-000005.arrow')}`);
    }
  }, 120_000);
});
