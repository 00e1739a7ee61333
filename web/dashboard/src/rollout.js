// Rollout helpers (pure).

export const DEVICE_STATUSES = ['pending', 'targeted', 'succeeded', 'failed'];

/** A rollout device entry's status (`status` as RolloutDevice serializes it; `state` accepted too). */
export const deviceStatus = (entry) => entry?.status ?? entry?.state ?? 'pending';

/**
 * Waves with their devices and counts by status: wave i (1-based) holds targets[waveSizes[i-2] .. waveSizes[i-1]).
 */
export function waveBreakdown(rollout) {
  const targets = rollout.targets ?? [];
  const sizes = rollout.waveSizes ?? [];
  const devices = rollout.devices ?? {};
  let start = 0;
  return sizes.map((end, i) => {
    const ids = targets.slice(start, end);
    start = end;
    const counts = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0]));
    for (const id of ids) {
      const s = deviceStatus(devices[id]);
      counts[s in counts ? s : 'pending']++;
    }
    return { n: i + 1, plan: rollout.waves?.[i] ?? String(end), devices: ids, counts };
  });
}

export const isFinal = (state) => state === 'completed' || state === 'aborted';

/** Which controls make sense in a state, and why the others do not. */
export function controlAvailability(state) {
  if (isFinal(state)) {
    const why = `the rollout is ${state}`;
    return { pause: why, resume: why, abort: why };
  }
  return {
    pause: state === 'running' ? null : `the rollout is ${state}`,
    resume: state === 'paused' ? null : `the rollout is ${state}`,
    abort: null,
  };
}

export const percent = (fraction) =>
  fraction == null ? '—' : `${Math.round(Number(fraction) * 1000) / 10}%`;
