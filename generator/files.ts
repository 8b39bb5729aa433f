/**
 * Generated files as values, and the one module that writes them to disk or checks a
 * directory against them. Emitters never touch the file system.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One generated file: a path relative to the output directory, and its text. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** Writes files under a directory (creating folders); returns the paths written. */
export function writeFiles(dir: string, files: readonly GeneratedFile[]): string[] {
  const written: string[] = [];
  for (const f of files) {
    const p = join(dir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    written.push(p);
  }
  return written;
}

/** The files of `files` that are missing from `dir` or differ from what is there. */
export function staleFiles(dir: string, files: readonly GeneratedFile[]): { path: string; why: 'missing' | 'differs' }[] {
  const stale: { path: string; why: 'missing' | 'differs' }[] = [];
  for (const f of files) {
    let current: string;
    try {
      current = readFileSync(join(dir, f.path), 'utf8');
    } catch {
      stale.push({ path: f.path, why: 'missing' });
      continue;
    }
    if (current !== f.content) stale.push({ path: f.path, why: 'differs' });
  }
  return stale;
}
