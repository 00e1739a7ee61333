import { useEffect, useState } from 'react';

/** The current time in ms, re-read every `intervalMs`. */
export function useNow(intervalMs = 1000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** Parses the hash route: #/, #/rollouts, #/rollouts/{id}, #/devices/{id}, #/alerts. */
export function parseRoute(hash) {
  const path = (hash ?? '').replace(/^#/, '').replace(/^\/+/, '');
  const [head, ...rest] = path.split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : null;
  if (head === 'rollouts') return id ? { view: 'rollout', id } : { view: 'rollouts' };
  if (head === 'devices' && id) return { view: 'device', id };
  if (head === 'alerts') return { view: 'alerts' };
  return { view: 'fleet' };
}

export function useHashRoute() {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(window.location.hash));
      window.scrollTo?.(0, 0);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

export const deviceHref = (id) => `#/devices/${encodeURIComponent(id)}`;
export const rolloutHref = (id) => `#/rollouts/${encodeURIComponent(id)}`;
