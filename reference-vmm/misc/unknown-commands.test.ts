/**
 * Unknown commands of multiplexed hypercalls reach the hypercall-level handler, which gives
 * the error Xen 4.17 gives: vcpu_op checks the vCPU first (-ENOENT) and answers -EINVAL on
 * Arm; vm_assist checks the type first (-EINVAL); callback_op's 32-bit handler says -EINVAL.
 */
import { describe, expect, it } from 'vitest';
import { constantValue, xenSpec } from '../../spec/index.js';
import { ReferenceVmm } from '../vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const E = (n: string): bigint => -BigInt(C(`XEN_${n}`));

function call(abi: string, nr: string, args: bigint[]): bigint {
  const vmm = new ReferenceVmm({ domains: [{ id: 1, abi, memoryPages: 8 }] });
  const conv = vmm.machine.domain(1)!.abi.convention;
  const regs: Record<string, bigint> = { [conv.number]: BigInt(C(`__HYPERVISOR_${nr}`)) };
  args.forEach((v, i) => (regs[conv.args[i] as string] = v));
  const r = vmm.hypercallSigned(1, 0, regs);
  expect(vmm.internalErrors).toEqual([]);
  return r;
}

describe('unknown commands', () => {
  it('vcpu_op: an unknown command on a missing vCPU is ENOENT; on an existing one ENOSYS (x86) or EINVAL (Arm)', () => {
    expect(call('x86_64-pv', 'vcpu_op', [99n, 5n, 0n])).toBe(E('ENOENT'));
    expect(call('x86_64-pv', 'vcpu_op', [99n, 0n, 0n])).toBe(E('ENOSYS'));
    expect(call('arm64', 'vcpu_op', [99n, 0n, 0n])).toBe(E('EINVAL'));
  });

  it('vm_assist: an unknown command with an invalid type is EINVAL, with a valid type ENOSYS', () => {
    expect(call('x86_64-pv', 'vm_assist', [7n, 63n])).toBe(E('EINVAL'));
    expect(call('x86_64-pv', 'vm_assist', [7n, BigInt(C('VMASST_TYPE_writable_pagetables'))])).toBe(E('ENOSYS'));
  });

  it('callback_op: an unknown command is ENOSYS from 64-bit callers and EINVAL from 32-bit ones', () => {
    expect(call('x86_64-pv', 'callback_op', [9n, 0n])).toBe(E('ENOSYS'));
    expect(call('x86_32-pv', 'callback_op', [9n, 0n])).toBe(E('EINVAL'));
  });
});
