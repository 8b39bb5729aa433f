import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-vmm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const script = (name: string, doc: unknown) => {
  const p = join(tmp, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
};
const machine = { domains: [{ id: 0, abi: 'x86_64-pv', memoryPages: 8, privileged: true }, { id: 1, abi: 'x86_32-pv', memoryPages: 8 }] };

describe('hyperabi vmm', () => {
  it('vmm run: typed and raw calls, memory, time, console, snapshots; prints each step', async () => {
    const p = script('ok.json', {
      machine,
      steps: [
        { call: 'xen_version$XENVER_version', domain: 1, expect: '0x40011' },
        { call: 'event_channel_op$EVTCHNOP_alloc_unbound', domain: 0, arg: { dom: '0x7ff0', remote_dom: 1, port: 0 } },
        { snapshot: 's' },
        { write: { domain: 0, addr: '0x1000', text: 'hi\n' } },
        { call: 'console_io$CONSOLEIO_write', domain: 0, args: [3, '0x1000'], expect: 0 },
        { raw: { eax: 17, ebx: 0 }, domain: 1 },
        { read: { domain: 0, addr: 4096, length: 3, as: 'text' } },
        { advance: '1000' },
        { console: 0 },
        { restore: 's' },
        { call: 'console_io$CONSOLEIO_write', domain: 1, args: [3, '0x1000'], expect: 'EPERM' },
        { invariants: true },
      ],
    });
    const r = await run('vmm', 'run', p);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('step 1 (call) xen_version$XENVER_version on domain 1 → 262161 (0x40011)');
    expect(r.out).toContain('step 2 (call) event_channel_op$EVTCHNOP_alloc_unbound on domain 0 → 0 (0x0) arg {"dom":32752,"remote_dom":1,"port":1}');
    expect(r.out).toContain('step 6 (raw) {"eax":"0x11","ebx":"0x0"} on domain 1 → 262161 (0x40011)');
    expect(r.out).toContain('step 7 (read) 0x1000 of domain 0: "hi\\n"');
    expect(r.out).toContain('step 9 (console) domain 0: "hi\\n"');
    expect(r.out).toMatch(/step 10 \(restore\) restored 's' \([1-9]\d* pages copied back\)/);
    expect(r.out).toContain('step 11 (call) console_io$CONSOLEIO_write on domain 1 → -1 (-EPERM)');
    expect(r.out).toContain('step 12 (invariants) all hold');
    expect(r.out).not.toContain('console of domain 0');
  });

  it('vmm run: with preemptEvery, a continued call prints the registers the guest holds afterwards', async () => {
    const entry = '11' + '00'.repeat(63); // x86_64 multicall_entry: op 17 (xen_version), result, args all 0
    const r = await run('vmm', 'run', script('preempt.json', {
      machine: { ...machine, preemptEvery: 1 },
      steps: [
        { write: { domain: 0, addr: '0x1000', hex: entry.repeat(3) } },
        { raw: { rax: 13, rdi: '0x1000', rsi: 3 }, expect: 0 },
        { read: { domain: 0, addr: '0x1088', length: 4 } },
      ],
    }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('step 2 (raw) {"rax":"0xd","rdi":"0x1000","rsi":"0x3"} on domain 0 → 0 (0x0) (continued; registers now {"rax":"0xd","rdi":"0x1080","rsi":"0x1","rdx":"0x0","r10":"0x0","r8":"0x0"})');
    expect(r.out).toContain('step 3 (read) 0x1088 of domain 0: 11000400');
  });

  it('vmm run: a result other than expected is a failure (exit 1)', async () => {
    const r = await run('vmm', 'run', script('fail.json', { machine, steps: [{ call: 'xen_version$XENVER_version', expect: 'EINVAL' }] }));
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL step 1 (call): expected -22 (-EINVAL), got 262161 (0x40011)');
  });

  it.each([
    ['not json', '{', /is not JSON/],
    ['no machine', { steps: [] }, /machine: must be an object with a "domains" array/],
    ['bad abi', { machine: { domains: [{ id: 0, abi: 'pdp11', memoryPages: 1 }] } }, /machine: domain 0: unknown ABI 'pdp11'/],
    ['unknown step', { machine, steps: [{ jump: 1 }] }, /step 1: must be an object with one of call/],
    ['unknown op', { machine, steps: [{ call: 'nope$NOPE' }] }, /step 1 \(call\): unknown operation id 'nope\$NOPE'/],
    ['bad struct', { machine, steps: [{ call: 'event_channel_op$EVTCHNOP_send', arg: { port: 'x' } }] }, /step 1 \(call\): arg is not a struct evtchn_send: \/port must be integer/],
    ['bad domain', { machine, steps: [{ call: 'xen_version$XENVER_version', domain: 7 }] }, /step 1 \(call\): no domain 7/],
    ['bad register', { machine, steps: [{ raw: { rax: 17 }, domain: 1 }] }, /step 1 \(raw\): x86_32-pv has no argument register rax/],
    ['unmapped write', { machine, steps: [{ write: { domain: 0, addr: '0x100000', text: 'x' } }] }, /step 1 \(write\): domain 0 has no memory at 0x100000/],
    ['missing snapshot', { machine, steps: [{ restore: 'x' }] }, /step 1 \(restore\): no snapshot 'x'/],
  ])('vmm run: a bad script (%s) is a clear error naming the step (exit 2)', async (name, doc, message) => {
    const r = await run('vmm', 'run', script(`${name}.json`, doc));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('vmm coverage prints the table; --check says whether the file is fresh (its freshness is reference-vmm/coverage.test.ts’s)', async () => {
    const r = await run('vmm', 'coverage');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# Reference VMM coverage\n/);
    expect(r.out).toContain('| `multicall` | implemented |');
    const c = await run('vmm', 'coverage', '--check');
    expect(c.out).toBe(c.code === 0 ? 'docs/reference-vmm-coverage.md up to date\n' : 'stale docs/reference-vmm-coverage.md: run hyperabi vmm coverage --write\n');
  });
});
