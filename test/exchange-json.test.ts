// The parsing pieces every exchange shares (src/exchanges/kit/json.ts), and what a normalizer does with a
// field that is nested, huge or of the wrong type: the problem names the field, no row is written, the next
// message is read.
import { describe, expect, it } from 'vitest';
import { ProblemLog, type EventSink } from '../src/data/sink.js';
import { BinanceNormalizer } from '../src/exchanges/binance/normalizer.js';
import { shown } from '../src/exchanges/kit/json.js';

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('shown(): a received value as an error message quotes it', () => {
  it('quotes strings, numbers and small values as JSON does', () => {
    expect(shown('x')).toBe('"x"');
    expect(shown(31)).toBe('31');
    expect(shown(null)).toBe('null');
    expect(shown(undefined)).toBe('undefined');
    expect(shown(['1', 'x'])).toBe('["1","x"]');
    expect(shown({ a: 1 })).toBe('{"a":1}');
  });

  it('cuts long strings, long lists and deep nesting short', () => {
    expect(shown('a'.repeat(1_000_000))).toBe(`"${'a'.repeat(40)}…"`);
    expect(shown([1, 2, 3, 4, 5, 6])).toBe('[1,2,3,4,…]');
    expect(shown(nested(100_000))).toBe('{"a":{"a":{…}}}');
    expect(shown([[[['deep']]]])).toBe('[[[…]]]');
  });
});

describe('a Binance USD-M trade whose publish time E is bad', () => {
  const trade = (E: unknown, id: number) => ({
    stream: 'btcusdt@trade',
    data: { e: 'trade', E, T: 1723161600000, s: 'BTCUSDT', t: id, p: '61800.5', q: '0.01', m: true },
  });
  const rows: bigint[] = [];
  const sink: EventSink = {
    stream: () => 0,
    event: (_s, _local, _exch, _kind, _side, _price, _size, id) => void rows.push(id),
    rawMessage: () => {},
  };
  const problems = new ProblemLog();
  const n = new BinanceNormalizer('binance-usdm', sink, problems);

  it('is refused with the field named, whether a string, nested 100,000 deep, huge or negative, and the next trade is read', () => {
    const bad: unknown[] = ['x', nested(100_000), 'z'.repeat(20_000_000), -5, 1.5];
    bad.forEach((E, i) => expect(n.onMessage(1n, trade(E, i + 1), { source: 'hand', line: i + 1 })).toBe(false));
    expect(rows).toEqual([]);
    expect(problems.items.map((p) => p.message)).toEqual([
      'field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got "x"',
      'field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got {"a":{"a":{…}}}',
      `field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got "${'z'.repeat(40)}…"`,
      'field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got -5',
      'field "E" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got 1.5',
    ]);
    expect(n.onMessage(1n, trade(1723161600003, 9), { source: 'hand', line: 9 })).toBe(true);
    expect(rows).toEqual([9n]);
  });
});

describe('exchange error replies with a nested code or message', () => {
  const nestedArray = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  it('OKX and Coinbase quote them short instead of overflowing the stack (String() of a deep array recurses)', async () => {
    const { OkxNormalizer } = await import('../src/exchanges/okx/normalizer.js');
    const { CoinbaseNormalizer } = await import('../src/exchanges/coinbase/normalizer.js');
    const sink: EventSink = { stream: () => 0, event: () => {}, rawMessage: () => {} };
    const problems = new ProblemLog();
    new OkxNormalizer(sink, problems).onMessage(1n, { event: 'error', code: nestedArray(100_000), msg: 'x'.repeat(1000) }, { source: 'hand', line: 1 });
    new CoinbaseNormalizer(sink, problems).onMessage(1n, { type: 'error', message: nestedArray(100_000) }, { source: 'hand', line: 2 });
    expect(problems.items).toEqual([
      { place: 'hand:1', message: `OKX error [[[…]]]: ${'x'.repeat(200)}` },
      { place: 'hand:2', message: 'Coinbase error: [[[…]]]' },
    ]);
  });
});
