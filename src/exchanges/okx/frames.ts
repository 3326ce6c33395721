// The one classifier of OKX v5 public frames, used by the recorder (book instrument, exchange time) and the
// simulator (the channel of a recorded frame). Data frames carry {"arg":{"channel","instId"},"data":[...]};
// event frames (subscribe acks, errors, notices) carry "event".
import type { FrameClassifier, FrameInfo } from '../kit/frames.js';
import { isObject } from '../kit/json.js';
import type { FrameChannel, SynthChannel } from '../kit/sim-frames.js';

const CHANNELS: Record<string, SynthChannel> = {
  books: 'book',
  'books-l2-tbt': 'book',
  'books50-l2-tbt': 'book',
  trades: 'trade',
  'trades-all': 'trade',
  'bbo-tbt': 'bbo',
};

export interface OkxFrameInfo extends FrameInfo {
  /** `books` frames: the instrument, for resyncs (the channel the recorder subscribes). */
  bookInstId: string | null;
}

export function okxFrameInfo(msg: unknown): OkxFrameInfo {
  const info: OkxFrameInfo = { channel: null, symbol: null, bookInstId: null, exchMs: NaN };
  if (typeof msg !== 'object' || msg === null) return info;
  const m = msg as Record<string, unknown>;
  const arg = m.arg as Record<string, unknown> | undefined;
  if (arg && typeof arg.channel === 'string' && typeof arg.instId === 'string' && m.event === undefined) {
    info.symbol = arg.instId;
    info.channel = CHANNELS[arg.channel] ?? null;
    if (arg.channel === 'books') info.bookInstId = arg.instId;
  }
  if (Array.isArray(m.data)) {
    const ts = (m.data[0] as Record<string, unknown> | undefined)?.ts;
    if (typeof ts === 'string' && ts !== '') info.exchMs = Number(ts);
  }
  return info;
}

export function okxFrameChannel(text: string): FrameChannel | null {
  let channel: string | null = null;
  let instId: string | null = null;
  const m = /^\{"arg":\{"channel":"([^"]+)","instId":"([^"]+)"\}/.exec(text);
  if (m) {
    channel = m[1]!;
    instId = m[2]!;
  } else {
    try {
      const msg = JSON.parse(text) as unknown;
      if (isObject(msg) && msg.event === undefined && isObject(msg.arg) && typeof msg.arg.channel === 'string' && typeof msg.arg.instId === 'string') {
        channel = msg.arg.channel;
        instId = msg.arg.instId;
      }
    } catch {
      return null;
    }
  }
  const c = channel !== null ? CHANNELS[channel] : undefined;
  return c && instId !== null ? { symbol: instId, channel: c } : null;
}

export const okxFrames: FrameClassifier<OkxFrameInfo> = { info: okxFrameInfo, channelOfText: okxFrameChannel };
