#!/usr/bin/env node
// A testee that breaks on purpose, for the process target's tests (conformance/targets/process.test.ts).
//
//   node misbehave.mjs <crash|hang|garbage|out-of-order> <register>=<value>
//
// It speaks the protocol just well enough (a machine whose memory reads as zeros, every call
// returning 0) until a call sets <register> to <value>; then it crashes (SIGSEGV after a line on
// stderr), stops answering, prints a line that is no reply, or answers with the wrong sequence
// number. Every new process behaves again until the trigger.
const [mode, trigger] = process.argv.slice(2);
const [reg, value] = (trigger ?? '').split('=');
if (!['crash', 'hang', 'garbage', 'out-of-order'].includes(mode) || !reg || value === undefined) {
  process.stderr.write('usage: misbehave.mjs <crash|hang|garbage|out-of-order> <register>=<value>\n');
  process.exit(2);
}

let partial = '';
let hung = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  let out = '';
  for (const line of lines) {
    if (hung) break;
    const t = line.split(' ');
    if (t[0] === 'hello') {
      out += 'hello hyperabi-testee 1 name=misbehaving-' + mode + ' abis=x86_64-pv\n';
      continue;
    }
    const seq = t[0];
    switch (t[1]) {
      case 'machine':
        out += `${seq} machine ${t.slice(2).map((d) => `${d.split(',')[0]},data=0x0,unmapped=0xdead0000,shared=0x100000`).join(' ')}\n`;
        break;
      case 'read':
        out += `${seq} bytes ${'00'.repeat(Number(t[4]))}\n`;
        break;
      case 'call':
        if (t.slice(4).some((kv) => kv === `${reg}=${value}`)) {
          process.stdout.write(out);
          out = '';
          if (mode === 'crash') {
            process.stderr.write(`misbehave: crashing on purpose at request ${seq}\n`);
            process.kill(process.pid, 'SIGSEGV');
            return;
          }
          if (mode === 'hang') {
            process.stderr.write(`misbehave: hanging on purpose at request ${seq}\n`);
            hung = true; // stdin stays open, so the process lives on without answering
            break;
          }
          if (mode === 'garbage') {
            out += 'Segmentation fault?? 0xdeadbeef\n';
            break;
          }
          out += `${Number(seq) + 1} ret 0x0\n`;
          break;
        }
        out += `${seq} ret 0x0\n`;
        break;
      case 'bye':
        process.stdout.write(`${out}${seq} bye\n`, () => process.exit(0));
        return;
      default:
        out += `${seq} ok\n`;
    }
  }
  if (out) process.stdout.write(out);
});
