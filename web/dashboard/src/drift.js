// Drift helpers for the device view (pure).

export const STATS = ['psi', 'js', 'ks'];

export const modelKey = (w) => `${w.model}@${w.version}`;

/** model@version keys seen in windows or baselines, the latest window's first. */
export function driftModels(windows, baselines) {
  const keys = [];
  for (let i = windows.length - 1; i >= 0; i--) {
    const k = modelKey(windows[i]);
    if (!keys.includes(k)) keys.push(k);
  }
  for (const k of Object.keys(baselines ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** The model's windows, oldest first: `window` reports (an alert repeats its window), or all when there are none. */
export function modelWindows(windows, key) {
  const mine = windows.filter((w) => modelKey(w) === key);
  const plain = mine.filter((w) => w.kind !== 'alert');
  return plain.length ? plain : mine;
}

export const entriesOf = (x) => [...(x?.features ?? []), ...(x?.outputs ?? [])];

export const findEntry = (x, name) => entriesOf(x).find((e) => e.name === name) ?? null;

/** Raise/clear lines of one statistic from a baseline's thresholds ({raise, clear}; {drift, warn} accepted). */
export function thresholdLines(baseline, stat) {
  const t = baseline?.thresholds?.[stat];
  if (!t) return [];
  const lines = [];
  const raise = t.raise ?? t.drift;
  const clear = t.clear ?? t.warn;
  if (typeof raise === 'number') lines.push({ label: `raise ${raise}`, value: raise, kind: 'raise' });
  if (typeof clear === 'number') lines.push({ label: `clear ${clear}`, value: clear, kind: 'clear' });
  return lines;
}

/** The feature worth showing first: the first one in drift in the latest window, else the first. */
export function defaultFeature(latest, baseline) {
  const entries = entriesOf(latest);
  return (entries.find((e) => e.state === 'drift') ?? entries[0] ?? entriesOf(baseline)[0])?.name ?? null;
}
