// npm run build: the plugin as one self-contained executable,
// dist/kubectl-custom, made with nothing but npm's packages:
//   1. esbuild bundles plugin/src into one file (with the dashboard's page
//      built into it, and yargs measuring text with our display width);
//   2. `bun build --compile --bytecode` turns the ES module bundle into an
//      executable of Bun's runtime for the target (the runtime for other
//      platforms comes from the npm registry, once, into Bun's cache), with
//      JavaScriptCore bytecode so nothing is parsed at start;
//   3. a macOS executable is signed ad hoc (scripts/macho-sign.ts).
// Bun was chosen over a Node Single Executable Application by measurement
// (`npm run bench`, scenario 1: start-up, list, size; README "Dependencies
// and why"); `--runtime node-sea` still builds the SEA for that comparison.
// Also writes kubectl's plugin-completion hook next to the executable.
//
//   node scripts/build-plugin.ts [--force] [--target linux/arm64] [--runtime bun|node-sea] [--output FILE]
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { buildPage } from '../plugin/src/dashboard/build-page.ts';
import { adhocSign } from './macho-sign.ts';
import { buildNodeSea } from './node-sea.ts';
import { bunTarget, completionHook, executableName, hostTarget, parseTarget, type Target } from './plugin-targets.ts';

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
const BUILD = join(DIST, 'build');

export type Runtime = 'bun' | 'node-sea';

export interface BuildOptions {
  /** The runtime the executable carries: Bun (what ships), or Node's SEA (host only, for the bench). */
  runtime?: Runtime;
  /** The platform to build for; defaults to this one. */
  target?: Target;
  /** Defaults to dist/kubectl-custom (dist/kubectl-custom.exe for Windows). */
  output?: string;
  /** A bundle already made for this runtime (bundle()), when building for several targets. */
  bundled?: string;
  log?: (s: string) => void;
}

/** The plugin in one file: an ES module for Bun, CommonJS for a Node SEA. */
export async function bundle(format: 'esm' | 'cjs'): Promise<string> {
  // Not in dist/ itself: kubectl would take any kubectl-* file on PATH for a plugin.
  mkdirSync(BUILD, { recursive: true });
  const out = join(BUILD, format === 'esm' ? 'plugin.mjs' : 'plugin.cjs');
  const page = await buildPage();
  const formatOptions =
    format === 'esm'
      ? // Bundled CommonJS dependencies call require() for Node's built-ins.
        { banner: { js: 'import { createRequire as __kcCreateRequire } from "node:module"; const require = __kcCreateRequire(import.meta.url);' } }
      : {
          // yargs (ESM) reads import.meta.url; CJS has none. A V8 snapshot build runs the bundle without __filename.
          define: { 'import.meta.url': '__kc_import_meta_url' },
          banner: { js: 'const __kc_import_meta_url = typeof __filename === "string" ? require("node:url").pathToFileURL(__filename).href : "file:///kubectl-custom";' },
        };
  await build({
    entryPoints: [join(ROOT, 'plugin/src/main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format,
    target: 'node24',
    minify: true,
    legalComments: 'none',
    plugins: [displayWidthForYargs, noPageBuilder],
    ...formatOptions,
    define: { ...('define' in formatOptions ? formatOptions.define : {}), __KC_DASHBOARD_ASSETS__: JSON.stringify(JSON.stringify(page)) },
    logLevel: 'warning',
  });
  return out;
}

/** Bun's own executable, installed by npm as a dev dependency. */
function bunCommand(): string {
  const bin = join(ROOT, 'node_modules/.bin/bun');
  if (!existsSync(bin)) throw new Error('bun is not installed: run "npm ci" (it is a dev dependency that builds the plugin)');
  return bin;
}

function compileWithBun(bundled: string, target: Target, output: string, logFile: string): void {
  const args = ['build', '--compile', '--bytecode', '--format=esm', '--minify', `--target=${bunTarget(target)}`, bundled, '--outfile', output];
  const out = openSync(logFile, 'w');
  try {
    rmSync(output, { force: true });
    // Bun prints its timings on stdout: they go to the log with the rest.
    execFileSync(bunCommand(), args, { stdio: ['ignore', out, out], cwd: BUILD });
  } catch (err) {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`bun build --compile for ${target.os}/${target.arch} failed; the end of ${logFile}:\n${tail}`, { cause: err });
  } finally {
    closeSync(out);
  }
  // Bun names a Windows executable .exe whatever --outfile says.
  if (target.os === 'windows' && !output.endsWith('.exe') && existsSync(`${output}.exe`)) renameSync(`${output}.exe`, output);
}

export async function buildExecutable(opts: BuildOptions = {}): Promise<string> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const runtime = opts.runtime ?? 'bun';
  const target = opts.target ?? hostTarget();
  const output = opts.output ?? join(DIST, executableName(target));
  mkdirSync(dirname(output), { recursive: true });
  const logFile = join(BUILD, `build-${runtime}-${target.os}-${target.arch}.log`);
  if (runtime === 'node-sea') {
    const host = hostTarget();
    if (host.os !== target.os || host.arch !== target.arch) throw new Error('--runtime node-sea builds for this platform only');
    buildNodeSea(opts.bundled ?? (await bundle('cjs')), output, logFile, log);
  } else {
    compileWithBun(opts.bundled ?? (await bundle('esm')), target, output, logFile);
    if (target.os === 'darwin') adhocSign(output, 'kubectl-custom', log);
  }
  chmodSync(output, 0o755);
  const hook = completionHook(target);
  writeFileSync(join(dirname(output), hook.name), hook.text);
  chmodSync(join(dirname(output), hook.name), 0o755);
  log(`built ${relative(process.cwd(), output) || output} for ${target.os}/${target.arch} with ${runtime === 'bun' ? 'Bun' : "Node's SEA"} (${Math.round(statSync(output).size / 1e6)} MB; build notes in ${relative(process.cwd(), logFile) || logFile})`);
  return output;
}

/** Skips the build when dist/kubectl-custom is newer than every plugin source (for tests and the demo). */
export function upToDate(): boolean {
  const exe = join(DIST, 'kubectl-custom');
  if (!existsSync(exe)) return false;
  const built = statSync(exe).mtimeMs;
  const inputs = [join(ROOT, 'package-lock.json')];
  const walk = (dir: string, names: string[]) => {
    const find = ['(', ...names.flatMap((n, i) => (i ? ['-o', '-name', n] : ['-name', n])), ')'];
    for (const e of execFileSync('find', [dir, ...find, '-newer', exe], { encoding: 'utf8' }).split('\n').filter(Boolean)) inputs.push(e);
  };
  // The dashboard's page (.html, .css) is built into the executable too.
  for (const dir of ['plugin/src', 'api/src', 'client/src']) walk(join(ROOT, dir), ['*.ts', '*.css', '*.html']);
  walk(join(ROOT, 'scripts'), ['*.ts', '*.go']);
  return inputs.every((f) => !existsSync(f) || statSync(f).mtimeMs <= built) && readFileSync(exe).length > 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { force: { type: 'boolean' }, target: { type: 'string' }, runtime: { type: 'string' }, output: { type: 'string' } } });
  const runtime = values.runtime ?? 'bun';
  if (runtime !== 'bun' && runtime !== 'node-sea') throw new Error(`--runtime ${runtime}: use bun or node-sea`);
  const custom = values.target !== undefined || values.runtime !== undefined || values.output !== undefined;
  if (!values.force && !custom && upToDate()) process.stderr.write('dist/kubectl-custom is up to date\n');
  else await buildExecutable({ runtime, ...(values.target ? { target: parseTarget(values.target) } : {}), ...(values.output ? { output: values.output } : {}) });
}
