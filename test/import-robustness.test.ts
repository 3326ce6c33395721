// Bad lines never abort an import, a failed import can be run again, Bybit chains check clean, and the summary
// says when an exchange sends no checksums.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSummaryText, runImport, type ImportSummary } from '../src/cli/import-command.js';
import { openDataset } from '../src/data/reader.js';
import { ProblemLog, type EventSink } from '../src/data/sink.js';
import { EventKind, Flag, GapReason } from '../src/data/types.js';
import { BybitNormalizer } from '../src/exchanges/bybit/normalizer.js';
import { checkDataset } from '../src/inspection/inspect.js';
import { BINANCE, CRYPTOFEED, gunzipLines, tempDir, withCaptures, writeGz } from './helpers.js';

function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

withCaptures('one bad line never aborts an import', () => {
  it('hftbacktest: 20,000 USD-M lines with a 100,000-deep E, a 1e308 price and a hex size: all 20,000 read, 3 frames refused with file:line and field', async () => {
    const lines = gunzipLines(path.join(BINANCE, 'usdm_btcusdt_20240808.gz')).slice(0, 20_000);
    // Lines 5,007, 5,015 and 5,016 are trades.
    lines[5006] = lines[5006]!.replace(/"E":\d+/, `"E":${nestedJson(100_000)}`);
    lines[5014] = lines[5014]!.replace(/"p":"[^"]*"/, '"p":"1e308"');
    lines[5015] = lines[5015]!.replace(/"q":"[^"]*"/, '"q":"0x1F"');
    const dir = tempDir();
    const file = writeGz(dir, 'usdm_btcusdt_cut.gz', lines);
    const { summary } = await runImport('hftbacktest', [file], path.join(dir, 'ds'));
    expect(summary.lines).toBe(20_000);
    expect(summary.raw_messages).toBe(20_000); // refused frames are kept raw
    expect(summary.invalid_frames).toBe(3);
    expect(summary.failed_lines).toBe(0);
    expect(summary.problems.by_kind).toEqual({ bad_message: 3 });
    expect(summary.problems.first).toEqual([
      { place: 'usdm_btcusdt_cut.gz:5007', message: 'field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got {"a":{"a":{…}}}' },
      { place: 'usdm_btcusdt_cut.gz:5015', message: 'field "p" must be a non-negative decimal string, got "1e308"' },
      { place: 'usdm_btcusdt_cut.gz:5016', message: 'field "q" must be a non-negative decimal string, got "0x1F"' },
    ]);
    let trades = 0;
    let maxPrice = 0; // of trades
    const gaps: [number, number][] = []; // each refused trade frame leaves a TradeGap (reason BadInput): flagged, not silent
    openDataset(path.join(dir, 'ds')).forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) {
        if (b.kind[i] === EventKind.Gap) gaps.push([b.size[i]!, b.flags[i]! & Flag.TradeGap]);
        if (b.kind[i] !== EventKind.Trade) continue;
        trades++;
        if (b.price[i]! > maxPrice) maxPrice = b.price[i]!;
      }
    });
    expect(trades).toBe(3_024 - 3);
    expect(gaps).toEqual([[GapReason.BadInput, Flag.TradeGap], [GapReason.BadInput, Flag.TradeGap], [GapReason.BadInput, Flag.TradeGap]]);
    expect(maxPrice).toBeLessThan(100_000);
    expect(checkDataset(path.join(dir, 'ds')).ok).toBe(true);
  });
});

describe('a failed import', () => {
  it('leaves no dataset behind, so the same command can be run again and fails the same way (not "folder not empty")', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'junk.txt');
    fs.writeFileSync(file, 'not a capture\n');
    const out = path.join(dir, 'ds');
    const message = /no importable input among 1 file\(s\)[\s\S]*the import failed; nothing was kept in .*ds, so the same command can be run again/;
    await expect(runImport('hftbacktest', [file], out)).rejects.toThrow(message);
    expect(fs.existsSync(out)).toBe(false);
    await expect(runImport('hftbacktest', [file], out)).rejects.toThrow(message);
  });
});

describe('Bybit prev_id (hand-made)', () => {
  it('is the id of the last message that wrote rows: a delta without levels writes none and is skipped by the chain', () => {
    const rows: [number, number, number][] = [];
    const sink: EventSink = {
      stream: () => 0,
      event: (_s, _l, _e, kind, _side, _p, _z, id, prev) => void rows.push([kind, Number(id), Number(prev)]),
      rawMessage: () => {},
    };
    const n = new BybitNormalizer(sink, new ProblemLog(), 'linear');
    const frame = (type: string, u: number, b: string[][]) => JSON.stringify({ topic: 'orderbook.200.BTCUSDT', type, ts: 1786310818300 + u, cts: 1786310818290 + u, data: { s: 'BTCUSDT', b, a: [], u, seq: 1000 + u } });
    n.onMessage(1n, frame('snapshot', 10, [['65140.4', '1']]), { source: 'hand', line: 1 });
    n.onMessage(2n, frame('delta', 11, []), { source: 'hand', line: 2 }); // nothing changed in the top 200
    n.onMessage(3n, frame('delta', 12, [['65140.4', '2']]), { source: 'hand', line: 3 });
    n.onMessage(4n, frame('delta', 13, [['65140.4', '3']]), { source: 'hand', line: 4 });
    expect(rows).toEqual([
      [EventKind.BookSnapshot, 10, -1],
      [EventKind.BookLevel, 12, 10], // u - 1 = 11 was never written: the chain would break here
      [EventKind.BookLevel, 13, 12],
    ]);
    expect(n.gaps).toEqual({});
  });
});

withCaptures('Bybit prev_id', () => {
  it('chains each book message to the previous written one: dataset check finds 0 breaks on the real Bybit capture', async () => {
    const out = path.join(tempDir(), 'ds');
    const { summary } = await runImport('cryptofeed', [path.join(CRYPTOFEED, 'BYBIT.jsonl.gz')], out);
    expect(summary.checksums).toBeUndefined();
    expect(importSummaryText(summary)).toContain('\n  book checksums: no checksums (exchange sends none)\n');
    const c = checkDataset(out);
    expect(c.errors).toEqual([]);
    expect(c.streams.map((s) => [s.chain.messages_checked, s.chain.breaks])).toEqual([
      [298, 0],
      [412, 0],
      [248, 0],
      [419, 0],
      [381, 0],
      [378, 0],
    ]);
  });
});

describe('importSummaryText', () => {
  const base: ImportSummary = {
    format: 'cryptofeed', out: 'ds', files: ['OKX.jsonl.gz'], lines: 10, messages: 9, rows: 100, raw_messages: 10,
    streams: [{ exchange: 'okx', market: 'spot', symbol: 'BTC-USDT' }], gaps: {}, invalid_frames: 0, failed_lines: 0,
    problems: { total: 0, by_kind: {}, first: [] }, bytes: 1_000_000, seconds: 1, messages_per_second: 9,
  };
  it('prints checksum counts for an exchange that sends them, and says so for one that does not', () => {
    expect(importSummaryText({ ...base, checksums: { verified: 7, failed: 1, skipped: 2 } })).toContain('  book checksums: 7 verified, 1 failed, 2 absent\n');
    expect(importSummaryText(base)).toContain('  book checksums: no checksums (exchange sends none)\n');
  });
  it('counts refused frames and failed lines', () => {
    const text = importSummaryText({ ...base, invalid_frames: 3, failed_lines: 1 });
    expect(text).toContain('  invalid frames: 3 (kept raw, no events written; see problems)\n  failed lines: 1 (the import went on; see problems)\n');
  });
});
