// Bybit v5 public feeds for the recorder: wss://stream.bybit.com/v5/public/{spot,linear}.
//
// Subscriptions: {"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT","orderbook.1.BTCUSDT","publicTrade.BTCUSDT"]}
// (spot takes at most 10 args per request). The client sends {"op":"ping"} every 20 s; the server answers
// {"success":true,"ret_msg":"pong",...,"op":"ping"} and cuts connections idle for 10 min. Books come as a
// snapshot on subscribe, then deltas; resubscribing a topic brings a fresh snapshot.
import type { ConnectionPlan, StreamKind } from '../kit/feed.js';
import type { BybitMarket } from './normalizer.js';

export const BYBIT_WS_ROOT = 'wss://stream.bybit.com';
export const BYBIT_PATH: Record<BybitMarket, string> = { spot: '/v5/public/spot', linear: '/v5/public/linear' };
export const BYBIT_PING = '{"op":"ping"}';
export const BYBIT_PING_INTERVAL_MS = 20_000;
export const BYBIT_BOOK_DEPTHS = [50, 200] as const;
export type BybitBookDepth = (typeof BYBIT_BOOK_DEPTHS)[number];

const ARGS_PER_REQUEST = 10;
/** Topics per connection (the args string is capped at 21 000 characters per connection). */
const TOPICS_PER_CONNECTION = 300;

export function bybitTopics(symbol: string, kinds: readonly StreamKind[], depth: BybitBookDepth = 50): string[] {
  const s = symbol.toUpperCase();
  return kinds.map((k) => (k === 'trade' ? `publicTrade.${s}` : k === 'depth' ? `orderbook.${depth}.${s}` : `orderbook.1.${s}`));
}

let reqId = 0;
export function bybitRequest(op: 'subscribe' | 'unsubscribe', args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += ARGS_PER_REQUEST) {
    out.push(JSON.stringify({ req_id: String(++reqId), op, args: args.slice(i, i + ARGS_PER_REQUEST) }));
  }
  return out;
}

export function bybitPlan(market: BybitMarket, symbols: string[], kinds: readonly StreamKind[], depth: BybitBookDepth = 50, root = BYBIT_WS_ROOT): ConnectionPlan[] {
  const url = root.replace(/\/+$/, '') + BYBIT_PATH[market];
  const perSymbol = Math.max(1, kinds.length);
  const symbolsPerConn = Math.max(1, Math.floor(TOPICS_PER_CONNECTION / perSymbol));
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += symbolsPerConn) {
    const group = symbols.slice(i, i + symbolsPerConn).map((s) => s.toUpperCase());
    plans.push({ url, symbols: group, subscribe: bybitRequest('subscribe', group.flatMap((s) => bybitTopics(s, kinds, depth))) });
  }
  return plans;
}

/** The pong (spot and linear differ in fields; both say ret_msg "pong" or op "pong"). */
export function isBybitPong(text: string): boolean {
  return text.length < 300 && /"ret_msg"\s*:\s*"pong"|"op"\s*:\s*"pong"/.test(text);
}
