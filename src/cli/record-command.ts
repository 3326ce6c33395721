// latencylab record --exchange <id> --symbols A,B [--streams trade,depth,bbo] --out <dir> [--url <ws root>] [--rotate 1h]
import type { Command } from 'commander';
import { parseDurationNs } from '../data/time.js';
import { ADAPTERS } from '../exchanges/registry.js';
import { RECORD_EXCHANGES, startRecorder, type RecordExchange, type RecorderStats } from '../recorder/recorder.js';
import { statusLine } from '../recorder/status.js';
import { STREAM_KINDS, type StreamKind } from '../exchanges/kit/feed.js';

/** The book depths the exchanges offer a choice of (Bybit: 50 or 200). */
const BOOK_DEPTHS = [...new Set(ADAPTERS.flatMap((a) => a.feed?.bookDepths ?? []))];

interface RecordCliOptions {
  exchange: string;
  symbols: string;
  streams: string;
  out: string;
  url?: string;
  restUrl?: string;
  rotate?: string;
  append?: boolean;
  silence: string;
  bookDepth: string;
  statusJson?: boolean;
  quiet?: boolean;
}

function durationMs(text: string, what: string): number {
  const ns = parseDurationNs(text);
  if (ns <= 0) throw new Error(`${what} must be above 0, got "${text}"`);
  return ns / 1e6;
}

export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description(
      'record live public market data (trades, book diffs, best bid/offer) from an exchange into a dataset.\n' +
        'No API key is needed. Stops cleanly on Ctrl-C / SIGTERM; a killed recorder leaves a readable dataset.',
    )
    .requiredOption('--exchange <id>', `exchange: ${RECORD_EXCHANGES.join(' | ')}`)
    .requiredOption('--symbols <list>', 'comma-separated symbols as the exchange writes them: BTCUSDT,ETHUSDT (OKX: BTC-USDT)')
    .option('--streams <list>', `comma-separated: ${STREAM_KINDS.join(',')}`, STREAM_KINDS.join(','))
    .requiredOption('--out <dir>', 'dataset folder to create (or to extend with --append)')
    .option('--url <ws-root>', "WebSocket root instead of the exchange's (e.g. a simulator: ws://127.0.0.1:PORT/binance-usdm); the exchange's paths are appended")
    .option('--rest-url <http-root>', 'REST root for Binance snapshots (default: --url with ws→http, else the exchange)')
    .option('--rotate <duration>', 'start a new segment every period of local time: 1h, 15m, ...')
    .option('--append', 'append to an existing dataset in --out')
    .option('--silence <duration>', 'no data for this long = dead connection, reconnect', '10s')
    .option('--book-depth <n>', 'Bybit book topic depth: 50 or 200', '50')
    .option('--status-json', 'print one JSON status object per second to stdout')
    .option('--quiet', 'no status line on stderr')
    .action(async (o: RecordCliOptions) => {
      if (!(RECORD_EXCHANGES as readonly string[]).includes(o.exchange)) {
        throw new Error(`unknown exchange "${o.exchange}" (known: ${RECORD_EXCHANGES.join(', ')})`);
      }
      const streams = o.streams.split(',').map((s) => s.trim()).filter(Boolean);
      for (const s of streams) if (!(STREAM_KINDS as readonly string[]).includes(s)) throw new Error(`unknown stream "${s}" (known: ${STREAM_KINDS.join(', ')})`);
      const bookDepth = Number(o.bookDepth);
      if (!BOOK_DEPTHS.includes(bookDepth)) throw new Error(`--book-depth must be ${BOOK_DEPTHS.join(' or ')}, got "${o.bookDepth}"`);
      const rotateNs = o.rotate ? BigInt(Math.round(durationMs(o.rotate, '--rotate') * 1e6)) : 0n;

      const tty = process.stderr.isTTY === true;
      let lineShown = false;
      let lastPlainMs = -Infinity;
      const clearLine = () => {
        if (tty && lineShown) {
          process.stderr.write('\r\x1b[2K');
          lineShown = false;
        }
      };
      const log = (line: string) => {
        clearLine();
        process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      };
      const onStatus = (s: RecorderStats) => {
        if (o.statusJson) process.stdout.write(JSON.stringify(s) + '\n');
        if (o.quiet) return;
        if (tty) {
          process.stderr.write(`\r\x1b[2K${statusLine(s)}`);
          lineShown = true;
        } else if (performance.now() - lastPlainMs >= 10_000) {
          lastPlainMs = performance.now();
          process.stderr.write(`${new Date().toISOString()} ${statusLine(s)}\n`);
        }
      };

      const rec = await startRecorder({
        exchange: o.exchange as RecordExchange,
        symbols: o.symbols.split(','),
        streams: streams as StreamKind[],
        out: o.out,
        append: o.append,
        url: o.url,
        restUrl: o.restUrl,
        rotateNs,
        silenceMs: durationMs(o.silence, '--silence'),
        bookDepth,
        onStatus,
        log,
      });
      log(`recording ${o.exchange} ${o.symbols} (${streams.join(', ')}) into ${rec.dir}; Ctrl-C stops`);

      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            // A second signal while closing: leave now (the dataset stays readable).
            process.exit(130);
          }
          stopping = true;
          log(`${sig}: closing the dataset`);
          rec.stop().then(
            (m) => {
              clearLine();
              const rows = m.segments.reduce((a, s) => a + s.rows, 0);
              const raw = m.segments.reduce((a, s) => a + s.rawRows, 0);
              const st = rec.stats();
              process.stderr.write(
                `recorded ${st.messages} messages: ${rows} events, ${raw} raw rows in ${m.segments.length} segment(s); ` +
                  `gaps ${st.gaps}, reconnects ${st.reconnects}, malformed ${st.malformed}\n`,
              );
              process.off('SIGINT', onSignal);
              process.off('SIGTERM', onSignal);
              resolve();
            },
            (e: unknown) => {
              log(`closing failed: ${(e as Error).message}`);
              process.exitCode = 1;
              resolve();
            },
          );
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}
