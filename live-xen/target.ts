/**
 * Real Xen 4.17 as a conformance target: a BatchTarget that boots Xen under QEMU with our PV
 * test kernel (live-xen/kernel/) as dom0 and the programs as its initrd, and turns the
 * kernel's serial lines into one ExecResult per program.
 *
 * One boot runs every program. When dom0 crashes (a program made the kernel fault, or Xen
 * killed it), shuts down (a program asked for it: the last vCPU down, a shutdown, a watchdog)
 * or hangs (a vCPU blocked for good: no serial line for idleMs), that program is an error with
 * the last serial lines, and the harness boots again with the programs after it.
 *
 * Machines: dom0 alone (domain id 0, x86_64-pv, privileged, one vCPU), or dom0 and an
 * unprivileged domain 1 the kernel builds (live-xen/domu.ts); `unsupported()` says why for
 * any other. Layout: the data area is the kernel's page-aligned `hx_data` buffer,
 * shared_info is mapped at `hx_shinfo`, `unmapped` is an address the kernel never maps.
 * Between programs the kernel puts back what it can (ports, timers, pins, its own mappings,
 * M2P entries, assists, the grant-table version, the data area and the event bitmaps); what
 * it cannot undo (a registered vcpu_info, a latched shutdown code) is why some scenarios
 * carry `limits: { live-xen: ... }`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainLayout, Program, ProgramDomain } from '../conformance/program.js';
import type { BatchTarget, ExecResult } from '../conformance/target.js';
import { xenSpec } from '../spec/index.js';
import type { Spec } from '../spec/model.js';
import { findAbi } from '../spec/query.js';
import { buildLiveKernel, compilerAvailable, xenImage, XEN_IMAGE_GZ, type BuiltKernel } from './build.js';
import type { CallException } from '../fuzz/external.js';
import { DOMU_DEFAULT_MAX_EVTCHN_PORT, twoDomainUnsupported } from './domu.js';
import { liveFuzzExceptions } from './exceptions.js';
import { encodePrograms, EncodeError, type EncodeOptions, type RegisterOrder } from './format.js';
import { boot, DOM0_MEMORY, QEMU_CPUS, qemuAvailable, XEN_ARGS, type BootRun } from './qemu.js';
import { execResult, parseSerial } from './serial.js';
import { referenceTwin } from './twin.js';

export const LIVE_XEN = 'live-xen';

export interface LiveXenOptions {
  spec?: Spec;
  /** The compressed Xen image (default /boot/xen-4.17-amd64.gz). */
  xenImageGz?: string;
  /** Extra Xen command-line options. */
  xenArgs?: string[];
  /** Most milliseconds one boot may take (default: 15 s plus 100 ms per program). */
  timeoutMs?: number;
  /** Most boots per runAll (each program that kills dom0 costs one; default 30). */
  maxBoots?: number;
  /** Most milliseconds without a serial line before a program counts as hung (default 5000). */
  idleMs?: number;
  /** Told each serial line. */
  onLine?: (line: string) => void;
  /** Told about each boot as it ends. */
  onBoot?: (run: BootRun, programs: number) => void;
  /**
   * Machines of dom0 and an unprivileged domain 1 (live-xen/domu.ts): the kernel builds
   * domain 1 through domctl and runs its instructions there (default true; false: dom0 alone).
   */
  secondDomain?: boolean;
}

/** Whether the live tier can run here, and what is missing otherwise. */
export function liveXenAvailable(gz: string = XEN_IMAGE_GZ): { ok: boolean; why?: string } {
  const q = qemuAvailable();
  if (!q.ok) return q;
  const c = compilerAvailable();
  if (!c.ok) return c;
  try {
    xenImage(gz);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  return { ok: true };
}

export interface LiveXenTarget extends BatchTarget {
  readonly kernel: BuiltKernel;
  /** What the last runAll did: boots, their ends and durations. */
  readonly lastRun: { boots: { end: BootRun['end']; ms: number; programs: number }[]; ms: number };
  /** The reference VMM as this target's twin (live-xen/twin.ts): dom0's boot page tables, the host's build id and command line. */
  /**
   * `zeroPage: false`: page 0 of each data area unmapped (TwinOptions.zeroPage); `liveVirtual`:
   * the boot page tables map the data area and shared_info at the live kernel's addresses
   * (TwinOptions.virtualAt). The fuzzer asks for both.
   */
  twin(o?: { zeroPage?: boolean; liveVirtual?: boolean }): ReturnType<typeof referenceTwin>;
  /**
   * Data pages every domain maps read-only (pages a program may make page tables): Xen cannot
   * write hypercall results there, so arguments must live elsewhere (the fuzzer's machines keep
   * their scratch pages clear of them, fuzz/machine.ts).
   */
  readonly readOnlyPages: { first: number; count: number };
  /** A domain that shuts down stops for real: dom0's end ends the boot, a silent domain 1 is rebuilt (its later instructions never run). */
  readonly shutdownStops: true;
  /** The kernel takes no event upcall (it registers no event callback): a program must leave every vCPU's upcall mask set (LIVE_WHY.upcall). */
  readonly eventsMasked: true;
  /** What real Xen and the twin cannot agree on, per operation (live-xen/exceptions.ts), for the fuzzer. */
  fuzzExceptions(): ReadonlyMap<string, readonly CallException[]>;
}

/** Builds the kernel (cached) and returns the target; throws when QEMU, gcc or the Xen image is missing. */
export function liveXenTarget(options: LiveXenOptions = {}): LiveXenTarget {
  const spec = options.spec ?? xenSpec;
  const avail = liveXenAvailable(options.xenImageGz);
  if (!avail.ok) throw new Error(avail.why);
  const xen = xenImage(options.xenImageGz);
  const kernel = buildLiveKernel(spec);
  const abi = findAbi(spec, 'x86_64-pv');
  if (!abi) throw new Error('the spec has no x86_64-pv ABI');
  const regs: RegisterOrder = { number: abi.convention.number, args: abi.convention.args };
  const lastRun: LiveXenTarget['lastRun'] = { boots: [], ms: 0 };
  let exceptions: Map<string, CallException[]> | undefined;

  const secondDomain = options.secondDomain ?? true;
  const encoding: EncodeOptions = secondDomain ? { secondDomain, defaultMaxEvtchnPort: DOMU_DEFAULT_MAX_EVTCHN_PORT } : {};
  const unsupported = (domains: readonly ProgramDomain[]): string | undefined => {
    if (secondDomain && domains.length === 2) return twoDomainUnsupported(domains, kernel.maxPages);
    if (domains.length !== 1) {
      const can = secondDomain ? 'dom0 alone or dom0 and domain 1' : 'dom0 alone (a second domain is not built)';
      return `the live target runs ${can}; this machine has ${domains.length} domains`;
    }
    const d = domains[0] as ProgramDomain;
    if (d.id !== 0) return `the live target's domain is dom0 (id 0), not ${d.id}`;
    if (d.abi !== 'x86_64-pv') return `the live kernel is x86_64-pv, not ${d.abi}`;
    if (!d.privileged) return 'the live target is dom0, a privileged domain; this domain is not';
    if (d.vcpus !== 1) return `dom0 has one vCPU on the live target (dom0_max_vcpus=1), not ${d.vcpus}`;
    if (d.memoryPages > kernel.maxPages) return `the live kernel's data area has ${kernel.maxPages} pages, the domain wants ${d.memoryPages}`;
    if (d.maxEvtchnPort !== undefined) return "dom0's event-channel limit is Xen's, it cannot be set";
    return undefined;
  };

  const layouts = (domains: readonly ProgramDomain[]): DomainLayout[] =>
    domains.map((d) => ({ id: d.id, dataBase: kernel.dataBase, unmapped: kernel.unmapped, sharedInfo: kernel.sharedInfo, grantTable: kernel.grantTable, grantStatus: kernel.grantStatus }));

  const runAll = async (programs: readonly Program[], progress?: (done: number, total: number) => void): Promise<ExecResult[]> => {
    const t0 = Date.now();
    lastRun.boots = [];
    const results: (ExecResult | undefined)[] = new Array<ExecResult | undefined>(programs.length);
    let done = 0;
    const settle = (i: number, r: ExecResult) => {
      results[i] = r;
      progress?.(++done, programs.length);
    };
    // Programs the kernel cannot take are errors at once; the rest boot.
    let pending: number[] = [];
    programs.forEach((p, i) => {
      const why = unsupported(p.domains);
      if (why) return settle(i, { results: [], error: why });
      try {
        encodePrograms([p], regs, 0, encoding);
        pending.push(i);
      } catch (e) {
        if (e instanceof EncodeError) settle(i, { results: [], error: e.message });
        else throw e;
      }
    });
    const dir = mkdtempSync(join(tmpdir(), 'hyperabi-live-'));
    try {
      const maxBoots = options.maxBoots ?? 30;
      while (pending.length > 0) {
        if (lastRun.boots.length >= maxBoots) {
          for (const i of pending) settle(i, { results: [], error: `not run: ${maxBoots} boots of Xen were used up by earlier crashes` });
          break;
        }
        const batch = pending.map((i) => programs[i] as Program);
        const module = join(dir, `programs-${lastRun.boots.length}.bin`);
        writeFileSync(module, encodePrograms(batch, regs, 0, encoding));
        const run = await boot({
          xen,
          kernel: kernel.elf,
          module,
          xenArgs: options.xenArgs,
          timeoutMs: options.timeoutMs ?? 15_000 + 100 * batch.length,
          ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
          ...(options.onLine ? { onLine: options.onLine } : {}),
        });
        lastRun.boots.push({ end: run.end, ms: run.ms, programs: batch.length });
        options.onBoot?.(run, batch.length);
        const rep = parseSerial(run.lines);
        const tail = run.lines.slice(-25);
        const next: number[] = [];
        let failedAt: number | undefined;
        batch.forEach((p, k) => {
          const i = pending[k] as number;
          const pr = rep.programs.get(k);
          if (pr?.ended) {
            const r = execResult(p, pr, tail);
            if (rep.tainted?.prog !== k) return settle(i, r);
            const note = `this program changed dom0 for good (${rep.tainted.what}): the programs after it ran in a new boot of Xen`;
            return settle(i, { ...r, notes: [...(r.notes ?? []), note] });
          }
          if (failedAt === undefined && pr?.started) {
            failedAt = k;
            const why = {
              crashed: 'dom0 crashed',
              shutdown: 'dom0 shut down',
              panic: 'Xen panicked',
              hung: `the kernel fell silent for ${(options.idleMs ?? 5000) / 1000} s (a blocked vCPU)`,
              timeout: 'the boot timed out',
              exit: 'QEMU ended',
              done: 'the kernel finished without it',
            }[run.end];
            const r = execResult(p, pr, tail);
            return settle(i, { ...r, error: `${why} during this program: ${r.error ?? ''}` });
          }
          next.push(i);
        });
        if (failedAt === undefined && next.length === batch.length) {
          // Nothing ran at all: booting again would do the same.
          const why = `Xen or the live kernel did not start (${run.end} after ${run.ms} ms${run.stderr ? `; QEMU: ${run.stderr.trim()}` : ''}); last serial lines:\n${tail.join('\n')}`;
          for (const i of next) settle(i, { results: [], error: why });
          break;
        }
        pending = next;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      lastRun.ms = Date.now() - t0;
    }
    return results.map((r) => r ?? { results: [], error: 'not run' });
  };

  return {
    kind: 'batch',
    name: LIVE_XEN,
    kernel,
    lastRun,
    twin: (o: { zeroPage?: boolean; liveVirtual?: boolean } = {}) =>
      referenceTwin({
        xenImage: xen,
        commandline: [...XEN_ARGS, ...(options.xenArgs ?? [])].join(' '),
        slackPages: ((DOM0_MEMORY.maxMiB - DOM0_MEMORY.startMiB) << 20) / 4096,
        hostCpus: QEMU_CPUS,
        ...(o.zeroPage !== undefined ? { zeroPage: o.zeroPage } : {}),
        ...(o.liveVirtual ? { virtualAt: { data: kernel.dataBase, sharedInfo: kernel.sharedInfo } } : {}),
      }),
    readOnlyPages: { first: kernel.tableFirst, count: kernel.tablePages },
    shutdownStops: true,
    eventsMasked: true,
    fuzzExceptions: () => (exceptions ??= liveFuzzExceptions(spec)),
    unsupported,
    layouts,
    runAll,
    dispose: () => Promise.resolve(),
  };
}
