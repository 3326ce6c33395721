// latencylab exchange-sim --dataset <dir> [--port P] [--speed 1|10|max] [--loop] [--fault <at>:<kind>[:<arg>] ...]
import type { Command } from 'commander';
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, exposureWarning, startExchangeSim } from '../exchange-sim/server.js';
import type { Fault, FaultPlanEntry } from '../exchange-sim/types.js';

const FAULT_HELP = 'drop | skip:<n> | malformed | stall:<ms> | 24h-close | rest-429:<n>';

/** "<at>:<kind>[:<arg>]" → a fault plan entry. */
export function parseFaultSpec(spec: string): FaultPlanEntry {
  const [atText, kind, arg, ...rest] = spec.split(':');
  const at = Number(atText);
  if (atText === undefined || atText === '' || !Number.isInteger(at) || at < 0 || kind === undefined || rest.length > 0) {
    throw new Error(`--fault "${spec}": expected <at>:<kind>[:<arg>] with <at> a message count >= 0 and <kind> ${FAULT_HELP}`);
  }
  const n = (what: string): number => {
    const v = Number(arg);
    if (arg === undefined || arg === '' || !Number.isFinite(v) || v < 0) throw new Error(`--fault "${spec}": ${kind} needs ${what}, e.g. ${at}:${kind}:5`);
    return v;
  };
  let fault: Fault;
  switch (kind) {
    case 'drop':
      fault = { kind: 'drop' };
      break;
    case 'malformed':
      fault = { kind: 'malformed' };
      break;
    case '24h-close':
      fault = { kind: '24h-close' };
      break;
    case 'skip':
      fault = { kind: 'skip', count: n('a count of messages') };
      break;
    case 'stall':
      fault = { kind: 'stall', ms: n('milliseconds') };
      break;
    case 'rest-429':
      fault = { kind: 'rest-429', count: n('a count of requests') };
      break;
    default:
      throw new Error(`--fault "${spec}": unknown kind "${kind}" (${FAULT_HELP})`);
  }
  if ((fault.kind === 'skip' || fault.kind === 'rest-429') && (!Number.isInteger(fault.count) || fault.count < 1)) {
    throw new Error(`--fault "${spec}": the count must be a whole number >= 1`);
  }
  return { at, fault };
}

function byteCount(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a whole number of bytes >= 1, got "${v}"`);
    return n;
  };
}

function parseSpeed(v: string): number | 'max' {
  if (v === 'max') return 'max';
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`--speed must be a positive number or "max", got "${v}"`);
  return x;
}

export function registerExchangeSimCommand(program: Command): void {
  program
    .command('exchange-sim')
    .description(
      'serve a dataset over the exchanges\' real public protocols (Binance, Bybit, OKX WebSocket and REST depth) ' +
        'on one local port, for unmodified bots. See docs/exchange-sim.md',
    )
    .requiredOption('--dataset <dir>', 'dataset folder')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0..65535, got "${v}"`);
      return n;
    }, 8765)
    .option('--speed <x>', 'replay speed: 1 (recorded pace), 10, ... or max (as fast as clients read)', parseSpeed, 1 as number | 'max')
    .option('--loop', 'start again from the beginning when the dataset ends')
    .option('--start-now', 'start the replay at once (default: with the first subscription or REST request)')
    .option('--binance-ping-ms <ms>', 'Binance server ping interval (default 20000 spot, 180000 futures)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 10) throw new Error(`--binance-ping-ms must be a whole number >= 10, got "${v}"`);
      return n;
    })
    .option('--fault <spec>', `inject a fault on each connection after <at> market-data messages: <at>:<kind>[:<arg>], kind ${FAULT_HELP} (repeatable)`, (v: string, prev: FaultPlanEntry[]) => [...prev, parseFaultSpec(v)], [] as FaultPlanEntry[])
    .option('--max-payload-bytes <n>', `largest client WebSocket message or HTTP body accepted (default ${DEFAULT_MAX_PAYLOAD_BYTES})`, byteCount('--max-payload-bytes'))
    .option('--max-buffered-bytes <n>', `most a client may leave unread before it is disconnected (default ${DEFAULT_MAX_BUFFERED_BYTES})`, byteCount('--max-buffered-bytes'))
    .option('--quiet', 'do not log connections and faults')
    .action(async (o: { dataset: string; host: string; port: number; speed: number | 'max'; loop?: boolean; startNow?: boolean; binancePingMs?: number; fault: FaultPlanEntry[]; maxPayloadBytes?: number; maxBufferedBytes?: number; quiet?: boolean }) => {
      // Always printed, --quiet or not: the one thing an operator must not miss.
      const warning = exposureWarning(o.host);
      if (warning !== null) process.stderr.write(`exchange-sim: ${warning}\n`);
      const sim = await startExchangeSim({
        dataset: o.dataset,
        host: o.host,
        port: o.port,
        speed: o.speed,
        loop: o.loop ?? false,
        faults: o.fault,
        start: o.startNow ? 'listen' : 'first-client',
        binancePingMs: o.binancePingMs,
        maxPayloadBytes: o.maxPayloadBytes,
        maxBufferedBytes: o.maxBufferedBytes,
        log: o.quiet ? undefined : (line) => process.stderr.write(`exchange-sim: ${line}\n`),
      });
      const lines = [`exchange-sim: ${o.dataset} at speed ${o.speed}${o.loop ? ', looping' : ''}, listening on port ${sim.port}`];
      for (const e of sim.exchanges) lines.push(`  ${e.padEnd(14)} ${sim.baseUrl(e)}   REST ${sim.restUrl(e)}`);
      if (sim.exchanges.length === 0) lines.push('  (the dataset holds no recorded frames of a served exchange: nothing to replay)');
      lines.push(o.startNow ? 'replaying now; Ctrl-C to stop' : 'the replay starts with the first subscription or REST request; Ctrl-C to stop');
      process.stdout.write(lines.join('\n') + '\n');
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          process.stderr.write(`exchange-sim: ${sig}, closing\n`);
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        void sim.done.then(() => {
          if (!o.quiet && sim.stats().finished) process.stderr.write(`exchange-sim: dataset played to its end (${sim.stats().messagesSent} messages sent); still serving until Ctrl-C\n`);
        });
      });
      const s = sim.stats();
      await sim.close();
      process.stdout.write(`exchange-sim: closed after ${s.connectionsTotal} connection(s), ${s.messagesSent} messages, ${s.restRequests} REST requests\n`);
    });
}
