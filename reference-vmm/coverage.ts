/**
 * The reference VMM's coverage table: every operation id of the guest-ABI families, whether
 * the VMM implements it (a handler method answers it) or the spec declares it unimplemented
 * (`referenceVmm: { implemented: false, reason }`, answered -ENOSYS), and for each declared
 * error whether a test exercises it.
 *
 * "Exercised" is derived so that it cannot lie: a test claims an error only by calling
 * `expectError('<operation id>', '<code>', value)` (test/vmm-errors.ts), which asserts the
 * value; the table counts the literal pairs of those calls in the VMM's test files.
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

/** The coverage table as Markdown, from the spec, the VMM's handler and the test files under `vmmDir`. */
export function coverageMarkdown(spec: Spec, vmmDir: string): string {
  const impl = implementedIds(spec);
  const claims = exercisedErrors(vmmDir);
  const ops = operations(spec);
  const rows: string[] = [];
  let nImpl = 0;
  let nUnimpl = 0;
  let nMissing = 0;
  let nErr = 0;
  let nErrHit = 0;
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
    const cells = codes.map((c) => {
      const ok = hit?.has(c) ?? false;
      if (impl.has(e.id)) {
        nErr++;
        if (ok) nErrHit++;
      }
      return ok ? `${c} ✓` : `${c} ✗`;
    });
    rows.push(`| \`${e.id}\` | ${status.replaceAll('|', '\\|')} | ${cells.join(', ') || '—'} |`);
  }
  return [
    '# Reference VMM coverage',
    '',
    '<!-- Generated by reference-vmm/coverage.ts (`hyperabi vmm coverage --write`). Do not edit. -->',
    '',
    `Every operation id of the families ${VMM_FAMILIES.map((f) => `\`${f}\``).join(', ')} of spec '${spec.name}' ${spec.version}:`,
    'implemented by the reference VMM, declared unimplemented in the spec (the VMM answers -ENOSYS), or missing.',
    'Each declared error is ✓ when a test asserts it through `expectError(operation id, code, value)` (test/vmm-errors.ts), ✗ when none does.',
    '',
    `Operations: ${ops.length}; implemented ${nImpl}, declared unimplemented ${nUnimpl}, missing ${nMissing}. Declared errors of implemented operations exercised: ${nErrHit} of ${nErr}.`,
    '',
    '| operation | status | declared errors (✓ exercised by a test) |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
