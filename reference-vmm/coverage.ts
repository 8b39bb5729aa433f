/**
 * The reference VMM's coverage table: every operation id of the guest-ABI families, whether
 * the VMM implements it (a handler method answers it) or the spec declares it unimplemented
 * (`referenceVmm: { implemented: false, reason }`, answered -ENOSYS), and for each declared
 * error whether a test exercises it.
 *
 * "Exercised" is derived so that it cannot lie, from two sources kept apart in the table:
 * - unit tests: a test claims an error only by calling `expectError('<operation id>', '<code>',
 *   value)` (test/vmm-errors.ts), which asserts the value; the table counts the literal pairs of
 *   those calls in the VMM's test files;
 * - conformance scenarios: a scenario names the errors it exercises in `covers`, and only
 *   scenarios that pass on the reference VMM count (conformance/coverage.ts runs them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ErrorDecl, Hypercall, Operation, Spec } from '../spec/index.js';
import { ReferenceVmm } from './vmm.js';

/** The spec families whose every operation the reference VMM implements or declares unimplemented (issue 5). */
export const VMM_FAMILIES = ['event_channel', 'grant_table', 'memory', 'sched', 'vcpu', 'version', 'console', 'physdev', 'callback', 'x86_pv'] as const;

/** The coverage table's file, relative to the repository root. */
export const COVERAGE_FILE = 'docs/reference-vmm-coverage.md';

/** One operation id of a family: a sub-operation, or a hypercall without sub-operations. */
export interface OperationEntry {
  id: string;
  hypercall: Hypercall;
  op: Operation | undefined;
}

/** Every operation id of `families`, in hypercall-number then sub-op order. */
export function operations(spec: Spec, families: readonly string[] = VMM_FAMILIES): OperationEntry[] {
  const out: OperationEntry[] = [];
  for (const h of [...spec.hypercalls].sort((a, b) => a.number - b.number)) {
    if (!families.includes(h.family)) continue;
    if (!h.subops) out.push({ id: h.name, hypercall: h, op: undefined });
    else for (const op of h.subops.ops) out.push({ id: `${h.name}$${op.name}`, hypercall: h, op });
  }
  return out;
}

/** The errors an operation id declares: its own, then its hypercall's. */
export function declaredErrors(spec: Spec, id: string): ErrorDecl[] {
  const [hc, sub] = id.split('$') as [string, string | undefined];
  const h = spec.hypercalls.find((x) => x.name === hc);
  if (!h) return [];
  const op = sub === undefined ? undefined : h.subops?.ops.find((o) => o.name === sub);
  if (sub !== undefined && !op) return [];
  return [...(op?.errors ?? []), ...h.errors];
}

/** The declaration of error `code` for operation `id`, or undefined. */
export function findErrorDecl(spec: Spec, id: string, code: string): ErrorDecl | undefined {
  return declaredErrors(spec, id).find((e) => e.code === code);
}

/** Where the spec declares an operation unimplemented in the reference VMM: the reason. */
export function declaredUnimplemented(e: OperationEntry): string | undefined {
  const r = e.op?.referenceVmm ?? e.hypercall.referenceVmm;
  return r && !r.implemented ? r.reason : undefined;
}

/** Operation ids the VMM's handler answers (its own method, or its hypercall's catch-all). */
export function implementedIds(spec: Spec): Set<string> {
  const vmm = new ReferenceVmm({ domains: [{ id: 0, abi: spec.abis[0]?.name ?? 'x86_64-pv', memoryPages: 1 }] }, {}, spec);
  const out = new Set<string>();
  for (const e of operations(spec)) if (vmm.implements(e.id) || (e.op && vmm.implements(e.hypercall.name))) out.add(e.id);
  return out;
}

/** A call `expectError('<id>', '<code>'` in a test file: the claims the table counts. */
const CLAIM = /expectError\(\s*'([^'\n]+)'\s*,\s*'([^'\n]+)'/g;

/** (operation id → codes) claimed by the `*.test.ts` files under `dir`, with the files that claim them. */
export function exercisedErrors(dir: string, root = dir): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.endsWith('.test.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(CLAIM)) {
          const [, id, code] = m as unknown as [string, string, string];
          let codes = out.get(id);
          if (!codes) out.set(id, (codes = new Map()));
          let files = codes.get(code);
          if (!files) codes.set(code, (files = new Set()));
          files.add(relative(root, p));
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** Claims of exercised errors: operation id (or hypercall name) → code → who claims it. */
export type Claims = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

/**
 * The coverage table as Markdown, from the spec, the VMM's handler, the test files under
 * `vmmDir` and, when given, the claims of the conformance scenarios that pass on the VMM.
 */
export function coverageMarkdown(spec: Spec, vmmDir: string, scenarios?: Claims): string {
  const impl = implementedIds(spec);
  const claims = exercisedErrors(vmmDir);
  const ops = operations(spec);
  const rows: string[] = [];
  let nImpl = 0;
  let nUnimpl = 0;
  let nMissing = 0;
  let nErr = 0;
  let nErrHit = 0;
  let nByTest = 0;
  let nByScenario = 0;
  for (const e of ops) {
    const reason = declaredUnimplemented(e);
    let status: string;
    if (impl.has(e.id)) {
      status = reason === undefined ? 'implemented' : `implemented, but declared unimplemented (${reason})`;
      nImpl++;
    } else if (reason !== undefined) {
      status = `unimplemented (declared): ${reason}`;
      nUnimpl++;
    } else {
      status = '**missing**: neither implemented nor declared unimplemented';
      nMissing++;
    }
    const codes = [...new Set(declaredErrors(spec, e.id).map((x) => x.code))];
    const hit = claims.get(e.id);
    const byScenario = scenarios?.get(e.id);
    const cells = codes.map((c) => {
      const t = hit?.has(c) ?? false;
      const sc = byScenario?.has(c) ?? false;
      if (impl.has(e.id)) {
        nErr++;
        if (t || sc) nErrHit++;
        if (t) nByTest++;
        if (sc) nByScenario++;
      }
      if (!scenarios) return t ? `${c} ✓` : `${c} ✗`;
      return t || sc ? `${c} ✓${t ? 'T' : ''}${sc ? 'S' : ''}` : `${c} ✗`;
    });
    rows.push(`| \`${e.id}\` | ${status.replaceAll('|', '\\|')} | ${cells.join(', ') || '—'} |`);
  }
  // Errors of a multiplexed hypercall itself (an unknown command), claimed on the hypercall's name: no operation row has them.
  const hyper: string[] = [];
  for (const h of [...spec.hypercalls].sort((a, b) => a.number - b.number)) {
    if (!h.subops || !VMM_FAMILIES.includes(h.family as (typeof VMM_FAMILIES)[number])) continue;
    const cells = [...new Set(h.errors.map((x) => x.code))].flatMap((c) => {
      const t = claims.get(h.name)?.has(c) ?? false;
      const sc = scenarios?.get(h.name)?.has(c) ?? false;
      return t || sc ? [`${c} ✓${scenarios ? `${t ? 'T' : ''}${sc ? 'S' : ''}` : ''}`] : [];
    });
    if (cells.length > 0) hyper.push(`| \`${h.name}\` | ${cells.join(', ')} |`);
  }
  const sources = scenarios
    ? [
        'Each declared error is ✓ when it is exercised, with its sources: T when a VMM unit test asserts it through `expectError(operation id, code, value)` (test/vmm-errors.ts),',
        'S when a conformance scenario that passes on the reference VMM names it in `covers` (conformance/coverage.ts); ✗ when neither does.',
      ]
    : ['Each declared error is ✓ when a test asserts it through `expectError(operation id, code, value)` (test/vmm-errors.ts), ✗ when none does.'];
  const counts = scenarios
    ? `Declared errors of implemented operations exercised: ${nErrHit} of ${nErr} (by unit tests ${nByTest}, by conformance scenarios ${nByScenario}).`
    : `Declared errors of implemented operations exercised: ${nErrHit} of ${nErr}.`;
  return [
    '# Reference VMM coverage',
    '',
    '<!-- Generated by reference-vmm/coverage.ts (`hyperabi vmm coverage --write`). Do not edit. -->',
    '',
    `Every operation id of the families ${VMM_FAMILIES.map((f) => `\`${f}\``).join(', ')} of spec '${spec.name}' ${spec.version}:`,
    'implemented by the reference VMM, declared unimplemented in the spec (the VMM answers -ENOSYS), or missing.',
    ...sources,
    '',
    `Operations: ${ops.length}; implemented ${nImpl}, declared unimplemented ${nUnimpl}, missing ${nMissing}. ${counts}`,
    '',
    `| operation | status | declared errors (✓ exercised${scenarios ? ': T unit test, S conformance scenario' : ' by a test'}) |`,
    '| --- | --- | --- |',
    ...rows,
    '',
    ...(hyper.length > 0
      ? ['Errors of the hypercalls themselves (an unknown command), claimed on the hypercall’s name:', '', '| hypercall | exercised errors |', '| --- | --- |', ...hyper, '']
      : []),
  ].join('\n');
}
