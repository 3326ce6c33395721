// The one classifier of Binance frames (spot, USD-M, COIN-M), used by the normalizer (which event a
// payload is), the recorder (symbol, depth ids, exchange time) and the simulator (the channel of a
// recorded frame). The combined stream wraps each payload as {"stream": name, "data": payload}.
import type { FrameClassifier, FrameInfo } from '../kit/frames.js';
import type { FrameChannel, SynthChannel } from '../kit/sim-frames.js';

/** What a payload is. 'ignored': a market stream the dataset does not model, or an ack/notice. */
export type BinanceEvent = 'depth' | 'trade' | 'bbo' | 'snapshot' | 'ignored' | 'unknown';

/** The payload of a frame: `data` of the combined-stream wrapper, else the frame itself. */
export function binancePayload(m: Record<string, unknown>): unknown {
  return m.data !== undefined && typeof m.stream === 'string' ? m.data : m;
}

export function binanceEvent(d: Record<string, unknown>): BinanceEvent {
  const e = d.e;
  if (e === 'depthUpdate') return 'depth';
  if (e === 'trade') return 'trade';
  // Spot bookTicker payloads carry no "e".
  if (e === 'bookTicker' || (e === undefined && 'b' in d && 'a' in d && 'u' in d && !('U' in d))) return 'bbo';
  if ('lastUpdateId' in d) return 'snapshot';
  if (e === 'serverShutdown' || e === 'aggTrade' || e === 'markPriceUpdate' || e === 'forceOrder' || e === 'kline') return 'ignored';
  if ('result' in d && 'id' in d) return 'ignored'; // subscription ack
  return 'unknown';
}

const CHANNEL: Partial<Record<BinanceEvent, SynthChannel>> = { depth: 'book', trade: 'trade', bbo: 'bbo' };

export interface BinanceFrameInfo extends FrameInfo {
  /** depthUpdate U/u (u also for bookTicker); NaN otherwise. */
  U: number;
  u: number;
}

export function binanceFrameInfo(msg: unknown): BinanceFrameInfo {
  const info: BinanceFrameInfo = { channel: null, symbol: null, U: NaN, u: NaN, exchMs: NaN };
  if (typeof msg !== 'object' || msg === null) return info;
  const p = binancePayload(msg as Record<string, unknown>);
  if (typeof p !== 'object' || p === null) return info;
  const d = p as Record<string, unknown>;
  if (typeof d.s === 'string') info.symbol = d.s;
  info.exchMs = typeof d.T === 'number' ? d.T : typeof d.E === 'number' ? d.E : NaN;
  const ev = binanceEvent(d);
  info.channel = CHANNEL[ev] ?? null;
  if (ev === 'depth') info.U = typeof d.U === 'number' ? d.U : NaN;
  if (ev === 'depth' || ev === 'bbo') info.u = typeof d.u === 'number' ? d.u : NaN;
  return info;
}

/** The key a recorded stream and a client's subscription meet on: any depth diff speed is one stream. */
export function binanceStreamKey(name: string): string {
  const lower = name.toLowerCase();
  const at = lower.indexOf('@');
  if (at < 0) return lower;
  const channel = lower.slice(at + 1);
  if (/^depth(@\d+ms)?$/.test(channel)) return `${lower.slice(0, at)}@depth`;
  return lower;
}

/** The stream a bare (unwrapped) payload belongs to, or null for acks and notices. */
export function binanceStreamOfPayload(d: Record<string, unknown>): string | null {
  const sym = typeof d.s === 'string' ? d.s.toLowerCase() : null;
  if (sym === null) return null;
  switch (d.e) {
    case 'depthUpdate':
      return `${sym}@depth`;
    case 'trade':
      return `${sym}@trade`;
    case 'aggTrade':
      return `${sym}@aggTrade`;
    case 'bookTicker':
      return `${sym}@bookTicker`;
    case 'markPriceUpdate':
      return `${sym}@markPrice`;
    case 'kline': {
      const k = d.k as Record<string, unknown> | undefined;
      return typeof k?.i === 'string' ? `${sym}@kline_${k.i}` : null;
    }
    case undefined:
      return 'u' in d && 'b' in d && 'a' in d ? `${sym}@bookTicker` : null;
    default:
      return null;
  }
}

/** Channel of a stream key's suffix (keys are lower case). */
const CHANNEL_OF_STREAM: Record<string, SynthChannel> = { depth: 'book', trade: 'trade', bookticker: 'bbo' };

/** A recorded frame's symbol and channel, from the stream name or the payload's leading fields. */
export function binanceFrameChannel(text: string): FrameChannel | null {
  let name: string | null = null;
  const m = /^\{"stream":"([^"]+)"/.exec(text);
  if (m) name = m[1]!;
  else {
    const e = /^\{"e":"(\w+)","E":\d+,(?:"T":\d+,)?"s":"([^"]+)"/.exec(text) ?? /^\{"u":\d+,"s":"([^"]+)"/.exec(text);
    if (e && e.length === 3) name = `${e[2]!.toLowerCase()}@${e[1] === 'depthUpdate' ? 'depth' : e[1]!}`;
    else if (e) name = `${e[1]!.toLowerCase()}@bookTicker`;
    else {
      try {
        const msg = JSON.parse(text) as unknown;
        if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) name = binanceStreamOfPayload(msg as Record<string, unknown>);
      } catch {
        return null; // a prefix, or a malformed frame
      }
    }
  }
  if (name === null) return null;
  const key = binanceStreamKey(name);
  const at = key.indexOf('@');
  const channel = at > 0 ? CHANNEL_OF_STREAM[key.slice(at + 1)] : undefined;
  return channel ? { symbol: key.slice(0, at).toUpperCase(), channel } : null;
}

export const binanceFrames: FrameClassifier<BinanceFrameInfo> = { info: binanceFrameInfo, channelOfText: binanceFrameChannel };
