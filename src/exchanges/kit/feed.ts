// What the recorder needs to know about an exchange's public feed; each src/exchanges/<x>/feed.ts fills it.

export type StreamKind = 'trade' | 'depth' | 'bbo';
export const STREAM_KINDS: readonly StreamKind[] = ['trade', 'depth', 'bbo'];

/** One WebSocket connection: where to connect and what to send once it is open. */
export interface ConnectionPlan {
  url: string;
  /** Symbols (as the exchange writes them) whose data this connection carries. */
  symbols: string[];
  /** Frames to send after the socket opens (subscriptions); empty when the URL subscribes (Binance). */
  subscribe: string[];
}
