import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The built app is committed under the CLI project so `dotnet build` embeds it without node (see README.md).
// Fixed file names (no content hashes) keep the committed output diffable and `check-build.sh` simple; the
// server sends it with `Cache-Control: no-cache`.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../../src/EdgeAgent.Cli/Dashboard/wwwroot',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: (asset) => (asset.names?.[0]?.endsWith('.css') ? 'assets/app.css' : 'assets/[name][extname]'),
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.EDGEAGENT_DASHBOARD_URL || 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.jsx'],
    // e2e/ is Playwright's (npm run e2e), not Vitest's.
    include: ['src/**/*.test.{js,jsx}'],
  },
});
