/**
 * The reference VMM as a testee: serves the testee protocol (docs/protocol.md) on stdin and
 * stdout, so the process target can be checked against a known-good implementation and the
 * pipe's throughput measured without a second implementation's speed in the way.
 *
 *   npx tsx conformance/protocol/reference-testee.ts [--no-invariants]
 *   hyperabi certify --target cmd:"npx tsx conformance/protocol/reference-testee.ts" ...
 *
 * It implements every ABI of the spec and declares no subset. Like the in-process target, it
 * checks the machine's invariants after every call (a broken one is an `error` reply);
 * --no-invariants leaves that out, for throughput.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { xenSpec } from '../../spec/index.js';
import type { Instr } from '../program.js';
import { referenceTarget, type ReferenceSession } from '../targets/reference.js';
import { decodeRequest, encodeReply, isComment, PROTOCOL, PROTOCOL_VERSION, type Reply, type Request } from './messages.js';

/** One protocol conversation with the reference VMM: a line in, a line out. */
export class ReferenceTestee {
  private session: ReferenceSession | undefined;
  private readonly target: ReturnType<typeof referenceTarget>;
  /** Set by `bye`. */
  finished = false;

  /** `invariants`: check the machine's invariants after every call, as the in-process target does (default true). */
  constructor(options: { invariants?: boolean } = {}) {
    this.target = referenceTarget({ name: 'reference', invariants: options.invariants ?? true });
  }

  /** The reply line to a request line; undefined for a comment. */
  handle(line: string): string | undefined {
    if (isComment(line)) return undefined;
    if (line.startsWith('hello ')) {
      let versions: number[] = [];
      try {
        const h = decodeRequest(line);
        if (h.kind === 'hello') versions = h.versions;
      } catch {
        // answered below
      }
      if (!versions.includes(PROTOCOL_VERSION)) {
        // No version in common: say why on a comment line and end (docs/protocol.md, Handshake).
        this.finished = true;
        return `# this testee speaks ${PROTOCOL} version ${PROTOCOL_VERSION} only`;
      }
    }
    let req: Request;
    try {
      req = decodeRequest(line);
    } catch (e) {
      const seq = /^(\d+) /.exec(line)?.[1];
      // Without a sequence number there is nothing to answer with: say so on a comment line.
      return seq === undefined ? `# cannot read ${JSON.stringify(line.slice(0, 80))}: ${(e as Error).message}` : encodeReply({ kind: 'error', seq: Number(seq), code: 'bad-request', message: (e as Error).message });
    }
    return encodeReply(this.answer(req));
  }

  private answer(req: Request): Reply {
    if (req.kind === 'hello') {
      return { kind: 'hello', version: PROTOCOL_VERSION, name: 'hyperabi-reference-vmm', abis: xenSpec.abis.map((a) => a.name) };
    }
    const seq = req.seq;
    switch (req.kind) {
      case 'machine':
        try {
          this.session = this.target.openSync(req.domains);
        } catch (e) {
          this.session = undefined;
          return { kind: 'error', seq, code: 'bad-machine', message: (e as Error).message };
        }
        return { kind: 'machine', seq, layouts: this.session.layouts };
      case 'destroy':
        this.session = undefined;
        return { kind: 'ok', seq };
      case 'bye':
        this.finished = true;
        return { kind: 'bye', seq };
      default: {
        if (!this.session) return { kind: 'error', seq, code: 'no-machine', message: `${req.kind} before machine` };
        const r = this.session.execSync([instrOf(req)]);
        if (r.error !== undefined) return { kind: 'error', seq, code: 'failed', message: r.error.replace(/^instruction 0: /, '') };
        const res = r.results[0];
        if (!res || res.op === 'done') return { kind: 'ok', seq };
        if (res.op === 'call') {
          // Shown signed, at the caller's word size, so that errors read as -0x16.
          const bits = (this.session.vmm.machine.domain((req as { dom: number }).dom)?.arch.wordSize ?? 8) * 8;
          return { kind: 'ret', seq, value: BigInt.asIntN(bits, res.result) };
        }
        return 'fault' in res ? { kind: 'fault', seq } : { kind: 'bytes', seq, bytes: res.bytes };
      }
    }
  }
}

function instrOf(req: Exclude<Request, { kind: 'hello' | 'machine' | 'destroy' | 'bye' }>): Instr {
  switch (req.kind) {
    case 'write':
      return { op: 'write', step: 0, dom: req.dom, addr: req.addr, bytes: req.bytes };
    case 'store':
      return { op: 'store', step: 0, dom: req.dom, addr: req.addr, size: req.size, value: req.value };
    case 'call':
      return { op: 'call', step: 0, dom: req.dom, vcpu: req.vcpu, regs: req.regs };
    case 'read':
      return { op: 'read', step: 0, dom: req.dom, addr: req.addr, length: req.length };
    case 'advance':
      return { op: 'advance', step: 0, ns: req.ns };
  }
}

/** Serves the protocol on this process's stdin and stdout until `bye` or end of input. */
export function serve(options: { invariants?: boolean } = {}): void {
  const testee = new ReferenceTestee(options);
  let partial = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      const r = testee.handle(line);
      if (r !== undefined) out += `${r}\n`;
      if (testee.finished) break;
    }
    if (testee.finished) process.stdout.write(out, () => process.exit(0));
    else if (out) process.stdout.write(out);
  });
  process.stdin.on('end', () => process.stdout.end());
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(self)) {
  const args = process.argv.slice(2);
  const bad = args.filter((a) => a !== '--no-invariants');
  if (bad.length > 0) {
    console.error(`usage: reference-testee.ts [--no-invariants]   (unknown: ${bad.join(' ')})`);
    process.exit(2);
  }
  serve({ invariants: !args.includes('--no-invariants') });
}
