/**
 * Shipped files are found from the compiled modules in dist/ too: a package laid out like
 * hyperabi's (package.json, sources, dist/) in a temporary folder, and this checkout itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot, shippedPath } from './files.js';
import { SCENARIO_DIR } from './suite.js';

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function layout(name: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'conformance', 'scenarios'), { recursive: true });
  mkdirSync(join(root, 'dist', 'conformance'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name }));
  writeFileSync(join(root, 'conformance', 'suite.ts'), '');
  writeFileSync(join(root, 'dist', 'conformance', 'suite.js'), '');
  return root;
}

describe('shippedPath', () => {
  it('finds a folder next to the module in the sources', () => {
    const root = layout('hyperabi');
    expect(shippedPath(pathToFileURL(join(root, 'conformance', 'suite.ts')).href, './scenarios')).toBe(join(root, 'conformance', 'scenarios'));
  });

  it('from dist/, finds the same path under the package root', () => {
    const root = layout('hyperabi');
    expect(packageRoot(join(root, 'dist', 'conformance'))).toBe(root);
    expect(shippedPath(pathToFileURL(join(root, 'dist', 'conformance', 'suite.js')).href, './scenarios')).toBe(join(root, 'conformance', 'scenarios'));
    // A copy in dist/ wins when there is one.
    mkdirSync(join(root, 'dist', 'conformance', 'scenarios'));
    expect(shippedPath(pathToFileURL(join(root, 'dist', 'conformance', 'suite.js')).href, './scenarios')).toBe(join(root, 'dist', 'conformance', 'scenarios'));
  });

  it('names the place next to the module when the file is nowhere, and only trusts a package named hyperabi', () => {
    const other = layout('not-hyperabi');
    const url = pathToFileURL(join(other, 'dist', 'conformance', 'suite.js')).href;
    expect(shippedPath(url, './scenarios')).toBe(join(other, 'dist', 'conformance', 'scenarios'));
    expect(shippedPath(pathToFileURL(join(tmp, 'hyperabi', 'dist', 'conformance', 'suite.js')).href, './nothing')).toBe(join(tmp, 'hyperabi', 'dist', 'conformance', 'nothing'));
  });

  it('gives this checkout its scenario folder', () => {
    expect(SCENARIO_DIR).toBe(join(packageRoot(import.meta.dirname)!, 'conformance', 'scenarios'));
  });
});
