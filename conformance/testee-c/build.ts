/**
 * Builds the example C testee (testee.c) with gcc -O2 against the C dispatch generated for
 * x86_64-pv at build time, into a cache directory keyed by a digest of everything that goes
 * in (the generated files, testee.c, the compiler and its flags). Nothing built is committed.
 *
 *   npx tsx conformance/testee-c/build.ts     prints the binary's path (building it if needed)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../../generator/index.js';
import { packageRoot, shippedPath } from '../files.js';

/** testee.c: next to this module, or in the sources when it runs from dist/. */
const SOURCE = shippedPath(import.meta.url, 'testee.c');
const ROOT = packageRoot(fileURLToPath(new URL('.', import.meta.url))) ?? fileURLToPath(new URL('../../', import.meta.url));
/** The cache directory by default (under node_modules, which is never committed). */
export const DEFAULT_CACHE = join(ROOT, 'node_modules', '.cache', 'hyperabi', 'testee-c');
const FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];

/** The testee could not be built: what failed, and what to do. */
export class BuildError extends Error {
  override name = 'BuildError';
}

export interface BuildOptions {
  cacheDir?: string;
  /** The C compiler (default gcc). */
  cc?: string;
}

/** Builds the C testee if needed and returns the path of its binary. */
export function buildCTestee(options: BuildOptions = {}): string {
  const cc = options.cc ?? 'gcc';
  const version = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new BuildError(`${cc} is not installed (${version.error?.message ?? version.stderr.trim()}); install it (Debian: apt-get install gcc) to build the C testee`);
  const files = [...generate('c-dispatch', 'xen', 'x86_64-pv'), { path: 'testee.c', content: readFileSync(SOURCE, 'utf8') }];
  const hash = createHash('sha256');
  hash.update(`${cc}\n${version.stdout.split('\n')[0]}\n${FLAGS.join(' ')}\n`);
  for (const f of files) hash.update(`${f.path}\n${f.content.length}\n${f.content}`);
  const dir = join(options.cacheDir ?? DEFAULT_CACHE, hash.digest('hex').slice(0, 16));
  const binary = join(dir, 'hyperabi-c-testee');
  if (existsSync(binary)) return binary;
  mkdirSync(options.cacheDir ?? DEFAULT_CACHE, { recursive: true });
  // Built in a fresh directory and moved into place whole, so concurrent builds never see half a build.
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    for (const f of files) writeFileSync(join(tmp, f.path), f.content);
    const r = spawnSync(cc, [...FLAGS, '-I', tmp, join(tmp, 'testee.c'), join(tmp, 'hyperabi_xen_dispatch.c'), '-o', join(tmp, 'hyperabi-c-testee')], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new BuildError(`${cc} could not build the C testee:\n${r.error?.message ?? r.stderr}`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another build got there first: use its result.
      if (!existsSync(binary)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return binary;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    console.log(buildCTestee());
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
