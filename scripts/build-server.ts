// npm run build:server: the backend as one CommonJS file,
// dist/server/backend.cjs, with its production dependencies inlined; it runs
// with plain `node` (no TypeScript, no node_modules). server/Dockerfile
// copies exactly this file into its runtime image.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export async function buildServer(): Promise<string> {
  const outfile = join(ROOT, 'dist/server/backend.cjs');
  await build({
    entryPoints: [join(ROOT, 'server/src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    define: { 'import.meta.url': '__kc_import_meta_url' },
    banner: { js: 'const __kc_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stderr.write(`built ${await buildServer()}\n`);
}
