// Importer for cryptofeed raw captures (gzipped JSON lines, format 2):
//   {"t": "header"|"connect"|"send"|"recv"|"http", "conn": ..., "ts": <seconds>, "data": <frame>, "addr"/"url": ...}
// Every frame goes to the raw table as the exchange sent it (connect rows hold the address), and received
// frames go through the exchange's normalizer, one per connection. Bybit, OKX and Coinbase are supported.
import path from 'node:path';
import type { EventSink, InputPlace, ProblemLog } from '../data/sink.js';
import { secondsTextToNs } from '../data/time.js';
import { RawKind, type ExchangeId } from '../data/types.js';
import { adapter, ADAPTERS } from '../exchanges/registry.js';
import { shown } from '../exchanges/kit/json.js';
import type { Normalizer } from '../exchanges/kit/normalizer.js';
import { emptyStats, guardLine, type Importer, type ImporterOptions, type ImporterStats } from './importer.js';
import { readLines } from './lines.js';

/** The statistics a cryptofeed import returns (checksums only for exchanges that send them). */
export type CryptofeedStats = ImporterStats;

/** The exchange name a cryptofeed header writes (BYBIT); one name may cover several exchange ids. */
type Family = string;

const TS_FIELD = /"ts"\s*:\s*(\d+(?:\.\d+)?)/;

interface Connection {
  /** Exchange id of its raw rows and streams; null until its address tells (Bybit spot or linear). */
  exchange: ExchangeId | null;
  /** Created on its first received frame. */
  normalizer: Normalizer | null;
  connected: boolean;
  unknownReported: boolean;
}

/** The adapters cryptofeed captures hold, by the name the header writes. */
function adaptersNamed(family: Family) {
  return ADAPTERS.filter((a) => a.captures?.cryptofeed?.name === family);
}

function familyOfName(name: string): Family | undefined {
  const f = name.toUpperCase();
  return adaptersNamed(f).length > 0 ? f : undefined;
}

function familyOfExchange(id: ExchangeId): Family {
  const name = adapter(id).captures?.cryptofeed?.name;
  if (name === undefined) throw new Error(`the cryptofeed importer reads Bybit, OKX and Coinbase captures, not ${id}`);
  return name;
}

/** The record's `ts` as written (the float would lose the last digits). */
function localTsOf(text: string, rec: Record<string, unknown>): bigint | null {
  if (typeof rec.ts !== 'number') return null;
  const m = /"ts"\s*:\s*(\d+(?:\.\d+)?)[,}\s]/.exec(text);
  if (!m || Number(m[1]) !== rec.ts) return null;
  return secondsTextToNs(m[1]!);
}

class CryptofeedImport {
  readonly stats: ImporterStats = emptyStats();
  private family: Family | null;
  private readonly forcedExchange: ExchangeId | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly normalizers: Normalizer[] = [];
  private source = '';
  private lastTs = 0n;
  private unknownFamilyReported = false;

  constructor(
    private readonly sink: EventSink,
    private readonly problems: ProblemLog,
    opts: ImporterOptions,
  ) {
    this.forcedExchange = opts.exchange;
    this.family = opts.exchange ? familyOfExchange(opts.exchange) : null;
  }

  async importFile(file: string): Promise<void> {
    this.source = path.basename(file);
    // A capture's first lines name the exchange; a name like BYBIT.jsonl.gz is the fallback.
    if (this.family === null) this.family = familyOfName(this.source.split(/[._-]/)[0]!) ?? null;
    this.unknownFamilyReported = false;
    // cryptofeed writes connections' records in blocks, not in receive order: apply them by local time
    // (stable, so equal times keep file order; a line without a readable time keeps the one before it).
    const lines: { text: string; line: number; ts: bigint }[] = [];
    let ts = -1n;
    for await (const chunk of readLines(file, this.problems)) {
      for (const l of chunk) {
        const m = TS_FIELD.exec(l.text);
        if (m) ts = secondsTextToNs(m[1]!);
        lines.push({ text: l.text, line: l.line, ts });
      }
    }
    lines.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.line - b.line));
    for (const l of lines) {
      const place = { source: this.source, line: l.line };
      guardLine(this.stats, this.problems, place, () => this.onLine(l.text, place));
    }
  }

  finish(): ImporterStats {
    const s = this.stats;
    for (const n of this.normalizers) {
      for (const [reason, count] of Object.entries(n.gaps)) s.gaps[reason] = (s.gaps[reason] ?? 0) + count;
      s.invalidFrames += n.invalidFrames;
      // Only exchanges that send checksums (OKX) report them: zeros would say "none failed" about nothing.
      if (n.checksums) {
        s.checksums ??= { verified: 0, failed: 0, skipped: 0 };
        s.checksums.verified += n.checksums.verified;
        s.checksums.failed += n.checksums.failed;
        s.checksums.skipped += n.checksums.skipped;
      }
    }
    return s;
  }

  private onLine(text: string, place: InputPlace): void {
    this.stats.lines++;
    if (text.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (e) {
      this.problems.add('bad_json', place, `line is not valid JSON (${(e as Error).message})`);
      this.keepUnreadable(text, place);
      return;
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      this.problems.add('bad_record', place, 'line is not a JSON object');
      this.keepUnreadable(text, place);
      return;
    }
    const r = rec as Record<string, unknown>;
    if (r.t === 'header') {
      this.onHeader(r, place);
      return;
    }
    if (r.t !== 'connect' && r.t !== 'send' && r.t !== 'recv' && r.t !== 'http') {
      this.problems.add('bad_field', place, `field "t" must be header, connect, send, recv or http, got ${shown(r.t)}`);
      return;
    }
    let localTs = localTsOf(text, r);
    if (localTs === null) {
      this.problems.add('bad_field', place, `field "ts" must be a number of seconds, got ${shown(r.ts)}; using the previous line's time`);
      localTs = this.lastTs;
    }
    this.lastTs = localTs;
    if (typeof r.conn !== 'string') {
      this.problems.add('bad_field', place, `field "conn" must be a string, got ${shown(r.conn)}`);
      this.keepUnreadable(text, place);
      return;
    }
    if (r.t === 'http') {
      this.onRest(r, text, localTs, place);
      return;
    }
    const conn = this.connection(r.conn, r.addr, place);
    const exchange = conn.exchange;
    if (exchange === null) return;
    if (r.t === 'connect') {
      if (typeof r.addr !== 'string') this.problems.add('bad_field', place, `field "addr" must be a string, got ${shown(r.addr)}`);
      // A second connect on one connection is a reconnect: the books start over.
      if (conn.connected) conn.normalizer?.reset?.(localTs);
      conn.connected = true;
      this.sink.rawMessage(localTs, exchange, this.source, place.line, RawKind.Connect, typeof r.addr === 'string' ? r.addr : '');
      return;
    }
    const kind = r.t === 'send' ? RawKind.Sent : RawKind.Received;
    if (kind === RawKind.Received) this.stats.messages++;
    if (typeof r.data !== 'string') {
      this.problems.add('bad_field', place, `field "data" must be the frame as a string, got ${typeof r.data}; the whole line is kept`);
      this.sink.rawMessage(localTs, exchange, this.source, place.line, kind, text);
      return;
    }
    this.sink.rawMessage(localTs, exchange, this.source, place.line, kind, r.data);
    if (kind === RawKind.Received) {
      conn.normalizer ??= this.newNormalizer(exchange);
      conn.normalizer.onMessage(localTs, r.data, place);
    }
  }

  /** REST responses (instrument lists here) are kept raw only: books come from WebSocket snapshots. */
  private onRest(r: Record<string, unknown>, text: string, localTs: bigint, place: InputPlace): void {
    const url = typeof r.url === 'string' ? r.url : '';
    const exchange = this.exchangeOf(url);
    if (exchange === null) {
      this.reportUnknown(place, `REST response from ${shown(r.url)} is not from a known Bybit category; it is not kept`);
      return;
    }
    this.stats.messages++;
    const data = typeof r.data === 'string' ? r.data : text;
    if (typeof r.data !== 'string') this.problems.add('bad_field', place, `field "data" must be the response body as a string, got ${typeof r.data}; the whole line is kept`);
    this.sink.rawMessage(localTs, exchange, this.source, place.line, RawKind.Rest, data);
  }

  private onHeader(r: Record<string, unknown>, place: InputPlace): void {
    const family = typeof r.exchange === 'string' ? familyOfName(r.exchange) : undefined;
    if (family === undefined) {
      this.problems.add('unsupported_exchange', place, `header field "exchange" is ${shown(r.exchange)}; this importer reads BYBIT, OKX and COINBASE`);
      if (this.forcedExchange === undefined) this.family = null;
      return;
    }
    if (this.forcedExchange === undefined) this.family = family;
  }

  /** The connection's state, created on first sight; `addr` is its WebSocket address when the record has one. */
  private connection(name: string, addr: unknown, place: InputPlace): Connection {
    let c = this.connections.get(name);
    if (c === undefined) {
      c = { exchange: null, normalizer: null, connected: false, unknownReported: false };
      this.connections.set(name, c);
    }
    if (c.exchange === null) {
      c.exchange = this.exchangeOf(typeof addr === 'string' ? addr : '');
      if (c.exchange === null && !c.unknownReported) {
        c.unknownReported = true;
        this.reportUnknown(place, `connection "${name}" has no Bybit spot or linear address (${shown(addr)}); its lines are not kept`);
      }
    }
    return c;
  }

  /** The exchange id for a connection address or REST url, null if it cannot be told. */
  private exchangeOf(url: string): ExchangeId | null {
    if (this.family === null) return null;
    if (this.forcedExchange !== undefined) return this.forcedExchange;
    const named = adaptersNamed(this.family);
    if (named.length === 1) return named[0]!.id;
    return named.find((a) => a.captures!.cryptofeed!.ownsAddress?.(url))?.id ?? null;
  }

  private reportUnknown(place: InputPlace, message: string): void {
    if (this.family !== null) {
      this.problems.add('unknown_connection', place, message);
    } else if (!this.unknownFamilyReported) {
      this.unknownFamilyReported = true;
      this.problems.add('unknown_exchange', place, 'no header names the exchange (BYBIT, OKX, COINBASE) and none was given; lines are not kept');
    }
  }

  private newNormalizer(exchange: ExchangeId): Normalizer {
    const n = adapter(exchange).normalizer(this.sink, this.problems);
    this.normalizers.push(n);
    return n;
  }

  /** A line that could not be read is still kept, whole, as a received frame. */
  private keepUnreadable(text: string, place: InputPlace): void {
    const conn = /"conn"\s*:\s*"([^"\\]*)"/.exec(text)?.[1];
    const known = conn !== undefined ? this.connections.get(conn) : undefined;
    const exchange = known?.exchange ?? this.exchangeOf('');
    if (exchange === null) {
      this.reportUnknown(place, 'the unreadable line names no known connection; it is not kept');
      return;
    }
    const ts = TS_FIELD.exec(text)?.[1];
    this.stats.messages++;
    this.sink.rawMessage(ts !== undefined ? secondsTextToNs(ts) : this.lastTs, exchange, this.source, place.line, RawKind.Received, text);
  }
}

export const importCryptofeed: Importer = async (files, sink, problems, opts) => {
  const run = new CryptofeedImport(sink, problems, opts);
  for (const file of files) await run.importFile(file);
  return run.finish();
};
