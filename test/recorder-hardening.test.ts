// The recorder left running: a full disk (real ENOSPC from /dev/full through the writer's file calls), a
// rejected frame, exchange times that are not live, and secrets in --url / --rest-url. Everything runs
// against servers this file starts on loopback.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { openDataset } from '../src/data/reader.js';
import { NODE_FILES, type WriterFiles } from '../src/data/writer.js';
import { EventKind, Flag, GapReason, RawKind } from '../src/data/types.js';
import { startRecorder } from '../src/recorder/recorder.js';
import { statusLine, type RecorderStats } from '../src/recorder/status.js';
import { redactSecrets } from '../src/recorder/redact.js';
import { checkDataset } from '../src/inspection/inspect.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A Binance USD-M-like feed: one trade frame every `everyMs`, ids counting up across connections. */
async function tradeFeed(opts: { everyMs?: number; exchMs?: () => number; depth?: boolean; bad?: number[] } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let id = 1000;
  let sent = 0;
  let depthU = 10;
  const clients = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
  });
  const timer = setInterval(() => {
    for (const ws of clients) {
      const E = opts.exchMs ? opts.exchMs() : Date.now();
      sent++;
      const frame = JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E, T: E, s: 'BTCUSDT', t: id++, p: '100.5', q: '0.010', X: 'MARKET', m: false } });
      // A frame cut in half (not JSON) where asked: the trade it held is lost.
      ws.send(opts.bad?.includes(sent) ? frame.slice(0, 60) : frame);
      if (opts.depth) {
        ws.send(JSON.stringify({ stream: 'btcusdt@depth@0ms', data: { e: 'depthUpdate', E, T: E, s: 'BTCUSDT', U: depthU, u: depthU + 1, pu: depthU - 1, b: [['100.4', '1.000']], a: [] } }));
        depthU += 2;
      }
    }
  }, opts.everyMs ?? 10);
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    get sent() {
      return sent;
    },
    close: async () => {
      clearInterval(timer);
      for (const ws of clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** The writer's file calls with a switch: while `full`, writes go to /dev/full (a real ENOSPC). */
function fillableDisk() {
  const devFull = fs.openSync('/dev/full', 'w');
  const disk = { full: false };
  const files: WriterFiles = {
    ...NODE_FILES,
    writeSync: (fd, buf, off, len) => fs.writeSync(disk.full ? devFull : fd, buf, off, len),
    writeFileSync: (file, text) => fs.writeFileSync(disk.full ? '/dev/full' : file, text),
  };
  return { disk, files, close: () => fs.closeSync(devFull) };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The dataset's trade ids and Gap rows ([reason, flags]) in file order. */
function readBack(dir: string) {
  const ds = openDataset(dir);
  const ids: number[] = [];
  const gaps: [number, number][] = [];
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      if (b.kind[i] === EventKind.Trade) ids.push(Number(b.id[i]));
      if (b.kind[i] === EventKind.Gap) gaps.push([b.size[i]!, b.flags[i]!]);
    }
  });
  let received = 0;
  ds.forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) if (b.kind[i] === RawKind.Received) received++;
  });
  return { ids, gaps, received, problems: ds.problems };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('disk full', () => {
  it('pauses writing, keeps the connection, says so, and resumes without losing or corrupting a row', async () => {
    const feed = await tradeFeed();
    const { disk, files, close } = fillableDisk();
    cleanups.push(feed.close, close);
    const out = path.join(tempDir(), 'ds');
    const statuses: RecorderStats[] = [];
    const rec = await startRecorder({ exchange: 'binance-usdm', symbols: ['BTCUSDT'], streams: ['trade'], out, url: feed.url, flushMs: 50, files, onStatus: (s) => statuses.push(s) });
    await until(() => rec.stats().messages >= 20, 5000, '20 frames');
    disk.full = true;
    await until(() => statuses.some((s) => s.writing.paused), 5000, 'the pause');
    const atPause = rec.stats().messages;
    await until(() => rec.stats().messages >= atPause + 30, 5000, '30 frames while full');
    const paused = statuses[statuses.length - 1]!;
    expect(paused.writing).toMatchObject({ paused: true, error: 'ENOSPC', dropped_events: 0, dropped_raw: 0 });
    expect(paused.writing.pending_bytes).toBeGreaterThan(0);
    expect(paused.connected).toBe(1);
    expect(statusLine(paused)).toContain('WRITING PAUSED (ENOSPC): ');
    expect(rec.problems.counts.write_paused).toBe(1); // said once, not every flush
    disk.full = false;
    await until(() => !statuses[statuses.length - 1]!.writing.paused, 5000, 'the resume');
    await rec.stop();
    const st = rec.stats();
    expect(st.reconnects).toBe(0);
    expect(st.disconnects).toBe(0);
    const back = readBack(out);
    // Every frame received is on disk: the trades are consecutive ids from the first one, no gap row.
    expect(back.ids.length).toBe(st.messages);
    expect(back.ids).toEqual(Array.from({ length: back.ids.length }, (_, i) => back.ids[0]! + i));
    expect(back.received).toBe(st.messages);
    expect(back.gaps).toEqual([]);
    expect(back.problems).toEqual([]);
  }, 30_000);

  it('past its memory bound it drops rows, marks them with Gap rows (not_written), reconnects for fresh books', async () => {
    const feed = await tradeFeed();
    const { disk, files, close } = fillableDisk();
    cleanups.push(feed.close, close);
    const out = path.join(tempDir(), 'ds');
    const statuses: RecorderStats[] = [];
    const rec = await startRecorder({
      exchange: 'binance-usdm',
      symbols: ['BTCUSDT'],
      streams: ['trade'],
      out,
      url: feed.url,
      flushMs: 50,
      files,
      maxPendingBytes: 1,
      backoff: { baseMs: 50, maxMs: 100 },
      onStatus: (s) => statuses.push(s),
    });
    await until(() => rec.stats().messages >= 20, 5000, '20 frames');
    disk.full = true;
    await until(() => statuses.some((s) => s.writing.dropped_events > 0), 5000, 'dropped rows');
    expect(statusLine(statuses[statuses.length - 1]!)).toMatch(/ROWS DROPPED \d+ \(disk full\)/);
    disk.full = false;
    await until(() => rec.stats().reconnects >= 1, 5000, 'the reconnect after the loss');
    const target = rec.stats().messages + 10;
    await until(() => rec.stats().messages >= target, 5000, 'frames after it');
    await rec.stop();
    const back = readBack(out);
    expect(back.gaps[0]).toEqual([GapReason.NotWritten, Flag.MessageEnd | Flag.NoExchangeTime]);
    expect(rec.problems.counts.rows_dropped).toBe(1);
    // The ids jump where rows were dropped, and only there.
    const jumps = back.ids.slice(1).filter((x, i) => x !== back.ids[i]! + 1).length;
    expect(jumps).toBe(1);
    expect(checkDataset(out).streams[0]!.trade_ids).toMatchObject({ checked: true, jumps: 0, explained_jumps: 1 });
  }, 30_000);
});

describe('a rejected frame', () => {
  it('leaves a TradeGap row (bad_input) on its stream; books are not touched', async () => {
    const feed = await tradeFeed({ bad: [15] });
    cleanups.push(feed.close);
    const out = path.join(tempDir(), 'ds');
    const rec = await startRecorder({ exchange: 'binance-usdm', symbols: ['BTCUSDT'], streams: ['trade'], out, url: feed.url, flushMs: 50 });
    await until(() => rec.stats().messages >= 30, 5000, '30 frames');
    await rec.stop();
    expect(rec.stats().malformed).toBe(1);
    const back = readBack(out);
    expect(back.gaps).toEqual([[GapReason.BadInput, Flag.MessageEnd | Flag.NoExchangeTime | Flag.TradeGap]]);
    expect(back.ids.length).toBe(rec.stats().messages - 1);
    // dataset check sees the lost trade's id jump, explained by the marker.
    const c = checkDataset(out);
    expect(c.exit_code).toBe(0);
    expect(c.streams[0]!.trade_ids).toMatchObject({ checked: true, jumps: 0, explained_jumps: 1, missing_ids: 0 });
  }, 30_000);
});

describe('lag against exchange times that are not live', () => {
  it('the status line says n/a and gives the lag over the lowest seen, not "1662.0 d"', async () => {
    const days = 1662 * 86_400_000;
    const feed = await tradeFeed({ exchMs: () => Date.now() - days });
    cleanups.push(feed.close);
    const out = path.join(tempDir(), 'ds');
    const statuses: RecorderStats[] = [];
    const rec = await startRecorder({ exchange: 'binance-usdm', symbols: ['BTCUSDT'], streams: ['trade'], out, url: feed.url, flushMs: 100, onStatus: (s) => statuses.push(s) });
    await until(() => statuses.some((s) => s.lag_p50_ms !== null), 5000, 'a lag');
    await rec.stop();
    const s = statuses.find((x) => x.lag_p50_ms !== null)!;
    expect(s.lag_p50_ms!).toBeGreaterThan(days - 1000); // the recorder's clock and Date.now() may differ by a little
    expect(s.lag_p50_over_min_ms!).toBeGreaterThanOrEqual(0);
    expect(s.lag_p50_over_min_ms!).toBeLessThan(1000);
    expect(statusLine(s)).toMatch(/lag p50 n\/a \(exchange times 1662\.0 d behind: replayed or a clock off, \d+\.\d ms over the lowest\)/);
  }, 30_000);

  it('formats live lags as before, and n/a past an hour (pinned cases)', () => {
    const base = {
      exchange: 'binance-usdm', time: '0', uptime_s: 1, connections: 1, connected: 1, messages: 1, messages_per_s: 1234, gaps: 0, disconnects: 0, reconnects: 0, malformed: 0,
      snapshots: { requested: 0, applied: 0, rate_limited: 0, retries: 0, failed: 0, weight_used_1m: 0 }, resyncs: 0, events: 0, raw_messages: 0, bytes_written: 2048, problems: {},
      writing: { paused: false, error: null, pending_bytes: 0, dropped_events: 0, dropped_raw: 0 },
    };
    expect(statusLine({ ...base, lag_p50_ms: 12.34, lag_p50_over_min_ms: 2 })).toBe('binance-usdm  1/1 up  1,234 msg/s  lag p50 12.3 ms  gaps 0  reconnects 0  2.0 KiB written');
    expect(statusLine({ ...base, lag_p50_ms: 3_599_999, lag_p50_over_min_ms: 2 })).toContain('lag p50 3600.0 s');
    expect(statusLine({ ...base, lag_p50_ms: 143_596_800_000, lag_p50_over_min_ms: 4.25 })).toContain('lag p50 n/a (exchange times 1662.0 d behind: replayed or a clock off, 4.3 ms over the lowest)');
    expect(statusLine({ ...base, lag_p50_ms: null, lag_p50_over_min_ms: null })).toContain('lag p50 -');
    expect(statusLine({ ...base, lag_p50_ms: 1, lag_p50_over_min_ms: 0, writing: { paused: true, error: 'ENOSPC', pending_bytes: 3 * 1024 * 1024, dropped_events: 5, dropped_raw: 2 } })).toContain(
      'WRITING PAUSED (ENOSPC): 3.0 MiB waiting in memory  ROWS DROPPED 7 (disk full)',
    );
  });
});

describe('secrets', () => {
  it('redactSecrets hides user:password and key/token/signature parameters (pinned cases)', () => {
    expect(redactSecrets('ws://bob:hunter2@127.0.0.1:9/x?listenKey=SECRET1&limit=5')).toBe('ws://***@127.0.0.1:9/x?listenKey=***&limit=5');
    expect(redactSecrets('GET https://h/api?symbol=BTC&signature=abc123&apiKey=K1 failed')).toBe('GET https://h/api?symbol=BTC&signature=***&apiKey=*** failed');
    expect(redactSecrets('http://h/p?api_key=a&token=b&x=1#access_token=c')).toBe('http://h/p?api_key=***&token=***&x=1#access_token=***');
    expect(redactSecrets('no url here: listenKey is a word')).toBe('no url here: listenKey is a word');
  });

  describe('through the real CLI', () => {
    beforeAll(async () => {
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    }, 120_000);

    it('kill -9, then --append: the dataset reads clean, and a Disconnect per stream marks the outage at the seam', async () => {
      const feed = await tradeFeed({ everyMs: 5 });
      cleanups.push(feed.close);
      const out = path.join(tempDir(), 'ds');
      const record = (...extra: string[]) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), 'record', '--exchange', 'binance-usdm', '--symbols', 'BTCUSDT', '--streams', 'trade', '--out', out, '--url', feed.url, '--status-json', ...extra], { cwd: ROOT });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        return { child, lines: () => stdout.split('\n').filter((l) => l.startsWith('{')).length };
      };
      const first = record();
      await until(() => first.lines() >= 2, 15_000, 'two status lines');
      first.child.kill('SIGKILL');
      await new Promise<void>((r) => first.child.once('exit', () => r()));
      const second = record('--append');
      await until(() => second.lines() >= 2, 15_000, 'two status lines after the restart');
      second.child.kill('SIGINT');
      await new Promise<void>((r) => second.child.once('exit', () => r()));
      const ds = openDataset(out);
      const kinds: number[] = [];
      const seamAt: bigint[] = [];
      ds.forEachEventBatch((b) => {
        for (let i = 0; i < b.length; i++) {
          kinds.push(b.kind[i]!);
          if (b.kind[i] === EventKind.Disconnect) seamAt.push(b.localTs[i]!);
        }
      });
      expect(ds.problems).toEqual([]);
      // The first run died without a Disconnect; the append wrote one at the last local time on disk, and the
      // second run's clean stop wrote its own.
      expect(seamAt.length).toBe(2);
      const firstSeg = ds.segments[0]!;
      expect(seamAt[0]).toBe(BigInt(firstSeg.localTsMax!));
      expect(firstSeg.closed).toBe(true);
      expect(checkDataset(out).exit_code).toBe(0);
    }, 60_000);

    it('user:password and ?listenKey= in --url and --rest-url appear nowhere: stdout, stderr, problem log, manifest, dataset files', async () => {
      const SECRET = 'SECRETlistenKey123';
      const PASS = 'hunter2pass';
      // A REST server that always fails: 500, 500, then 400 with an error body that echoes the request.
      let requests = 0;
      const server = http.createServer((req, res) => {
        requests++;
        res.writeHead(requests % 3 === 0 ? 400 : 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: -1121, msg: `Invalid symbol. ${req.url}` }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const restPort = (server.address() as { port: number }).port;
      const feed = await tradeFeed({ depth: true, everyMs: 20 });
      cleanups.push(feed.close, () => new Promise<void>((r) => server.close(() => r())));
      const out = path.join(tempDir(), 'ds');
      const wsUrl = feed.url.replace('ws://', `ws://bob:${PASS}@`) + `/?listenKey=${SECRET}`;
      const restUrl = `http://127.0.0.1:${restPort}/?listenKey=${SECRET}&signature=${PASS}`;

      // In-process first, to see the problem log itself.
      const logs: string[] = [];
      const rec = await startRecorder({
        exchange: 'binance-usdm', symbols: ['BTCUSDT'], out, url: wsUrl, restUrl, flushMs: 100,
        restBackoff: { baseMs: 50, maxMs: 100 }, log: (l) => logs.push(l),
      });
      await until(() => requests >= 3 && (rec.problems.counts.snapshot_failed ?? 0) > 0, 10_000, 'failed REST requests').catch((e) => {
        throw new Error(`${(e as Error).message}; ${JSON.stringify(rec.stats())}; ${logs.join('\n')}`);
      });
      await rec.stop();
      const problemText = JSON.stringify(rec.problems.items);
      expect(rec.problems.counts.snapshot_failed ?? 0).toBeGreaterThan(0);
      expect(problemText).toContain('listenKey=***');
      for (const text of [problemText, logs.join('\n')]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(PASS);
      }

      // Then the CLI, with user:password in the REST URL too (fetch refuses it: another error path).
      const out2 = path.join(tempDir(), 'ds');
      const restWithUser = `http://bob:${PASS}@127.0.0.1:${restPort}/?listenKey=${SECRET}`;
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), 'record', '--exchange', 'binance-usdm', '--symbols', 'BTCUSDT', '--out', out2, '--url', wsUrl, '--rest-url', restWithUser, '--status-json'], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await until(() => /retrying in/.test(stderr) && stdout.split('\n').length > 3, 15_000, 'REST retries logged by the CLI');
      child.kill('SIGINT');
      await new Promise<void>((r) => child.once('exit', () => r()));
      expect(stderr).toContain('listenKey=***');
      expect(stderr).toContain('ws://***@127.0.0.1');
      for (const text of [stdout, stderr]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(PASS);
      }
      for (const dir of [out, out2]) {
        for (const f of fs.readdirSync(dir)) {
          const bytes = fs.readFileSync(path.join(dir, f));
          expect(bytes.includes(SECRET), `${f} holds the listenKey`).toBe(false);
          expect(bytes.includes(PASS), `${f} holds the password`).toBe(false);
        }
      }
      expect(JSON.parse(fs.readFileSync(path.join(out2, 'manifest.json'), 'utf8')).source.url).toBe(redactSecrets(wsUrl));
    }, 60_000);
  });
});
