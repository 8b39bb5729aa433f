/**
 * The guest protocol (docs/guest-check.md): a guest process checked against the strict
 * reference VMM talks to the harness over its stdout (requests) and stdin (replies), one
 * LF-terminated line per message, in the style of the testee protocol (docs/protocol.md)
 * with the roles reversed: the guest makes the calls, the harness answers them.
 *
 *   guest:   hello hyperabi-guest 1 abi=x86_64-pv pages=16 vcpus=1
 *   harness: hello hyperabi-guest 1 dom=1 ram=0x0:0x10000 shared=0x10000 grant=0x11000
 *   guest:   1 write 0x1000 0500000000000000
 *   harness: 1 ok
 *   guest:   2 call 0 0x20 0x4 0x1000
 *   harness: 2 ret -22
 *   guest:   3 bye
 *   harness: 3 bye 1
 *
 * Numbers are hex (0x...) or decimal; results are signed; bytes are lowercase hex, `-` when
 * empty. A `ret` carries the guest memory the call changed as `<addr>:<bytes>` tokens. Lines
 * starting with `#` are comments in both directions.
 */

export const GUEST_PROTOCOL = 'hyperabi-guest';
export const GUEST_PROTOCOL_VERSION = 1;

/** Guest → harness. */
export type GuestRequest =
  | { kind: 'hello'; version: number; abi: string; pages?: number; vcpus?: number }
  | { kind: 'write'; seq: number; addr: bigint; bytes: Uint8Array }
  | { kind: 'call'; seq: number; vcpu: number; nr: bigint; args: bigint[] }
  | { kind: 'read'; seq: number; addr: bigint; length: number }
  | { kind: 'bye'; seq: number };

/** Harness → guest. */
export type GuestReply =
  | { kind: 'hello'; dom: number; ram: [bigint, bigint]; shared: bigint; grant: bigint }
  | { kind: 'ok'; seq: number }
  | { kind: 'ret'; seq: number; value: bigint; changed: { addr: bigint; bytes: Uint8Array }[] }
  | { kind: 'bytes'; seq: number; bytes: Uint8Array }
  | { kind: 'fault'; seq: number }
  | { kind: 'error'; seq: number; code: string; message: string }
  | { kind: 'bye'; seq: number; findings: number };

/** A line that is not a message of the guest protocol. */
export class GuestProtocolError extends Error {
  override name = 'GuestProtocolError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(`${message}: ${JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line)}`);
  }
}

const UINT = /^(0x[0-9a-fA-F]+|[0-9]+)$/;

function uint(s: string | undefined, what: string, line: string): bigint {
  if (s === undefined || !UINT.test(s)) throw new GuestProtocolError(`${what}: expected an unsigned integer (decimal or 0x hex), got ${s === undefined ? 'nothing' : `'${s}'`}`, line);
  return BigInt(s);
}

function sint(s: string | undefined, what: string, line: string): bigint {
  return s !== undefined && s.startsWith('-') ? -uint(s.slice(1), what, line) : uint(s, what, line);
}

function small(s: string | undefined, what: string, line: string, max = 0xffff_ffff): number {
  const v = uint(s, what, line);
  if (v > BigInt(max)) throw new GuestProtocolError(`${what}: ${v} is above ${max}`, line);
  return Number(v);
}

function bytes(s: string | undefined, what: string, line: string): Uint8Array {
  if (s === '-') return new Uint8Array(0);
  if (s === undefined || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new GuestProtocolError(`${what}: expected hex bytes (or - when empty)`, line);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

const hexText = (v: bigint): string => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
const bytesText = (b: Uint8Array): string => (b.length === 0 ? '-' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));

function keyValues(tokens: readonly string[], line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new GuestProtocolError(`expected key=value, got '${t}'`, line);
    out.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return out;
}

/** Parses a guest line (not a comment). */
export function parseGuestRequest(line: string): GuestRequest {
  const t = line.trim().split(/ +/);
  if (t[0] === 'hello') {
    if (t[1] !== GUEST_PROTOCOL) throw new GuestProtocolError(`hello: protocol must be ${GUEST_PROTOCOL}`, line);
    const version = small(t[2], 'hello version', line);
    const kv = keyValues(t.slice(3), line);
    const abi = kv.get('abi');
    if (!abi) throw new GuestProtocolError('hello: abi=<ABI> is required', line);
    for (const k of kv.keys()) if (!['abi', 'pages', 'vcpus'].includes(k)) throw new GuestProtocolError(`hello: unknown key '${k}' (abi, pages, vcpus)`, line);
    const pages = kv.get('pages');
    const vcpus = kv.get('vcpus');
    return {
      kind: 'hello',
      version,
      abi,
      ...(pages !== undefined ? { pages: small(pages, 'pages', line, 1 << 20) } : {}),
      ...(vcpus !== undefined ? { vcpus: small(vcpus, 'vcpus', line, 128) } : {}),
    };
  }
  const seq = small(t[0], 'sequence number', line);
  switch (t[1]) {
    case 'write':
      return { kind: 'write', seq, addr: uint(t[2], 'write address', line), bytes: bytes(t[3], 'write bytes', line) };
    case 'call': {
      const vcpu = small(t[2], 'call vCPU', line, 4096);
      const nr = uint(t[3], 'call number', line);
      return { kind: 'call', seq, vcpu, nr, args: t.slice(4).map((w, i) => uint(w, `call argument ${i}`, line)) };
    }
    case 'read':
      return { kind: 'read', seq, addr: uint(t[2], 'read address', line), length: small(t[3], 'read length', line, 1 << 24) };
    case 'bye':
      return { kind: 'bye', seq };
    default:
      throw new GuestProtocolError(`unknown request '${t[1] ?? ''}' (write, call, read, bye)`, line);
  }
}

/** The text of a guest request (what a guest writes). */
export function guestRequestText(r: GuestRequest): string {
  switch (r.kind) {
    case 'hello':
      return `hello ${GUEST_PROTOCOL} ${r.version} abi=${r.abi}${r.pages !== undefined ? ` pages=${r.pages}` : ''}${r.vcpus !== undefined ? ` vcpus=${r.vcpus}` : ''}`;
    case 'write':
      return `${r.seq} write ${hexText(r.addr)} ${bytesText(r.bytes)}`;
    case 'call':
      return `${r.seq} call ${r.vcpu} ${hexText(r.nr)}${r.args.map((a) => ` ${hexText(a)}`).join('')}`;
    case 'read':
      return `${r.seq} read ${hexText(r.addr)} ${r.length}`;
    case 'bye':
      return `${r.seq} bye`;
  }
}

/** The text of a harness reply. */
export function guestReplyText(r: GuestReply): string {
  switch (r.kind) {
    case 'hello':
      return `hello ${GUEST_PROTOCOL} ${GUEST_PROTOCOL_VERSION} dom=${r.dom} ram=${hexText(r.ram[0])}:${hexText(r.ram[1])} shared=${hexText(r.shared)} grant=${hexText(r.grant)}`;
    case 'ok':
      return `${r.seq} ok`;
    case 'ret':
      return `${r.seq} ret ${r.value}${r.changed.map((c) => ` ${hexText(c.addr)}:${bytesText(c.bytes)}`).join('')}`;
    case 'bytes':
      return `${r.seq} bytes ${bytesText(r.bytes)}`;
    case 'fault':
      return `${r.seq} fault`;
    case 'error':
      return `${r.seq} error ${r.code} ${r.message.replace(/[\r\n]+/g, ' ')}`;
    case 'bye':
      return `${r.seq} bye ${r.findings}`;
  }
}

/** Parses a harness reply (what a guest reads; for tests and TypeScript guests). */
export function parseGuestReply(line: string): GuestReply {
  const t = line.trim().split(/ +/);
  if (t[0] === 'hello') {
    if (t[1] !== GUEST_PROTOCOL) throw new GuestProtocolError(`hello: protocol must be ${GUEST_PROTOCOL}`, line);
    const kv = keyValues(t.slice(3), line);
    const [base, len] = (kv.get('ram') ?? '').split(':');
    return {
      kind: 'hello',
      dom: small(kv.get('dom'), 'dom', line, 0xffff),
      ram: [uint(base, 'ram base', line), uint(len, 'ram length', line)],
      shared: uint(kv.get('shared'), 'shared', line),
      grant: uint(kv.get('grant'), 'grant', line),
    };
  }
  const seq = small(t[0], 'sequence number', line);
  switch (t[1]) {
    case 'ok':
      return { kind: 'ok', seq };
    case 'ret':
      return {
        kind: 'ret',
        seq,
        value: sint(t[2], 'result', line),
        changed: t.slice(3).map((c) => {
          const [a, b] = c.split(':');
          return { addr: uint(a, 'changed address', line), bytes: bytes(b, 'changed bytes', line) };
        }),
      };
    case 'bytes':
      return { kind: 'bytes', seq, bytes: bytes(t[2], 'bytes', line) };
    case 'fault':
      return { kind: 'fault', seq };
    case 'error':
      return { kind: 'error', seq, code: t[2] ?? 'unknown', message: t.slice(3).join(' ') };
    case 'bye':
      return { kind: 'bye', seq, findings: small(t[2], 'findings', line) };
    default:
      throw new GuestProtocolError(`unknown reply '${t[1] ?? ''}'`, line);
  }
}
