// What an OKX instId says about the instrument: BTC-USDT spot, BTC-USDT-SWAP linear perpetual,
// BTC-USD-SWAP inverse perpetual (coin-margined), BTC-USD-220527 dated future, BTC-USD-220527-30000-C option.
import type { MarketType } from '../../data/types.js';

export function okxMarket(instId: string): MarketType | null {
  const parts = instId.split('-');
  if (parts.some((p) => p === '')) return null;
  if (parts.length === 2) return 'spot';
  if (parts.length === 3 && parts[2] === 'SWAP') return parts[1] === 'USD' ? 'inverse' : 'linear';
  if (parts.length === 3 && /^\d{6}$/.test(parts[2]!)) return 'future';
  if (parts.length === 5 && /^\d{6}$/.test(parts[2]!) && (parts[4] === 'C' || parts[4] === 'P')) return 'option';
  return null;
}
