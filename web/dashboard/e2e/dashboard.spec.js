// The dashboard against a real `edgectl demo` fleet (see demo-fleet.js): the devices appear, the rollout's progress
// moves, and pausing from the page holds the rollout until it is resumed from the page.
import { test, expect } from '@playwright/test';

const url = () => process.env.DASHBOARD_URL;
const deviceCount = () => Number(process.env.E2E_DEVICES || '4');

async function snapshot(request) {
  const res = await request.get(new URL('/api/snapshot', url()).toString());
  expect(res.ok()).toBeTruthy();
  return res.json();
}

async function onlyRollout(request) {
  let rollout;
  await expect.poll(async () => {
    const s = await snapshot(request);
    rollout = s.rollouts[0];
    return s.rollouts.length;
  }, { message: 'the demo publishes one rollout' }).toBe(1);
  return rollout;
}

test.describe.configure({ mode: 'serial' });

test('every demo device appears in the fleet view and comes online', async ({ page }) => {
  await page.goto(url());
  for (let i = 1; i <= deviceCount(); i++) {
    await expect(page.getByTestId(`device-row-demo-${i}`)).toBeVisible();
    await expect(page.getByTestId(`device-state-demo-${i}`)).toHaveText(/online/);
  }
  await expect(page.getByTestId('conn-indicator')).toHaveAttribute('data-state', 'live');
});

test('the rollout moves, pausing holds it, resuming finishes it', async ({ page, request }) => {
  const first = await onlyRollout(request);
  await page.goto(new URL(`#/rollouts/${encodeURIComponent(first.id)}`, url()).toString());
  await expect(page.getByTestId('rollout-state')).toBeVisible();
  await expect(page.getByTestId('wave-1')).toBeVisible();

  // Progress moves on the page: the first wave's device succeeds (passes probation) while we watch.
  await expect(page.getByTestId('wave-1')).toContainText('1 succeeded');
  await expect(page.getByTestId('rollout-state')).toHaveText(/running/);

  // Pause from the page, through the confirm dialog.
  await page.getByTestId('btn-pause').click();
  await expect(page.getByTestId('confirm-ok')).toBeVisible();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('rollout-state')).toHaveText(/paused/);
  const paused = (await snapshot(request)).rollouts[0];
  expect(paused.state).toBe('paused');

  // Held: the devices already targeted finish their probation, yet no further device is targeted.
  await expect.poll(async () => {
    const r = (await snapshot(request)).rollouts[0];
    return Object.values(r.devices).filter((d) => d.status === 'targeted').length;
  }, { message: 'targeted devices settle while paused' }).toBe(0);
  const settled = (await snapshot(request)).rollouts[0];
  await page.waitForTimeout(3000); // a running driver would target the next wave at once
  const held = (await snapshot(request)).rollouts[0];
  expect(held.state).toBe('paused');
  expect(held.currentWave).toBe(settled.currentWave);
  expect(held.counts.pending).toBe(settled.counts.pending);
  expect(held.counts.pending).toBeGreaterThan(0);

  // Resume from the page: the rollout completes with every device on the version.
  await page.getByTestId('btn-resume').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('rollout-state')).toHaveText(/running|completed/);
  await expect(page.getByTestId('rollout-state')).toHaveText(/completed/, { timeout: 150_000 });
  await expect(page.getByTestId(`wave-${first.waveSizes.length}`)).toContainText('0 pending');
  const done = (await snapshot(request)).rollouts[0];
  expect(done.counts.succeeded).toBe(deviceCount());
});

test('a device page charts its health and drift', async ({ page }) => {
  await page.goto(url());
  await page.getByTestId('device-row-demo-1').getByRole('link').first().click();
  await expect(page).toHaveURL(/#\/devices\/demo-1/);
  await expect(page.getByTestId('drift-psi')).toBeVisible();
  await expect(page.getByTestId('drift-histogram')).toBeVisible();
  if (process.env.E2E_SCREENSHOT) {
    await page.goto(url());
    await expect(page.getByTestId('device-row-demo-1')).toBeVisible();
    await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: false });
  }
});
