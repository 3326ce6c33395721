// Input formats `latencylab import` understands. Each importer is loaded only when used.
import type { Importer } from './importer.js';

export const IMPORTERS: Record<string, { load: () => Promise<Importer>; description: string }> = {
  hftbacktest: {
    load: async () => (await import('./hftbacktest.js')).importHftbacktest,
    description: 'hftbacktest collector files: gzipped "<local ns> <raw JSON>" lines from Binance spot, USD-M and COIN-M',
  },
  cryptofeed: {
    load: async () => (await import('./cryptofeed.js')).importCryptofeed,
    description: 'cryptofeed raw captures: JSON lines {t, conn, ts, data} from Bybit v5, OKX v5 and Coinbase Advanced Trade',
  },
};
