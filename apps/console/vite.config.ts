import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The console builds into dist/console, which the gateway serves at `/` (docs/console.md). */
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: {
    outDir: resolve(__dirname, '../../dist/console'),
    emptyOutDir: true,
    // no inline scripts or styles in the output: the gateway's Content-Security-Policy allows none
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
