/**
 * The reference docs (target `docs`): deterministic, fresh in `docs/reference/xen`, and
 * right: operation values from the spec, struct offsets from the layout engine, registers
 * from each ABI's convention, and every relative link landing on a page and an anchor.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayoutEngine, findType, operationId, typeBodyFor, xenSpec, type Spec } from '../../spec/index.js';
import { staleFiles, type GeneratedFile } from '../files.js';
import { generate, GenerateError } from '../index.js';
import { buildModel } from '../model.js';
import { DocsError, docsFiles } from './index.js';
import { typeAnchor } from './markdown.js';
import { checkLinks, linksOf } from './links.js';

const REFERENCE_DIR = join(import.meta.dirname, '..', '..', 'docs', 'reference', 'xen');
const files = generate('docs', 'xen');
const page = (path: string, set: readonly GeneratedFile[] = files): string => {
  const f = set.find((x) => x.path === path);
  if (!f) throw new Error(`docs did not produce ${path}`);
  return f.content;
};

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The lines of the section that starts at `<a id="id"></a>`, up to the next section anchor. */
function section(content: string, id: string): string[] {
  const lines = content.split('\n');
  const start = lines.indexOf(`<a id="${id}"></a>`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('<a id="'));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The rows of the first table in some lines whose header starts with `first`, as trimmed cells. */
function table(lines: readonly string[], first: string): string[][] {
  const at = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (at < 0) return [];
  const rows: string[][] = [];
  for (const l of lines.slice(at)) {
    if (!l.startsWith('|')) break;
    rows.push(l.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** Differences between a page's EVTCHNOP operations and the spec's: missing sections, wrong values. */
function evtchnOpProblems(content: string, spec: Spec): string[] {
  const h = spec.hypercalls.find((x) => x.name === 'event_channel_op');
  if (!h?.subops) return ['spec has no event_channel_op'];
  const problems: string[] = [];
  const summary = table(section(content, 'event_channel_op'), 'value');
  for (const op of h.subops.ops) {
    const id = operationId(h, op);
    const lines = section(content, id);
    if (lines[1] !== `#### ${op.name} (${op.value})`) problems.push(`${id}: heading '${lines[1]}'`);
    const row = summary.find((r) => r[1] === `[\`${op.name}\`](#${id})`);
    if (row?.[0] !== `\`${op.value}\``) problems.push(`${id}: summary value ${row?.[0]}`);
    if (!lines.some((l) => l.startsWith(`| command | \`cmd\` = \`${op.value}\``))) problems.push(`${id}: command row`);
  }
  const sections = content.split('\n').filter((l) => l.startsWith('<a id="event_channel_op$')).length;
  if (sections !== h.subops.ops.length) problems.push(`${sections} operation sections, spec has ${h.subops.ops.length}`);
  return problems;
}

/** Differences between a page's table of a type and the layout engine, per arch. */
function layoutProblems(content: string, typeName: string, anchor: string, arches: readonly string[]): string[] {
  const rows = table(section(content, anchor), 'field');
  if (rows.length === 0) return [`${typeName}: no table`];
  const head = rows[0] as string[];
  const problems: string[] = [];
  for (const arch of arches) {
    const col = head.indexOf(arch);
    if (col < 0) {
      problems.push(`${typeName}: no column ${arch}`);
      continue;
    }
    const e = new LayoutEngine(xenSpec, arch);
    if (!e.has(typeName)) {
      if (rows.slice(2).some((r) => r[col] !== '—' && r[col] !== '')) problems.push(`${typeName}: ${arch} cells for an absent type`);
      continue;
    }
    const l = e.named(typeName);
    if (rows[2]?.[col] !== `${l.size} / ${l.align}`) problems.push(`${typeName} ${arch}: size row ${rows[2]?.[col]}, engine ${l.size} / ${l.align}`);
    // A typedef of a named struct links to that struct's table instead of repeating its fields.
    const def = findType(xenSpec, typeName);
    const body = def ? typeBodyFor(def, e.arch) : undefined;
    if (body?.kind === 'typedef' && body.target?.kind === 'name') continue;
    for (const [path, fl] of Object.entries(l.fields)) {
      const row = rows.find((r) => r[0] === `\`${path}\``);
      if (row?.[col] !== `${fl.offset} / ${fl.size}`) problems.push(`${typeName}.${path} ${arch}: page ${row?.[col]}, engine ${fl.offset} / ${fl.size}`);
    }
  }
  return problems;
}

describe('docs: generation', () => {
  it('regenerates byte for byte: two runs over fresh models give the same files', () => {
    const again = docsFiles(buildModel(xenSpec));
    expect(again.map((f) => f.path)).toEqual(files.map((f) => f.path));
    for (const f of again) expect(f.content, f.path).toBe(page(f.path));
  });

  it('writes an index and one page per spec family', () => {
    expect(files.map((f) => f.path).sort()).toEqual(['README.md', ...xenSpec.families.map((f) => `${f.name}.md`)].sort());
  });

  it('every page opens with the generated header: generator module, spec name and version, do not edit', () => {
    for (const f of files) {
      const head = f.content.split('\n').slice(0, 5).join('\n');
      expect(head, f.path).toMatch(/^<!--\n/);
      expect(head, f.path).toContain(`@generated by hyperabi (generator/docs/index.ts) from spec 'xen' ${xenSpec.version}`);
      expect(head, f.path).toContain('Do not edit');
    }
  });

  it('docs/reference/xen is fresh: staleFiles finds nothing, and no page is left over from an older spec', () => {
    const stale = staleFiles(REFERENCE_DIR, files);
    expect(stale, `stale: ${stale.map((s) => `${s.path} (${s.why})`).join(', ')}; run: npx tsx cli/main.ts generate docs --out docs/reference/xen`).toEqual([]);
    const extra = readdirSync(REFERENCE_DIR).filter((n) => !files.some((f) => f.path === n));
    expect(extra, 'pages no longer generated').toEqual([]);
  });

  it('a stale copy of the reference is caught, naming the changed and the missing page', () => {
    const dir = join(tmp, 'stale');
    cpSync(REFERENCE_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'event_channel.md'), page('event_channel.md').replace('#### EVTCHNOP_send (4)', '#### EVTCHNOP_send (5)'));
    rmSync(join(dir, 'errno.md'));
    expect(staleFiles(dir, files)).toEqual([
      { path: 'event_channel.md', why: 'differs' },
      { path: 'errno.md', why: 'missing' },
    ].sort((a, b) => files.findIndex((f) => f.path === a.path) - files.findIndex((f) => f.path === b.path)));
  });

  it('an unknown ABI is a GenerateError naming it', () => {
    expect(() => generate('docs', 'xen', 'x86_16-pv')).toThrow(GenerateError);
    expect(() => generate('docs', 'xen', 'x86_16-pv')).toThrow(/unknown ABI 'x86_16-pv'/);
  });
});

describe('docs: content', () => {
  it('event_channel_op: the event_channel page lists every EVTCHNOP operation with its value from the spec', () => {
    expect(evtchnOpProblems(page('event_channel.md'), xenSpec)).toEqual([]);
  });

  it('event_channel_op: a page with a wrong or missing operation value is caught by the same check', () => {
    const broken = page('event_channel.md').replace('#### EVTCHNOP_send (4)', '#### EVTCHNOP_send (5)').replace('| `13` | [`EVTCHNOP_set_priority`]', '| `14` | [`EVTCHNOP_set_priority`]');
    expect(evtchnOpProblems(broken, xenSpec)).toEqual([
      "event_channel_op$EVTCHNOP_send: heading '#### EVTCHNOP_send (5)'",
      'event_channel_op$EVTCHNOP_set_priority: summary value `14`',
    ]);
  });

  it('struct evtchn_status: the struct table shows the layout engine offsets and sizes on x86_64, x86_32, arm64 and arm32', () => {
    const problems = layoutProblems(page('event_channel.md'), 'struct evtchn_status', 'struct-evtchn_status', ['x86_64', 'x86_32', 'arm64', 'arm32']);
    expect(problems).toEqual([]);
    expect(table(section(page('event_channel.md'), 'struct-evtchn_status'), 'field').find((r) => r[0] === '`u.interdomain.port`')).toEqual([
      '`u.interdomain.port`', '[`evtchn_port_t`](#evtchn_port_t)', '', '20 / 4', '20 / 4', '20 / 4', '20 / 4', 'The peer port.',
    ]);
  });

  it('every type table of every family page equals the layout engine on every arch (per-arch bodies included)', () => {
    let checked = 0;
    const problems: string[] = [];
    for (const t of xenSpec.types) {
      problems.push(...layoutProblems(page(`${t.family}.md`), t.name, typeAnchor(t.name), ['x86_64', 'x86_32', 'arm64', 'arm32']));
      checked += 1;
    }
    expect(problems).toEqual([]);
    expect(checked).toBe(xenSpec.types.length);
  });

  it('a struct table with a wrong offset is caught', () => {
    const broken = page('event_channel.md').replace('| `u.interdomain.port` | [`evtchn_port_t`](#evtchn_port_t) |  | 20 / 4 | 20 / 4 |', '| `u.interdomain.port` | [`evtchn_port_t`](#evtchn_port_t) |  | 20 / 4 | 24 / 4 |');
    expect(broken).not.toBe(page('event_channel.md'));
    expect(layoutProblems(broken, 'struct evtchn_status', 'struct-evtchn_status', ['x86_32'])).toEqual([
      'struct evtchn_status.u.interdomain.port x86_32: page 24 / 4, engine 20 / 4',
    ]);
  });

  it('event_channel_op: the register table gives each ABI its convention registers for cmd and arg', () => {
    const rows = table(section(page('event_channel.md'), 'event_channel_op'), 'ABI');
    for (const abi of xenSpec.abis) {
      const c = abi.convention;
      expect(rows.find((r) => r[0] === `\`${abi.name}\``), abi.name).toEqual([
        `\`${abi.name}\``, 'native', `\`${c.number}\``, `\`cmd\` in \`${c.args[0]}\``, `\`arg\` in \`${c.args[1]}\``, `\`${c.result}\``,
      ]);
    }
  });

  it('set_timer_op: the 32-bit ABIs show the split lo/hi registers, the 64-bit ones the whole value', () => {
    const rows = table(section(page('sched.md'), 'set_timer_op'), 'ABI');
    expect(rows.find((r) => r[0] === '`x86_32-pv`')?.slice(3, 5)).toEqual(['`lo` in `ebx`', '`hi` in `ecx`']);
    expect(rows.find((r) => r[0] === '`x86_64-hvm`')?.slice(3, 5)).toEqual(['`timeout` in `rdi`', '']);
    expect(rows.find((r) => r[0] === '`arm64`')?.[1]).toBe('not available');
  });

  it('event_channel_op$EVTCHNOP_bind_virq: errors give code, value, condition and trigger in words; resources and references follow', () => {
    const lines = section(page('event_channel.md'), 'event_channel_op$EVTCHNOP_bind_virq');
    const errors = table(lines, 'code');
    const op = xenSpec.hypercalls.find((h) => h.name === 'event_channel_op')?.subops?.ops.find((o) => o.name === 'EVTCHNOP_bind_virq');
    expect(errors.length - 2).toBe(op?.errors.length);
    expect(errors[2]).toEqual(['[`EINVAL`](errno.md#XEN_EINVAL) (-22)', 'return', 'The VIRQ number is not below NR_VIRQS.', '`arg.virq` ≥ `24`']);
    expect(lines).toContain('| produces | [`evtchn_port`](#resource-evtchn_port) at `arg.port` |');
    expect(lines).toContain('| consumes | [`vcpu_id`](core.md#resource-vcpu_id) at `arg.vcpu` |');
    expect(lines).toContain('| field directions | in `virq`, `vcpu`; out `port` |');
    expect(lines.some((l) => l.includes('handler `xen/common/event_channel.c:evtchn_bind_virq`'))).toBe(true);
  });

  it('the index lists every hypercall by number, linked to its family page', () => {
    const rows = table(page('README.md').split('\n'), 'number');
    const sorted = [...xenSpec.hypercalls].sort((a, b) => a.number - b.number);
    expect(rows.slice(2).map((r) => [r[0], r[1]])).toEqual(sorted.map((h) => [String(h.number), `[\`${h.name}\`](${h.family}.md#${h.name})`]));
  });
});

describe('docs: links', () => {
  it('every relative link of every page lands on a generated page and an anchor it defines', () => {
    expect(checkLinks(files)).toEqual([]);
    expect(files.reduce((n, f) => n + linksOf(f.content).length, 0)).toBeGreaterThan(2000);
  });

  it('a deliberately broken page is caught: missing anchor, missing page, duplicate anchor', () => {
    const broken = files.map((f) =>
      f.path === 'event_channel.md'
        ? { ...f, content: `${f.content.replace('](#struct-evtchn_send)', '](#struct-evtchn_sendx)')}\n[gone](nowhere.md)\n<a id="event_channel_op"></a>\n` }
        : f,
    );
    expect(checkLinks(broken)).toEqual([
      { file: 'event_channel.md', link: '#event_channel_op', why: 'anchor defined twice' },
      { file: 'event_channel.md', link: '#struct-evtchn_sendx', why: "no anchor 'struct-evtchn_sendx' in event_channel.md" },
      { file: 'event_channel.md', link: 'nowhere.md', why: 'no page nowhere.md' },
    ]);
  });

  it('docs --abi arm64: only the arm64 layout column and register row, and links still resolve (x86-only types unlinked)', () => {
    const arm = generate('docs', 'xen', 'arm64');
    expect(checkLinks(arm)).toEqual([]);
    const head = table(section(page('event_channel.md', arm), 'struct-evtchn_status'), 'field')[0];
    expect(head).toEqual(['field', 'type', 'dir', 'arm64', 'doc']);
    expect(table(section(page('event_channel.md', arm), 'event_channel_op'), 'ABI').slice(2).map((r) => r[0])).toEqual(['`arm64`']);
    expect(page('arch.md', arm)).not.toContain('<a id="struct-start_info"></a>');
    expect(page('README.md', arm)).toContain('ABIs: arm64.');
  });
});

describe('docs: spec items the docs cannot express', () => {
  it('event_channel_op$EVTCHNOP_send: an argument type the spec does not declare is a DocsError naming the operation', () => {
    const spec = structuredClone(xenSpec);
    const op = spec.hypercalls.find((h) => h.name === 'event_channel_op')?.subops?.ops.find((o) => o.name === 'EVTCHNOP_send');
    if (!op) throw new Error('no EVTCHNOP_send');
    op.arg = { kind: 'name', name: 'struct evtchn_sent' };
    expect(() => docsFiles(buildModel(spec))).toThrow(DocsError);
    expect(() => docsFiles(buildModel(spec))).toThrow("xen:hypercalls/event_channel_op/EVTCHNOP_send: type 'struct evtchn_sent' is neither a scalar");
  });

  it('a hypercall with more arguments than an ABI has registers is a DocsError naming the hypercall and the ABI', () => {
    const spec = structuredClone(xenSpec);
    const h = spec.hypercalls.find((x) => x.name === 'event_channel_op');
    if (!h) throw new Error('no event_channel_op');
    h.args = Array.from({ length: 6 }, (_, i) => ({ name: `a${i}`, type: { kind: 'name' as const, name: 'int' }, doc: 'x' }));
    expect(() => docsFiles(buildModel(spec))).toThrow(/event_channel_op: argument 6 'a5' has no register under ABI x86_64-pv/);
  });

  it('an error code outside every error space is a DocsError naming the error', () => {
    const spec = structuredClone(xenSpec);
    const op = spec.hypercalls.find((h) => h.name === 'event_channel_op')?.subops?.ops.find((o) => o.name === 'EVTCHNOP_close');
    if (!op) throw new Error('no EVTCHNOP_close');
    op.errors = [{ code: 'EWHATEVER', when: 'never' }];
    expect(() => docsFiles(buildModel(spec))).toThrow("xen:hypercalls/event_channel_op/EVTCHNOP_close/errors/0: error code 'EWHATEVER'");
  });
});
