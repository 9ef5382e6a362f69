// resourceVersions are opaque to clients, but kube-apiserver's are etcd
// revisions: decimal integers that grow with every write in the cluster
// (the backend's cache and the doctor both rely on that, as client-go's
// watch cache does). Compared as numbers, never as strings ("999" < "1000").

/** -1, 0 or 1; undefined when either is not a decimal integer (then only equality is known: 0). */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return a === b ? 0 : undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
