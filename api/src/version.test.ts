import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_VERSION } from './version.ts';

describe('PROJECT_VERSION', () => {
  it('is package.json\'s version, the image tag and the kustomize tag', () => {
    const root = new URL('../../', import.meta.url);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
    expect(PROJECT_VERSION).toBe(pkg.version);
    expect(readFileSync(new URL('manifests/base/deployment.yaml', root), 'utf8')).toContain(`image: kubectl-custom-backend:${PROJECT_VERSION}`);
    expect(readFileSync(new URL('manifests/base/kustomization.yaml', root), 'utf8')).toContain(`newTag: ${PROJECT_VERSION}`);
  });
});
