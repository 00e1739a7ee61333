// Global set-up: starts `edgectl demo` with a fleet and a slow rollout (probation per wave) and its dashboard on a
// free port, waits for the dashboard's URL line, and hands it to the tests as DASHBOARD_URL. The returned function
// stops the demo (SIGINT, as Ctrl-C) at the end.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

function edgectl() {
  if (process.env.EDGECTL) {
    return process.env.EDGECTL.split(' ').filter(Boolean);
  }
  const dll = resolve(repo, 'src/EdgeAgent.Cli/bin/Debug/net10.0/edgectl.dll');
  if (!existsSync(dll)) {
    throw new Error(`no edgectl: build it (dotnet build src/EdgeAgent.Cli) or set EDGECTL`);
  }
  return ['dotnet', dll];
}

export default async function globalSetup() {
  const [cmd, ...pre] = edgectl();
  const devices = process.env.E2E_DEVICES || '4';
  const args = [...pre, 'demo', '--devices', devices, '--probation', process.env.E2E_PROBATION || '25', '--rate', '10',
    '--dashboard', '127.0.0.1:0', '--no-open'];
  const demo = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let output = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`edgectl demo printed no dashboard URL within 90 s:\n${output}`)), 90_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/dashboard: (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    demo.stdout.on('data', onData);
    demo.stderr.on('data', onData);
    demo.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`edgectl demo exited (${code}) before printing its dashboard URL:\n${output}`));
    });
  });
  process.env.DASHBOARD_URL = url;
  process.env.E2E_DEVICES = devices;
  if (process.env.E2E_DEMO_LOG) {
    demo.stdout.on('data', (c) => writeFileSync(process.env.E2E_DEMO_LOG, c, { flag: 'a' }));
  }
  return async () => {
    if (demo.exitCode === null) {
      demo.kill('SIGINT');
      await new Promise((r) => {
        const t = setTimeout(() => { demo.kill('SIGKILL'); r(); }, 30_000);
        demo.on('exit', () => { clearTimeout(t); r(); });
      });
    }
  };
}
