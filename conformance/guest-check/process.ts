/**
 * Checking a guest process: runs a command whose stdout and stdin speak the guest protocol
 * (conformance/guest-check/protocol.ts), answers its calls from a reference VMM in strict
 * mode, and returns the findings and the trace. The guest is domain 1 of a machine whose
 * domain 0 is an idle privileged domain (a peer that exists). It never hangs: every
 * message has a deadline, and a guest that misses it is killed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PAGE_SIZE } from '../../reference-vmm/addr.js';
import { grantTables } from '../../reference-vmm/grant/handlers.js';
import { ReferenceVmm } from '../../reference-vmm/vmm.js';
import type { Finding } from './checker.js';
import { GUEST_PROTOCOL_VERSION, GuestProtocolError, guestReplyText, parseGuestRequest, type GuestReply } from './protocol.js';
import { StrictVmm } from './strict.js';
import { bytesOf, type CallEvent, type TraceEvent } from './trace.js';

export interface GuestProcessOptions {
  /** The guest command, run by /bin/sh. */
  command: string;
  cwd?: string;
  /** Pages of guest RAM when the guest's hello does not say (default 16). */
  pages?: number;
  /** The most milliseconds the guest may take for its next message (default 10 s). */
  messageTimeoutMs?: number;
  /** The most milliseconds the whole run may take (default 60 s). */
  totalTimeoutMs?: number;
  /** Receives every trace event as it happens. */
  record?: (ev: TraceEvent) => void;
  /** Told about each call (for progress). */
  progress?: (calls: number) => void;
}

export interface GuestProcessResult {
  findings: Finding[];
  events: TraceEvent[];
  calls: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** What went wrong with the run itself (the guest broke the protocol, hung, or died without bye). */
  error?: string;
}

/** The guest's domain id. */
export const GUEST_DOMID = 1;

export function checkGuestProcess(opts: GuestProcessOptions): Promise<GuestProcessResult> {
  const messageTimeout = opts.messageTimeoutMs ?? 10_000;
  const totalTimeout = opts.totalTimeoutMs ?? 60_000;
  const events: TraceEvent[] = [];
  let lastCall: CallEvent | undefined;
  let strict: StrictVmm | undefined;
  let calls = 0;
  let error: string | undefined;
  let stderr = '';
  let byeSeen = false;

  // Its own process group, so that a kill reaches whatever the guest command started too.
  const child = spawn('/bin/sh', ['-c', opts.command], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 64 * 1024) stderr += s;
  });
  child.stdin.on('error', () => {
    // The guest closed its stdin or died: the exit handler reports it.
  });

  return new Promise<GuestProcessResult>((resolve) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (why: string) => {
      error ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // Whatever the guest started may still hold its pipes: stop reading them.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => fail(`the guest sent nothing for ${messageTimeout} ms (killed)`), messageTimeout);
    };
    const total = setTimeout(() => fail(`the guest ran longer than ${totalTimeout} ms (killed)`), totalTimeout);
    const send = (r: GuestReply) => {
      if (!child.stdin.destroyed) child.stdin.write(`${guestReplyText(r)}\n`);
    };
    const endGuest = () => {
      if (strict && !byeSeen) strict.end(GUEST_DOMID);
    };
    arm();

    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    let lineNo = 0;
    lines.on('line', (raw) => {
      lineNo++;
      arm();
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || error) return;
      let req;
      try {
        req = parseGuestRequest(line);
      } catch (e) {
        if (e instanceof GuestProtocolError) {
          fail(`guest line ${lineNo}: ${e.message}`);
          return;
        }
        throw e;
      }
      if (req.kind === 'hello') {
        if (strict) return fail(`guest line ${lineNo}: a second hello`);
        if (req.version !== GUEST_PROTOCOL_VERSION) return fail(`guest line ${lineNo}: protocol version ${req.version}; this harness speaks ${GUEST_PROTOCOL_VERSION}`);
        const pages = req.pages ?? opts.pages ?? 16;
        let vmm: ReferenceVmm;
        try {
          vmm = new ReferenceVmm({
            domains: [
              { id: 0, abi: req.abi, memoryPages: 4, privileged: true },
              { id: GUEST_DOMID, abi: req.abi, memoryPages: pages, vcpus: req.vcpus ?? 1 },
            ],
          });
        } catch (e) {
          return fail(`guest line ${lineNo}: cannot make its domain: ${(e as Error).message}`);
        }
        strict = new StrictVmm(vmm, {
          record: (ev) => {
            events.push(ev);
            if (ev.ev === 'call') lastCall = ev;
            opts.record?.(ev);
          },
        });
        const d = vmm.machine.domain(GUEST_DOMID);
        if (!d) return fail('internal: the guest domain was not created');
        send({
          kind: 'hello',
          dom: GUEST_DOMID,
          ram: [0n, BigInt(pages * PAGE_SIZE)],
          shared: BigInt(d.sharedInfoGfn * PAGE_SIZE),
          grant: BigInt(grantTables(vmm).state.base(d) * PAGE_SIZE),
        });
        return;
      }
      if (!strict) return fail(`guest line ${lineNo}: '${req.kind}' before hello`);
      switch (req.kind) {
        case 'write':
          try {
            strict.write(GUEST_DOMID, req.addr, req.bytes);
            send({ kind: 'ok', seq: req.seq });
          } catch {
            send({ kind: 'fault', seq: req.seq });
          }
          return;
        case 'read':
          try {
            send({ kind: 'bytes', seq: req.seq, bytes: strict.read(GUEST_DOMID, req.addr, req.length) });
          } catch {
            send({ kind: 'fault', seq: req.seq });
          }
          return;
        case 'call': {
          const d = strict.vmm.machine.domain(GUEST_DOMID);
          if (!d) return fail('internal: no guest domain');
          const conv = d.abi.convention;
          if (req.args.length > conv.args.length) {
            send({ kind: 'error', seq: req.seq, code: 'too-many-arguments', message: `${d.abi.name} passes ${conv.args.length} argument registers, not ${req.args.length}` });
            return;
          }
          if (req.vcpu >= d.vcpus.length) {
            send({ kind: 'error', seq: req.seq, code: 'no-vcpu', message: `the guest has ${d.vcpus.length} vCPUs` });
            return;
          }
          const regs: Record<string, bigint> = { [conv.number]: req.nr };
          req.args.forEach((a, i) => {
            regs[conv.args[i] as string] = a;
          });
          const ret = strict.hypercall(GUEST_DOMID, req.vcpu, regs);
          calls++;
          opts.progress?.(calls);
          const changed = (lastCall?.out ?? []).map((m) => ({ addr: BigInt(m.addr), bytes: bytesOf(m.bytes) }));
          send({ kind: 'ret', seq: req.seq, value: BigInt.asIntN(d.arch.wordSize * 8, ret), changed });
          return;
        }
        case 'bye':
          byeSeen = true;
          strict.end(GUEST_DOMID);
          send({ kind: 'bye', seq: req.seq, findings: strict.findings.length });
          child.stdin.end();
          return;
      }
    });

    child.on('error', (e) => fail(`cannot run the guest: ${e.message}`));
    child.on('close', (code, signal) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      clearTimeout(total);
      if (!strict && !error) error = `the guest exited (code ${code ?? signal}) without its hello line`;
      else if (!byeSeen && !error) error = `the guest exited (code ${code ?? signal}) without bye`;
      endGuest();
      resolve({ findings: [...(strict?.findings ?? [])], events, calls, exitCode: code, signal, stderr, ...(error ? { error } : {}) });
    });
  });
}
