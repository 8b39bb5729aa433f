/**
 * The hand-written protocol facts of rules.ts name only what the spec has: every operation
 * id, path, resource, type and constant exists, releases consume what they release, and the
 * owner pairing the checker applies to handle uses resolves as the spec's docs describe.
 */
import { describe, expect, it } from 'vitest';
import { constantValue, findConstant, findGroup, findOperation, findType, operationId, xenSpec, type ResourceUse } from '../../spec/index.js';
import { ownerUse } from './checker.js';
import { FLAGS_CARRY_VALUES, GRANT_SETUP, GRANTS, PADDING, PAIRS, SHUTDOWN, TRACKED, VCPU_BRINGUP } from './rules.js';
import { SpecView } from './spec-view.js';

const view = new SpecView(xenSpec).abi('x86_64-pv');

function op(id: string) {
  const o = findOperation(xenSpec, id);
  if (!o) throw new Error(`spec has no operation ${id}`);
  return o;
}

/** The struct an operation's `arg.` paths refer to. */
function argType(id: string) {
  const o = op(id);
  if (o.op?.arg) return o.op.arg;
  const ptr = o.hypercall.args.find((a) => a.name === o.hypercall.subops?.argument || o.hypercall.subops?.selector.startsWith(`${a.name}[]`));
  if (ptr && (ptr.type.kind === 'pointer' || ptr.type.kind === 'handle')) return ptr.type.to;
  throw new Error(`${id} has no argument struct`);
}

function hasPath(id: string, path: string): boolean {
  if (!path.startsWith('arg.')) return op(id).hypercall.args.some((a) => a.name === path);
  return view.field(argType(id), path.slice(4)) !== undefined;
}

const uses = (id: string): ResourceUse[] => [...(op(id).hypercall.consumes ?? []), ...(op(id).op?.consumes ?? [])];

describe('guest-check rules name what the spec has', () => {
  it('tracked resources: they exist, some operation produces each, and each release or reset consumes what it releases', () => {
    for (const [resource, t] of Object.entries(TRACKED)) {
      expect(xenSpec.resources.some((r) => r.name === resource), resource).toBe(true);
      const producers = xenSpec.hypercalls.flatMap((h) => (h.subops?.ops ?? []).filter((o) => o.produces?.some((u) => u.resource === resource)).map((o) => operationId(h, o)));
      expect(producers.length, resource).toBeGreaterThan(0);
      for (const [id, path] of Object.entries(t.releases)) {
        expect(uses(id).some((u) => u.resource === resource && u.path === path), `${id} consumes ${resource} at ${path}`).toBe(true);
      }
      for (const [id, path] of Object.entries(t.resets)) expect(uses(id).some((u) => u.resource === 'domid' && u.path === path), id).toBe(true);
    }
  });

  it('pairs, grant setup, grant entries, vCPU bring-up and shutdown name existing operations, paths and constants', () => {
    for (const p of PAIRS) {
      for (const id of [...p.acquire, p.release]) {
        expect(uses(id).some((u) => u.path === p.key), `${id} consumes ${p.key}`).toBe(true);
      }
    }
    for (const s of GRANT_SETUP) {
      expect(hasPath(s.op, s.dom), `${s.op} ${s.dom}`).toBe(true);
      if ('when' in s) {
        expect(hasPath(s.op, s.when.path)).toBe(true);
        expect(findConstant(xenSpec, s.when.constant)).toBeDefined();
      }
    }
    expect(hasPath(GRANTS.setVersion.op, GRANTS.setVersion.path)).toBe(true);
    for (const t of [GRANTS.header, GRANTS.entry[1], GRANTS.entry[2]]) expect(findType(xenSpec, t), t).toBeDefined();
    expect(findGroup(xenSpec, GRANTS.typeGroup)?.kind).toBe('enum');
    expect(constantValue(xenSpec, GRANTS.invalid)).toBe(0);
    expect(constantValue(xenSpec, GRANTS.reserved)).toBeGreaterThan(0);
    expect(hasPath(VCPU_BRINGUP.up, VCPU_BRINGUP.vcpu)).toBe(true);
    expect(hasPath(VCPU_BRINGUP.initialise, VCPU_BRINGUP.vcpu)).toBe(true);
    expect(hasPath(SHUTDOWN.op, SHUTDOWN.reason)).toBe(true);
    for (const r of SHUTDOWN.resumes) expect(findConstant(xenSpec, r)).toBeDefined();
  });

  it('flags exemptions name flags-valued arguments or fields', () => {
    for (const key of Object.keys(FLAGS_CARRY_VALUES)) {
      const call = /^([a-z_]+)\(([a-z_0-9]+)\)$/.exec(key);
      if (call) {
        const a = xenSpec.hypercalls.find((h) => h.name === call[1])?.args.find((x) => x.name === call[2]);
        expect(a?.values && findGroup(xenSpec, a.values)?.kind, key).toBe('flags');
      } else {
        const dot = key.lastIndexOf('.');
        const f = view.field({ kind: 'name', name: key.slice(0, dot) }, key.slice(dot + 1));
        expect(f?.field.values && findGroup(xenSpec, f.field.values)?.kind, key).toBe('flags');
      }
    }
  });

  it('padding names match the spec’s padding members and not its real fields', () => {
    const names = new Set<string>();
    for (const t of xenSpec.types) for (const f of view.available({ kind: 'name', name: t.name }) ? view.fields({ kind: 'name', name: t.name }) : []) names.add(f.path.slice(f.path.lastIndexOf('.') + 1));
    const padding = [...names].filter((n) => PADDING.test(n)).sort();
    expect(padding).toEqual(expect.arrayContaining(['_pad', 'pad', 'rsvd', '_rsvd', '_unused']));
    for (const n of ['rsvd_pos', 'rsvd_size', 'padding_bytes', 'port', 'flags']) expect(PADDING.test(n), n).toBe(false);
  });

  it('handle owners pair with the domain beside them, as the spec’s docs say', () => {
    const owner = (id: string, path: string) => {
      const all = uses(id);
      const use = all.find((u) => u.path === path) ?? (op(id).op?.produces ?? []).find((u) => u.path === path);
      if (!use) throw new Error(`${id} has no use at ${path}`);
      return ownerUse(use, all)?.path ?? 'caller';
    };
    expect(owner('event_channel_op$EVTCHNOP_bind_interdomain', 'arg.remote_port')).toBe('arg.remote_dom');
    expect(owner('event_channel_op$EVTCHNOP_bind_interdomain', 'arg.local_port')).toBe('caller');
    expect(owner('event_channel_op$EVTCHNOP_alloc_unbound', 'arg.port')).toBe('arg.dom');
    expect(owner('event_channel_op$EVTCHNOP_status', 'arg.port')).toBe('arg.dom');
    expect(owner('event_channel_op$EVTCHNOP_send', 'arg.port')).toBe('caller');
    expect(owner('grant_table_op$GNTTABOP_map_grant_ref', 'arg.ref')).toBe('arg.dom');
    expect(owner('grant_table_op$GNTTABOP_copy', 'arg.source.u.ref')).toBe('arg.source.domid');
    expect(owner('grant_table_op$GNTTABOP_copy', 'arg.dest.u.ref')).toBe('arg.dest.domid');
    expect(owner('grant_table_op$GNTTABOP_transfer', 'arg.ref')).toBe('arg.domid');
    expect(owner('grant_table_op$GNTTABOP_swap_grant_ref', 'arg.ref_a')).toBe('caller');
  });
});
