// OKX v5 public feeds for the recorder: wss://ws.okx.com:8443/ws/v5/public.
//
// Subscriptions: {"id":"1","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},
// {"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"}]}. OKX closes a
// connection that pushed nothing for 30 s: the client sends the text "ping" when it has received nothing
// for 20 s and expects "pong". Books come as a snapshot on subscribe, then updates; resubscribing brings
// a fresh snapshot.
import type { ConnectionPlan, StreamKind } from '../kit/feed.js';

export const OKX_WS_ROOT = 'wss://ws.okx.com:8443';
export const OKX_PATH = '/ws/v5/public';
export const OKX_PING = 'ping';
export const OKX_PING_INTERVAL_MS = 20_000;
/** OKX recommends fewer than 30 depth channels per connection. */
const SYMBOLS_PER_CONNECTION = 20;

export interface OkxArg {
  channel: string;
  instId: string;
}

export function okxArgs(instId: string, kinds: readonly StreamKind[]): OkxArg[] {
  return kinds.map((k) => ({ channel: k === 'trade' ? 'trades' : k === 'depth' ? 'books' : 'bbo-tbt', instId }));
}

let reqId = 0;
export function okxRequest(op: 'subscribe' | 'unsubscribe', args: OkxArg[]): string {
  return JSON.stringify({ id: String(++reqId), op, args });
}

export function okxPlan(instIds: string[], kinds: readonly StreamKind[], root = OKX_WS_ROOT): ConnectionPlan[] {
  const url = root.replace(/\/+$/, '') + OKX_PATH;
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < instIds.length; i += SYMBOLS_PER_CONNECTION) {
    const group = instIds.slice(i, i + SYMBOLS_PER_CONNECTION).map((s) => s.toUpperCase());
    plans.push({ url, symbols: group, subscribe: [okxRequest('subscribe', group.flatMap((s) => okxArgs(s, kinds)))] });
  }
  return plans;
}

export function isOkxPong(text: string): boolean {
  return text === 'pong';
}
