// The lint configuration bites: a fixture with an import cycle fails
// eslint.config.js's rules, one without passes. The fixtures are written to a
// folder of their own and linted with the project's configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../eslint.config.js', import.meta.url));
const dirs: string[] = [];

async function lint(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-lint-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const eslint = new ESLint({ cwd: dir, overrideConfigFile: CONFIG });
  const results = await eslint.lintFiles(Object.keys(files));
  return results.flatMap((r) => r.messages.map((m) => `${m.ruleId}`));
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('eslint.config.js', () => {
  it.each<{ name: string; files: Record<string, string>; cycle: boolean }>([
    { name: 'two modules importing each other', files: { 'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n", 'b.ts': "import { a } from './a.ts';\nexport const b = (): number => a() - 1;\n" }, cycle: true },
    { name: 'a cycle through a third module', files: { 'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b();\n", 'b.ts': "import { c } from './c.ts';\nexport const b = (): number => c();\n", 'c.ts': "import { a } from './a.ts';\nexport const c = (): number => a();\n" }, cycle: true },
    { name: 'a cycle closed by a dynamic import', files: { 'a.ts': "export const a = async (): Promise<number> => (await import('./b.ts')).b;\n", 'b.ts': "import { a } from './a.ts';\nexport const b = 1;\nexport const c = a;\n" }, cycle: true },
    { name: 'a chain without a cycle', files: { 'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b();\n", 'b.ts': "import { c } from './c.ts';\nexport const b = (): number => c();\n", 'c.ts': 'export const c = (): number => 1;\n' }, cycle: false },
  ])('$name: cycle reported is $cycle', async ({ files, cycle }) => {
    const rules = await lint(files);
    expect(rules.includes('import-x/no-cycle')).toBe(cycle);
    expect(rules.filter((r) => r !== 'import-x/no-cycle')).toEqual([]);
  }, 60_000);
});
