// latencylab dataset info|check|book: formatting only; the numbers come from src/inspection/.
// JSON shapes are documented in docs/cli.md.
import type { Command } from 'commander';
import { bookAt, type BookAt } from '../inspection/book-at.js';
import { datasetInfo, type DatasetInfo } from '../inspection/dataset-info.js';
import { checkDataset, type DatasetCheck, type LatencySummaryMs } from '../inspection/inspect.js';
import { parseTimeNs } from '../data/time.js';
import { EVENT_KIND_NAMES } from '../data/types.js';

type Cell = string | number | null;

const NUMERIC = /^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?$/i;

/** Aligned text table: numeric columns right-aligned, text left-aligned; null prints as "-". */
function table(header: string[], rows: Cell[][], indent = '  '): string[] {
  const text = rows.map((r) => r.map((c) => (c === null ? '-' : String(c))));
  const numeric = header.map((_, j) => rows.length > 0 && text.every((r) => r[j] === '-' || r[j] === '' || NUMERIC.test(r[j] ?? '')));
  const width = header.map((h, j) => Math.max(h.length, ...text.map((r) => (r[j] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, j) => (numeric[j] ? c.padStart(width[j]!) : j === cells.length - 1 ? c : c.padEnd(width[j]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...text.map(line)];
}

/** A count with thousands separators. */
function fmtNum(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function print(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}

function printJson(x: unknown): void {
  process.stdout.write(JSON.stringify(x, null, 2) + '\n');
}

const KIND_ORDER = Object.keys(EVENT_KIND_NAMES)
  .map(Number)
  .sort((a, b) => a - b)
  .map((k) => EVENT_KIND_NAMES[k]!);

export function formatInfo(info: DatasetInfo): string[] {
  const kinds = KIND_ORDER.filter((k) => info.counts[k] !== undefined);
  for (const k of Object.keys(info.counts)) if (!kinds.includes(k)) kinds.push(k);
  const out: string[] = [];
  out.push(`dataset ${info.dir}`);
  const src = Object.entries(info.source)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
  out.push(`  format version ${info.format_version}${src ? `; source ${src}` : ''}`);
  out.push(
    info.publish_time === 'publish_ts'
      ? '  publish time: publish_ts column (exch_ts is the match time)'
      : '  publish time: no publish_ts column (written before format 2): read as exch_ts',
  );
  out.push(`  exchanges: ${info.exchanges.join(', ') || 'none'}`);
  out.push(
    `  ${fmtNum(info.rows)} events, ${fmtNum(info.raw_messages)} raw messages` +
      (Object.keys(info.raw_counts).length ? ` (${Object.entries(info.raw_counts).map(([k, v]) => `${k} ${fmtNum(v)}`).join(', ')})` : '') +
      `, ${info.segments.length} segment(s)`,
  );
  out.push(
    `  on disk: ${fmtBytes(info.events_bytes)} events + ${fmtBytes(info.raw_bytes)} raw = ${fmtBytes(info.total_bytes)}` +
      (info.bytes_per_event !== null ? ` (${info.bytes_per_event} bytes/event, ${info.total_bytes_per_event} with raw)` : ''),
  );
  const t = info.time;
  out.push('');
  out.push(...table(['time', 'first', 'last', 'first_ns', 'last_ns'], [
    ['local', t.local_first, t.local_last, t.local_first_ns, t.local_last_ns],
    ['exchange', t.exch_first, t.exch_last, t.exch_first_ns, t.exch_last_ns],
  ]));
  out.push(`  duration ${t.duration_s === null ? '-' : `${t.duration_s.toFixed(3)} s`}`);
  out.push('');
  out.push('streams (events by kind)');
  out.push(
    ...table(
      ['#', 'exchange', 'market', 'symbol', 'rows', ...kinds],
      [
        ...info.streams.map((s) => [s.stream, s.exchange, s.market, s.symbol, fmtNum(s.rows), ...kinds.map((k) => fmtNum(s.counts[k] ?? 0))]),
        ['', 'all', '', '', fmtNum(info.rows), ...kinds.map((k) => fmtNum(info.counts[k] ?? 0))],
      ],
    ),
  );
  out.push('');
  out.push('streams (time)');
  out.push(
    ...table(
      ['#', 'stream', 'local first', 'local last', 'exchange first', 'exchange last'],
      info.streams.map((s) => [s.stream, `${s.exchange} ${s.symbol}`, s.time.local_first, s.time.local_last, s.time.exch_first, s.time.exch_last]),
    ),
  );
  out.push('');
  out.push('segments');
  out.push(
    ...table(
      ['index', 'events file', 'rows', 'manifest rows', 'raw rows', 'events bytes', 'raw bytes', 'closed', 'listed'],
      info.segments.map((s) => [s.index, s.events_file, fmtNum(s.rows), s.manifest_rows === null ? null : fmtNum(s.manifest_rows), fmtNum(s.raw_rows), fmtNum(s.events_bytes), fmtNum(s.raw_bytes), s.closed ? 'yes' : 'no', s.listed_in_manifest ? 'yes' : 'no']),
    ),
  );
  if (info.problems.length > 0) {
    out.push('');
    out.push(`read problems (${info.problems.length}):`);
    for (const p of info.problems) out.push(`  - ${p.message}`);
  }
  return out;
}

function latCells(l: LatencySummaryMs): Cell[] {
  return [fmtNum(l.samples), l.min, l.p50, l.p90, l.p99, l.max];
}

export function formatCheck(c: DatasetCheck): string[] {
  const out: string[] = [];
  out.push(`check ${c.dir}: ${c.ok ? 'OK' : 'PROBLEMS FOUND'} (exit code ${c.exit_code}), ${fmtNum(c.rows)} events`);
  if (c.errors.length > 0) {
    out.push('');
    out.push('errors:');
    for (const e of c.errors) out.push(`  - ${e}`);
  }
  out.push('');
  out.push('book integrity');
  out.push(
    ...table(
      ['#', 'stream', 'snapshots', 'gaps', 'disconnects', 'checked msgs', 'breaks', 'unexplained', 'crossed msgs', 'unmarked'],
      c.streams.map((s) => [
        s.stream,
        `${s.exchange} ${s.symbol}`,
        fmtNum(s.snapshots),
        fmtNum(s.gaps.total),
        fmtNum(s.disconnects),
        fmtNum(s.chain.messages_checked),
        fmtNum(s.chain.breaks),
        fmtNum(s.chain.unexplained),
        fmtNum(s.crossed.messages),
        fmtNum(s.crossed.unmarked),
      ]),
    ),
  );
  out.push('');
  out.push('trade ids (checked where a stream numbers its trades one by one)');
  out.push(
    ...table(
      ['#', 'stream', 'checked', 'steps', '+1 steps', 'jumps', 'ids missing', 'jumps at markers', 'back'],
      c.streams.map((s) => {
        const t = s.trade_ids;
        return [s.stream, `${s.exchange} ${s.symbol}`, t.checked ? 'yes' : 'no', fmtNum(t.steps), fmtNum(t.consecutive_steps), fmtNum(t.jumps), fmtNum(t.missing_ids), fmtNum(t.explained_jumps), fmtNum(t.backward_steps)];
      }),
    ),
  );
  const jumps = c.streams.flatMap((s) => s.trade_ids.examples.map((e) => [`${s.exchange} ${s.symbol}`, e.row, e.local_ts, e.from_id, e.to_id, e.missing] as Cell[]));
  if (jumps.length > 0) {
    out.push('');
    out.push('trade id jumps without a marker (first examples)');
    out.push(...table(['stream', 'row', 'local time', 'from id', 'to id', 'missing'], jumps));
  }
  const gapRows = c.streams.flatMap((s) => Object.entries(s.gaps.by_reason).map(([r, n]) => [`${s.exchange} ${s.symbol}`, r, fmtNum(n)] as Cell[]));
  if (gapRows.length > 0) {
    out.push('');
    out.push('gap markers by reason');
    out.push(...table(['stream', 'reason', 'count'], gapRows));
  }
  const examples = c.streams.flatMap((s) =>
    s.chain.examples.map((e) => [`${s.exchange} ${s.symbol}`, e.row, e.local_ts, e.id, e.prev_id, e.expected_prev_id, e.explained ? 'yes' : 'no'] as Cell[]),
  );
  if (examples.length > 0) {
    out.push('');
    out.push('sequence breaks (first examples)');
    out.push(...table(['stream', 'row', 'local time', 'id', 'prev_id', 'expected prev_id', 'gap marker after'], examples));
  }
  const crossed = c.streams.flatMap((s) =>
    s.crossed.examples.map((e) => [`${s.exchange} ${s.symbol}`, e.row, e.exch_ts, e.best_bid, e.best_ask, e.marked ? 'yes' : 'no'] as Cell[]),
  );
  if (crossed.length > 0) {
    out.push('');
    out.push('crossed books (first examples)');
    out.push(...table(['stream', 'row', 'exchange time', 'best bid', 'best ask', 'gap marker after'], crossed));
  }
  out.push('');
  out.push('feed latency, local - exchange time, ms (one sample per message; NoExchangeTime, buffered and REST rows excluded)');
  out.push(
    ...table(
      ['#', 'stream', 'kind', 'samples', 'min', 'p50', 'p90', 'p99', 'max'],
      c.streams.flatMap((s) => [
        [s.stream, `${s.exchange} ${s.symbol}`, 'all', ...latCells(s.latency_ms)],
        ...Object.entries(s.latency_ms.by_kind).map(([k, l]) => ['', '', k, ...latCells(l)] as Cell[]),
      ]),
    ),
  );
  out.push('');
  out.push('clock per exchange (offset = min(local - exchange); latency after removing it)');
  out.push(
    ...table(
      ['exchange', 'samples', 'offset ms', 'local clock', 'p50', 'p90', 'p99', 'max'],
      c.exchanges.map((e) => [
        e.exchange,
        fmtNum(e.latency_ms.samples),
        e.clock_offset_ms,
        e.local_clock,
        e.latency_after_offset_ms.p50,
        e.latency_after_offset_ms.p90,
        e.latency_after_offset_ms.p99,
        e.latency_after_offset_ms.max,
      ]),
    ),
  );
  const rc = c.recorder_clock;
  out.push('');
  out.push(`recorder clock (one model for all streams: min of local - ${rc.basis} per ${rc.window_s} s window, rolling min of 3, linear between)`);
  out.push(
    ...table(
      ['samples', 'windows', 'offset first ms', 'offset last ms', 'min ms', 'max ms', 'drift ms/h'],
      [[fmtNum(rc.samples), rc.windows, rc.offset_first_ms, rc.offset_last_ms, rc.offset_min_ms, rc.offset_max_ms, rc.drift_ms_per_hour]],
    ),
  );
  out.push('');
  out.push('time order');
  out.push(`  local_ts goes back ${fmtNum(c.local_ts_order.decreases)} time(s) in file order (max ${c.local_ts_order.max_step_back_ms} ms)`);
  const orderRows = c.streams.flatMap((s) => [
    [`${s.exchange} ${s.symbol}`, 'any', fmtNum(s.exch_ts_order.decreases), s.exch_ts_order.max_step_back_ms] as Cell[],
    ...Object.entries(s.exch_ts_order.by_kind).map(([k, o]) => ['', k, fmtNum(o.decreases), o.max_step_back_ms] as Cell[]),
  ]);
  out.push('  exch_ts going back within a stream (against the previous row of the stream / of the same kind):');
  out.push(...table(['stream', 'kind', 'decreases', 'max back ms'], orderRows, '    '));
  if (c.notes.length > 0) {
    out.push('');
    out.push('notes:');
    for (const n of c.notes) out.push(`  - ${n}`);
  }
  return out;
}

export function formatBook(b: BookAt): string[] {
  const out: string[] = [];
  out.push(`${b.exchange} ${b.symbol} (${b.market}) at exchange time ${b.at} (${b.at_ns} ns)`);
  out.push(`  book ${b.valid ? 'valid' : `NOT VALID: ${b.invalid_reason}`}${b.crossed ? ', CROSSED' : ''}${b.message_complete ? '' : ', last message incomplete'}`);
  if (b.last_update) {
    const u = b.last_update;
    out.push(`  last update id ${u.id} at exchange time ${u.exch_ts} (local ${u.local_ts}), row ${u.row}; ${fmtNum(b.book_rows_read)} book rows read`);
  } else {
    out.push('  no book update at or before this time');
  }
  out.push(
    `  best bid ${b.best_bid ?? '-'}  best ask ${b.best_ask ?? '-'}  spread ${b.spread ?? '-'}  mid ${b.mid ?? '-'}  (${fmtNum(b.bid_levels)} bid / ${fmtNum(b.ask_levels)} ask levels)`,
  );
  const n = Math.max(b.bids.length, b.asks.length);
  const rows: Cell[][] = [];
  for (let k = 0; k < n; k++) {
    const bid = b.bids[k];
    const ask = b.asks[k];
    rows.push([k + 1, bid ? bid.size : null, bid ? bid.price : null, ask ? ask.price : null, ask ? ask.size : null]);
  }
  out.push('');
  if (rows.length > 0) out.push(...table(['level', 'bid size', 'bid price', 'ask price', 'ask size'], rows));
  else out.push('  (the book is empty)');
  if (b.problems.length > 0) {
    out.push('');
    out.push('read problems:');
    for (const p of b.problems) out.push(`  - ${p.message}`);
  }
  return out;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got "${v}"`);
    return n;
  };
}

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('inspect a dataset folder: summary, integrity check, book at a time');

  dataset
    .command('info')
    .description('exchanges, streams, time span, events by kind, raw messages, bytes on disk, segments')
    .argument('<dir>', 'dataset folder')
    .option('--json', 'print JSON (shape in docs/cli.md)')
    .action((dir: string, o: { json?: boolean }) => {
      const info = datasetInfo(dir);
      if (o.json) printJson(info);
      else print(formatInfo(info));
    });

  dataset
    .command('check')
    .description(
      'gap markers, sequence chain, crossed books, time order, feed latency and clock offset per exchange.\n' +
        'Exit code 0: information only; 2: an unreadable segment, unexplained sequence breaks or trade-id jumps,\n' +
        'or crossed books without a gap marker.',
    )
    .argument('<dir>', 'dataset folder')
    .option('--json', 'print JSON (shape in docs/cli.md)')
    .action((dir: string, o: { json?: boolean }) => {
      const c = checkDataset(dir);
      if (o.json) printJson(c);
      else print(formatCheck(c));
      if (c.exit_code !== 0) process.exitCode = c.exit_code;
    });

  dataset
    .command('book')
    .description('the order book of one stream as the exchange had it at an exchange time')
    .argument('<dir>', 'dataset folder')
    .requiredOption('--exchange <id>', 'exchange id, e.g. binance-usdm')
    .requiredOption('--symbol <symbol>', 'symbol as the dataset names it, e.g. BTCUSDT (case-insensitive)')
    .requiredOption('--at <time>', 'exchange time: ISO 8601 (2024-08-08T23:58:00.5Z) or integer ns since epoch')
    .option('--depth <n>', 'levels per side', positiveInt('--depth'), 10)
    .option('--json', 'print JSON (shape in docs/cli.md)')
    .action((dir: string, o: { exchange: string; symbol: string; at: string; depth: number; json?: boolean }) => {
      let at: bigint;
      try {
        at = parseTimeNs(o.at);
      } catch (e) {
        throw new Error(`--at: ${(e as Error).message}`);
      }
      const b = bookAt(dir, o.exchange, o.symbol, at, o.depth);
      if (o.json) printJson(b);
      else print(formatBook(b));
    });
}
