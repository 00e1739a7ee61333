// Fleet table filters (pure).

export const emptyFilters = { group: '', model: '', version: '', state: '' };

const modelVersions = (m) => [m.version, m.activeVersion].filter(Boolean);

/** The values each filter can take, from the devices present. */
export function filterOptions(devices) {
  const groups = new Set();
  const models = new Set();
  const versions = new Set();
  for (const d of devices) {
    (d.groups ?? []).forEach((g) => groups.add(g));
    for (const m of d.models ?? []) {
      models.add(m.name);
      modelVersions(m).forEach((v) => versions.add(v));
    }
  }
  const sort = (s) => [...s].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { groups: sort(groups), models: sort(models), versions: sort(versions) };
}

/**
 * Devices matching every set filter. With both model and version set, the version must belong to that model
 * (its target or the version serving).
 */
export function filterDevices(devices, f) {
  return devices.filter((d) => {
    if (f.state && d.state !== f.state) return false;
    if (f.group && !(d.groups ?? []).includes(f.group)) return false;
    if (f.model || f.version) {
      const models = (d.models ?? []).filter((m) => !f.model || m.name === f.model);
      if (models.length === 0) return false;
      if (f.version && !models.some((m) => modelVersions(m).includes(f.version))) return false;
    }
    return true;
  });
}
