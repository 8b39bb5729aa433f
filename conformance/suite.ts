/**
 * The conformance suite: scenario files under conformance/scenarios (hand-written semantic
 * and XSA-class scenarios, YAML or JSON) plus the scenarios derived from the spec.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { xenSpec } from '../spec/index.js';
import type { Spec } from '../spec/model.js';
import { deriveScenarios } from './derive.js';
import { shippedPath } from './files.js';
import { parseScenarios, ScenarioError, type Scenario } from './scenario.js';

/** The directory of the shipped scenario files (next to this module, or in the sources when it runs from dist/). */
export const SCENARIO_DIR = shippedPath(import.meta.url, './scenarios');

/** Every .yaml, .yml and .json file under `dir`, sorted. */
export function scenarioFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Loads scenario files (a file or a directory); errors name the file. */
export function loadScenarioFiles(path: string): Scenario[] {
  const files = statSync(path).isDirectory() ? scenarioFiles(path) : [path];
  return files.flatMap((f) => parseScenarios(readFileSync(f, 'utf8'), relative(process.cwd(), f) || f));
}

/**
 * The live tier's folder under the scenario directory: scenarios written for dom0 of real Xen
 * as the live kernel boots it (docs/live-xen.md), run on real Xen and the reference VMM's twin
 * by `hyperabi xen diff` and live-xen/live.test.ts. They are not part of the suite.
 */
export const LIVE_TIER_DIR = 'live';

/** The whole suite: files (but the live tier's) and derived scenarios, ids unique (the live tier's too). */
export function loadSuite(spec: Spec = xenSpec, dir: string = SCENARIO_DIR): Scenario[] {
  const files = scenarioFiles(dir);
  const live = (f: string) => relative(dir, f).split(sep)[0] === LIVE_TIER_DIR;
  const parse = (f: string) => parseScenarios(readFileSync(f, 'utf8'), relative(process.cwd(), f) || f);
  const all = [...files.filter((f) => !live(f)).flatMap(parse), ...deriveScenarios(spec)];
  const seen = new Set<string>();
  for (const s of [...all, ...files.filter(live).flatMap(parse)]) {
    if (seen.has(s.id)) throw new ScenarioError(s.id, 'two scenarios share this id');
    seen.add(s.id);
  }
  return all;
}
