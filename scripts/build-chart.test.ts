// The chart is made from manifests/base (scripts/build-chart.ts): what is
// committed must be what the script makes now, so an edit of manifests/base
// without `npm run build:chart` (or an edit of a generated template by hand)
// fails here. test/integration/helm-chart.test.ts renders the chart with helm
// and compares it with kubectl kustomize object by object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, renderChart, staleTemplates } from './build-chart.ts';

const ROOT = join(CHART_DIR, '../..');

describe('charts/kubectl-custom', () => {
  const made = renderChart();

  it('is what scripts/build-chart.ts makes from manifests/base (run npm run build:chart)', () => {
    for (const [path, text] of made) {
      let committed: string;
      try {
        committed = readFileSync(join(CHART_DIR, path), 'utf8');
      } catch {
        committed = '(missing)';
      }
      expect(committed, `charts/kubectl-custom/${path} differs from what npm run build:chart makes`).toBe(text);
    }
    expect(staleTemplates(made), 'generated templates whose manifest is gone').toEqual([]);
  });

  it('has the version of package.json, as version and appVersion', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    expect([chart.version, chart.appVersion]).toEqual([pkg.version, pkg.version]);
  });

  it('makes a template of every manifest of manifests/base but the Namespace, and of the cert-manager overlay', () => {
    const kustomization = parse(readFileSync(join(ROOT, 'manifests/base/kustomization.yaml'), 'utf8')) as { resources: string[] };
    const templates = [...made.keys()].filter((p) => p.startsWith('templates/'));
    expect(templates.sort()).toEqual([
      ...kustomization.resources.filter((r) => r !== 'namespace.yaml').map((r) => `templates/${r}`),
      'templates/cert-manager-certificate.yaml',
      'templates/cert-manager-issuer.yaml',
    ].sort());
  });

  it('values.schema.json describes exactly the keys of values.yaml and refuses any other (additionalProperties false everywhere)', () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema;
    interface Schema { type?: string; properties?: Record<string, Schema>; additionalProperties?: unknown; $ref?: string }
    const walk = (v: unknown, s: Schema, at: string): void => {
      if (s.$ref || typeof v !== 'object' || v === null || Array.isArray(v)) return;
      // resources.requests and .limits are maps of quantities.
      if (s.properties === undefined) return;
      expect(s.additionalProperties, `${at}: additionalProperties`).toBe(false);
      expect(Object.keys(s.properties).sort(), `${at}: the schema's keys`).toEqual(Object.keys(v).sort());
      for (const [k, sub] of Object.entries(s.properties)) walk((v as Record<string, unknown>)[k], sub, `${at}.${k}`);
    };
    walk(values, schema, 'values');
  });

  it("the test hook runs the node of server/Dockerfile's ENTRYPOINT", () => {
    const dockerfile = readFileSync(join(ROOT, 'server/Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const hook = readFileSync(join(CHART_DIR, 'templates/tests/promote-test.yaml'), 'utf8');
    expect(hook).toContain(`command: [${entrypoint[0]}, /helm-test/promote-test.mts]`);
  });
});
