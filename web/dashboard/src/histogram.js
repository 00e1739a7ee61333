// Baseline vs current histogram of one drift entry (pure).

const fmt = (x) => {
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return String(Math.round(x * 1000) / 1000);
};

/** Bin labels for a baseline entry: value ranges from `edges`, or the `classes`. */
export function binLabels(entry) {
  const n = entry.proportions?.length ?? 0;
  if (entry.classes?.length) {
    return Array.from({ length: n }, (_, i) => (i < entry.classes.length ? `class ${entry.classes[i]}` : 'other'));
  }
  const e = entry.edges ?? [];
  if (e.length + 1 === n) {
    return Array.from({ length: n }, (_, i) => {
      if (i === 0) return `< ${fmt(e[0])}`;
      if (i === n - 1) return `≥ ${fmt(e[n - 2])}`;
      return `${fmt(e[i - 1])} – ${fmt(e[i])}`;
    });
  }
  return Array.from({ length: n }, (_, i) => `bin ${i + 1}`);
}

/**
 * Shares per bin of the baseline (`proportions`) and of the window (`counts[i] / sum(counts)`).
 * `current` is null, with `note` saying why, when the window has no usable counts.
 */
export function histogramData(baselineEntry, windowEntry) {
  if (!baselineEntry?.proportions?.length) return null;
  const labels = binLabels(baselineEntry);
  const baseline = baselineEntry.proportions.map(Number);
  const counts = windowEntry?.counts;
  let current = null;
  let note = null;
  let total = 0;
  if (!windowEntry) note = 'no window yet';
  else if (!Array.isArray(counts)) note = 'the latest window carries no bin counts';
  else if (counts.length !== baseline.length) note = `the latest window has ${counts.length} bins, the baseline ${baseline.length}`;
  else {
    total = counts.reduce((s, c) => s + Number(c), 0);
    if (total === 0) note = 'the latest window holds no values';
    else current = counts.map((c) => Number(c) / total);
  }
  return { labels, baseline, current, total, note };
}
