/**
 * Certification profiles (docs/certify.md): what an implementation claims. A profile picks
 * scenarios of the suite by the ABI of their calling domains and the operation they test
 * (`<operation id>/<case>`), and rates each one Required or Recommended.
 *
 * Membership of a scenario:
 * - when the scenario names profiles (`profiles: [...]`), exactly those, plus every profile
 *   that extends one of them (pv64-full extends pv64-core);
 * - otherwise every profile whose ABI is the ABI of all the scenario's calling domains and
 *   whose scope takes the scenario's operation (families, hypercalls or operation ids of the
 *   spec), limited to operations the reference VMM implements when the profile says so.
 *
 * Level of a scenario (the same in every profile that takes it):
 * 1. `level` when the scenario gives one;
 * 2. Recommended when the reference VMM does not implement the scenario's operation (it
 *    answers -ENOSYS, so its results cannot vouch for the expectations);
 * 3. Required otherwise: derived normal paths and declared errors, semantic and XSA-class
 *    scenarios alike.
 */
import type { Spec } from '../spec/model.js';
import { findAbi, findArch, findOperation } from '../spec/query.js';
import { xenSpec } from '../spec/index.js';
import { implementedIds } from '../reference-vmm/coverage.js';
import { ScenarioError, type Level, type Scenario } from './scenario.js';

/** Which operations a profile takes: whole families, hypercalls, or single operation ids of the spec. */
export interface Scope {
  families?: readonly string[];
  hypercalls?: readonly string[];
  operations?: readonly string[];
}

export interface Profile {
  name: string;
  title: string;
  /** What the profile claims, for people (docs/certify.md and `certify --list-profiles`). */
  doc: string;
  /** The spec its scenarios are judged against. */
  spec: 'xen';
  /** Every calling domain of a member scenario has this ABI. */
  abi: string;
  /** The operations it takes; absent: every operation. */
  scope?: Scope;
  /** Only operations the reference VMM implements (not declared `referenceVmm: { implemented: false }`). */
  implementedOnly?: boolean;
  /** Profiles whose every scenario this one also takes (a scenario naming one of them is in this one too). */
  extends?: readonly string[];
}

/** The shipped profiles. */
export const PROFILES: readonly Profile[] = [
  {
    name: 'xen-4.17-pv64-core',
    title: 'Xen 4.17, 64-bit PV guest interface: core',
    doc:
      'What a 64-bit PV guest kernel needs from a Xen-compatible hypervisor: event channels, grant tables, memory ' +
      'reservations, scheduling and timers (sched_op, set_timer_op), vCPU operations, version and console, VM assists, ' +
      'callbacks, the PV MMU (mmu_update, mmuext_op, update_va_mapping), multicall batches and the physdev queries ' +
      '(irq_status_query, get_free_pirq); only operations the reference VMM implements.',
    spec: 'xen',
    abi: 'x86_64-pv',
    scope: {
      // vm_assist is in the spec's console family; set_timer_op in sched.
      families: ['event_channel', 'grant_table', 'memory', 'sched', 'vcpu', 'version', 'console', 'callback'],
      hypercalls: ['mmu_update', 'mmuext_op', 'update_va_mapping', 'multicall', 'vm_assist', 'set_timer_op'],
      operations: ['physdev_op$PHYSDEVOP_irq_status_query', 'physdev_op$PHYSDEVOP_get_free_pirq'],
    },
    implementedOnly: true,
  },
  {
    name: 'xen-4.17-pv64-full',
    title: 'Xen 4.17, 64-bit PV guest interface: everything',
    doc:
      'Every scenario whose calling domains are x86_64-pv, of every family, including operations the reference VMM ' +
      'does not implement (Recommended unless a scenario says otherwise). Takes every scenario of xen-4.17-pv64-core.',
    spec: 'xen',
    abi: 'x86_64-pv',
    extends: ['xen-4.17-pv64-core'],
  },
  {
    name: 'xen-4.17-arm64',
    title: 'Xen 4.17, arm64 guest interface',
    doc: 'Every scenario whose calling domains are arm64 guests.',
    spec: 'xen',
    abi: 'arm64',
  },
];

/** A profile by name, or undefined. */
export function findProfile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** A usage error for an unknown profile name, listing the known ones. */
export function unknownProfile(name: string): Error {
  return new Error(`unknown profile '${name}'; profiles: ${PROFILES.map((p) => p.name).join(', ')} (hyperabi certify --list-profiles)`);
}

/** The operation id a scenario tests: the part of its id before the '/'. */
export function scenarioOperation(s: Pick<Scenario, 'id'>): string {
  return s.id.slice(0, s.id.indexOf('/'));
}

/** The ABIs of the domains that make calls in a scenario (the first domain when a step names none). */
export function callerAbis(s: Scenario): Set<string> {
  const first = s.machine.domains[0]!.id;
  const abiOf = new Map(s.machine.domains.map((d) => [d.id, d.abi]));
  const out = new Set<string>();
  for (const st of s.steps) {
    if ('call' in st || 'hypercall' in st) out.add(abiOf.get(st.domain ?? first) ?? '?');
  }
  if (out.size === 0) out.add(abiOf.get(first)!);
  return out;
}

const implementedCache = new WeakMap<Spec, Set<string>>();
/** Whether the reference VMM answers an operation id with a handler of its own. */
export function referenceImplements(spec: Spec, opId: string): boolean {
  let ids = implementedCache.get(spec);
  if (!ids) implementedCache.set(spec, (ids = implementedIds(spec)));
  return ids.has(opId);
}

/** Whether a scope takes an operation id (`family` stands in when the spec has no such operation). */
export function opInScope(spec: Spec, scope: Scope | undefined, opId: string, family?: string): boolean {
  if (!scope) return true;
  const found = findOperation(spec, opId);
  const fam = found?.hypercall.family ?? family;
  const hypercall = found?.hypercall.name ?? opId.split('$')[0]!;
  return (fam !== undefined && (scope.families ?? []).includes(fam)) || (scope.hypercalls ?? []).includes(hypercall) || (scope.operations ?? []).includes(opId);
}

/** Whether an ABI, its arch or its arch family is in a list (absent list: every ABI). */
export function abiSelected(spec: Spec, list: readonly string[] | undefined, abiName: string): boolean {
  if (list === undefined) return true;
  const abi = findAbi(spec, abiName);
  const arch = abi ? findArch(spec, abi.arch) : undefined;
  return list.includes(abiName) || (arch !== undefined && (list.includes(arch.name) || list.includes(arch.family)));
}

/** The operation ids a profile covers: in its scope and available to callers of its ABI (spec order). */
export function profileOperations(spec: Spec, profile: Profile): string[] {
  const out: string[] = [];
  for (const h of [...spec.hypercalls].sort((a, b) => a.number - b.number)) {
    if (!(profile.abi in h.abis)) continue;
    const ids = h.subops ? h.subops.ops.filter((o) => abiSelected(spec, o.abis, profile.abi)).map((o) => `${h.name}$${o.name}`) : [h.name];
    for (const id of ids) {
      if (!opInScope(spec, profile.scope, id)) continue;
      if (profile.implementedOnly && !referenceImplements(spec, id)) continue;
      out.push(id);
    }
  }
  return out;
}

/** The profiles that extend `name`, transitively, and `name` itself. */
function withExtenders(name: string): Set<string> {
  const out = new Set([name]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of PROFILES) {
      if (!out.has(p.name) && (p.extends ?? []).some((e) => out.has(e))) {
        out.add(p.name);
        grew = true;
      }
    }
  }
  return out;
}

/** Why a scenario is in a profile ('named' or 'rule'), or undefined when it is not. */
export function memberOf(spec: Spec, profile: Profile, s: Scenario): 'named' | 'rule' | undefined {
  if (s.profiles) return s.profiles.some((n) => withExtenders(n).has(profile.name)) ? 'named' : undefined;
  const abis = callerAbis(s);
  if (abis.size !== 1 || !abis.has(profile.abi)) return undefined;
  if (!opInScope(spec, profile.scope, scenarioOperation(s), s.family)) return undefined;
  if (profile.implementedOnly && !referenceImplements(spec, scenarioOperation(s))) return undefined;
  return 'rule';
}

/** A scenario's level and the rule that gave it. */
export function levelOf(spec: Spec, s: Scenario): { level: Level; rule: string } {
  if (s.level) return { level: s.level, rule: 'the scenario says so' };
  const op = scenarioOperation(s);
  if (findOperation(spec, op) && !referenceImplements(spec, op)) return { level: 'recommended', rule: 'the reference VMM does not implement the operation' };
  return { level: 'required', rule: `${s.kind} scenario` };
}

export interface ProfileEntry {
  scenario: Scenario;
  level: Level;
  /** Why it is in the profile and has its level, in words. */
  why: string;
}

/** Checks that every profile a scenario names exists: a ScenarioError naming the scenario otherwise. */
export function checkProfileNames(suite: readonly Scenario[]): void {
  for (const s of suite) {
    for (const n of s.profiles ?? []) if (!findProfile(n)) throw new ScenarioError(s.id, `profiles: ${unknownProfile(n).message}`);
  }
}

/** The scenarios of a profile, in suite order, with their levels. */
export function profileScenarios(profile: Profile, suite: readonly Scenario[], spec: Spec = xenSpec): ProfileEntry[] {
  checkProfileNames(suite);
  const out: ProfileEntry[] = [];
  for (const s of suite) {
    const m = memberOf(spec, profile, s);
    if (!m) continue;
    const l = levelOf(spec, s);
    out.push({ scenario: s, level: l.level, why: `${m === 'named' ? 'named by the scenario' : `${profile.abi} caller, in scope`}; ${l.level}: ${l.rule}` });
  }
  return out;
}
