// The one parser of exchange numbers and times (src/exchanges/kit/numbers.ts), and each normalizer refusing what
// it refuses: the problem names the field, no event is written, the frame is counted as invalid.
import { describe, expect, it } from 'vitest';
import { ProblemLog, type EventSink } from '../src/data/sink.js';
import { BinanceNormalizer } from '../src/exchanges/binance/normalizer.js';
import { BybitNormalizer } from '../src/exchanges/bybit/normalizer.js';
import { CoinbaseNormalizer } from '../src/exchanges/coinbase/normalizer.js';
import { OkxNormalizer } from '../src/exchanges/okx/normalizer.js';
import { InvalidField, millisNumber, millisString, nsInRange, priceText, sizeText, wholeNumber } from '../src/exchanges/kit/numbers.js';

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidField);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('priceText and sizeText', () => {
  it('accept plain decimal strings as the exchanges send them', () => {
    expect(['61800.20', '0.00100000', '0', '7', '0.000000000001', '123456789012345'].map((v) => priceText(v, 'p'))).toEqual([61800.2, 0.001, 0, 7, 1e-12, 123456789012345]);
    expect(['2.507', '0.00000000', '1000000', '0.000000000000000001'].map((v) => sizeText(v, 'q'))).toEqual([2.507, 0, 1e6, 1e-18]);
  });

  it('refuse every other string, naming the field', () => {
    const rejected = ['0x1F', '0b11', ' 5 ', '+5', '-5', '1e308', '1e-400', '', 'NaN', 'Infinity', '5.', '.5', '１'];
    expect(rejected.map((v) => errorOf(() => priceText(v, 'b[3][0]')))).toEqual(rejected.map((v) => `field "b[3][0]" must be a non-negative decimal string, got ${JSON.stringify(v)}`));
    expect(errorOf(() => sizeText('0x1F', 'q'))).toBe('field "q" must be a non-negative decimal string, got "0x1F"');
  });

  it('refuse numbers where the exchange sends strings', () => {
    expect(errorOf(() => priceText(61800.2, 'p'))).toBe('field "p" must be a non-negative decimal string, got 61800.2');
    expect(errorOf(() => sizeText(null, 'q'))).toBe('field "q" must be a non-negative decimal string, got null');
  });

  it('refuse a price the dataset cannot hold exactly: over 12 decimals or 15 digits', () => {
    expect(errorOf(() => priceText('0.0000000000001', 'px'))).toBe('field "px" has more digits than a dataset price holds (at most 12 decimals and 15 digits), got "0.0000000000001"');
    expect(errorOf(() => priceText('1' + '0'.repeat(308), 'px'))).toBe(`field "px" has more digits than a dataset price holds (at most 12 decimals and 15 digits), got "1${'0'.repeat(39)}…"`);
    expect(errorOf(() => priceText('61800.12345678901', 'px'))).toMatch(/^field "px" has more digits/);
    expect(priceText('61800.1234567890', 'px')).toBe(61800.123456789); // trailing zeros do not count
    expect(errorOf(() => sizeText('1234567890123456', 'sz'))).toBe('field "sz" is out of range for a size (at most 15 integer digits and 18 decimals), got "1234567890123456"');
  });
});

describe('wholeNumber and times', () => {
  it('ids are non-negative safe integers (OKX seqId may be -1)', () => {
    expect(wholeNumber(5266583935, 't')).toBe(5266583935);
    expect(errorOf(() => wholeNumber(-1, 't'))).toBe('field "t" must be a non-negative integer, got -1');
    expect(errorOf(() => wholeNumber('5', 't'))).toBe('field "t" must be a non-negative integer, got "5"');
    expect(errorOf(() => wholeNumber(2 ** 53, 'u'))).toBe('field "u" must be a non-negative integer, got 9007199254740992');
    expect(wholeNumber(-1, 'prevSeqId', -1)).toBe(-1);
    expect(errorOf(() => wholeNumber(-2, 'prevSeqId', -1))).toBe('field "prevSeqId" must be an integer >= -1, got -2');
  });

  it('ms times lie in 1970-2100 and never wrap int64 ns', () => {
    expect(millisNumber(1723161256299, 'E')).toBe(1723161256299000000n);
    expect(millisString('1652459226187', 'ts')).toBe(1652459226187000000n);
    const M = 'must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got';
    expect(errorOf(() => millisNumber(4102444800001, 'E'))).toBe(`field "E" ${M} 4102444800001`);
    expect(errorOf(() => millisNumber(9.3e15, 'T'))).toBe(`field "T" ${M} 9300000000000000`);
    expect(errorOf(() => millisNumber('1723161256299', 'T'))).toBe(`field "T" ${M} "1723161256299"`);
    const S = 'must be a string of milliseconds since 1970 (up to 4102444800000, year 2100), got';
    expect(errorOf(() => millisString('9999999999999999', 'ts'))).toBe(`field "ts" ${S} "9999999999999999"`);
    expect(errorOf(() => millisString('4102444800001', 'ts'))).toBe(`field "ts" ${S} "4102444800001"`);
    expect(errorOf(() => millisString(' 1', 'ts'))).toBe(`field "ts" ${S} " 1"`);
    expect(errorOf(() => nsInRange(-1n, 'time', '1969-12-31T23:59:59.999999999Z'))).toBe('field "time" must be a time between 1970 and 2100, got "1969-12-31T23:59:59.999999999Z"');
  });
});

/** A sink that counts rows. */
function counting(): EventSink & { rows: number } {
  const s = { rows: 0, stream: () => 0, event: () => void s.rows++, rawMessage: () => {} };
  return s;
}
const place = { source: 'hand', line: 1 };

describe('each normalizer refuses a bad number: problem names the field, no row, invalidFrames counts it', () => {
  it('Binance: a negative trade id, a hex price, a size given as a number, a time past 2100', () => {
    const sink = counting();
    const problems = new ProblemLog();
    const n = new BinanceNormalizer('binance-usdm', sink, problems);
    const trade = (over: Record<string, unknown>) => ({ stream: 'btcusdt@trade', data: { e: 'trade', E: 1723161256322, T: 1723161256322, s: 'BTCUSDT', t: 5266583935, p: '61800.30', q: '0.006', X: 'MARKET', m: false, ...over } });
    for (const over of [{ t: -5 }, { p: '0x1F' }, { q: 0.006 }, { T: 4102444800001 }]) expect(n.onMessage(1n, trade(over), place)).toBe(false);
    expect(problems.items.map((p) => p.message)).toEqual([
      'field "t" must be a non-negative integer, got -5',
      'field "p" must be a non-negative decimal string, got "0x1F"',
      'field "q" must be a non-negative decimal string, got 0.006',
      'field "T" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got 4102444800001',
    ]);
    expect([sink.rows, n.invalidFrames]).toEqual([0, 4]);
    expect(n.onMessage(1n, trade({}), place)).toBe(true);
    expect(sink.rows).toBe(1);
  });

  it('Bybit: a trade price "1e-400" (read as 0 before) and a ts beyond int64 ns', () => {
    const sink = counting();
    const problems = new ProblemLog();
    const n = new BybitNormalizer(sink, problems, 'linear');
    const trade = (p: string, ts: number) => JSON.stringify({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts, data: [{ T: 1786310818300, s: 'BTCUSDT', S: 'Buy', v: '0.001', p, i: 'a-b', BT: false }] });
    n.onMessage(1n, trade('1e-400', 1786310818301), place);
    n.onMessage(1n, trade('65140.4', 9.3e15), place);
    expect(problems.items.map((p) => p.message)).toEqual([
      'publicTrade.BTCUSDT: field "data[0].p" must be a non-negative decimal string, got "1e-400"',
      'publicTrade.BTCUSDT: field "ts" must be milliseconds since 1970 (a whole number up to 4102444800000, year 2100), got 9300000000000000',
    ]);
    expect([sink.rows, n.invalidFrames]).toEqual([0, 2]);
  });

  it('OKX: a 16-digit ts (wrapped int64 ns before) and a price with a sign', () => {
    const sink = counting();
    const problems = new ProblemLog();
    const n = new OkxNormalizer(sink, problems);
    const trade = (px: string, ts: string) => JSON.stringify({ arg: { channel: 'trades', instId: 'BTC-USDT' }, data: [{ instId: 'BTC-USDT', tradeId: '338476313', px, sz: '0.0001', side: 'buy', ts }] });
    n.onMessage(1n, trade('30000.1', '9999999999999999'), place);
    n.onMessage(1n, trade('+30000.1', '1652459226187'), place);
    expect(problems.items.map((p) => p.message)).toEqual([
      'trades BTC-USDT: field "data[0].ts" must be a string of milliseconds since 1970 (up to 4102444800000, year 2100), got "9999999999999999"',
      'trades BTC-USDT: field "data[0].px" must be a non-negative decimal string, got "+30000.1"',
    ]);
    expect([sink.rows, n.invalidFrames]).toEqual([0, 2]);
  });

  it('Coinbase: a trade size " 5 " and a time that is not ISO UTC', () => {
    const sink = counting();
    const problems = new ProblemLog();
    const n = new CoinbaseNormalizer(sink, problems);
    const trade = (seq: number, size: string, time: string) =>
      JSON.stringify({ channel: 'market_trades', timestamp: '2026-08-09T21:05:58.457292889Z', sequence_num: seq, events: [{ type: 'update', trades: [{ product_id: 'BTC-USD', trade_id: '1', price: '60000.01', size, side: 'BUY', time }] }] });
    n.onMessage(1n, trade(1, ' 5 ', '2026-08-09T21:05:58.4Z'), place);
    n.onMessage(1n, trade(2, '5', '1786309558411602000'), place);
    expect(problems.items.map((p) => p.message)).toEqual([
      'market_trades: field "events[0].trades[0].size" must be a non-negative decimal string, got " 5 "',
      'market_trades: field "events[0].trades[0].time" must be an ISO time string (2026-08-09T21:04:35.345704Z), got "1786309558411602000"',
    ]);
    expect([sink.rows, n.invalidFrames]).toEqual([0, 2]);
  });
});
