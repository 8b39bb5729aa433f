/**
 * Boots real Xen under QEMU with our kernel as dom0 and the program module as its initrd,
 * and collects the serial lines. Xen halts when dom0 shuts down but QEMU keeps running: the
 * harness ends QEMU itself when the kernel reports it is done (`@@HX Z`), when Xen reports
 * that dom0 crashed or shut down or that Xen panicked, when the kernel falls silent, or at the
 * timeout. Never hangs.
 */
import { spawn, spawnSync } from 'node:child_process';

export const QEMU = 'qemu-system-x86_64';

/** Whether QEMU and the Xen image are here; what is missing otherwise. */
export function qemuAvailable(): { ok: boolean; why?: string } {
  if (spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status !== 0) return { ok: false, why: `${QEMU} is not installed (Debian package qemu-system-x86)` };
  return { ok: true };
}

export interface BootOptions {
  xen: string;
  kernel: string;
  /** The program module (dom0's initrd). */
  module: string;
  /** Xen's command line beyond the console. */
  xenArgs?: string[];
  timeoutMs: number;
  /**
   * Most milliseconds without a serial line once the kernel has started (default 5000): the
   * kernel prints a line per call and a heartbeat in long advances, so silence is a hang
   * (a vCPU blocked for good).
   */
  idleMs?: number;
  /** Told each serial line as it arrives. */
  onLine?: (line: string) => void;
}

export interface BootRun {
  lines: string[];
  /**
   * Why the run ended: the kernel finished, dom0 crashed or shut down (a program made it),
   * Xen panicked, the kernel fell silent (hung), the timeout, or QEMU exited.
   */
  end: 'done' | 'crashed' | 'shutdown' | 'panic' | 'hung' | 'timeout' | 'exit';
  ms: number;
  stderr: string;
  args: string[];
}

/** dom0's memory: what it starts with and the most it may grow to (MiB); the difference lets it populate pages. */
/** CPUs of the QEMU machine Xen runs on (the twin's host has as many: PIRQ counts, pin overrides follow). */
export const QEMU_CPUS = 1;

export const DOM0_MEMORY = { startMiB: 32, maxMiB: 33 } as const;

/**
 * Xen's command line: serial console with a transmit buffer large enough for a whole run (the
 * asynchronous console drops characters when it overflows; sync_console would cost a 3 s
 * countdown at boot), a small dom0 with one vCPU, no memory scrubbing (boot time).
 */
export const XEN_ARGS = [
  'console=com1', 'com1=115200,8n1', 'serial_tx_buffer=8M',
  `dom0_mem=${DOM0_MEMORY.startMiB}M,max:${DOM0_MEMORY.maxMiB}M`, 'dom0_max_vcpus=1', 'bootscrub=0', 'noreboot',
];

export function qemuArgs(o: BootOptions): string[] {
  return [
    '-machine', 'q35', '-cpu', 'max', '-m', '256', '-smp', String(QEMU_CPUS), '-nographic', '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
    '-kernel', o.xen, '-append', [...XEN_ARGS, ...(o.xenArgs ?? [])].join(' '),
    // Xen takes the first module as dom0's kernel and the second as its initrd.
    '-initrd', `${o.kernel},${o.module}`,
  ];
}

const DONE = /@@HX Z \d+/;
const STARTED = /@@HX B /;
const CRASHED = /\(XEN\) .*(Dom0 crashed|Domain 0 crashed|domain_crash)/;
/** dom0 shut itself down (or its watchdog did) before the kernel's last line: Xen halts or reboots. */
const SHUTDOWN = /\(XEN\) .*(Hardware Dom0 (halted|shutdown)|Watchdog timer fires for domain 0)/;
const PANIC = /\(XEN\) (Panic on CPU|\*\*\*\* .*PANIC)/;

/** Boots once and returns the serial lines. */
export function boot(o: BootOptions): Promise<BootRun> {
  const args = qemuArgs(o);
  const start = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let stderr = '';
    const lines: string[] = [];
    let end: BootRun['end'] | undefined;
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    const stop = (why: BootRun['end'], afterMs = 0) => {
      if (end) return;
      end = why;
      if (afterMs === 0) child.kill('SIGKILL');
      // A crash prints its register dump after the first line: let it arrive.
      else grace = setTimeout(() => child.kill('SIGKILL'), afterMs);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      clearInterval(idle);
      if (buf) lines.push(buf);
      resolveRun({ lines, end: end ?? 'exit', ms: Date.now() - start, stderr, args });
    };
    const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
    let started = false;
    let lastLine = Date.now();
    const idleMs = o.idleMs ?? 5000;
    const idle = setInterval(() => {
      if (started && Date.now() - lastLine > idleMs) stop('hung');
    }, 250);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        lines.push(line);
        lastLine = Date.now();
        o.onLine?.(line);
        if (STARTED.test(line)) started = true;
        if (DONE.test(line)) stop('done');
        else if (SHUTDOWN.test(line)) stop('shutdown', 100);
        else if (CRASHED.test(line)) stop('crashed', 300);
        else if (PANIC.test(line)) stop('panic', 300);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (stderr += s));
    child.on('error', (e) => {
      stderr += String(e);
      finish();
    });
    child.on('close', finish);
  });
}
