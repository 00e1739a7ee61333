import { DEVICE_STATES, countByState } from '../state.js';

function connection(stream, info) {
  if (stream !== 'open') {
    return {
      state: 'stream-down',
      label: stream === 'connecting' ? 'connecting…' : 'disconnected — reconnecting',
      title: 'The live update stream (/api/stream) is not connected; the browser reconnects by itself. What you see may be out of date.',
    };
  }
  if (info && info.connected === false) {
    return {
      state: 'broker-down',
      label: 'broker unreachable',
      title: `The dashboard lost its connection to ${info.broker ?? 'the broker'}; device states are the last known ones.`,
    };
  }
  return { state: 'live', label: 'live', title: info?.broker ? `connected to ${info.broker} (${info.prefix})` : 'connected' };
}

export function Header({ route, state }) {
  const counts = countByState(state.devices);
  const conn = connection(state.stream, state.info);
  const activeAlerts = state.alerts.filter((a) => a.active).length;
  const tab = (view, href, label, extra) => (
    <a href={href} className={`tab ${route.view === view || route.view === `${view}-detail` ? 'tab-active' : ''}`}>
      {label}
      {extra}
    </a>
  );
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">◆</span> EdgeAgent <span className="brand-sub">fleet</span>
      </div>
      <nav className="tabs">
        {tab('fleet', '#/', 'Fleet')}
        <a href="#/rollouts" className={`tab ${route.view === 'rollouts' || route.view === 'rollout' ? 'tab-active' : ''}`}>
          Rollouts
        </a>
        {tab('alerts', '#/alerts', 'Alerts', activeAlerts > 0 ? <span className="tab-count">{activeAlerts}</span> : null)}
      </nav>
      <div className="counts" aria-label="devices by state">
        <span className="count-total">{state.devices.length} devices</span>
        {DEVICE_STATES.map((s) => (
          <span key={s} className={`count count-${s}`} title={`${counts[s]} ${s}`}>
            <span className={`dot dot-${s}`} />
            {counts[s]} {s}
          </span>
        ))}
      </div>
      <div className="header-right">
        {state.info && (
          <span className={`mode ${state.info.readOnly ? 'mode-ro' : 'mode-op'}`}>
            {state.info.readOnly ? 'read-only' : 'operator'}
          </span>
        )}
        <span className={`conn conn-${conn.state}`} data-testid="conn-indicator" data-state={conn.state} title={conn.title}>
          <span className="conn-dot" />
          {conn.label}
        </span>
      </div>
    </header>
  );
}
