// End-to-end test of the dashboard against a real `edgectl demo` fleet in headless Chromium (Debian's `chromium`
// package; Playwright's own browser downloads are never used). EDGECTL names the edgectl to run (default: the
// Debug build of src/EdgeAgent.Cli, run with `dotnet`); tests/EdgeAgent.Cli.Tests runs this suite in `dotnet test`.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './e2e',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './e2e/demo-fleet.js',
  outputDir: process.env.E2E_OUTPUT_DIR || 'test-results',
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: process.env.CHROMIUM || '/usr/bin/chromium' },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
