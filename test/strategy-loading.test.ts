// Loading a strategy (--strategy <name|path>) and what a user reads when its code fails: the file and place of
// a syntax error, the callback, simulated time and the strategy's own line of a throw, what an export lacks,
// and which strategy a name means when the working folder holds a file of that name.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { frameIn, guardStrategy, strategyFailure, StrategyError } from '../src/engine/strategy-errors.js';
import { strategyFile, syntaxErrorAt } from '../src/engine/session.js';
import type { Context, Strategy } from '../src/strategy/api.js';
import { tempDir } from './helpers.js';

const root = path.resolve(__dirname, '..');
const DATASET = path.join(root, 'datasets/binance-2024-08-08');
const cli = (cwd: string, ...args: string[]) =>
  spawnSync('node', [path.join(root, 'bin/latencylab.js'), ...args], { encoding: 'utf8', cwd });
/** importStrategy in plain Node (vitest's own module loader would parse the file itself): its error, or "loaded". */
const load = (file: string): string => {
  const session = JSON.stringify(path.join(root, 'dist/src/engine/session.js'));
  const script = `import(${session}).then((s) => s.importStrategy(${JSON.stringify(file)})).then(() => console.log('loaded'), (e) => console.log(e.message))`;
  return spawnSync('node', ['-e', script], { encoding: 'utf8' }).stdout.trimEnd();
};

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
}, 120_000);

const HEAD = `export default {
  name: 'NAME',
  description: 'a test strategy',
  params: {},
  venues: () => [{ exchange: 'binance-usdm', symbol: 'BTCUSDT' }],
`;

function write(dir: string, file: string, text: string): string {
  const f = path.join(dir, file);
  fs.writeFileSync(f, text);
  return f;
}

describe('a strategy that throws', () => {
  it('names the strategy, its file, the callback, the simulated time and its own line', () => {
    const dir = tempDir();
    const file = write(
      dir,
      'thrower.mjs',
      HEAD.replace('NAME', 'thrower') +
        `  create: () => {
    let books = 0;
    const state = {};
    return {
      onBook(ctx, v) {
        if (++books === 3) return state.missing.x;
      },
    };
  },
};
`,
    );
    const r = cli(dir, 'replay', '--dataset', DATASET, '--strategy', file);
    expect(r.status).toBe(1);
    // Line 11, column 49 is the `x` of `state.missing.x`; the third valid book of binance-usdm BTCUSDT reaches
    // the strategy 16.567 s after 23:54:00 at --latency 0.
    expect(r.stderr).toBe(
      `latencylab: strategy "thrower" (${file}) failed in onBook at simulated time 2024-08-08T23:54:16.567000000Z (1723161256567000000 ns): ` +
        `TypeError: Cannot read properties of undefined (reading 'x')\n    at ${file}:11:49\n`,
    );
  });

  it('an error the engine raises for a bad request points at the strategy line that made it', () => {
    const dir = tempDir();
    const file = write(
      dir,
      'bad-cancel.mjs',
      HEAD.replace('NAME', 'bad-cancel') +
        `  create: () => ({
    onStart(ctx) {
      ctx.setTimer(ctx.now() + 1e9, 'later');
    },
    onTimer(ctx, id) {
      ctx.cancel(42);
    },
  }),
};
`,
    );
    const r = cli(dir, 'replay', '--dataset', DATASET, '--strategy', file, '--latency', '1ms');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^latencylab: strategy "bad-cancel" \(.*bad-cancel\.mjs\) failed in onTimer at simulated time 2024-08-08T\d\d:\d\d:\d\d\.\d{9}Z \(\d{19} ns\): cancel: no order 42\n/);
    expect(r.stderr).toContain(`    at ${file}:11:11\n`);
  });

  it('create() refusing its parameters says so (sweep and replay alike)', () => {
    const r = cli(root, 'replay', '--strategy', 'ma-crossover', '--param', 'fast=70');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^latencylab: strategy "ma-crossover" \(.*dist\/strategies\/ma-crossover\.js\) failed in create\(\): parameter "fast" \(70\) must be below "slow" \(60\)\n    at .*dist\/strategies\/ma-crossover\.js:\d+:\d+\n$/);
  });
});

describe('a strategy file that does not load', () => {
  it('a syntax error gives file:line:column', () => {
    const dir = tempDir();
    const file = write(dir, 'broken.mjs', `export default {\n  name: 'broken',\n  params: {}\n  create() { return {}; },\n};\n`);
    const r = cli(dir, 'replay', '--dataset', DATASET, '--strategy', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`latencylab: strategy ${file}:4:3: SyntaxError: Unexpected identifier 'create'\n`);
    // A .js file with ES module syntax (module detection) is located the same way.
    const js = write(dir, 'broken.js', `import x from './nothing.mjs';\nconst a = 1;\nexport default { a b };\n`);
    expect(load(js)).toBe(`strategy ${js}:3:20: SyntaxError: Unexpected identifier 'b'`);
    expect(syntaxErrorAt(path.join(root, 'strategies/README.md'))).toMatch(/README\.md:1:\d+: SyntaxError: /);
  });

  it('a syntax error in a module it imports: the file itself parses, and the message says so', () => {
    const dir = tempDir();
    write(dir, 'helper.mjs', 'export const x = ;\n');
    const file = write(dir, 'uses-helper.mjs', `import { x } from './helper.mjs';\nexport default { x };\n`);
    expect(load(file)).toBe(`strategy ${file}: SyntaxError: Unexpected token ';' (the file itself parses: the error is in a module it imports, or in a name it imports)`);
  });

  it('a throw in its top-level code names the file and line', () => {
    const dir = tempDir();
    const file = write(dir, 'top.mjs', `const config = undefined;\nconst size = config.size;\nexport default {};\n`);
    const r = cli(dir, 'replay', '--dataset', DATASET, '--strategy', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`latencylab: strategy ${file}: loading it failed: TypeError: Cannot read properties of undefined (reading 'size')\n    at ${file}:2:21\n`);
  });

  it('an export that is not a strategy says what it lacks; the top-level code has run by then (documented)', () => {
    const dir = tempDir();
    const ran = path.join(dir, 'top-level-ran');
    const none = write(dir, 'none.mjs', `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(ran)}, 'yes');\nexport const strategy = {};\nexport const other = 1;\n`);
    expect(load(none)).toBe(
      `strategy ${none}: it has no default export (its exports: other, strategy); the default export must be a strategy made with defineStrategy({ name, description, params, venues, create })`,
    );
    expect(fs.readFileSync(ran, 'utf8')).toBe('yes');
    const partial = write(dir, 'partial.mjs', `export default { name: 'p', params: {}, venues: 3 };\n`);
    expect(load(partial)).toContain(`strategy ${partial}: its default export lacks venues (a function), create (a function);`);
    const num = write(dir, 'num.mjs', `export default 7;\n`);
    expect(load(num)).toContain(`strategy ${num}: its default export is a number, not an object;`);
  });
});

describe('which strategy a name means', () => {
  const shadow = HEAD.replace('NAME', 'shadow') + `  create: () => ({}),\n};\n`;

  it('a bare name is always the built-in, even with a file of that name in the working folder', () => {
    const dir = tempDir();
    write(dir, 'market-maker.js', shadow);
    write(dir, 'package.json', '{"type": "module"}\n');
    const builtin = cli(dir, 'replay', '--dataset', DATASET, '--strategy', 'market-maker', '--json');
    expect(builtin.status).toBe(0);
    expect(JSON.parse(builtin.stdout).strategy).toBe('market-maker');
    // A path means the file.
    const own = cli(dir, 'replay', '--dataset', DATASET, '--strategy', './market-maker.js', '--json');
    expect(own.status).toBe(0);
    expect(JSON.parse(own.stdout).strategy).toBe('shadow');
  }, 60_000);

  it('a built-in name with .js and no folder is refused as ambiguous, with both spellings', () => {
    const dir = tempDir();
    write(dir, 'market-maker.js', shadow);
    const r = cli(dir, 'replay', '--dataset', DATASET, '--strategy', 'market-maker.js');
    expect(r.status).toBe(1);
    expect(fs.realpathSync(dir)).toBeTruthy();
    expect(r.stderr).toBe(
      `latencylab: --strategy market-maker.js is ambiguous: write --strategy market-maker for the built-in strategy, or --strategy ./market-maker.js for the file in ${fs.realpathSync(dir)}\n`,
    );
  });

  it('an unknown bare name lists the built-ins; a missing path is named', () => {
    expect(() => strategyFile('no-such-strategy')).toThrow(/^unknown strategy "no-such-strategy" \(built in: .*; or give a path to a \.js module\)$/);
    expect(() => strategyFile('./nope.js')).toThrow(`strategy file not found: ${path.resolve('nope.js')}`);
  });
});

describe('guardStrategy', () => {
  const origin = { name: 'unit', file: '/strategies/unit.js', originNs: 1_723_161_240_000_000_000n };
  const ctxAt = (nowNs: number) => ({ now: () => nowNs }) as unknown as Context;

  it('has exactly the callbacks the strategy has, own or inherited, and calls them with the strategy as this', () => {
    class Counter implements Strategy {
      books = 0;
      onBook(): void {
        this.books++;
      }
    }
    const inner = new Counter();
    const g = guardStrategy(inner, origin);
    expect(Object.keys(g)).toEqual(['onBook']);
    expect(g.onTrade).toBeUndefined();
    g.onBook!(ctxAt(0), 0);
    g.onBook!.call(g, ctxAt(0), 0);
    expect(inner.books).toBe(2);
    expect(Object.keys(guardStrategy({ onStart() {}, onEnd: () => {}, helper() {} } as Strategy, origin))).toEqual(['onStart', 'onEnd']);
  });

  it('rethrows with the callback, the time (origin + strategy clock) and the thrown value', () => {
    const g = guardStrategy({ onTimer: () => { throw 'plain string'; } }, origin); // prettier-ignore
    let caught: unknown;
    try {
      g.onTimer!(ctxAt(1_500_000), 't');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StrategyError);
    expect((caught as StrategyError).callback).toBe('onTimer');
    expect((caught as StrategyError).cause).toBe('plain string');
    expect((caught as Error).message).toBe('strategy "unit" (/strategies/unit.js) failed in onTimer at simulated time 2024-08-08T23:54:00.001500000Z (1723161240001500000 ns): threw "plain string"');
  });

  it('does not wrap twice, and finds the strategy frame among others', () => {
    const first = strategyFailure(new RangeError('r'), 'onBook', origin, NaN);
    expect(first.message).toBe('strategy "unit" (/strategies/unit.js) failed in onBook: RangeError: r');
    expect(strategyFailure(first, 'onEnd', origin, 0)).toBe(first);
    const stack = 'Error: x\n    at StrategyContext.cancel (file:///app/dist/src/engine/strategy-context.js:105:19)\n    at Object.onTimer (file:///strategies/unit.js:7:11)\n    at /strategies/unit.js:9:1';
    expect(frameIn(stack, '/strategies/unit.js')).toBe('/strategies/unit.js:7:11');
    expect(frameIn(stack, '/strategies/other.js')).toBeUndefined();
  });
});
