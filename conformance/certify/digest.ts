/**
 * Digests for reports and certificates: canonical JSON, sha256, the spec hash, the suite
 * hash and hyperabi's version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Spec } from '../../spec/model.js';
import { exportSpec, stableJson } from '../../spec/export.js';

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** JSON with object keys sorted at every level, no whitespace: the same text for the same value. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

const specHashes = new WeakMap<Spec, string>();
/** sha256 of the spec as `hyperabi spec export` writes it (`<name>.json`). */
export function specHash(spec: Spec): string {
  let h = specHashes.get(spec);
  if (!h) specHashes.set(spec, (h = sha256(stableJson(exportSpec(spec)))));
  return h;
}

/** sha256 of a scenario's canonical JSON. */
export const scenarioDigest = (s: unknown): string => sha256(canonicalJson(s));

/** sha256 over scenario ids and digests in order (one "id digest" line each). */
export function suiteHash(items: readonly { id: string; digest: string }[]): string {
  return sha256(items.map((i) => `${i.id} ${i.digest}\n`).join(''));
}

let version: string | undefined;
/** hyperabi's version from its package.json (found from this file, in the sources or in dist/). */
export function hyperabiVersion(): string {
  if (version) return version;
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hyperabi' && pkg.version) return (version = pkg.version);
    }
    if (dirname(d) === d) return (version = '0.0.0-unknown');
  }
}
