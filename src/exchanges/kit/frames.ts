// What one exchange frame is, as the recorder (lag, book sync) and the simulator (which recorded channel a
// frame replays) need to know it. Each exchange's frames.ts is the one classifier of its frames.
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
