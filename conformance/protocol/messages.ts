/**
 * The testee protocol (docs/protocol.md; grammar in testee-protocol-v1.abnf): the messages
 * the harness and a testee exchange over the testee's stdin and stdout, as typed values, and
 * their one-line text form.
 *
 * Every message is one line of space-separated tokens. Requests after the handshake start
 * with a decimal sequence number that the reply repeats, so a captured session can be read
 * with requests and replies pipelined. Addresses and values are hex (`0x1f`), ids, counts and
 * sizes decimal; parsers accept either. Byte strings are lowercase hex, `-` when empty.
 * Lines starting with `#` are comments in both directions.
 */
import type { DomainLayout, Operand, ProgramDomain } from '../program.js';

/** The protocol's name in the hello line. */
export const PROTOCOL = 'hyperabi-testee';
/** The version this harness speaks. */
export const PROTOCOL_VERSION = 1;

/** Harness → testee. */
export type Request =
  | { kind: 'hello'; versions: number[] }
  | { kind: 'machine'; seq: number; domains: ProgramDomain[] }
  | { kind: 'write'; seq: number; dom: number; addr: bigint; bytes: Uint8Array }
  | { kind: 'store'; seq: number; dom: number; addr: bigint; size: 1 | 2 | 4 | 8; value: Operand }
  | { kind: 'call'; seq: number; dom: number; vcpu: number; regs: Record<string, Operand> }
  | { kind: 'read'; seq: number; dom: number; addr: bigint; length: number }
  | { kind: 'advance'; seq: number; ns: bigint }
  | { kind: 'destroy'; seq: number }
  | { kind: 'bye'; seq: number };

/** What a testee says about itself in its hello. */
export interface TesteeHello {
  kind: 'hello';
  version: number;
  name: string;
  /** The ABIs whose domains it can create. */
  abis: string[];
  /** The operation ids it implements (`<hypercall>` for all of a hypercall's operations); absent: all. */
  ops?: string[];
  /** The scenario ids (or globs with `*`) it claims; absent: all. */
  scenarios?: string[];
}

/** Testee → harness. */
export type Reply =
  | TesteeHello
  | { kind: 'machine'; seq: number; layouts: DomainLayout[] }
  | { kind: 'ok'; seq: number }
  | { kind: 'ret'; seq: number; value: bigint }
  | { kind: 'bytes'; seq: number; bytes: Uint8Array }
  | { kind: 'fault'; seq: number }
  | { kind: 'skipped'; seq: number; reason: string }
  | { kind: 'error'; seq: number; code: string; message: string }
  | { kind: 'bye'; seq: number };

/** A line that is not a message of the protocol: what is wrong, and the line. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(`${message}: ${JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line)}`);
  }
}

// ───────────────────────────── numbers, bytes, operands ─────────────────────────────

const UINT = /^(0x[0-9a-fA-F]+|[0-9]+)$/;
const TOKEN = /^[!-~]+$/;

/** Hex for addresses and values (negative values keep their sign: -0x16). */
export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function uint(s: string | undefined, what: string, line: string): bigint {
  if (s === undefined || !UINT.test(s)) throw new ProtocolError(`${what}: expected an unsigned integer (decimal or 0x hex), got ${s === undefined ? 'nothing' : `'${s}'`}`, line);
  return BigInt(s);
}

function sint(s: string | undefined, what: string, line: string): bigint {
  const neg = s !== undefined && s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  if (body === undefined || !UINT.test(body)) throw new ProtocolError(`${what}: expected an integer (decimal or 0x hex, - for negative), got ${s === undefined ? 'nothing' : `'${s}'`}`, line);
  return neg ? -BigInt(body) : BigInt(body);
}

/** A signed integer matched by INT below. */
const big = (s: string) => (s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s));

function small(s: string | undefined, what: string, line: string, max = 0xffff_ffff): number {
  const v = uint(s, what, line);
  if (v > BigInt(max)) throw new ProtocolError(`${what}: ${v} is above ${max}`, line);
  return Number(v);
}

function bytesOf(s: string | undefined, what: string, line: string): Uint8Array {
  if (s === '-') return new Uint8Array(0);
  if (s === undefined || s.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(s)) throw new ProtocolError(`${what}: expected hex bytes (or - when empty)`, line);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function bytesText(b: Uint8Array): string {
  return b.length === 0 ? '-' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The text of an operand: `0x20`, `frame(1:3)<<12|0x67`, `load32(0:0x3ff8)+0x1|0x0`. */
export function operandText(o: Operand): string {
  if (typeof o === 'bigint') return hex(o);
  if ('frame' in o) return `frame(${o.frame.dom}:${o.frame.page})${o.shl ? `<<${o.shl}` : ''}${o.or ? `|${hex(o.or)}` : ''}`;
  return `load${o.load.size * 8}(${o.load.dom}:${hex(o.load.addr)})${o.add ? `+${hex(o.add)}` : ''}${o.or ? `|${hex(o.or)}` : ''}`;
}

const INT = '(-?(?:0x[0-9a-fA-F]+|[0-9]+))';
const FRAME = new RegExp(`^frame\\(([0-9]+):([0-9]+)\\)(?:<<([0-9]+))?(?:\\|${INT})?$`);
const LOAD = new RegExp(`^load(8|16|32|64)\\(([0-9]+):(0x[0-9a-fA-F]+|[0-9]+)\\)(?:\\+${INT})?(?:\\|${INT})?$`);

/** Parses an operand token. */
export function parseOperand(s: string | undefined, what: string, line: string): Operand {
  if (s === undefined) throw new ProtocolError(`${what}: missing operand`, line);
  const c = s.charCodeAt(0);
  if (c === 45 || (c >= 48 && c <= 57)) return sint(s, what, line);
  let m = FRAME.exec(s);
  if (m) {
    const shl = m[3] !== undefined ? Number(m[3]) : 0;
    if (shl > 63) throw new ProtocolError(`${what}: shift ${shl} is above 63`, line);
    return { frame: { dom: small(m[1], `${what} domain`, line), page: small(m[2], `${what} page`, line) }, ...(shl ? { shl } : {}), ...(m[4] !== undefined ? { or: big(m[4]) } : {}) };
  }
  m = LOAD.exec(s);
  if (m) {
    return {
      load: { dom: small(m[2], `${what} domain`, line), addr: uint(m[3], `${what} address`, line), size: (Number(m[1]) / 8) as 1 | 2 | 4 | 8 },
      ...(m[4] !== undefined ? { add: big(m[4]) } : {}),
      ...(m[5] !== undefined ? { or: big(m[5]) } : {}),
    };
  }
  throw new ProtocolError(`${what}: expected an integer, frame(dom:page)[<<shift][|or] or loadN(dom:addr)[+add][|or]`, line);
}

function keyValues(tok: string, what: string, line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of tok.split(',')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ProtocolError(`${what}: expected key=value pairs separated by commas`, line);
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}

// ───────────────────────────── requests ─────────────────────────────

function domainText(d: ProgramDomain): string {
  return `id=${d.id},abi=${d.abi},pages=${d.memoryPages},vcpus=${d.vcpus},privileged=${d.privileged ? 1 : 0}${d.maxEvtchnPort !== undefined ? `,maxport=${d.maxEvtchnPort}` : ''}${d.maxPages !== undefined ? `,maxpages=${d.maxPages}` : ''}`;
}

/** The line of a request (without the newline). */
export function encodeRequest(r: Request): string {
  switch (r.kind) {
    case 'hello':
      return `hello ${PROTOCOL} ${r.versions.join(' ')}`;
    case 'machine':
      return `${r.seq} machine ${r.domains.map(domainText).join(' ')}`;
    case 'write':
      return `${r.seq} write ${r.dom} ${hex(r.addr)} ${bytesText(r.bytes)}`;
    case 'store':
      return `${r.seq} store ${r.dom} ${hex(r.addr)} ${r.size} ${operandText(r.value)}`;
    case 'call': {
      let s = `${r.seq} call ${r.dom} ${r.vcpu}`;
      for (const k in r.regs) s += ` ${k}=${operandText(r.regs[k] as Operand)}`;
      return s;
    }
    case 'read':
      return `${r.seq} read ${r.dom} ${hex(r.addr)} ${r.length}`;
    case 'advance':
      return `${r.seq} advance ${hex(r.ns)}`;
    case 'destroy':
    case 'bye':
      return `${r.seq} ${r.kind}`;
  }
}

function parseDomain(tok: string, line: string): ProgramDomain {
  const kv = keyValues(tok, 'machine domain', line);
  for (const k of kv.keys()) if (!['id', 'abi', 'pages', 'vcpus', 'privileged', 'maxport', 'maxpages'].includes(k)) throw new ProtocolError(`machine domain: unknown key '${k}'`, line);
  const abi = kv.get('abi');
  if (abi === undefined || !TOKEN.test(abi)) throw new ProtocolError('machine domain: abi= is missing', line);
  const priv = kv.get('privileged') ?? '0';
  if (priv !== '0' && priv !== '1') throw new ProtocolError('machine domain: privileged= is 0 or 1', line);
  const maxport = kv.get('maxport');
  const maxpages = kv.get('maxpages');
  return {
    id: small(kv.get('id'), 'machine domain id', line, 0xffff),
    abi,
    memoryPages: small(kv.get('pages'), 'machine domain pages', line),
    vcpus: small(kv.get('vcpus') ?? '1', 'machine domain vcpus', line),
    privileged: priv === '1',
    ...(maxport !== undefined ? { maxEvtchnPort: small(maxport, 'machine domain maxport', line) } : {}),
    ...(maxpages !== undefined ? { maxPages: small(maxpages, 'machine domain maxpages', line) } : {}),
  };
}

function seqOf(t: string | undefined, line: string): number {
  if (t === undefined || !/^[0-9]+$/.test(t)) throw new ProtocolError('a message starts with hello or a decimal sequence number', line);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new ProtocolError('sequence number too large', line);
  return n;
}

function arity(t: string[], n: number, what: string, line: string): void {
  if (t.length !== n) throw new ProtocolError(`${what} takes ${n - 2} field${n === 3 ? '' : 's'}, got ${t.length - 2}`, line);
}

function size(s: string | undefined, line: string): 1 | 2 | 4 | 8 {
  if (s !== '1' && s !== '2' && s !== '4' && s !== '8') throw new ProtocolError('store size is 1, 2, 4 or 8', line);
  return Number(s) as 1 | 2 | 4 | 8;
}

/** Parses a request line (what a testee does; the reference testee uses it). */
export function decodeRequest(line: string): Request {
  const t = line.split(' ');
  if (t[0] === 'hello') {
    if (t[1] !== PROTOCOL || t.length < 3) throw new ProtocolError(`hello names the protocol (${PROTOCOL}) and the versions the harness speaks`, line);
    return { kind: 'hello', versions: t.slice(2).map((v) => small(v, 'hello version', line)) };
  }
  const seq = seqOf(t[0], line);
  switch (t[1]) {
    case 'machine':
      if (t.length < 3) throw new ProtocolError('machine needs at least one domain', line);
      return { kind: 'machine', seq, domains: t.slice(2).map((d) => parseDomain(d, line)) };
    case 'write':
      arity(t, 5, 'write', line);
      return { kind: 'write', seq, dom: small(t[2], 'write domain', line), addr: uint(t[3], 'write address', line), bytes: bytesOf(t[4], 'write bytes', line) };
    case 'store':
      arity(t, 6, 'store', line);
      return { kind: 'store', seq, dom: small(t[2], 'store domain', line), addr: uint(t[3], 'store address', line), size: size(t[4], line), value: parseOperand(t[5], 'store value', line) };
    case 'call': {
      if (t.length < 4) throw new ProtocolError('call takes a domain, a vCPU and registers', line);
      const regs: Record<string, Operand> = {};
      for (const kv of t.slice(4)) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new ProtocolError(`call: '${kv}' is not register=operand`, line);
        regs[kv.slice(0, eq)] = parseOperand(kv.slice(eq + 1), `register ${kv.slice(0, eq)}`, line);
      }
      return { kind: 'call', seq, dom: small(t[2], 'call domain', line), vcpu: small(t[3], 'call vcpu', line), regs };
    }
    case 'read':
      arity(t, 5, 'read', line);
      return { kind: 'read', seq, dom: small(t[2], 'read domain', line), addr: uint(t[3], 'read address', line), length: small(t[4], 'read length', line) };
    case 'advance':
      arity(t, 3, 'advance', line);
      return { kind: 'advance', seq, ns: uint(t[2], 'advance nanoseconds', line) };
    case 'destroy':
    case 'bye':
      arity(t, 2, t[1], line);
      return { kind: t[1], seq };
    default:
      throw new ProtocolError(`unknown request '${t[1] ?? ''}'`, line);
  }
}

// ───────────────────────────── replies ─────────────────────────────

function layoutText(l: DomainLayout): string {
  let s = `id=${l.id},data=${hex(l.dataBase)},unmapped=${hex(l.unmapped)}`;
  if (l.sharedInfo !== undefined) s += `,shared=${hex(l.sharedInfo)}`;
  if (l.grantTable !== undefined) s += `,grants=${hex(l.grantTable)}`;
  if (l.grantStatus !== undefined) s += `,grantstatus=${hex(l.grantStatus)}`;
  return s;
}

/** The line of a reply (without the newline). */
export function encodeReply(r: Reply): string {
  switch (r.kind) {
    case 'hello': {
      let s = `hello ${PROTOCOL} ${r.version} name=${r.name} abis=${r.abis.join(',')}`;
      if (r.ops) s += ` ops=${r.ops.join(',')}`;
      if (r.scenarios) s += ` scenarios=${r.scenarios.join(',')}`;
      return s;
    }
    case 'machine':
      return `${r.seq} machine ${r.layouts.map(layoutText).join(' ')}`;
    case 'ok':
    case 'fault':
    case 'bye':
      return `${r.seq} ${r.kind}`;
    case 'ret':
      return `${r.seq} ret ${hex(r.value)}`;
    case 'bytes':
      return `${r.seq} bytes ${bytesText(r.bytes)}`;
    case 'skipped':
      return `${r.seq} skipped ${oneLine(r.reason)}`;
    case 'error':
      return `${r.seq} error ${r.code} ${oneLine(r.message)}`;
  }
}

/** Free text on one line (newlines and other control characters become spaces). */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim() || '-';
}

function list(v: string | undefined, what: string, line: string): string[] {
  if (v === undefined || v === '') throw new ProtocolError(`hello: ${what}= is empty`, line);
  return v.split(',');
}

/** Parses a testee's hello line. */
export function decodeHello(line: string): TesteeHello {
  const t = line.split(' ');
  if (t[0] !== 'hello' || t[1] !== PROTOCOL) throw new ProtocolError(`expected 'hello ${PROTOCOL} <version> name=... abis=...'`, line);
  const version = small(t[2], 'hello version', line);
  const kv = new Map<string, string>();
  for (const tok of t.slice(3)) {
    const eq = tok.indexOf('=');
    if (eq <= 0) throw new ProtocolError(`hello: '${tok}' is not key=value`, line);
    const k = tok.slice(0, eq);
    if (!['name', 'abis', 'ops', 'scenarios'].includes(k)) throw new ProtocolError(`hello: unknown key '${k}'`, line);
    kv.set(k, tok.slice(eq + 1));
  }
  const name = kv.get('name');
  if (!name) throw new ProtocolError('hello: name= is missing', line);
  const ops = kv.get('ops');
  const scenarios = kv.get('scenarios');
  return {
    kind: 'hello',
    version,
    name,
    abis: list(kv.get('abis'), 'abis', line),
    ...(ops !== undefined ? { ops: list(ops, 'ops', line) } : {}),
    ...(scenarios !== undefined ? { scenarios: list(scenarios, 'scenarios', line) } : {}),
  };
}

function parseLayout(tok: string, line: string): DomainLayout {
  const kv = keyValues(tok, 'machine layout', line);
  for (const k of kv.keys()) if (!['id', 'data', 'unmapped', 'shared', 'grants', 'grantstatus'].includes(k)) throw new ProtocolError(`machine layout: unknown key '${k}'`, line);
  const opt = (key: string, field: 'sharedInfo' | 'grantTable' | 'grantStatus') => {
    const v = kv.get(key);
    return v !== undefined ? { [field]: uint(v, `layout ${key}`, line) } : {};
  };
  return {
    id: small(kv.get('id'), 'layout id', line, 0xffff),
    dataBase: uint(kv.get('data'), 'layout data', line),
    unmapped: uint(kv.get('unmapped'), 'layout unmapped', line),
    ...opt('shared', 'sharedInfo'),
    ...opt('grants', 'grantTable'),
    ...opt('grantstatus', 'grantStatus'),
  };
}

/** Parses a reply line (after the handshake: every reply starts with its sequence number). */
export function decodeReply(line: string): Reply {
  if (line.startsWith('hello ')) return decodeHello(line);
  const sp = line.indexOf(' ');
  const seq = seqOf(sp < 0 ? line : line.slice(0, sp), line);
  const sp2 = line.indexOf(' ', sp + 1);
  const kind = sp2 < 0 ? line.slice(sp + 1) : line.slice(sp + 1, sp2);
  const rest = sp2 < 0 ? undefined : line.slice(sp2 + 1);
  switch (kind) {
    case 'ok':
    case 'fault':
    case 'bye':
      if (rest !== undefined) throw new ProtocolError(`${kind} takes no fields`, line);
      return { kind, seq };
    case 'ret':
      if (rest === undefined || rest.includes(' ')) throw new ProtocolError('ret takes one value', line);
      return { kind, seq, value: sint(rest, 'ret value', line) };
    case 'bytes':
      if (rest === undefined || rest.includes(' ')) throw new ProtocolError('bytes takes one hex string', line);
      return { kind, seq, bytes: bytesOf(rest, 'bytes', line) };
    case 'machine':
      if (rest === undefined) throw new ProtocolError('machine needs a layout per domain', line);
      return { kind, seq, layouts: rest.split(' ').map((l) => parseLayout(l, line)) };
    case 'skipped':
      if (rest === undefined || rest === '') throw new ProtocolError('skipped needs a reason', line);
      return { kind, seq, reason: rest };
    case 'error': {
      const sp3 = rest === undefined ? -1 : rest.indexOf(' ');
      if (rest === undefined || sp3 <= 0 || !/^[a-z][a-z0-9-]*$/.test(rest.slice(0, sp3))) throw new ProtocolError('error takes a code (lowercase-with-dashes) and a message', line);
      return { kind, seq, code: rest.slice(0, sp3), message: rest.slice(sp3 + 1) };
    }
    default:
      throw new ProtocolError(`unknown reply '${kind}'`, line);
  }
}

/** Whether a line is a comment (ignored in both directions). */
export function isComment(line: string): boolean {
  return line.startsWith('#');
}
