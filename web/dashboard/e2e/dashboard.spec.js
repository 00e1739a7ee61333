// The dashboard against a real `edgectl demo` fleet (see demo-fleet.js): the devices appear, the rollout's progress
// moves, and pausing from the page holds the rollout until it is resumed from the page.
import { test, expect } from '@playwright/test';

const url = () => process.env.DASHBOARD_URL;
// E2E_SCREENSHOTS=DIR saves fleet.png, rollout.png and device.png there (the README's pictures).
const shot = async (page, name) => {
  if (process.env.E2E_SCREENSHOTS) {
    await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/${name}.png` });
  }
};
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

test('pausing from the page holds the rollout; resuming moves it to completion', async ({ page, request }) => {
  const first = await onlyRollout(request);
  await page.goto(new URL(`#/rollouts/${encodeURIComponent(first.id)}`, url()).toString());
  await expect(page.getByTestId('rollout-state')).toBeVisible();
  await expect(page.getByTestId('wave-1')).toBeVisible();

  // Wave 1 is under way: its one device is targeted (on probation), the rest wait.
  await expect(page.getByTestId('wave-1')).toContainText('1 targeted');
  await expect(page.getByTestId('rollout-state')).toHaveText(/running/);

  // Pause from the page, through the confirm dialog.
  await page.getByTestId('btn-pause').click();
  await expect(page.getByTestId('confirm-ok')).toBeVisible();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('rollout-state')).toHaveText(/paused/);
  expect((await snapshot(request)).rollouts[0].state).toBe('paused');

  // Held: the canary finishes its probation and serves the new version, yet no further wave starts.
  await expect.poll(async () => {
    const d = (await snapshot(request)).devices.find((x) => x.device === first.targets[0]);
    return d?.models?.find((m) => m.name === first.model)?.state;
  }, { message: 'the canary becomes Active while the rollout is paused' }).toBe('Active');
  await page.waitForTimeout(3000); // a running driver would start wave 2 at once
  const held = (await snapshot(request)).rollouts[0];
  expect(held.state).toBe('paused');
  expect(held.currentWave).toBe(1);
  expect(held.counts.pending).toBe(deviceCount() - 1);
  await expect(page.getByTestId('wave-2')).toContainText(`${first.waveSizes[1] - first.waveSizes[0]} pending`);

  // Resume from the page: the rollout completes with every device on the version.
  await page.getByTestId('btn-resume').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('rollout-state')).toHaveText(/running|completed/);
  // Progress moves on the page: wave 1 succeeds, the next waves are targeted, and the rollout completes.
  await expect(page.getByTestId('wave-1')).toContainText('1 succeeded');
  await expect(page.getByTestId('wave-2')).not.toContainText(`${first.waveSizes[1] - first.waveSizes[0]} pending`);
  await shot(page, 'rollout');
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
  await shot(page, 'device');
  await page.goto(url());
  await expect(page.getByTestId('device-row-demo-1')).toBeVisible();
  await shot(page, 'fleet');
});
