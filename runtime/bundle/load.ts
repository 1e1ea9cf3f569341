// Placeholder replaced below.
export function loadBundleSpec(dir: string): { spec: string; overrides: string[] } {
  return { spec: dir, overrides: [] };
}
