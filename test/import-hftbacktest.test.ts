// A user imports the real Binance captures (hftbacktest collector format) and gets exact books.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runImport } from '../src/cli/import-command.js';
import { openDataset } from '../src/data/reader.js';
import { readManifest, writeManifest } from '../src/data/manifest.js';
import { EventKind } from '../src/data/types.js';
import { BINANCE, gunzipLines, replayBooks, tempDir, withCaptures, writeGz } from './helpers.js';

const f = (name: string) => path.join(BINANCE, name);

withCaptures('importing the Binance capture', () => {
  it('rebuilds the USD-M and spot books exactly: equal to bookTicker at every shared update id, no gaps, never crossed', async () => {
    const out = path.join(tempDir(), 'ds');
    const { summary } = await runImport('hftbacktest', [f('spot_btcusdt_20240808.gz'), f('spot_btcusdt_20240809.gz'), f('usdm_btcusdt_20240808.gz')], out);
    expect(summary.lines).toBe(41_249 + 58_325 + 93_954);
    expect(summary.messages).toBe(summary.lines);
    expect(summary.raw_messages).toBe(summary.lines);
    expect(summary.problems.total).toBe(0);
    expect(summary.gaps).toEqual({});
    expect(summary.streams).toEqual([
      { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' },
      { exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' },
    ]);
    const r = replayBooks(out);
    expect(r.gaps).toEqual([0, 0]);
    expect(r.crossed).toEqual([0, 0]);
    expect(r.rowsWhileInvalid).toEqual([0, 0]);
    expect(r.localTimeReversals).toBe(0);
    expect(r.bboDifferent).toEqual([0, 0]);
    expect(r.bboEqual).toEqual([1_072, 629]);
    // Trade ids are contiguous in the capture: one Trade row per trade message.
    expect(r.counts[0]![EventKind.Trade]).toBe(19_904);
    expect(r.counts[1]![EventKind.Trade]).toBe(21_313);
  });

  it('keeps every market clean: COIN-M and ETH books never gap or cross', async () => {
    const out = path.join(tempDir(), 'ds');
    const files = ['cm_btcusd_perp_20240808.gz', 'cm_btcusd_perp_20240809.gz', 'cm_ethusd_perp_20240808.gz', 'cm_ethusd_perp_20240809.gz', 'spot_ethusdt_20240808.gz', 'spot_ethusdt_20240809.gz', 'usdm_ethusdt_20240808.gz'].map(f);
    const { summary } = await runImport('hftbacktest', files, out);
    expect(summary.problems.total).toBe(0);
    expect(summary.streams.map((s) => `${s.exchange} ${s.symbol}`)).toEqual([
      'binance-coinm BTCUSD_PERP',
      'binance-coinm ETHUSD_PERP',
      'binance-spot ETHUSDT',
      'binance-usdm ETHUSDT',
    ]);
    const r = replayBooks(out);
    expect(r.gaps).toEqual([0, 0, 0, 0]);
    expect(r.crossed).toEqual([0, 0, 0, 0]);
    expect(r.bboDifferent).toEqual([0, 0, 0, 0]);
    expect(r.localTimeReversals).toBe(0);
  });
});

withCaptures('damaged input is flagged, never a crash and never a wrong book', () => {
  const usdm = () => gunzipLines(f('usdm_btcusdt_20240808.gz'));

  it('lines dropped from the middle: one sequence gap, and no book rows until a snapshot that never comes', async () => {
    const dir = tempDir();
    const lines = usdm();
    // Drop five depth updates after line 40,000.
    let dropped = 0;
    const kept = lines.filter((l, i) => !(i > 40_000 && dropped < 5 && l.includes('"depthUpdate"') && ++dropped));
    const file = writeGz(dir, 'usdm_btcusdt_20240808.gz', kept);
    const { summary } = await runImport('hftbacktest', [file], path.join(dir, 'ds'));
    expect(summary.gaps).toEqual({ sequence: 1 });
    expect(summary.problems.first[0]!.place).toMatch(/^usdm_btcusdt_20240808\.gz:\d+$/);
    expect(summary.problems.first[0]!.message).toMatch(/pu \d+ != previous u \d+/);
    const r = replayBooks(path.join(dir, 'ds'));
    expect(r.gaps).toEqual([1]);
    expect(r.crossed).toEqual([0]);
    expect(r.rowsWhileInvalid).toEqual([0]);
    expect(r.bboDifferent).toEqual([0]);
  });

  it('a truncated gzip keeps every complete line before the cut and names the file', async () => {
    const dir = tempDir();
    const whole = fs.readFileSync(f('usdm_btcusdt_20240808.gz'));
    const file = path.join(dir, 'usdm_btcusdt_20240808.gz');
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    const { summary } = await runImport('hftbacktest', [file], path.join(dir, 'ds'));
    expect(summary.problems.by_kind.damaged_file).toBe(1);
    const damaged = summary.problems.first.find((p) => p.message.startsWith('truncated gzip'))!;
    expect(damaged.place).toMatch(/^usdm_btcusdt_20240808\.gz:\d+$/);
    expect(summary.lines).toBeGreaterThan(40_000);
    expect(summary.lines).toBeLessThan(93_954);
    const r = replayBooks(path.join(dir, 'ds'));
    expect(r.crossed).toEqual([0]);
    expect(r.bboDifferent).toEqual([0]);
  });

  it('malformed JSON and wrong field types are reported with file, line and field; the book gaps instead of going wrong', async () => {
    const dir = tempDir();
    const lines = usdm();
    const at = lines.findIndex((l, i) => i > 30_000 && l.includes('"depthUpdate"'));
    const broken = [...lines];
    broken[at] = broken[at]!.replace(/"u":(\d+)/, '"u":"$1x"');
    const at2 = lines.findIndex((l, i) => i > 50_000 && l.includes('"trade"'));
    broken[at2] = broken[at2]!.slice(0, 60);
    const file = writeGz(dir, 'usdm_btcusdt_20240808.gz', broken);
    const { summary } = await runImport('hftbacktest', [file], path.join(dir, 'ds'));
    expect(summary.problems.by_kind.bad_message).toBe(1);
    expect(summary.problems.by_kind.malformed_json).toBe(1);
    const bad = summary.problems.first.find((p) => p.message.includes('field "u"'))!;
    expect(bad.place).toBe(`usdm_btcusdt_20240808.gz:${at + 1}`);
    const malformed = summary.problems.first.find((p) => p.message.startsWith('malformed JSON'))!;
    expect(malformed.place).toBe(`usdm_btcusdt_20240808.gz:${at2 + 1}`);
    // The lost update breaks the pu chain at the next one: flagged, not patched.
    expect(summary.gaps).toEqual({ sequence: 1 });
    // Every line is kept raw, the broken ones included.
    expect(summary.raw_messages).toBe(lines.length);
    const r = replayBooks(path.join(dir, 'ds'));
    expect(r.crossed).toEqual([0]);
    expect(r.rowsWhileInvalid).toEqual([0]);
  });

  it('a missing snapshot: trades and BBO are imported, the book is flagged and never built', async () => {
    const dir = tempDir();
    const lines = usdm().filter((l) => !l.includes('"lastUpdateId"'));
    const file = writeGz(dir, 'usdm_btcusdt_20240808.gz', lines);
    const { summary } = await runImport('hftbacktest', [file], path.join(dir, 'ds'));
    expect(summary.gaps).toEqual({ no_snapshot: 1 });
    const r = replayBooks(path.join(dir, 'ds'));
    expect(r.counts[0]![EventKind.BookLevel]).toBeUndefined();
    expect(r.counts[0]![EventKind.BookSnapshot]).toBeUndefined();
    expect(r.counts[0]![EventKind.Trade]).toBe(21_313);
  });

  it('a file that is not a Binance capture is refused by name; the other files still import', async () => {
    const out = path.join(tempDir(), 'ds');
    const { summary } = await runImport('hftbacktest', [f('hyperliquid_btcusd_20250126.gz'), f('spot_btcusdt_20240808.gz')], out);
    expect(summary.problems.by_kind.unreadable_file).toBe(1);
    expect(summary.problems.first[0]!.message).toMatch(/hyperliquid_btcusd_20250126\.gz:1: channel "l2Book" is not a Binance stream/);
    expect(summary.streams).toHaveLength(1);
  });
});

withCaptures('datasets on disk', () => {
  it('importing the same files twice gives byte-identical datasets', async () => {
    const a = path.join(tempDir(), 'a');
    const b = path.join(tempDir(), 'b');
    await runImport('hftbacktest', [f('spot_btcusdt_20240808.gz')], a);
    await runImport('hftbacktest', [f('spot_btcusdt_20240808.gz')], b);
    for (const name of fs.readdirSync(a)) {
      if (name === 'manifest.json') continue;
      expect(fs.readFileSync(path.join(a, name)).equals(fs.readFileSync(path.join(b, name))), name).toBe(true);
    }
  });

  it('a segment cut off mid-write reads up to its last complete batch', async () => {
    const out = path.join(tempDir(), 'ds');
    await runImport('hftbacktest', [f('spot_btcusdt_20240808.gz')], out);
    const full = openDataset(out);
    const batchSizes: number[] = [];
    full.forEachEventBatch((b) => batchSizes.push(b.length));
    expect(batchSizes.length).toBeGreaterThan(2);
    const file = path.join(out, 'events-000001.arrow');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    // A writer killed mid-write had listed only what was on disk, and had not closed the segment (a closed
    // segment cut short of its listed rows is damage: test/dataset-damage.test.ts).
    const m = readManifest(out);
    m.segments[0]!.rows = batchSizes.slice(0, -1).reduce((x, y) => x + y, 0);
    m.segments[0]!.closed = false;
    writeManifest(out, m);
    const cut = openDataset(out);
    let rows = 0;
    cut.forEachEventBatch((b) => (rows += b.length));
    expect(rows).toBe(batchSizes.slice(0, -1).reduce((x, y) => x + y, 0));
    expect(cut.problems).toHaveLength(1);
    expect(cut.problems[0]!.message).toMatch(/events-000001\.arrow: cut off after \d+ complete batch/);
  });
});
