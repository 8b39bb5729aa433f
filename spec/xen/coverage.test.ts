/**
 * Coverage of the Xen spec against the 4.17 headers: every hypercall number, every integer
 * macro of the family headers (sub-op commands, flags, enums, limits), every sub-op with
 * its struct, and the hypercalls and shared structures the spec must describe.
 */
import { describe, expect, it } from 'vitest';
import { findArch, findConstant, findHypercall, findType } from '../query.js';
import { needToolchain, integerMacros } from '../probe/headers.js';
import { xenSpec } from './index.js';


/** The headers whose every integer macro the spec defines, per arch they are compiled on. */
const HEADERS: Record<string, string[]> = {
  x86_64: [
    'xen/xen.h',
    'xen/errno.h',
    'xen/features.h',
    'xen/event_channel.h',
    'xen/grant_table.h',
    'xen/memory.h',
    'xen/sched.h',
    'xen/vcpu.h',
    'xen/version.h',
    'xen/physdev.h',
    'xen/hvm/hvm_op.h',
    'xen/hvm/params.h',
    'xen/callback.h',
    'xen/nmi.h',
    'xen/arch-x86/xen.h',
    'xen/arch-x86/xen-x86_64.h',
  ],
  x86_32: ['xen/xen.h', 'xen/arch-x86/xen-x86_32.h', 'xen/event_channel.h', 'xen/memory.h'],
  arm64: ['xen/xen.h', 'xen/arch-arm.h', 'xen/event_channel.h', 'xen/grant_table.h'],
};

/**
 * Integer macros the spec leaves out on purpose, each with the reason. Anything else a
 * family header defines must be in the spec.
 */
const NOT_ABI: Record<string, string> = {
  __XEN_INTERFACE_VERSION__: 'interface-version plumbing, set by the includer',
};

describe('xen spec coverage of the 4.17 headers', () => {
  it('every __HYPERVISOR_* number is a hypercall of the spec (or a reserved arch slot)', (ctx) => {
    if (!needToolchain('x86_64')) return ctx.skip();
    const arch = findArch(xenSpec, 'x86_64');
    if (!arch) throw new Error('no x86_64');
    const numbers = integerMacros(arch, 'xen/xen.h').filter((m) => m.name.startsWith('__HYPERVISOR_'));
    expect(numbers.length).toBeGreaterThanOrEqual(48);
    const problems: string[] = [];
    for (const m of numbers) {
      const name = m.name.slice('__HYPERVISOR_'.length);
      if (!findConstant(xenSpec, m.name)) problems.push(`${m.name} is not a spec constant`);
      if (/^arch_\d$/.test(name)) continue;
      const h = findHypercall(xenSpec, name);
      if (!h) problems.push(`${m.name}: no hypercall '${name}'`);
      else if (BigInt(h.number) !== m.value) problems.push(`${m.name}: spec number ${h.number}, header ${m.value}`);
    }
    console.log(`${numbers.length} __HYPERVISOR_* numbers checked`);
    expect(problems).toEqual([]);
  });

  for (const [archName, headers] of Object.entries(HEADERS)) {
    it(`${archName}: every integer macro of the family headers is in the spec`, (ctx) => {
      if (!needToolchain(archName)) return ctx.skip();
      const arch = findArch(xenSpec, archName);
      if (!arch) throw new Error(`no ${archName}`);
      const absent: string[] = [];
      let total = 0;
      for (const h of headers) {
        for (const m of integerMacros(arch, h)) {
          total++;
          if (!findConstant(xenSpec, m.name) && !(m.name in NOT_ABI)) absent.push(`${h}: ${m.name}`);
        }
      }
      console.log(`${archName}: ${total} integer macros in ${headers.length} headers, ${absent.length} not in the spec`);
      expect(absent).toEqual([]);
    });
  }

  const multiplexed = [
    'event_channel_op',
    'grant_table_op',
    'memory_op',
    'sched_op',
    'vcpu_op',
    'xen_version',
    'console_io',
    'physdev_op',
    'hvm_op',
    'callback_op',
    'nmi_op',
    'vm_assist',
    'mmu_update',
    'mmuext_op',
  ];
  it('every multiplexed family has a sub-op table, and every sub-op names its struct (or none)', () => {
    const problems: string[] = [];
    for (const name of multiplexed) {
      const h = findHypercall(xenSpec, name);
      if (!h?.subops) {
        problems.push(`${name}: no sub-op table`);
        continue;
      }
      for (const op of h.subops.ops) {
        if (op.arg === undefined) problems.push(`${name}$${op.name}: no argument struct declared (use null for none)`);
        else if (op.arg !== null && op.arg.kind === 'name' && !findType(xenSpec, op.arg.name)) {
          problems.push(`${name}$${op.name}: struct ${op.arg.name} is not in the spec`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has the single-purpose hypercalls and the shared structures', () => {
    const calls = [
      'update_va_mapping',
      'update_va_mapping_otherdomain',
      'multicall',
      'set_timer_op',
      'set_trap_table',
      'set_gdt',
      'stack_switch',
      'set_callbacks',
      'set_debugreg',
      'get_debugreg',
      'update_descriptor',
      'fpu_taskswitch',
    ];
    expect(calls.filter((c) => !findHypercall(xenSpec, c))).toEqual([]);
    const structs = [
      'struct shared_info',
      'struct vcpu_info',
      'struct arch_vcpu_info',
      'struct vcpu_time_info',
      'struct start_info',
      'struct vcpu_runstate_info',
    ];
    expect(structs.filter((s) => !findType(xenSpec, s))).toEqual([]);
  });
});
