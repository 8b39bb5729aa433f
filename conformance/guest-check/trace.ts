/**
 * The guest trace format (docs/guest-check.md): what a guest did, as JSON lines, enough to
 * check it offline exactly as strict mode checks it live. One event per line:
 *
 *   {"ev":"trace","format":"hyperabi-guest-trace","version":1,"spec":"xen"}
 *   {"ev":"domain","dom":1,"abi":"x86_64-pv","vcpus":1,"privileged":false,"owned":[[0,17]],"grantTable":17}
 *   {"ev":"write","dom":1,"addr":"0x3000","bytes":"0500000000000000"}
 *   {"ev":"call","seq":1,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x4","rsi":"0xf000"},
 *    "mem":[{"addr":"0xf000","bytes":"05000000"}],"ret":"0xffffffffffffffea","out":[]}
 *   {"ev":"owned","dom":1,"owned":[[0,18]]}
 *   {"ev":"end","dom":1}
 *
 * `mem` is the guest memory the call read, as it was before the call; `out` the part of it
 * the call changed, as it was after. `owned` lists the guest frames the domain can access
 * (first gfn, count); `grantTable` is the gfn where the domain sees frame 0 of its grant
 * table. Numbers that can exceed 2^53 (registers, addresses) are "0x..." strings.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

export const TRACE_FORMAT = 'hyperabi-guest-trace';
export const TRACE_VERSION = 1;

const Hex = Type.String({ pattern: '^0x[0-9a-f]+$', description: 'an unsigned value in lowercase hex' });
const Bytes = Type.String({ pattern: '^([0-9a-f]{2})*$', description: 'bytes in lowercase hex (empty: none)' });
const Dom = Type.Integer({ minimum: 0, maximum: 0xffff });
const Ranges = Type.Array(Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 1 })]), {
  description: 'guest frame ranges: [first gfn, number of frames]',
});

export const MemRange = Type.Object({ addr: Hex, bytes: Bytes }, { additionalProperties: false });
export type MemRange = Static<typeof MemRange>;

export const TraceEvent = Type.Union([
  Type.Object(
    { ev: Type.Literal('trace'), format: Type.Literal(TRACE_FORMAT), version: Type.Literal(TRACE_VERSION), spec: Type.String() },
    { additionalProperties: false, description: 'the first line' },
  ),
  Type.Object(
    {
      ev: Type.Literal('domain'),
      dom: Dom,
      abi: Type.String(),
      vcpus: Type.Integer({ minimum: 1 }),
      privileged: Type.Optional(Type.Boolean()),
      owned: Ranges,
      grantTable: Type.Optional(Type.Integer({ minimum: 0, description: 'gfn of grant-table frame 0' })),
      ports: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1 }), { description: 'event channels the domain builder bound for the guest before it ran (start_info store and console ports)' }),
      ),
    },
    { additionalProperties: false, description: 'a domain of the machine, before its first call' },
  ),
  Type.Object({ ev: Type.Literal('owned'), dom: Dom, owned: Ranges }, { additionalProperties: false, description: 'the frames a domain can access changed' }),
  Type.Object({ ev: Type.Literal('write'), dom: Dom, addr: Hex, bytes: Bytes }, { additionalProperties: false, description: 'the guest wrote its memory' }),
  Type.Object(
    {
      ev: Type.Literal('call'),
      seq: Type.Integer({ minimum: 1 }),
      dom: Dom,
      vcpu: Type.Integer({ minimum: 0 }),
      regs: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), Hex),
      mem: Type.Array(MemRange),
      ret: Hex,
      out: Type.Array(MemRange),
    },
    { additionalProperties: false, description: 'a hypercall: registers in, memory read, result register, memory changed' },
  ),
  Type.Object({ ev: Type.Literal('end'), dom: Dom }, { additionalProperties: false, description: 'the guest stopped' }),
]);
export type TraceEvent = Static<typeof TraceEvent>;
export type CallEvent = Extract<TraceEvent, { ev: 'call' }>;
export type DomainEvent = Extract<TraceEvent, { ev: 'domain' }>;

const checkEvent = Compile(TraceEvent);

/** A trace line that is not an event of the format: which line, and what is wrong. */
export class TraceError extends Error {
  override name = 'TraceError';
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** One trace line as an event; `where` names the file and line for errors. */
export function parseTraceLine(line: string, where: string): TraceEvent {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    throw new TraceError(where, `not JSON (${(e as Error).message})`);
  }
  if (checkEvent.Check(doc)) return doc as TraceEvent;
  const ev = typeof doc === 'object' && doc !== null && 'ev' in doc ? String((doc as { ev: unknown }).ev) : undefined;
  const known = ['trace', 'domain', 'owned', 'write', 'call', 'end'];
  if (ev === undefined || !known.includes(ev)) throw new TraceError(where, `"ev" must be one of ${known.join(', ')}${ev === undefined ? '' : `, not '${ev}'`}`);
  // The union's errors name every branch; re-check against the branch "ev" selects.
  const branch = Compile(TraceEvent.anyOf[known.indexOf(ev)] as (typeof TraceEvent.anyOf)[number]);
  const first = [...branch.Errors(doc)].slice(0, 3);
  throw new TraceError(where, `${ev} event: ${first.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
}

/** Parses a whole trace (JSON lines; blank lines ignored); the first event must be the trace header. */
export function parseTrace(text: string, file = 'trace'): TraceEvent[] {
  const out: TraceEvent[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const ev = parseTraceLine(line, `${file}:${i + 1}`);
    if (out.length === 0 && ev.ev !== 'trace') throw new TraceError(`${file}:${i + 1}`, `the first line must be the header {"ev":"trace","format":"${TRACE_FORMAT}","version":${TRACE_VERSION},...}`);
    if (out.length > 0 && ev.ev === 'trace') throw new TraceError(`${file}:${i + 1}`, 'a second trace header');
    out.push(ev);
  });
  if (out.length === 0) throw new TraceError(file, 'empty trace (no header line)');
  return out;
}

/** The text of events as JSON lines. */
export function traceText(events: readonly TraceEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** The header event. */
export function traceHeader(spec: string): TraceEvent {
  return { ev: 'trace', format: TRACE_FORMAT, version: TRACE_VERSION, spec };
}

/** Lowercase hex of an unsigned value. */
export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export function hexBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}
