async function readError(res) {
  try {
    const body = await res.json();
    if (body?.error) return body.error;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
}

export async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    const err = new Error(await readError(res));
    err.status = res.status;
    throw err;
  }
  return res.json();
}

/** POST /api/rollouts/{id}/{op} after the user confirmed; resolves to the new Rollout, rejects with the server's error text. */
export async function controlRollout(id, op) {
  const res = await fetch(`/api/rollouts/${encodeURIComponent(id)}/${op}`, {
    method: 'POST',
    headers: { 'X-EdgeAgent-Confirm': 'yes', Accept: 'application/json' },
  });
  if (!res.ok) throw new Error(await readError(res));
  return res.json();
}
