// Builds the dashboard page with esbuild (a build-time dependency): the
// TypeScript in page/ bundled and minified into app.js, style.css minified
// into app.css, index.html as written. The plugin's executable gets the
// result at build time (scripts/build-plugin.ts); its bundle replaces this
// module with a stub, so esbuild is never part of the executable.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const PAGE = new URL('./page/', import.meta.url);

export interface PageAsset {
  contentType: string;
  body: string;
}

/** By file name: index.html (the page), app.js, app.css. */
export type PageAssets = Readonly<Record<string, PageAsset>>;

export async function buildPage(): Promise<PageAssets> {
  const [js, css, html] = await Promise.all([
    build({
      // A path, not the URL's pathname, which on Windows is /C:/… (and %-escaped everywhere).
      entryPoints: [fileURLToPath(new URL('main.ts', PAGE))],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
    readFile(new URL('style.css', PAGE), 'utf8').then((text) => transform(text, { loader: 'css', minify: true })),
    readFile(new URL('index.html', PAGE), 'utf8'),
  ]);
  return {
    'index.html': { contentType: 'text/html; charset=utf-8', body: html },
    'app.js': { contentType: 'text/javascript; charset=utf-8', body: js.outputFiles[0]!.text },
    'app.css': { contentType: 'text/css; charset=utf-8', body: css.code },
  };
}
