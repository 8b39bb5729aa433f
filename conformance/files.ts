/**
 * Files hyperabi ships next to its sources and reads at run time (the scenario files, the C
 * testee's source, the live-Xen kernel's sources). From the sources (tsx, vitest) they sit
 * next to the module that reads them; the compiled CLI runs from dist/ (`npm run build`),
 * where tsc copies no such file, so they are found at the same path under the package root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of hyperabi's package.json at or above `from` (undefined when there is none). */
export function packageRoot(from: string): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'hyperabi') return d;
      } catch {
        // not a readable package.json: keep looking
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The path of a shipped file or folder `rel`, relative to the module at `moduleUrl`
 * (its import.meta.url): next to the module when it is there, else, for a module compiled
 * into the package's dist/ folder, the same place in the sources. When neither exists the
 * path next to the module is returned, so that errors name where it was looked for.
 */
export function shippedPath(moduleUrl: string, rel: string): string {
  const here = fileURLToPath(new URL(rel, moduleUrl));
  if (existsSync(here)) return here;
  const dir = dirname(fileURLToPath(moduleUrl));
  const root = packageRoot(dir);
  if (root === undefined) return here;
  const [top, ...rest] = relative(root, dir).split(sep);
  if (top !== 'dist') return here;
  const source = join(root, ...rest, rel);
  return existsSync(source) ? source : here;
}
