/** Semantic version comparison with pre-releases (`6.1.0-beta.1` < `6.1.0`), as Teleport's CheckMinVersion. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, '').split('-', 2) as [string, string | undefined];
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  const xp = x.pre.split('.');
  const yp = y.pre.split('.');
  for (let i = 0; i < Math.max(xp.length, yp.length); i++) {
    const p = xp[i];
    const q = yp[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p) ? Number(p) : NaN;
    const qn = /^\d+$/.test(q) ? Number(q) : NaN;
    const d = !Number.isNaN(pn) && !Number.isNaN(qn) ? pn - qn : p < q ? -1 : p > q ? 1 : 0; // semver: ASCII order
    if (d) return Math.sign(d);
  }
  return 0;
}
