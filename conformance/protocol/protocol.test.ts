/**
 * The testee protocol: every message survives encode → decode unchanged, every encoded line
 * is a line of the versioned grammar (testee-protocol-v1.abnf), bad lines are refused by the
 * codec and the grammar alike, docs/protocol.md carries the grammar and an example session
 * that both accept, declared subsets are read from a scenario's calls, and the reference VMM
 * answers over the protocol as it does in process.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import type { Operand, ProgramDomain } from '../program.js';
import { parseScenarios } from '../scenario.js';
import { AbnfError, compileGrammar } from './abnf.js';
import { decodeHello, decodeReply, decodeRequest, encodeReply, encodeRequest, oneLine, ProtocolError, type Reply, type Request } from './messages.js';
import { ReferenceTestee } from './reference-testee.js';
import { referenceLayouts } from '../targets/reference.js';
import { globMatch, outsideSubset, scenarioOperations } from './subset.js';

const GRAMMAR_FILE = new URL('./testee-protocol-v1.abnf', import.meta.url);
const grammarText = readFileSync(GRAMMAR_FILE, 'utf8');
const grammar = compileGrammar(grammarText);
const harnessLine = grammar.get('harness-line')!;
const testeeLine = grammar.get('testee-line')!;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const s64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n });
const nonZero = s64.filter((v) => v !== 0n);
const small = fc.nat({ max: 0xffff });
const seq = fc.nat({ max: 1_000_000_000 });
const abi = fc.constantFrom(...xenSpec.abis.map((a) => a.name));
const token = fc.stringMatching(/^[!-+\--~]{1,12}$/);
const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => oneLine(s) === s);

const operand: fc.Arbitrary<Operand> = fc.oneof(
  s64,
  fc.record(
    { frame: fc.record({ dom: small, page: small }), shl: fc.integer({ min: 1, max: 63 }), or: nonZero },
    { requiredKeys: ['frame'] },
  ),
  fc.record(
    { load: fc.record({ dom: small, addr: u64, size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const) }), add: nonZero, or: nonZero },
    { requiredKeys: ['load'] },
  ),
);

const domain: fc.Arbitrary<ProgramDomain> = fc.record(
  { id: small, abi, memoryPages: fc.integer({ min: 1, max: 4096 }), vcpus: fc.integer({ min: 1, max: 64 }), privileged: fc.boolean(), maxEvtchnPort: fc.nat({ max: 4095 }), maxPages: fc.integer({ min: 1, max: 65536 }) },
  { requiredKeys: ['id', 'abi', 'memoryPages', 'vcpus', 'privileged'] },
);

const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), versions: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('machine' as const), seq, domains: fc.array(domain, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('write' as const), seq, dom: small, addr: u64, bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('store' as const), seq, dom: small, addr: u64, size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: operand }),
  fc.record({ kind: fc.constant('call' as const), seq, dom: small, vcpu: fc.nat({ max: 63 }), regs: fc.dictionary(fc.constantFrom('rax', 'rdi', 'rsi', 'rdx', 'r10', 'r8', 'x0', 'x16', 'r12'), operand) }),
  fc.record({ kind: fc.constant('read' as const), seq, dom: small, addr: u64, length: fc.nat({ max: 1 << 20 }) }),
  fc.record({ kind: fc.constant('advance' as const), seq, ns: u64 }),
  fc.record({ kind: fc.constantFrom('destroy' as const, 'bye' as const), seq }),
);

const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record(
    { kind: fc.constant('hello' as const), version: fc.integer({ min: 1, max: 9 }), name: token, abis: fc.array(token, { minLength: 1, maxLength: 3 }), ops: fc.array(token, { minLength: 1, maxLength: 4 }), scenarios: fc.array(token, { minLength: 1, maxLength: 2 }) },
    { requiredKeys: ['kind', 'version', 'name', 'abis'] },
  ),
  fc.record({
    kind: fc.constant('machine' as const),
    seq,
    layouts: fc.array(fc.record({ id: small, dataBase: u64, unmapped: u64, sharedInfo: u64, grantTable: u64, grantStatus: u64 }, { requiredKeys: ['id', 'dataBase', 'unmapped'] }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constantFrom('ok' as const, 'fault' as const, 'bye' as const), seq }),
  fc.record({ kind: fc.constant('ret' as const), seq, value: s64 }),
  fc.record({ kind: fc.constant('bytes' as const), seq, bytes: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('skipped' as const), seq, reason: text }),
  fc.record({ kind: fc.constant('error' as const), seq, code: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), message: text }),
);

describe('testee protocol messages', () => {
  it('requests survive encode → decode, and every encoded line is a harness line of the grammar', () => {
    fc.assert(
      fc.property(request, (r) => {
        const line = encodeRequest(r);
        expect(line).not.toContain('\n');
        expect(harnessLine.test(line), line).toBe(true);
        expect(decodeRequest(line)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('replies survive encode → decode, and every encoded line is a testee line of the grammar', () => {
    fc.assert(
      fc.property(reply, (r) => {
        const line = encodeReply(r);
        expect(line).not.toContain('\n');
        expect(testeeLine.test(line), line).toBe(true);
        expect(r.kind === 'hello' ? decodeHello(line) : decodeReply(line)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses lines that are no message, naming what is wrong, and so does the grammar', () => {
    const badRequests: [string, RegExp][] = [
      ['', /sequence number/],
      ['call 0 0 rax=1', /sequence number/],
      ['1 jump 0', /unknown request 'jump'/],
      ['1 write 0 0x10 abc', /hex bytes/],
      ['1 write 0 0x10', /write takes 3 fields, got 2/],
      ['1 store 0 0x10 3 0x1', /store size is 1, 2, 4 or 8/],
      ['1 store 0 0x10 4 load12(0:0x10)', /store value: expected an integer, frame/],
      ['1 call 0 0 rax', /not register=operand/],
      ['1 call 0 0 rax=0xg', /register rax: expected an integer \(decimal or 0x hex, - for negative\), got '0xg'/],
      ['1 call 0 0 rax=load32(0:-0x4)', /register rax: expected an integer, frame/],
      ['1 read 0 -1 4', /read address: expected an unsigned integer/],
      ['1 machine id=0,abi=x86_64-pv', /pages/],
      ['1 machine id=0,abi=x86_64-pv,pages=4,vcpus=1,privileged=2', /privileged= is 0 or 1/],
      ['hello other-protocol 1', /hello names the protocol/],
    ];
    for (const [line, why] of badRequests) {
      expect(() => decodeRequest(line), line).toThrow(ProtocolError);
      expect(() => decodeRequest(line), line).toThrow(why);
      expect(harnessLine.test(line), line).toBe(false);
    }
    const badReplies: [string, RegExp][] = [
      ['Segmentation fault', /decimal sequence number/],
      ['3 ret', /ret takes one value/],
      ['3 ret 0x1 0x2', /ret takes one value/],
      ['3 bytes 0', /hex bytes/],
      ['3 ok please', /ok takes no fields/],
      ['3 error', /error takes a code/],
      ['3 error Bad thing', /error takes a code/],
      ['3 machine id=0,data=0x0', /layout unmapped/],
      ['3 machine id=0,data=0x0,unmapped=0x1,heap=0x2', /unknown key 'heap'/],
      ['3 done', /unknown reply 'done'/],
    ];
    for (const [line, why] of badReplies) {
      expect(() => decodeReply(line), line).toThrow(why);
      expect(testeeLine.test(line), line).toBe(false);
    }
    expect(() => decodeHello('hello hyperabi-testee 1 abis=x86_64-pv')).toThrow(/name= is missing/);
    expect(() => decodeHello('hello hyperabi-testee 1 name=x abis=')).toThrow(/abis= is empty/);
    expect(() => decodeHello('hello hyperabi-testee 1 name=x abis=a colour=blue')).toThrow(/unknown key 'colour'/);
  });

  it('the grammar reader refuses recursive and incomplete grammars', () => {
    expect(() => compileGrammar('a = "x" b\nb = "y" a\n')).toThrow(AbnfError);
    expect(() => compileGrammar('a = "x" b\n')).toThrow(/'b' is used but not defined/);
    expect(compileGrammar('a = 2*3DIGIT ["-" 1*HEXDIG] / "z"\n').get('a')!.test('123-ff')).toBe(true);
  });
});

describe('docs/protocol.md', () => {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

  it('carries the grammar file verbatim', () => {
    const block = /```abnf\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(grammarText);
  });

  it('shows a session whose every line the grammar and the codec accept', () => {
    const session = /```session\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(session).toBeDefined();
    const lines = session!.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(15);
    for (const l of lines) {
      const body = l.slice(2);
      if (l.startsWith('> ')) {
        expect(harnessLine.test(body), l).toBe(true);
        if (!body.startsWith('#')) decodeRequest(body);
      } else if (l.startsWith('< ')) {
        expect(testeeLine.test(body), l).toBe(true);
        if (!body.startsWith('#')) decodeReply(body);
      } else expect(l, 'session lines start with "> " or "< "').toMatch(/^# /);
    }
  });
});

describe('declared subsets', () => {
  const [s] = parseScenarios(
    `
id: event_channel_op$EVTCHNOP_send/subset-check
doc: uses typed and raw calls
ref: test
kind: semantic
family: event_channel
machine: { domains: [ { id: 0, abi: x86_64-pv } ] }
steps:
  - call: event_channel_op$EVTCHNOP_bind_ipi
    arg: { vcpu: 0 }
  - hypercall: { nr: __HYPERVISOR_event_channel_op, args: [EVTCHNOP_send, "@0x100"] }
  - hypercall: { nr: __HYPERVISOR_xen_version, args: [99, 0] }
  - hypercall: { nr: __HYPERVISOR_memory_op, args: [XENMEM_maximum_ram_page | 0x100, 0] }
  - hypercall: { nr: __HYPERVISOR_set_timer_op, args: [0] }
`,
    'subset.yaml',
  );

  it('reads the operations a scenario calls, raw hypercalls by number and (masked) command', () => {
    expect(scenarioOperations(xenSpec, s!)).toEqual(['event_channel_op$EVTCHNOP_bind_ipi', 'event_channel_op$EVTCHNOP_send', 'xen_version', 'memory_op$XENMEM_maximum_ram_page', 'set_timer_op']);
  });

  it('a scenario is inside when every operation is declared (a hypercall name covers all its operations)', () => {
    const all = ['event_channel_op', 'xen_version$XENVER_version', 'memory_op$XENMEM_maximum_ram_page', 'set_timer_op'];
    expect(outsideSubset(xenSpec, { ops: all }, s!)).toBeUndefined();
    expect(outsideSubset(xenSpec, { ops: all.filter((o) => o !== 'set_timer_op') }, s!)).toMatch(/outside the testee's declared subset: set_timer_op/);
    expect(outsideSubset(xenSpec, { ops: ['event_channel_op$EVTCHNOP_send'] }, s!)).toMatch(/event_channel_op\$EVTCHNOP_bind_ipi, xen_version, memory_op\$XENMEM_maximum_ram_page and 1 more/);
    expect(outsideSubset(xenSpec, { scenarios: ['event_channel_op$*/subset-*'] }, s!)).toBeUndefined();
    expect(outsideSubset(xenSpec, { scenarios: ['grant_table_op*'] }, s!)).toMatch(/does not claim/);
    expect(globMatch('a*c', 'abbbc')).toBe(true);
    expect(globMatch('a.c', 'abc')).toBe(false);
  });
});

describe('the reference VMM as a testee, in process', () => {
  it('answers a session line by line, and refuses bad requests with error replies', () => {
    const t = new ReferenceTestee();
    const nr = (n: string) => `0x${xenSpec.hypercalls.find((h) => h.name === n)!.number.toString(16)}`;
    const talk = (l: string) => t.handle(l);
    const other = new ReferenceTestee();
    expect(other.handle('hello hyperabi-testee 7 8')).toBe('# this testee speaks hyperabi-testee version 1 only');
    expect(other.finished).toBe(true);
    expect(talk('hello hyperabi-testee 1')).toMatch(/^hello hyperabi-testee 1 name=hyperabi-reference-vmm abis=x86_64-pv,/);
    expect(talk('1 call 0 0 rax=0x0')).toBe('1 error no-machine call before machine');
    const dom0 = { id: 0, abi: 'x86_64-pv', memoryPages: 16, vcpus: 1, privileged: true };
    expect(talk('2 machine id=0,abi=x86_64-pv,pages=16,vcpus=1,privileged=1')).toBe(encodeReply({ kind: 'machine', seq: 2, layouts: referenceLayouts([dom0]) }));
    expect(talk('2 machine id=0,abi=x86_64-pv,pages=16,vcpus=1,privileged=1')).toMatch(/^2 machine id=0,data=0x0,unmapped=0xdead00000000,shared=0x10000/);
    expect(talk(`3 call 0 0 rax=${nr('xen_version')} rdi=0x0 rsi=0x0`)).toBe('3 ret 0x40011');
    expect(talk('4 write 0 0x100 0a0b0c0d')).toBe('4 ok');
    expect(talk('5 store 0 0x104 2 load16(0:0x101)+0x1')).toBe('5 ok');
    expect(talk('6 read 0 0x100 6')).toBe('6 bytes 0a0b0c0d0c0c');
    expect(talk('7 read 0 0xdead00000000 1')).toBe('7 fault');
    expect(talk(`8 call 0 0 rax=${nr('xen_version')} rdi=0x7 rsi=0x100`)).toBe('8 ret -0x16');
    expect(talk('9 write 0 0xdead00000000 00')).toMatch(/^9 error failed cannot write 1 bytes at 0xdead00000000/);
    expect(talk('10 frobnicate')).toMatch(/^10 error bad-request unknown request 'frobnicate'/);
    expect(talk('# a comment')).toBeUndefined();
    expect(talk('11 machine id=0,abi=no-such-abi,pages=16,vcpus=1,privileged=0')).toMatch(/^11 error bad-machine .*no-such-abi/);
    expect(talk('12 bye')).toBe('12 bye');
    expect(t.finished).toBe(true);
  });
});
