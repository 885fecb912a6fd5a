import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react-swc';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where `npm run console:dev` sends API calls: a running `agent-bom api` (default port 8422). */
const apiTarget = process.env.AGENT_BOM_CONSOLE_API ?? 'http://127.0.0.1:8422';

/**
 * The console builds to dist/console, which the control plane serves at `/`. No inline scripts are emitted
 * (the server's CSP forbids them) and no source maps ship. Dev mode proxies the API so cookies stay same-origin.
 */
export default defineConfig({
  root: here,
  base: '/',
  // plugin-react-swc, not plugin-react 6: the latter's optional babel peers do not resolve with jest's babel 7.
  plugins: [react({ disableOxcRecommendation: true })],
  build: {
    outDir: path.resolve(here, '../../dist/console'),
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 700,
  },
  server: {
    port: Number(process.env.AGENT_BOM_CONSOLE_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: Object.fromEntries(
      ['/v1', '/healthz', '/readyz', '/docs'].map((prefix) => [
        prefix,
        { target: apiTarget, changeOrigin: false },
      ]),
    ),
  },
});
