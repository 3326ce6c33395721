// What one exchange frame is, as the recorder (lag, book sync) and the simulator (which recorded channel a
// frame replays) need to know it. Each exchange's frames.ts is the one classifier of its frames.
import { Flag } from '../../data/types.js';
import type { FrameChannel, SynthChannel } from './sim-frames.js';

export interface FrameInfo {
  /** The dataset channel the frame feeds; null for acks, notices and channels the dataset does not model. */
  channel: SynthChannel | null;
  /** As the exchange writes it (BTCUSDT, BTC-USDT); null if the frame names none. */
  symbol: string | null;
  /** Exchange time in ms, NaN if the frame has none. */
  exchMs: number;
}

/** The classifier an adapter offers: over a parsed frame, and over a frame's text (the simulator's raw scan). */
export interface FrameClassifier<I extends FrameInfo = FrameInfo> {
  info(msg: unknown): I;
  /** A recorded frame's symbol (upper case) and channel, read cheaply from its text where the layout allows. */
  channelOfText(text: string): FrameChannel | null;
}

/**
 * The flags of the Gap row (reason BadInput) that a frame the normalizer refused leaves on its stream, so the
 * loss is flagged, never silent (the raw row keeps the frame): null for a best bid/offer frame (it changes no
 * book), TradeGap for a trade frame (books unaffected; the trade-id jump after it is explained), else a full
 * gap (the book is unknown until the next snapshot). `channel` is what channelOfText read (null: unknown).
 */
export function refusedFrameGapFlags(channel: FrameChannel | null): number | null {
  if (channel?.channel === 'bbo') return null;
  return Flag.MessageEnd | Flag.NoExchangeTime | (channel?.channel === 'trade' ? Flag.TradeGap : 0);
}
