// npm run build: the plugin as one executable, dist/kubectl-custom, a Node
// Single Executable Application made offline from the project's own Node 24:
//   1. esbuild bundles plugin/src into one CommonJS file (SEA runs CJS);
//   2. node --experimental-sea-config turns it into a blob, with V8's code
//      cache so the bundle is not parsed at every start;
//   3. a copy of the node binary, stripped of symbols first (stripping after
//      injection breaks it), gets the blob injected with postject.
// Also writes dist/kubectl_complete-custom, kubectl's plugin-completion hook.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { buildPage } from '../plugin/src/dashboard/build-page.ts';

/**
 * yargs lays out its help text (with cliui and wrap-ansi) measuring every
 * word with string-width, whose ICU grapheme segmenter and \p{RGI_Emoji}
 * pattern cost about 60 ms at their first use in a process: most of what
 * `--help` took. They get the plugin's own display width instead, which the
 * tables use too (plugin/src/output/display-width.ts: same API for one
 * string, same numbers on the help text).
 */
const displayWidthForYargs: Plugin = {
  name: 'display-width-for-yargs',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, () => ({ path: 'string-width', namespace: 'display-width' }));
    b.onLoad({ filter: /.*/, namespace: 'display-width' }, () => ({
      contents: `export { displayWidth as default } from ${JSON.stringify(join(ROOT, 'plugin/src/output/display-width.ts'))};`,
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

/**
 * The dashboard's page is built first and defined into the bundle
 * (plugin/src/dashboard/page-assets.ts), so the executable serves it with
 * no file beside it; the module that builds it from source (with esbuild)
 * becomes a stub, so esbuild is not bundled.
 */
const noPageBuilder: Plugin = {
  name: 'no-page-builder',
  setup(b) {
    b.onResolve({ filter: /[\\/]build-page\.ts$/ }, (args) => ({ path: args.path, namespace: 'page-builder-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'page-builder-stub' }, () => ({
      contents: 'export async function buildPage() { throw new Error("the dashboard page is built into this executable"); }',
      loader: 'js',
    }));
  },
};

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');

export interface BuildOptions {
  /** The node binary to wrap (another platform's for a release); defaults to the one running. */
  nodeBinary?: string;
  output?: string;
  /** Use the code cache (only when the target platform is the one building). */
  codeCache?: boolean;
  log?: (s: string) => void;
}

export async function bundle(): Promise<string> {
  // Not in dist/ itself: kubectl would take any kubectl-* file on PATH for a plugin.
  mkdirSync(join(DIST, 'build'), { recursive: true });
  const out = join(DIST, 'build', 'plugin.cjs');
  const page = await buildPage();
  await build({
    entryPoints: [join(ROOT, 'plugin/src/main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    plugins: [displayWidthForYargs, noPageBuilder],
    // yargs (ESM) reads import.meta.url; CJS has none.
    define: { 'import.meta.url': '__kc_import_meta_url', __KC_DASHBOARD_ASSETS__: JSON.stringify(JSON.stringify(page)) },
    // A V8 snapshot build runs the bundle without __filename.
    banner: { js: 'const __kc_import_meta_url = typeof __filename === "string" ? require("node:url").pathToFileURL(__filename).href : "file:///kubectl-custom";' },
    logLevel: 'warning',
  });
  return out;
}

export async function buildExecutable(opts: BuildOptions = {}): Promise<string> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const bundled = await bundle();
  const output = opts.output ?? join(DIST, 'kubectl-custom');
  const blob = join(DIST, 'build', 'sea-prep.blob');
  const seaConfig = join(DIST, 'build', 'sea-config.json');
  // On the build's own platform the blob carries a V8 startup snapshot of
  // the evaluated bundle (plugin/src/main.ts), so starting skips module
  // evaluation; elsewhere (cross-built releases) neither snapshot nor code
  // cache can be made, and the bundle is evaluated at start.
  const native = opts.codeCache ?? true;
  writeFileSync(seaConfig, JSON.stringify({ main: bundled, output: blob, disableExperimentalSEAWarning: true, useSnapshot: native, useCodeCache: false }));
  // Node's snapshot builder warns about built-in modules it has not verified
  // and postject (LIEF) notes ELF sections it cannot name: none of it is
  // about our code, so it goes to a log, shown when a step fails.
  const logFile = join(DIST, 'build', 'sea-build.log');
  const out = openSync(logFile, 'w');
  const step = (what: string, args: string[]) => {
    writeSync(out, `$ ${process.execPath} ${args.join(' ')}\n`);
    try {
      execFileSync(process.execPath, args, { stdio: ['ignore', out, out] });
    } catch (err) {
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
      throw new Error(`${what} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the end of ${logFile}:\n${tail}`, { cause: err });
    }
  };
  try {
    step('making the SEA blob', ['--experimental-sea-config', seaConfig]);
    rmSync(output, { force: true });
    copyFileSync(opts.nodeBinary ?? process.execPath, output);
    chmodSync(output, 0o755);
    try {
      execFileSync('strip', [output], { stdio: 'ignore' });
    } catch {
      log('note: strip is not available; the executable keeps its symbols (about 18 MB larger)');
    }
    const postject = join(ROOT, 'node_modules/postject/dist/cli.js');
    step('injecting the blob (postject)', [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
  } finally {
    closeSync(out);
  }
  rmSync(blob, { force: true });
  rmSync(seaConfig, { force: true });
  const helper = join(DIST, 'kubectl_complete-custom');
  writeFileSync(helper, '#!/bin/sh\n# kubectl calls this to complete `kubectl custom …` (kubectl plugin completion).\nexec kubectl-custom __complete "$@"\n');
  chmodSync(helper, 0o755);
  log(`built ${relative(process.cwd(), output) || output} (${Math.round(statSync(output).size / 1e6)} MB; build notes in ${relative(process.cwd(), logFile) || logFile})`);
  return output;
}

/** Skips the build when dist/kubectl-custom is newer than every plugin source (for tests and the demo). */
export function upToDate(): boolean {
  const exe = join(DIST, 'kubectl-custom');
  if (!existsSync(exe)) return false;
  const built = statSync(exe).mtimeMs;
  const inputs = [join(ROOT, 'package-lock.json'), join(ROOT, 'scripts/build-plugin.ts')];
  const walk = (dir: string) => {
    // The dashboard's page (.html, .css) is built into the executable too.
    for (const e of execFileSync('find', [dir, '(', '-name', '*.ts', '-o', '-name', '*.css', '-o', '-name', '*.html', ')', '-newer', exe], { encoding: 'utf8' }).split('\n').filter(Boolean)) inputs.push(e);
  };
  walk(join(ROOT, 'plugin/src'));
  walk(join(ROOT, 'api/src'));
  walk(join(ROOT, 'client/src'));
  return inputs.every((f) => !existsSync(f) || statSync(f).mtimeMs <= built) && readFileSync(exe).length > 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const force = process.argv.includes('--force');
  if (!force && upToDate()) process.stderr.write('dist/kubectl-custom is up to date\n');
  else await buildExecutable();
}
