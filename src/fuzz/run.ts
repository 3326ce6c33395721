// npm run fuzz [-- --seed N --cases N --suite normalizers|simulator]: every fuzz suite with one seed; prints
// each report and exits 1 on any crash, slow case or invalid value. The default case count runs 1,000,000
// mutated frames through the normalizers and as many client messages through the exchange simulator.
import type { FuzzReport } from './report.js';
import { run as fuzzNormalizers } from './normalizers.js';
import { run as fuzzSimulator } from './simulator-messages.js';

type Suite = (seed: number, cases: number) => Promise<FuzzReport>;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(args[i + 1])}`);
  return v;
}

const SUITES: Record<string, Suite> = { normalizers: fuzzNormalizers, simulator: fuzzSimulator };

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const seed = option(args, '--seed', 1);
  const cases = option(args, '--cases', 1_000_000);
  const only = args.includes('--suite') ? args[args.indexOf('--suite') + 1] : undefined;
  if (only !== undefined && !Object.hasOwn(SUITES, only)) throw new Error(`--suite must be one of ${Object.keys(SUITES).join(', ')}, got ${JSON.stringify(only)}`);
  const suites: Suite[] = only === undefined ? Object.values(SUITES) : [SUITES[only]!];
  let failed = false;
  for (const suite of suites) {
    const started = performance.now();
    const r = await suite(seed, cases);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${r.name}: ${r.cases.toLocaleString('en-US')} cases (seed ${seed}) in ${seconds.toFixed(1)} s: ${r.crashes} crashes, ${r.slowCases} slow (> 100 ms), ${r.invalidValues} invalid values, slowest ${r.maxMs} ms`);
    for (const e of r.examples) console.log(`  ${e}`);
    if (r.crashes > 0 || r.slowCases > 0 || r.invalidValues > 0) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
