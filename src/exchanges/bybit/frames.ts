// The one classifier of Bybit v5 public frames, used by the recorder (book topic, symbol, exchange time) and
// the simulator (the channel of a recorded frame). A frame's topic says it all: orderbook.{depth}.{symbol}
// (depth 1 is the best bid/offer), publicTrade.{symbol}.
import type { FrameClassifier, FrameInfo } from '../kit/frames.js';
import { isObject } from '../kit/json.js';
import type { FrameChannel, SynthChannel } from '../kit/sim-frames.js';
import { splitTopic } from './messages.js';

export interface BybitFrameInfo extends FrameInfo {
  /** orderbook.N (N > 1) frames: the book topic, for resyncs. */
  bookTopic: string | null;
}

/** The dataset channel a topic feeds, or null. */
export function bybitTopicChannel(topic: string): SynthChannel | null {
  const { channel, args, symbol } = splitTopic(topic);
  if (symbol === '') return null;
  if (channel === 'publicTrade') return 'trade';
  if (channel === 'orderbook') return args[0] === '1' ? 'bbo' : 'book';
  return null;
}

export function bybitFrameInfo(msg: unknown): BybitFrameInfo {
  const info: BybitFrameInfo = { channel: null, bookTopic: null, symbol: null, exchMs: NaN };
  if (typeof msg !== 'object' || msg === null) return info;
  const m = msg as Record<string, unknown>;
  // Matching-engine time cts, else ts; trades: the first trade's T.
  info.exchMs = typeof m.cts === 'number' ? m.cts : typeof m.ts === 'number' ? m.ts : NaN;
  if (typeof m.topic === 'string') {
    const parts = m.topic.split('.');
    info.symbol = parts[parts.length - 1] ?? null;
    info.channel = bybitTopicChannel(m.topic);
    if (info.channel === 'book') info.bookTopic = m.topic;
    if (parts[0] === 'publicTrade' && Array.isArray(m.data) && typeof (m.data[0] as Record<string, unknown> | undefined)?.T === 'number') {
      info.exchMs = (m.data[0] as Record<string, number>).T!;
    }
  }
  return info;
}

export function bybitFrameChannel(text: string): FrameChannel | null {
  let topic: string | null = /^\{"topic":"([^"]+)"/.exec(text)?.[1] ?? null;
  if (topic === null) {
    try {
      const msg = JSON.parse(text) as unknown;
      if (isObject(msg) && typeof msg.topic === 'string') topic = msg.topic;
    } catch {
      return null;
    }
  }
  if (topic === null) return null;
  const channel = bybitTopicChannel(topic);
  return channel === null ? null : { symbol: splitTopic(topic).symbol, channel };
}

export const bybitFrames: FrameClassifier<BybitFrameInfo> = { info: bybitFrameInfo, channelOfText: bybitFrameChannel };
