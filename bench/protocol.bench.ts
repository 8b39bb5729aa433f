/**
 * The testee protocol's throughput (`npm run bench -- protocol`), issue 6's goal: at least
 * 50,000 hypercalls per second through the pipe. Each task runs one pipelined program of
 * 1000 EVTCHNOP_send calls on an IPI port (each sets the pending bit in shared_info) through
 * the process target: hypercalls per second = ops/s × 1000. Against the example C testee
 * (conformance/testee-c) and the reference VMM served over the protocol
 * (conformance/protocol/reference-testee.ts).
 */
import type { Bench } from 'tinybench';
import type { Instr, Operand } from '../conformance/program.js';
import { processTarget } from '../conformance/targets/process.js';
import type { Session } from '../conformance/target.js';
import { buildCTestee } from '../conformance/testee-c/build.js';
import { constantValue, xenSpec } from '../spec/index.js';

const CALLS = 1000;
const C = (n: string): bigint => BigInt(constantValue(xenSpec, n) as number);
const EVTCHN = BigInt(xenSpec.hypercalls.find((h) => h.name === 'event_channel_op')!.number);

/** Binds an IPI port and leaves an evtchn_send { port } at data + 0x200; returns the send calls. */
async function prepare(session: Session): Promise<Instr[]> {
  const base = session.layouts[0]!.dataBase;
  const call = (cmd: bigint, at: bigint): Instr => ({ op: 'call', step: 0, dom: 0, vcpu: 0, regs: { rax: EVTCHN, rdi: cmd, rsi: at } as Record<string, Operand> });
  const setup = await session.exec([
    { op: 'write', step: 0, dom: 0, addr: base + 0x100n, bytes: new Uint8Array(8) }, // evtchn_bind_ipi { vcpu 0, port }
    call(C('EVTCHNOP_bind_ipi'), base + 0x100n),
    { op: 'store', step: 0, dom: 0, addr: base + 0x200n, size: 4, value: { load: { dom: 0, addr: base + 0x104n, size: 4 } } },
  ]);
  const bound = setup.results[1];
  if (setup.error !== undefined || bound?.op !== 'call' || bound.result !== 0n) throw new Error(`bench setup failed: ${setup.error ?? JSON.stringify(bound, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))}`);
  return Array.from({ length: CALLS }, () => call(C('EVTCHNOP_send'), base + 0x200n));
}

export async function register(bench: Bench): Promise<void> {
  const targets = [
    { label: 'C testee', command: buildCTestee() },
    { label: 'reference VMM testee (no invariant checks)', command: 'npx tsx conformance/protocol/reference-testee.ts --no-invariants' },
    { label: 'reference VMM testee (invariants checked per call)', command: 'npx tsx conformance/protocol/reference-testee.ts' },
  ];
  const running: { dispose(): Promise<void> }[] = [];
  bench.addEventListener('complete', () => void Promise.all(running.map((t) => t.dispose())));
  for (const { label, command } of targets) {
    const target = await processTarget(command, { cwd: new URL('..', import.meta.url).pathname, stepTimeoutMs: 30_000, scenarioTimeoutMs: 3_600_000 });
    const session = await target.open([{ id: 0, abi: 'x86_64-pv', memoryPages: 16, vcpus: 1, privileged: true }]);
    running.push({ dispose: () => session.close().then(() => target.dispose()) });
    const sends = await prepare(session);
    bench.add(`protocol: ${CALLS} EVTCHNOP_send pipelined through the ${label} (hypercalls/s = ops/s × ${CALLS})`, async () => {
      const r = await session.exec(sends);
      if (r.error !== undefined || r.results.length !== CALLS) throw new Error(`the ${label} failed: ${r.error ?? `${r.results.length} results`}`);
    });
  }
}
