const TONES = {
  // device connection
  online: 'green', stale: 'amber', offline: 'red', unknown: 'gray',
  // rollout and rollout-device states
  running: 'blue', paused: 'amber', completed: 'green', aborted: 'red',
  pending: 'gray', targeted: 'blue', succeeded: 'green', failed: 'red',
  // deployment states (reported / events)
  active: 'green', probation: 'blue', rolledback: 'red', rollingback: 'amber', removed: 'gray', staged: 'violet',
  fetching: 'violet', verifying: 'violet', staging: 'violet', activating: 'violet',
  // drift
  ok: 'green', drift: 'red', insufficient: 'gray',
  // alerts
  warning: 'amber', error: 'red', cleared: 'gray',
};

export const toneOf = (value) => TONES[String(value ?? '').toLowerCase()] ?? 'gray';

export function Badge({ value, testId, title, children }) {
  return (
    <span className={`badge badge-${toneOf(value)}`} data-testid={testId} title={title}>
      {children ?? value ?? '—'}
    </span>
  );
}
