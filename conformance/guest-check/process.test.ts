/**
 * Guests as processes: C guests built at test time with gcc on the generated stubs'
 * transport variant and c/hyperabi_guest.c, run against the strict reference VMM over the
 * guest protocol; shell guests that speak the protocol by hand, break it, hang, or leave
 * without bye. The run always completes, and an offline check of the recorded trace gives
 * the live findings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, writeFiles } from '../../generator/index.js';
import { checkTrace } from './checker.js';
import { checkGuestProcess } from './process.js';
import { GuestProtocolError, guestReplyText, guestRequestText, parseGuestReply, parseGuestRequest } from './protocol.js';
import { parseTrace, traceText } from './trace.js';

const HERE = import.meta.dirname;
const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-guest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** gcc for the host, which must be x86_64 (the C guests use the x86_64-pv stubs): skip locally without it, fail in CI. */
function needGcc(): boolean {
  const why = process.arch !== 'x64' ? `the host is ${process.arch}, not x86_64` : spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'gcc is not installed' : undefined;
  if (!why) return true;
  if (process.env['CI']) throw new Error(`C guests: ${why}; CI must not skip this test`);
  console.warn(`SKIP C guests: ${why}`);
  return false;
}

const built = new Map<string, string>();
beforeAll(() => {
  if (process.arch !== 'x64' || spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return;
  const inc = join(tmp, 'include');
  writeFiles(inc, generate('c-guest', 'xen', 'x86_64-pv'));
  for (const name of ['well-behaved', 'misbehaving']) {
    const out = join(tmp, name);
    const r = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-I', inc, '-I', join(HERE, 'c'), '-o', out, join(HERE, 'c/guests', `${name}.c`), join(HERE, 'c/hyperabi_guest.c')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${name}: ${r.stderr}`);
    expect(r.stderr).toBe('');
    built.set(name, out);
  }
});

/** A shell guest from a script body. */
function shellGuest(name: string, body: string): string {
  const p = join(tmp, `${name}.sh`);
  writeFileSync(p, `set -e\n${body}\n`);
  return `sh ${p}`;
}

const HELLO = 'echo "hello hyperabi-guest 1 abi=x86_64-pv pages=16"; read -r l; echo "$l" >&2';

describe('check-guest: guest processes', () => {
  it('a well-behaved C guest (loopback channel, version, shutdown) has no findings', async (ctx) => {
    if (!needGcc()) return ctx.skip();
    const r = await checkGuestProcess({ command: built.get('well-behaved') as string });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.calls).toBe(8);
    expect(r.findings).toEqual([]);
    expect(r.stderr).toContain('well-behaved: Xen 4.17');
  });

  it('a misbehaving C guest is flagged with each kind it commits, at its call; offline gives the same', async (ctx) => {
    if (!needGcc()) return ctx.skip();
    const r = await checkGuestProcess({ command: built.get('misbehaving') as string });
    expect(r.error).toBeUndefined();
    expect(r.findings.map((f) => [f.kind, f.seq ?? 'end'])).toEqual([
      ['unowned-handle', 1],
      ['unknown-operation', 2],
      ['invalid-value', 3],
      ['bad-pointer', 4],
      ['leak-at-shutdown', 'end'],
      ['leak-at-shutdown', 'end'],
      ['leak-at-shutdown', 'end'],
    ]);
    expect(r.findings.at(-1)?.message).toBe('grant still offered when the guest ended: entry 9 of domain 1 grants access to domain 0');
    expect(r.findings[3]?.message).toMatch(/^event_channel_op\(arg\) = 0x[0-9a-f]+: 4 bytes \(1 × struct evtchn_send\) are not all memory domain 1 owns/);
    expect(checkTrace(parseTrace(traceText(r.events)))).toEqual(r.findings);
  });

  it('a shell guest speaking the protocol by hand: write, call, read, bye, with the replies it gets', async () => {
    const cmd = shellGuest(
      'by-hand',
      [
        HELLO,
        'echo "1 write 0x1000 05000000"; read -r l; echo "$l" >&2',
        'echo "2 call 0 0x20 0x4 0x1000"; read -r l; echo "$l" >&2',
        'echo "# a comment"',
        'echo "3 read 0x1000 4"; read -r l; echo "$l" >&2',
        'echo "4 bye"; read -r l; echo "$l" >&2',
      ].join('\n'),
    );
    const r = await checkGuestProcess({ command: cmd });
    expect(r.error).toBeUndefined();
    expect(r.stderr.split('\n')).toEqual([
      'hello hyperabi-guest 1 dom=1 ram=0x0:0x10000 shared=0x10000 grant=0x11000',
      '1 ok',
      '2 ret -22',
      '3 bytes 05000000',
      '4 bye 1',
      '',
    ]);
    expect(r.findings.map((f) => f.kind)).toEqual(['unowned-handle']);
  });

  it('a ret carries the memory the call changed', async () => {
    // EVTCHNOP_alloc_unbound(DOMID_SELF, DOMID_SELF) writes the port at offset 4.
    const cmd = shellGuest('ret-changes', [HELLO, 'echo "1 write 0x2000 f07ff07f00000000"; read -r l', 'echo "2 call 0 0x20 6 0x2000"; read -r l; echo "$l" >&2', 'echo "3 bye"; read -r l'].join('\n'));
    const r = await checkGuestProcess({ command: cmd });
    expect(r.stderr.trim().split('\n').at(-1)).toBe('2 ret 0 0x2004:01');
    expect(r.findings.map((f) => f.kind)).toEqual(['leak-at-shutdown']);
  });

  it('a guest that prints garbage, one that hangs, and one that leaves without bye each give a clear error, and the runs complete', async () => {
    const garbage = await checkGuestProcess({ command: shellGuest('garbage', `${HELLO}\necho "this is not a message"; sleep 5`) });
    expect(garbage.error).toBe(`guest line 2: sequence number: expected an unsigned integer (decimal or 0x hex), got 'this': "this is not a message"`);
    const hang = await checkGuestProcess({ command: shellGuest('hang', `${HELLO}\nsleep 30`), messageTimeoutMs: 300 });
    expect(hang.error).toBe('the guest sent nothing for 300 ms (killed)');
    const early = await checkGuestProcess({ command: shellGuest('early', `${HELLO}\necho "1 call 0 0x11 0 0"; read -r l\nexit 4`) });
    expect(early.error).toBe('the guest exited (code 4) without bye');
    expect(early.calls).toBe(1);
    const silent = await checkGuestProcess({ command: 'true' });
    expect(silent.error).toBe('the guest exited (code 0) without its hello line');
    const badAbi = await checkGuestProcess({ command: shellGuest('bad-abi', 'echo "hello hyperabi-guest 1 abi=sparc"; read -r l') });
    expect(badAbi.error).toMatch(/cannot make its domain: domain 0: unknown ABI 'sparc'/);
  });

  it('a guest still running when the whole run times out is killed', async () => {
    const cmd = shellGuest('slow', `${HELLO}\nwhile true; do echo "# still here"; sleep 0.05; done`);
    const r = await checkGuestProcess({ command: cmd, totalTimeoutMs: 400 });
    expect(r.error).toBe('the guest ran longer than 400 ms (killed)');
    expect(r.signal).toBe('SIGKILL');
  });
});

describe('guest protocol messages', () => {
  it('requests and replies round-trip through their text', () => {
    const reqs = [
      'hello hyperabi-guest 1 abi=x86_64-pv pages=16 vcpus=2',
      '1 write 0x1000 0500',
      '2 call 1 0x20 0x4 0x1000',
      '3 read 0x1000 4',
      '4 bye',
    ];
    for (const l of reqs) expect(guestRequestText(parseGuestRequest(l))).toBe(l);
    const replies = ['hello hyperabi-guest 1 dom=1 ram=0x0:0x10000 shared=0x10000 grant=0x11000', '1 ok', '2 ret -22 0x1004:01 0x2000:-', '3 bytes 05000000', '4 fault', '5 error no-vcpu the guest has 1 vCPUs', '6 bye 3'];
    for (const l of replies) expect(guestReplyText(parseGuestReply(l))).toBe(l);
  });

  it('malformed requests name what is wrong', () => {
    const bad: [string, RegExp][] = [
      ['hello other 1 abi=x', /protocol must be hyperabi-guest/],
      ['hello hyperabi-guest 1 pages=3', /abi=<ABI> is required/],
      ['hello hyperabi-guest 1 abi=x86_64-pv colour=blue', /unknown key 'colour'/],
      ['x call 0 1', /sequence number: expected an unsigned integer/],
      ['1 write 0x10 abc', /write bytes: expected hex bytes/],
      ['1 call 0 zz', /call number/],
      ['1 jump 0', /unknown request 'jump'/],
    ];
    for (const [l, re] of bad) {
      expect(() => parseGuestRequest(l)).toThrow(GuestProtocolError);
      expect(() => parseGuestRequest(l)).toThrow(re);
    }
  });
});
