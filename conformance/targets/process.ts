/**
 * An external implementation as a conformance target: a child process that speaks the
 * testee protocol (docs/protocol.md) on its stdin and stdout.
 *
 * The harness starts the testee, shakes hands (protocol version, name, ABIs, declared
 * subset), and per scenario creates a machine, sends the program's instructions at once
 * (pipelined: replies are read as they come) and destroys the machine. Whatever goes wrong
 * with the testee, the run goes on: a crash (exit or signal), a hang (no reply within the
 * step timeout, or a scenario over the scenario timeout) or garbage (a line that is not a
 * reply, or a reply out of order or of the wrong kind) ends that scenario with an `error`
 * that says what happened and shows the last lines of the testee's stderr; the testee is
 * killed (its whole process group) and started again for the next scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Spec } from '../../spec/model.js';
import { xenSpec } from '../../spec/index.js';
import type { DomainLayout, Instr, InstrResult, ProgramDomain } from '../program.js';
import { decodeHello, decodeReply, encodeRequest, isComment, PROTOCOL_VERSION, ProtocolError, type Reply, type Request, type TesteeHello } from '../protocol/messages.js';
import { globMatch, outsideSubset } from '../protocol/subset.js';
import type { Scenario } from '../scenario.js';
import type { ExecResult, InteractiveTarget, Session } from '../target.js';

export interface ProcessTargetOptions {
  /** The target's name in outcomes and reports (default: the name the testee gives in its hello). */
  name?: string;
  cwd?: string;
  /** Extra environment variables for the testee. */
  env?: Record<string, string>;
  /** The most the testee may take to answer one request (ms, default 5000). */
  stepTimeoutMs?: number;
  /** The most one scenario may take, machine creation to destruction (ms, default 8000: under the runner's own 10 s). */
  scenarioTimeoutMs?: number;
  /** The most the testee may take to start and say hello (ms, default 20000: `npx tsx` on a busy machine is slow). */
  startTimeoutMs?: number;
  /** Writes the session to this file: `> ` harness lines, `< ` testee lines, `# ` harness notes. */
  capture?: string;
  /** Lines of the testee's stderr kept for error messages (default 8). */
  stderrLines?: number;
  /** The spec the declared subset is read against (default Xen's). */
  spec?: Spec;
}

/** A testee that could not be started or did not shake hands: what happened. */
export class TesteeError extends Error {
  override name = 'TesteeError';
}

/** The reply kinds a request may get besides `error`. */
const ANSWERS: Record<Request['kind'], readonly Reply['kind'][]> = {
  hello: ['hello'],
  machine: ['machine'],
  write: ['ok'],
  store: ['ok'],
  call: ['ret'],
  read: ['bytes', 'fault'],
  advance: ['ok', 'skipped'],
  destroy: ['ok'],
  bye: ['bye'],
};

interface Pending {
  seq: number;
  kind: Request['kind'];
  /** For messages: `instruction 3 (call, step 2)`. */
  what: string;
  /** For a read: the byte count the reply must have. */
  length?: number;
  reply?: Reply;
}

/** One run of the testee process. */
class Testee {
  readonly child: ChildProcess;
  hello?: TesteeHello;
  /** Why the testee is unusable (it died, hung or wrote garbage); set once. */
  dead?: string;
  private seq = 0;
  private readonly queue: Pending[] = [];
  private head = 0;
  private partial = '';
  private readonly stderrTail: string[] = [];
  private stderrPartial = '';
  private stepTimer: NodeJS.Timeout | undefined;
  private stepMs: number;
  private waiter: { resolve: () => void } | undefined;
  private readonly closed: Promise<void>;
  private stopping = false;

  constructor(
    readonly command: string,
    private readonly opts: Required<Pick<ProcessTargetOptions, 'stepTimeoutMs' | 'startTimeoutMs' | 'stderrLines'>> & ProcessTargetOptions,
    private readonly log: (line: string) => void,
  ) {
    this.stepMs = opts.startTimeoutMs;
    this.child = spawn(command, {
      shell: true,
      detached: true,
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.log(`# started: ${command} (pid ${this.child.pid ?? '?'})`);
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    this.child.stdin!.on('error', () => undefined);
    this.child.on('error', (e) => this.fail(`cannot run the testee: ${e.message}`));
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        if (this.stderrPartial) this.pushStderr(this.stderrPartial);
        if (this.stopping && code === 0) this.fail('the testee ended after bye');
        else this.fail(signal ? `the testee was killed by ${signal}` : `the testee exited with code ${code ?? '?'}${shellSignal(code)}`);
        resolve();
      });
    });
  }

  /** The last lines of stderr, for messages. */
  stderr(): string {
    return this.stderrTail.length > 0 ? `; last stderr: ${this.stderrTail.join(' | ')}` : '; stderr was empty';
  }

  private pushStderr(line: string, log = true): void {
    if (log) this.log(`# stderr: ${line}`);
    this.stderrTail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.stderrTail.length > this.opts.stderrLines) this.stderrTail.shift();
  }

  private onStderr(chunk: string): void {
    const lines = (this.stderrPartial + chunk).split('\n');
    this.stderrPartial = lines.pop() ?? '';
    for (const l of lines) this.pushStderr(l);
  }

  private onData(chunk: string): void {
    if (this.dead) return;
    const text = this.partial + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = text.slice(start, nl);
      start = nl + 1;
      this.onLine(line);
      if (this.dead) return;
    }
    this.partial = text.slice(start);
    if (this.partial.length > 64 << 20) this.fail('garbage: a line of more than 64 MiB without a newline');
  }

  private onLine(line: string): void {
    this.log(`< ${line}`);
    // Comments are shown with stderr when the testee fails: a testee may say there why it stops.
    if (isComment(line)) return this.pushStderr(`(stdout) ${line}`, false);
    const p = this.queue[this.head];
    if (!p) return this.fail(`garbage: a line nobody asked for: ${JSON.stringify(line.slice(0, 120))}`);
    let r: Reply;
    try {
      r = p.kind === 'hello' ? decodeHello(line) : decodeReply(line);
    } catch (e) {
      return this.fail(`garbage in reply to ${p.what}: ${(e as Error).message}`);
    }
    if (r.kind !== 'hello' && r.seq !== p.seq) return this.fail(`out of order: expected the reply to ${p.seq} (${p.what}), got one to ${r.seq}: ${JSON.stringify(line.slice(0, 120))}`);
    if (r.kind !== 'error' && !ANSWERS[p.kind].includes(r.kind)) return this.fail(`garbage: '${r.kind}' is no answer to ${p.kind} (${p.what}): ${JSON.stringify(line.slice(0, 120))}`);
    if (r.kind === 'bytes' && p.length !== undefined && r.bytes.length !== p.length) return this.fail(`garbage: ${r.bytes.length} bytes in reply to a read of ${p.length} (${p.what})`);
    p.reply = r;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.disarm();
    } else this.arm();
    if (this.waiter && this.head === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve();
    }
  }

  private arm(): void {
    clearTimeout(this.stepTimer);
    const p = this.queue[this.head];
    const ms = this.stepMs;
    this.stepTimer = setTimeout(() => this.fail(`hung: no reply to ${p?.what ?? 'a request'} within ${ms} ms`), ms);
    this.stepTimer.unref();
  }

  private disarm(): void {
    clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
  }

  /** Marks the testee unusable, kills it and wakes whoever waits. */
  fail(reason: string): void {
    if (this.dead) return;
    this.dead = reason;
    this.disarm();
    this.log(`# ${reason}`);
    this.kill();
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /**
   * Sends requests (each with the next sequence number) and waits until all are answered or
   * the testee fails; each entry then carries its reply, if one came.
   */
  async send(reqs: { req: Request; what: string; length?: number }[], stepMs = this.opts.stepTimeoutMs): Promise<Pending[]> {
    const batch: Pending[] = [];
    if (this.dead || reqs.length === 0) return batch;
    this.stepMs = stepMs;
    let text = '';
    for (const { req, what, length } of reqs) {
      if (req.kind !== 'hello') req.seq = ++this.seq;
      const p: Pending = { seq: req.kind === 'hello' ? 0 : req.seq, kind: req.kind, what, ...(length !== undefined ? { length } : {}) };
      batch.push(p);
      this.queue.push(p);
      const line = encodeRequest(req);
      text += `${line}\n`;
      this.log(`> ${line}`);
    }
    if (this.queue.length === batch.length) this.arm();
    await new Promise<void>((resolve) => {
      this.waiter = { resolve };
      this.child.stdin!.write(text);
    });
    return batch;
  }

  /** Ends the testee politely (bye), or kills it after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.dead) {
      await this.send([{ req: { kind: 'bye', seq: 0 }, what: 'bye' }], 2000);
      this.child.stdin!.end();
    }
    const grace = setTimeout(() => this.kill(), 2000);
    await this.closed;
    clearTimeout(grace);
    this.dead ??= 'stopped';
  }
}

/** An interactive target over the testee protocol. */
export interface ProcessTarget extends InteractiveTarget {
  /** What the testee said about itself when it first started. */
  readonly hello: TesteeHello;
  /** How many times the testee was (re)started. */
  readonly starts: number;
}

/**
 * Starts a testee (a shell command line) and shakes hands with it. Rejects with a
 * TesteeError when it cannot be started or does not speak the protocol; after that, every
 * failure is an `error` outcome of the scenario it happened in.
 */
export async function processTarget(command: string, options: ProcessTargetOptions = {}): Promise<ProcessTarget> {
  const opts = { stepTimeoutMs: 5000, startTimeoutMs: 20_000, stderrLines: 8, ...options };
  const scenarioMs = options.scenarioTimeoutMs ?? 8000;
  const spec = options.spec ?? xenSpec;
  const capture = options.capture !== undefined ? openSync(options.capture, 'w') : undefined;
  const log = capture === undefined ? () => undefined : (line: string) => writeSync(capture, `${line}\n`);
  let current: Testee | undefined;
  let starts = 0;
  let failedStarts = 0;
  let lastStartError = '';

  const start = async (): Promise<Testee> => {
    if (failedStarts >= 3) throw new TesteeError(`the testee failed to start ${failedStarts} times in a row; not trying again (last: ${lastStartError})`);
    starts++;
    const t = new Testee(command, opts, log);
    const [p] = await t.send([{ req: { kind: 'hello', versions: [PROTOCOL_VERSION] }, what: 'hello' }], opts.startTimeoutMs);
    const hello = p?.reply?.kind === 'hello' ? p.reply : undefined;
    let why: string | undefined;
    if (!hello) why = `the testee did not shake hands: ${t.dead ?? 'no hello'}${t.stderr()}`;
    else if (hello.version !== PROTOCOL_VERSION) why = `the testee speaks protocol version ${hello.version}; this harness speaks ${PROTOCOL_VERSION}`;
    if (why !== undefined || !hello) {
      why ??= 'no hello';
      t.fail(why);
      failedStarts++;
      lastStartError = why;
      throw new TesteeError(why);
    }
    failedStarts = 0;
    t.hello = hello;
    return t;
  };

  const first = await start().catch((e: unknown) => {
    if (capture !== undefined) closeSync(capture);
    throw e;
  });
  current = first;
  const hello = first.hello as TesteeHello;
  const abis = new Set(hello.abis);

  const describe = (k: number, ins: Instr) => `instruction ${k} (${ins.op}, step ${ins.step + 1})`;

  class ProcessSession implements Session {
    private running = false;
    constructor(
      readonly t: Testee,
      readonly layouts: DomainLayout[],
      /** The scenario's deadline, set when the machine was asked for. */
      private readonly timer: NodeJS.Timeout,
    ) {}

    async exec(instrs: readonly Instr[]): Promise<ExecResult> {
      const t = this.t;
      if (t.dead) return { results: [], error: `${t.dead}${t.stderr()}` };
      this.running = true;
      const sent = await t.send(instrs.map((ins, k) => ({ req: toRequest(ins), what: describe(k, ins), ...(ins.op === 'read' ? { length: ins.length } : {}) })));
      this.running = false;
      const results: InstrResult[] = [];
      const notes: string[] = [];
      const end = (error?: string): ExecResult => ({ results, ...(error !== undefined ? { error } : {}), ...(notes.length > 0 ? { notes } : {}) });
      // The replies that came before a failure are kept: they are what the testee did.
      for (const p of sent) {
        const r = p.reply;
        if (!r) return end(`${t.dead ?? 'the testee failed'}${t.stderr()}`);
        if (r.kind === 'error') return end(`the testee refused ${p.what}: ${r.code}: ${r.message}`);
        results.push(resultOf(r, notes, p.what));
      }
      if (sent.length < instrs.length) return end(`${t.dead ?? 'the testee failed'}${t.stderr()}`);
      return end();
    }

    async close(): Promise<void> {
      clearTimeout(this.timer);
      const t = this.t;
      if (this.running && !t.dead) t.fail('the scenario was abandoned while the testee was still running it');
      if (t.dead) return;
      await t.send([{ req: { kind: 'destroy', seq: 0 }, what: 'destroy' }]);
    }
  }

  const target: ProcessTarget = {
    kind: 'interactive',
    name: options.name ?? hello.name,
    hello,
    ...(hello.ops !== undefined || hello.scenarios !== undefined
      ? { subset: { ...(hello.ops !== undefined ? { ops: hello.ops } : {}), ...(hello.scenarios !== undefined ? { scenarios: hello.scenarios } : {}) } }
      : {}),
    get starts() {
      return starts;
    },
    unsupported(domains: readonly ProgramDomain[]) {
      const missing = [...new Set(domains.map((d) => d.abi).filter((a) => !abis.has(a)))];
      return missing.length > 0 ? `the testee does not implement ${missing.join(', ')} (it has ${hello.abis.join(', ')})` : undefined;
    },
    skip(id: string, scenario?: Scenario) {
      // Without the scenario only the claimed ids can be checked; the runner passes it.
      if (!scenario) return hello.scenarios && !hello.scenarios.some((g) => globMatch(g, id)) ? 'the testee does not claim this scenario' : undefined;
      return outsideSubset(spec, hello, scenario);
    },
    async open(domains: readonly ProgramDomain[]): Promise<Session> {
      if (!current || current.dead) {
        if (current) log(`# restarting the testee after: ${current.dead}`);
        current = await start();
      }
      const t = current;
      const timer = setTimeout(() => t.fail(`hung: the scenario took longer than ${scenarioMs} ms`), scenarioMs);
      timer.unref();
      const [p] = await t.send([{ req: { kind: 'machine', seq: 0, domains: [...domains] }, what: 'machine' }]);
      const r = p?.reply;
      const refuse = (why: string): never => {
        clearTimeout(timer);
        throw new Error(why);
      };
      if (!r) return refuse(`${t.dead ?? 'the testee failed'} (while creating the machine)${t.stderr()}`);
      if (r.kind === 'error') return refuse(`the testee refused the machine: ${r.code}: ${r.message}`);
      if (r.kind !== 'machine') return refuse('unreachable: machine answered by another kind');
      const ids = domains.map((d) => d.id);
      const got = r.layouts.map((l) => l.id);
      if (got.length !== ids.length || ids.some((id, k) => got[k] !== id)) {
        t.fail(`garbage: the machine reply gives layouts for domains ${got.join(', ') || 'none'}, not ${ids.join(', ')}`);
        return refuse(`${t.dead}${t.stderr()}`);
      }
      return new ProcessSession(t, r.layouts, timer);
    },
    async dispose() {
      const t = current;
      current = undefined;
      if (t) await t.stop();
      if (capture !== undefined) closeSync(capture);
    },
  };
  return target;
}

/** A shell reports a child killed by signal n as exit code 128 + n: name the signal. */
function shellSignal(code: number | null): string {
  if (code === null || code <= 128) return '';
  const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
  return name ? ` (a shell's way of saying ${name})` : '';
}

function toRequest(ins: Instr): Request {
  switch (ins.op) {
    case 'write':
      return { kind: 'write', seq: 0, dom: ins.dom, addr: ins.addr, bytes: ins.bytes };
    case 'store':
      return { kind: 'store', seq: 0, dom: ins.dom, addr: ins.addr, size: ins.size, value: ins.value };
    case 'call':
      return { kind: 'call', seq: 0, dom: ins.dom, vcpu: ins.vcpu, regs: ins.regs };
    case 'read':
      return { kind: 'read', seq: 0, dom: ins.dom, addr: ins.addr, length: ins.length };
    case 'advance':
      return { kind: 'advance', seq: 0, ns: ins.ns };
  }
}

function resultOf(r: Reply, notes: string[], what: string): InstrResult {
  switch (r.kind) {
    case 'ret':
      return { op: 'call', result: r.value };
    case 'bytes':
      return { op: 'read', bytes: r.bytes };
    case 'fault':
      return { op: 'read', fault: true };
    case 'skipped':
      notes.push(`the testee skipped ${what}: ${r.reason}`);
      return { op: 'done' };
    default:
      return { op: 'done' };
  }
}

export { ProtocolError };
