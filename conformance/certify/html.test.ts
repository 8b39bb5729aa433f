/**
 * The HTML report rendered by a real browser: Debian's headless Chromium loads report.html
 * of a failing run, dumps the DOM it built (summary, the failure expanded with its checks and
 * steps) and takes a screenshot, which is decoded here to check the page was drawn with its
 * styles (the red verdict, the green pass badges).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceTarget } from '../targets/reference.js';
import { certify } from './run.js';
import { FIXTURE_TARGET, fixtureSuite } from './fixtures.js';
import { reportHtml } from './html.js';

function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      const p = join(dir, name);
      if (dir && existsSync(p)) return p;
    }
  }
  return undefined;
}

const chromium = findChromium();
const missing = chromium === undefined && !process.env['CI'];
if (missing) console.warn('html.test.ts: skipped: Debian package chromium is not installed (apt-get install --no-install-recommends chromium); CI installs it');

/** Decodes an 8-bit RGB or RGBA PNG into RGBA pixels (enough for Chromium's screenshots). */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let v = line[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < px.length; i += channels, j += 4) {
    rgba[j] = px[i]!;
    rgba[j + 1] = px[i + 1]!;
    rgba[j + 2] = px[i + 2]!;
    rgba[j + 3] = channels === 4 ? px[i + 3]! : 255;
  }
  return { width, height, rgba };
}

describe.skipIf(missing)('the HTML report in headless Chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-html-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const browser = (...args: string[]) => {
    if (!chromium) throw new Error('chromium is not installed: CI must install the Debian package chromium (.ci/run)');
    return execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(tmp, 'profile')}`, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };

  it('renders the summary and a failure with its steps, expected and actual; the screenshot shows the styled page', async () => {
    const dir = join(tmp, 'report');
    const r = await certify({ target: 'reference', profile: 'xen-4.17-pv64-core', reportDir: dir, suite: fixtureSuite(), openedTarget: referenceTarget({ name: FIXTURE_TARGET }) });
    expect(r.exitCode).toBe(1);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toBe(reportHtml(r.report));
    expect(html).not.toMatch(/<(script|link|img)\b|url\(/);
    const url = pathToFileURL(join(dir, 'report.html')).href;

    const dom = browser('--dump-dom', url);
    expect(dom).toContain('NOT CERTIFIED: Required scenarios fail');
    const summary = /<table class="summary">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    expect(summary.replace(/\s+/g, '')).toContain('<tr><th>Required</th><tdclass="n">6</td><tdclass="n">3</td><tdclass="n">1</td><tdclass="n">1</td><tdclass="n">1</td>');
    const fail = /<details class="sc" id="s-xen_version\$XENVER_version\/cert-wrong" data-status="fail" open="">([\s\S]*?)<\/details>/.exec(dom)?.[1];
    expect(fail, 'the failure is expanded').toBeDefined();
    expect(fail).toContain('<td class="mono expected">262160 (0x40010)</td><td class="mono actual">262161 (0x40011)</td>');
    expect(fail).toMatch(/<li class="bad"><pre>call: xen_version\$XENVER_version\nexpect: 262160<\/pre><\/li>/);
    expect(dom).toMatch(/<details class="sc" id="s-event_channel_op\$EVTCHNOP_send\/cert-broken" data-status="error" open="">[\s\S]*?unknown constant 'NO_SUCH_CONSTANT'/);

    const png = join(tmp, 'report.png');
    browser(`--screenshot=${png}`, '--window-size=1280,2000', url);
    expect(statSync(png).size).toBeGreaterThan(20_000);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1280, 2000]);
    const colours = new Map<number, number>();
    for (let i = 0; i < img.rgba.length; i += 4) {
      const k = (img.rgba[i]! << 16) | (img.rgba[i + 1]! << 8) | img.rgba[i + 2]!;
      colours.set(k, (colours.get(k) ?? 0) + 1);
    }
    expect(colours.size, 'a page with text, tables and badges').toBeGreaterThan(100);
    expect(colours.get(0xcf222e) ?? 0, 'the red NOT CERTIFIED verdict and fail badges').toBeGreaterThan(2000);
    expect(colours.get(0x1a7f37) ?? 0, 'green bars of the coverage or pass badges').toBeGreaterThan(0);
    writeFileSync(join(tmp, 'dom.html'), dom);
  });
});
