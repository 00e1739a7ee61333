import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { RolloutDetail, RolloutsView } from '../components/Rollouts.jsx';
import { rollout } from './fixtures.js';

// waves: d1 | d2..d5 | d6..d10
const statuses = { d1: 'succeeded', d2: 'succeeded', d3: 'failed', d4: 'targeted', d5: 'targeted' };
const r = rollout({}, statuses);

const waveCounts = (n) => [...screen.getByTestId(`wave-${n}`).querySelectorAll('.ct')].map((e) => e.textContent);

const jsonResponse = (status, body) =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));

describe('rollout detail', () => {
  it('counts each wave from its slice of targets and the devices\' statuses', () => {
    render(<RolloutDetail rollout={r} readOnly={false} loaded />);
    expect(within(screen.getByTestId('wave-1')).getByText(/· 1 device$/)).toBeTruthy();
    expect(waveCounts(1)).toEqual(['0 pending', '0 targeted', '1 succeeded', '0 failed']);
    expect(within(screen.getByTestId('wave-2')).getByText(/· 4 devices$/)).toBeTruthy();
    expect(waveCounts(2)).toEqual(['0 pending', '2 targeted', '1 succeeded', '1 failed']);
    expect(waveCounts(3)).toEqual(['5 pending', '0 targeted', '0 succeeded', '0 failed']);
    expect(within(screen.getByTestId('wave-2')).getByText('d3').getAttribute('href')).toBe('#/devices/d3');
    expect(screen.getByTestId('rollout-state').textContent).toBe('running');
  });

  it('shows the thresholds', () => {
    render(<RolloutDetail rollout={r} readOnly={false} loaded />);
    expect(screen.getByText('90% per wave')).toBeTruthy();
    expect(screen.getByText('> 20% failed')).toBeTruthy();
  });

  it('plots the timeline counts', () => {
    const timeline = [
      { t: '2026-11-27T08:00:00Z', revision: 1, state: 'running', currentWave: 1, counts: { pending: 9, targeted: 1, succeeded: 0, failed: 0 } },
      { t: '2026-11-27T08:01:00Z', revision: 2, state: 'running', currentWave: 2, counts: { pending: 5, targeted: 3, succeeded: 1, failed: 1 } },
    ];
    render(<RolloutDetail rollout={{ ...r, timeline }} readOnly={false} loaded />);
    const chart = screen.getByTestId('rollout-timeline');
    expect(JSON.parse(chart.querySelector('[data-series="succeeded"]').dataset.values)).toEqual([0, 1]);
    expect(JSON.parse(chart.querySelector('[data-series="pending"]').dataset.values)).toEqual([9, 5]);
  });

  it('pause asks for confirmation first; cancel sends nothing', () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    render(<RolloutDetail rollout={r} readOnly={false} loaded />);
    expect(screen.queryByTestId('confirm-ok')).toBeNull();
    fireEvent.click(screen.getByTestId('btn-pause'));
    expect(screen.getByRole('dialog').textContent).toMatch(/Pause rollout r1\?/);
    fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('confirming pause POSTs with the confirm header and shows the answer', async () => {
    const fetch = vi.fn(() => jsonResponse(200, { ...r, state: 'paused', revision: 8 }));
    vi.stubGlobal('fetch', fetch);
    const onUpdated = vi.fn();
    render(<RolloutDetail rollout={r} readOnly={false} loaded onUpdated={onUpdated} />);
    fireEvent.click(screen.getByTestId('btn-pause'));
    fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(onUpdated).toHaveBeenCalled());
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/rollouts/r1/pause');
    expect(init.method).toBe('POST');
    expect(init.headers['X-EdgeAgent-Confirm']).toBe('yes');
    expect(onUpdated.mock.calls[0][0].state).toBe('paused');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('shows the server\'s error text when the operation is refused', async () => {
    vi.stubGlobal('fetch', vi.fn(() => jsonResponse(409, { error: "rollout 'r1' is completed; nothing to abort" })));
    render(<RolloutDetail rollout={r} readOnly={false} loaded />);
    fireEvent.click(screen.getByTestId('btn-abort'));
    fireEvent.click(screen.getByTestId('confirm-ok'));
    expect((await screen.findByRole('alert')).textContent).toBe("Abort failed: rollout 'r1' is completed; nothing to abort");
  });

  it('enables only what the state allows: resume when paused, nothing when completed', () => {
    const { rerender } = render(<RolloutDetail rollout={{ ...r, state: 'paused' }} readOnly={false} loaded />);
    expect(screen.getByTestId('btn-pause').disabled).toBe(true);
    expect(screen.getByTestId('btn-resume').disabled).toBe(false);
    expect(screen.getByTestId('btn-abort').disabled).toBe(false);
    rerender(<RolloutDetail rollout={{ ...r, state: 'completed' }} readOnly={false} loaded />);
    for (const b of ['btn-pause', 'btn-resume', 'btn-abort']) expect(screen.getByTestId(b).disabled).toBe(true);
  });

  it('disables every control on a read-only dashboard and says why', () => {
    render(<RolloutDetail rollout={r} readOnly loaded />);
    for (const b of ['btn-pause', 'btn-resume', 'btn-abort']) {
      const button = screen.getByTestId(b);
      expect(button.disabled).toBe(true);
      expect(button.parentElement.getAttribute('title')).toMatch(/--operator/);
    }
    expect(screen.getByText(/Read-only dashboard: start it with --operator/)).toBeTruthy();
  });

  it('says so when the rollout is unknown', () => {
    render(<RolloutDetail id="nope" rollout={undefined} readOnly loaded />);
    expect(screen.getByText("no rollout 'nope' is known to this dashboard")).toBeTruthy();
  });
});

describe('rollouts list', () => {
  it('lists rollouts with their state and links to each', () => {
    render(<RolloutsView rollouts={[r, rollout({ id: 'r0', state: 'aborted' })]} loaded />);
    const row = screen.getByTestId('rollout-row-r0');
    expect(within(row).getByText('aborted')).toBeTruthy();
    expect(within(row).getByText('r0').getAttribute('href')).toBe('#/rollouts/r0');
    expect(within(screen.getByTestId('rollout-row-r1')).getByText('2 / 3')).toBeTruthy();
  });

  it('has an empty state', () => {
    render(<RolloutsView rollouts={[]} loaded />);
    expect(screen.getByText(/no rollouts yet/)).toBeTruthy();
  });
});
