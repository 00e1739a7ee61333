import { useCallback, useEffect, useReducer, useRef } from 'react';
import { Header } from './components/Header.jsx';
import { FleetView } from './components/FleetView.jsx';
import { AlertsView } from './components/AlertList.jsx';
import { RolloutDetail, RolloutsView } from './components/Rollouts.jsx';
import { DeviceDetail } from './components/DeviceDetail.jsx';
import { STREAM_EVENTS, initialState, reducer } from './state.js';
import { getJson } from './api.js';
import { useHashRoute, useNow } from './hooks.js';

/** Loads /api/snapshot, then follows /api/stream; `listeners` also get every stream action (the device view). */
function useFleet() {
  const [state, dispatch] = useReducer(reducer, initialState);
  const listeners = useRef(new Set());
  useEffect(() => {
    let closed = false;
    let es = null;
    let retry = null;
    getJson('/api/snapshot')
      .then((data) => !closed && dispatch({ type: 'snapshot', data, at: Date.now() }))
      .catch((e) => !closed && dispatch({ type: 'load-error', error: `could not load /api/snapshot: ${e.message}` }));
    const connect = () => {
      es = new EventSource('/api/stream');
      es.onopen = () => dispatch({ type: 'stream', status: 'open' });
      es.onerror = () => {
        dispatch({ type: 'stream', status: 'reconnecting' });
        // EventSource retries by itself unless the server answered with an error; then start over after 3 s.
        if (es.readyState === EventSource.CLOSED && !closed) {
          retry = setTimeout(connect, 3000);
        }
      };
      for (const type of STREAM_EVENTS) {
        es.addEventListener(type, (m) => {
          let data;
          try {
            data = JSON.parse(m.data);
          } catch {
            return;
          }
          const action = { type, data, at: Date.now() };
          dispatch(action);
          listeners.current.forEach((fn) => fn(action));
        });
      }
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      es?.close();
    };
  }, []);
  const subscribe = useCallback((fn) => {
    listeners.current.add(fn);
    return () => listeners.current.delete(fn);
  }, []);
  return { state, dispatch, subscribe };
}

export default function App() {
  const { state, dispatch, subscribe } = useFleet();
  const route = useHashRoute();
  const now = useNow(1000);
  const onRolloutUpdated = useCallback((r) => dispatch({ type: 'rollout', data: r, at: Date.now() }), [dispatch]);

  let view;
  switch (route.view) {
    case 'rollouts':
      view = <RolloutsView rollouts={state.rollouts} loaded={state.loaded} />;
      break;
    case 'rollout':
      view = (
        <RolloutDetail
          id={route.id}
          rollout={state.rollouts.find((r) => r.id === route.id)}
          readOnly={state.info?.readOnly !== false}
          loaded={state.loaded}
          onUpdated={onRolloutUpdated}
        />
      );
      break;
    case 'device':
      view = (
        <DeviceDetail
          key={route.id}
          id={route.id}
          liveRow={state.devices.find((d) => d.device === route.id)}
          subscribe={subscribe}
          now={now}
        />
      );
      break;
    case 'alerts':
      view = <AlertsView alerts={state.alerts} />;
      break;
    default:
      view = <FleetView devices={state.devices} alerts={state.alerts} now={now} loaded={state.loaded} />;
  }
  return (
    <>
      <Header route={route} state={state} />
      <main className="main">
        {state.error && (
          <p className="error banner" role="alert">
            {state.error}
          </p>
        )}
        {view}
      </main>
      <footer className="footer">
        {state.info ? `edgectl ${state.info.version ?? ''} · ${state.info.broker ?? ''} · ${state.info.prefix ?? ''}` : ''}
      </footer>
    </>
  );
}
