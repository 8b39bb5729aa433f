/**
 * The live target's second domain: machines of dom0 and one unprivileged domain 1, both
 * x86_64-pv with one vCPU. The live kernel (live-xen/kernel/domu.c) builds domain 1 itself
 * through domctl, running the same image, on the first program that needs it, and hands it
 * that program's domain-1 instructions through a mailbox page; between programs domain 1
 * puts back its state as dom0 does (the kernel's reset()).
 *
 * Layout: domain 1 runs the same image, so its data area, shared_info, grant-table windows
 * and unmapped address are at the same virtual addresses as dom0's.
 */
import type { ProgramDomain } from '../conformance/program.js';

/** The id of the domain the live kernel builds (the kernel asks XEN_DOMCTL_createdomain for it). */
export const DOMU_ID = 1;

/**
 * domain 1's max_evtchn_port when a scenario sets none: libxl's default `event_channels`
 * (1023), which is also the reference VMM's default for a domain.
 */
export const DOMU_DEFAULT_MAX_EVTCHN_PORT = 1023;

/** Why the live target cannot build this machine of two domains, or undefined when it can. */
export function twoDomainUnsupported(domains: readonly ProgramDomain[], maxPages: number): string | undefined {
  const [d0, d1] = domains;
  if (domains.length !== 2 || !d0 || !d1) return `the live target runs dom0 alone or dom0 and domain ${DOMU_ID}; this machine has ${domains.length} domains`;
  if (d0.id !== 0 || d1.id !== DOMU_ID) return `the live target's two domains are dom0 and domain ${DOMU_ID} in that order, not ${d0.id} and ${d1.id}`;
  for (const d of domains) {
    if (d.abi !== 'x86_64-pv') return `the live kernel is x86_64-pv, not ${d.abi} (domain ${d.id})`;
    if (d.vcpus !== 1) return `domain ${d.id} has one vCPU on the live target, not ${d.vcpus}`;
    if (d.memoryPages > maxPages) return `the live kernel's data area has ${maxPages} pages, domain ${d.id} wants ${d.memoryPages}`;
  }
  if (!d0.privileged) return 'the live target is dom0, a privileged domain; this domain 0 is not';
  if (d1.privileged) return `domain ${DOMU_ID} is built unprivileged on the live target`;
  if (d0.maxEvtchnPort !== undefined) return "dom0's event-channel limit is Xen's, it cannot be set";
  if (d1.maxPages !== undefined) return `domain ${DOMU_ID}'s memory is its whole image on the live target: its max_pages cannot be set`;
  return undefined;
}
