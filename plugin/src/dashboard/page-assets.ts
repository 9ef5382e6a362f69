// The page's files. The executable carries them inside its bundle: the
// plugin's build (scripts/build-plugin.ts) builds the page with esbuild and
// defines __KC_DASHBOARD_ASSETS__ as their JSON, so the dashboard needs no
// file and no network. Run from source (development, unit tests), the page
// is built on first use from plugin/src/dashboard/page/.

import type { PageAssets } from './build-page.ts';

export type { PageAsset, PageAssets } from './build-page.ts';

declare const __KC_DASHBOARD_ASSETS__: string | undefined;

export async function loadPageAssets(): Promise<PageAssets> {
  if (typeof __KC_DASHBOARD_ASSETS__ === 'string') return JSON.parse(__KC_DASHBOARD_ASSETS__) as PageAssets;
  const { buildPage } = await import('./build-page.ts');
  return buildPage();
}
