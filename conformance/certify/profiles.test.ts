import { describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { findOperation } from '../../spec/query.js';
import { callerAbis, levelOf, PROFILES, profileOperations, profileScenarios, referenceImplements, scenarioOperation, findProfile } from '../profiles.js';
import { parseScenarios, ScenarioError } from '../scenario.js';
import { loadSuite } from '../suite.js';

const one = (id: string, abi: string, extra = '', steps = `  - call: xen_version$XENVER_version\n    expect: ok\n`) =>
  parseScenarios(
    `id: ${id}\ndoc: a scenario\nref: test\nkind: semantic\nfamily: ${id.startsWith('xen_version') ? 'version' : 'event_channel'}\n${extra}machine: { domains: [ { id: 0, abi: ${abi}, privileged: true } ] }\nsteps:\n${steps}`,
    `${id}.yaml`,
  )[0]!;

const core = findProfile('xen-4.17-pv64-core')!;
const full = findProfile('xen-4.17-pv64-full')!;
const arm = findProfile('xen-4.17-arm64')!;
const names = (p: typeof core, ss: Parameters<typeof profileScenarios>[1]) => profileScenarios(p, ss, xenSpec).map((e) => `${e.scenario.id}:${e.level}`);

describe('certification profiles', () => {
  it('every family, hypercall and operation a profile names exists in the spec', () => {
    const families = new Set(xenSpec.hypercalls.map((h) => h.family));
    for (const p of PROFILES) {
      for (const f of p.scope?.families ?? []) expect(families.has(f), `${p.name}: family ${f}`).toBe(true);
      for (const h of p.scope?.hypercalls ?? []) expect(xenSpec.hypercalls.some((x) => x.name === h), `${p.name}: hypercall ${h}`).toBe(true);
      for (const o of p.scope?.operations ?? []) expect(findOperation(xenSpec, o), `${p.name}: operation ${o}`).toBeDefined();
      for (const e of p.extends ?? []) expect(findProfile(e), `${p.name} extends ${e}`).toBeDefined();
      expect(xenSpec.abis.some((a) => a.name === p.abi)).toBe(true);
      expect(p.doc.length).toBeGreaterThan(20);
    }
  });

  it('the core profile covers the PV guest essentials the brief names, only where the reference VMM implements them', () => {
    const ops = profileOperations(xenSpec, core);
    for (const id of [
      'event_channel_op$EVTCHNOP_send',
      'grant_table_op$GNTTABOP_map_grant_ref',
      'memory_op$XENMEM_decrease_reservation',
      'sched_op$SCHEDOP_poll',
      'vcpu_op$VCPUOP_up',
      'xen_version$XENVER_version',
      'console_io$CONSOLEIO_write',
      'mmu_update$MMU_NORMAL_PT_UPDATE',
      'mmuext_op$MMUEXT_PIN_L1_TABLE',
      'update_va_mapping',
      'multicall',
      'vm_assist$VMASST_CMD_enable',
      'callback_op$CALLBACKOP_register',
      'set_timer_op',
      'physdev_op$PHYSDEVOP_irq_status_query',
    ])
      expect(ops, id).toContain(id);
    for (const id of ['event_channel_op$EVTCHNOP_init_control', 'set_gdt', 'physdev_op$PHYSDEVOP_map_pirq', 'hvm_op$HVMOP_set_param', 'set_trap_table']) expect(ops, id).not.toContain(id);
    for (const id of ops) expect(referenceImplements(xenSpec, id), id).toBe(true);
    // full takes every x86_64-pv operation, implemented or not
    const all = profileOperations(xenSpec, full);
    expect(all).toContain('event_channel_op$EVTCHNOP_init_control');
    expect(all.length).toBeGreaterThan(ops.length);
    expect(profileOperations(xenSpec, arm)).not.toContain('mmu_update$MMU_NORMAL_PT_UPDATE');
  });

  it('takes scenarios by the ABI of their callers and the scope, and rates them by the documented rule', () => {
    const pv = one('xen_version$XENVER_version/pv', 'x86_64-pv');
    const pv32 = one('xen_version$XENVER_version/pv32', 'x86_32-pv');
    const armS = one('xen_version$XENVER_version/arm', 'arm64');
    const fifo = one('event_channel_op$EVTCHNOP_init_control/fifo', 'x86_64-pv', '', `  - call: event_channel_op$EVTCHNOP_init_control\n    expect: any\n`);
    const rec = one('xen_version$XENVER_version/rec', 'x86_64-pv', 'level: recommended\n');
    const named = one('xen_version$XENVER_version/named', 'x86_32-pv', 'profiles: [xen-4.17-pv64-core]\n');
    const suite = [pv, pv32, armS, fifo, rec, named];
    expect(names(core, suite)).toEqual(['xen_version$XENVER_version/pv:required', 'xen_version$XENVER_version/rec:recommended', 'xen_version$XENVER_version/named:required']);
    expect(names(full, suite)).toEqual([
      'xen_version$XENVER_version/pv:required',
      'event_channel_op$EVTCHNOP_init_control/fifo:recommended',
      'xen_version$XENVER_version/rec:recommended',
      'xen_version$XENVER_version/named:required',
    ]);
    expect(names(arm, suite)).toEqual(['xen_version$XENVER_version/arm:required']);
    expect(levelOf(xenSpec, fifo).rule).toMatch(/does not implement/);
    expect(scenarioOperation(fifo)).toBe('event_channel_op$EVTCHNOP_init_control');
  });

  it('judges a scenario by the domains that make calls, and rejects unknown profile names', () => {
    const mixed = parseScenarios(
      `id: xen_version$XENVER_version/mixed\ndoc: d\nref: r\nkind: semantic\nfamily: version\nmachine: { domains: [ { id: 0, abi: x86_64-pv, privileged: true }, { id: 1, abi: x86_64-hvm } ] }\nsteps:\n  - call: xen_version$XENVER_version\n    expect: ok\n`,
      'm.yaml',
    )[0]!;
    expect([...callerAbis(mixed)]).toEqual(['x86_64-pv']);
    expect(names(core, [mixed])).toHaveLength(1);
    const both = { ...mixed, steps: [...mixed.steps, { call: 'xen_version$XENVER_version', domain: 1, expect: 'ok' as const }] };
    expect([...callerAbis(both)].sort()).toEqual(['x86_64-hvm', 'x86_64-pv']);
    expect(names(core, [both])).toHaveLength(0);
    const bad = one('xen_version$XENVER_version/bad', 'x86_64-pv', 'profiles: [xen-4.99-nope]\n');
    expect(() => profileScenarios(core, [bad], xenSpec)).toThrow(ScenarioError);
    expect(() => profileScenarios(core, [bad], xenSpec)).toThrow(/xen_version\$XENVER_version\/bad: profiles: unknown profile 'xen-4.99-nope'/);
  });

  it('the shipped suite is split into profiles without error, and core holds only implemented x86_64-pv operations', () => {
    const suite = loadSuite(xenSpec);
    const coreEntries = profileScenarios(core, suite, xenSpec);
    const fullIds = new Set(profileScenarios(full, suite, xenSpec).map((e) => e.scenario.id));
    expect(coreEntries.length).toBeGreaterThan(0);
    for (const e of coreEntries) {
      expect(fullIds.has(e.scenario.id), e.scenario.id).toBe(true);
      if (!e.scenario.profiles) {
        expect(callerAbis(e.scenario), e.scenario.id).toEqual(new Set(['x86_64-pv']));
        expect(referenceImplements(xenSpec, scenarioOperation(e.scenario)), e.scenario.id).toBe(true);
      }
    }
  });
});
