/**
 * `hyperabi check-guest`: offline traces, guest commands, kinds, usage errors and exit codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTestGuest, TEST_GUESTS } from '../conformance/guest-check/guests.js';
import { KINDS } from '../conformance/guest-check/rules.js';
import { main } from './main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-check-guest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function traceOf(name: string): string {
  const guest = TEST_GUESTS.find((g) => g.name === name);
  if (!guest) throw new Error(`no test guest ${name}`);
  const p = join(tmp, `${name}.jsonl`);
  writeFileSync(p, runTestGuest(guest).traceText());
  return p;
}

describe('hyperabi check-guest', () => {
  it('--trace: findings with their calls, a summary, exit 1; a clean trace exits 0', async () => {
    const bad = await run('check-guest', '--trace', traceOf('port-closed-twice'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('[double-release] domain 1, call #5 event_channel_op$EVTCHNOP_close: arg.port = 1: the evtchn_port was released by event_channel_op$EVTCHNOP_close (call #4)');
    expect(bad.out).toContain('    #5 v0 event_channel_op$EVTCHNOP_close() {port=0x1} = -22 (EINVAL)');
    expect(bad.out.trimEnd().split('\n').at(-1)).toBe('1 finding: 1 double-release');
    const good = await run('check-guest', '--trace', traceOf('evtchn-lifecycle'));
    expect(good).toMatchObject({ code: 0, out: 'no findings\n' });
  });

  it('--json prints the findings with their whole traces', async () => {
    const r = await run('check-guest', '--trace', traceOf('port-leaked'), '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { findings: { kind: string; trace: string[] }[] };
    expect(doc.findings.map((f) => f.kind)).toEqual(['leak-at-shutdown', 'leak-at-shutdown']);
    expect(doc.findings[0]?.trace).toHaveLength(3);
  });

  it('--cmd runs a guest process and --record saves its trace, which --trace then checks the same way', async () => {
    const script = join(tmp, 'guest.sh');
    writeFileSync(script, ['echo "hello hyperabi-guest 1 abi=x86_64-pv"', 'read -r l', 'echo "1 write 0x1000 09000000"', 'read -r l', 'echo "2 call 0 0x20 3 0x1000"', 'read -r l', 'echo "3 bye"', 'read -r l', 'echo done >&2'].join('\n'));
    const rec = join(tmp, 'rec.jsonl');
    const live = await run('check-guest', '--cmd', `sh ${script}`, '--record', rec);
    expect(live.code).toBe(1);
    expect(live.out).toContain('[release-unheld] domain 1, call #1 event_channel_op$EVTCHNOP_close: arg.port = 9: no call ever gave the guest this evtchn_port');
    expect(live.err).toContain('guest stderr:\n  done\n');
    expect(live.err).toContain(`trace of 1 calls written to ${rec}`);
    expect(readFileSync(rec, 'utf8').split('\n')[0]).toBe('{"ev":"trace","format":"hyperabi-guest-trace","version":1,"spec":"xen"}');
    const offline = await run('check-guest', '--trace', rec);
    expect(offline.out).toBe(live.out);
  });

  it('--kinds lists every kind with what it means', async () => {
    const r = await run('check-guest', '--kinds');
    expect(r.code).toBe(0);
    for (const k of Object.keys(KINDS)) expect(r.out).toMatch(new RegExp(`^${k} +\\S`, 'm'));
  });

  it('usage errors exit 2 and say what to do', async () => {
    expect(await run('check-guest')).toMatchObject({ code: 2, err: 'hyperabi: check-guest needs exactly one of --trace FILE or --cmd "<guest command>"\n' });
    expect((await run('check-guest', '--trace', join(tmp, 'missing.jsonl'))).err).toMatch(/^hyperabi: cannot read .*missing\.jsonl: ENOENT/);
    const broken = join(tmp, 'broken.jsonl');
    writeFileSync(broken, '{"ev":"trace","format":"hyperabi-guest-trace","version":1,"spec":"xen"}\n{"ev":"write"}\n');
    const r = await run('check-guest', '--trace', broken);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.jsonl:2: write event: .*\(see docs\/guest-check\.md for the trace format\)/);
    expect((await run('check-guest', '--cmd', 'true', '--pages', 'many')).err).toBe("hyperabi: --pages must be a positive integer, got 'many'\n");
  });
});
