// Warning headers, as kube-apiserver sends them (RFC 7234 `299 - "text"`)
// and client-go's warning handlers read them: kubectl prints each one on
// stderr as `Warning: text`.

/** The texts of `Warning` header values of code 299; others are ignored, as client-go does. */
export function parseWarnings(values: string | string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values === undefined ? [] : Array.isArray(values) ? values : [values]) {
    // One header line may carry several comma-separated warnings.
    for (const m of v.matchAll(/299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  }
  return out;
}
