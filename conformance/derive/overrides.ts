/**
 * Operation-specific cases: where the generic recipe of a trigger would be caught by another
 * check first, or where the trigger needs the operation's own shape. Keyed
 * `<operation id or hypercall>|<code>|<trigger key>`; a string says why there is no scenario.
 */
import { NoRecipe } from './context.js';
import { ensureDomain, takePage } from './plan.js';
import { mapKind } from './normal.js';
import type { Recipe, RecipeArgs } from './recipe.js';

/** A domain id no domain of the machine has: DOMID_FIRST_RESERVED - 1, the highest valid id. */
export const NO_DOMAIN = 0x7fef;
/** A guest frame number beyond any domain's memory in the scenarios. */
export const NO_GFN = '0xfffff';
/** A linear address that is not canonical on x86_64 (bit 47 set, bits 63:48 clear): outside every guest range. */
export const NON_CANONICAL = '0x800000000000';
/** A guest address far beyond the data area (1 GiB in), where the scenarios map nothing. */
export const BEYOND_DATA = '@0x40000000';

const x86Only = (what: string) => (x: RecipeArgs) => {
  if (!x.ctx.is('x86')) throw new NoRecipe(what);
};
const notOn = (family: string, what: string) => (x: RecipeArgs) => {
  if (x.ctx.is(family)) throw new NoRecipe(what);
};

/** An HVM domain whose pages a privileged PV caller maps as data-page owner (a device model's view). */
const hvmOwner = (x: RecipeArgs): number => {
  if (!x.ctx.is('x86')) throw new NoRecipe('a translated foreign data-page owner is an x86 PV device model’s case');
  if (x.p.caller !== 0) throw new NoRecipe('the caller must be privileged over the owner');
  ensureDomain(x.p, { id: 1, abi: x.ctx.abi.startsWith('x86_32') ? 'x86_32-hvm' : 'x86_64-hvm' });
  return 1;
};

const both = (path: 'domid', v: string | number) => (x: RecipeArgs) => {
  x.set(`arg.in.${path}`, v);
  x.set(`arg.out.${path}`, v);
};

/** One extent in and one out (order 0): the two sides cover the same pages. */
const oneExtent = (x: RecipeArgs) => {
  x.set('arg.in.nr_extents', 1);
  x.set('arg.out.nr_extents', 1);
};

/** A domain the unprivileged caller does not control: on x86 the translated domain the normal path edits (a PV one gets EACCES first). */
const uncontrolledTranslated: Recipe = {
  privileged: false,
  how: 'an unprivileged domain names a translated domain it does not control',
  apply: (x) => {
    if (!x.ctx.is('x86')) x.set('arg.domid', x.ctx.other(x.p));
  },
};

export const OVERRIDES: Record<string, Recipe | string> = {
  'memory_op$XENMEM_add_to_physmap|EPERM|resource:arg.domid:domid:foreign': uncontrolledTranslated,
  'memory_op$XENMEM_remove_from_physmap|EPERM|resource:arg.domid:domid:foreign': uncontrolledTranslated,
  'memory_op$XENMEM_add_to_physmap_batch|EPERM|resource:arg.domid:domid:foreign': uncontrolledTranslated,
  // DR4-DR7 checks: the value goes to DR7.
  'set_debugreg|EINVAL|value:value:ge:4294967296': { how: 'written to DR7', apply: (x) => (x.set('reg', 7), x.set('value', '0x100000000')) },
  'set_debugreg|EPERM|value:value:mask:8192': { how: 'written to DR7', apply: (x) => (x.set('reg', 7), x.set('value', 0x2000)) },

  // XENMEM_exchange checks that both sides name the same domain and pages before anything else.
  'memory_op$XENMEM_exchange|ESRCH|resource:arg.in.domid:domid:nonexistent': {
    how: 'one extent each way; in.domid and out.domid both name no domain',
    apply: (x) => (oneExtent(x), both('domid', NO_DOMAIN)(x)),
  },
  'memory_op$XENMEM_exchange|EPERM|resource:arg.in.domid:domid:foreign': {
    privileged: false,
    how: 'one extent each way; an unprivileged caller names another domain on both sides',
    apply: (x) => (oneExtent(x), both('domid', x.ctx.other(x.p))(x)),
  },
  'memory_op$XENMEM_exchange|EFAULT|fault:arg.in.extent_start': {
    how: 'one extent each way; in.extent_start points at memory the caller cannot access',
    apply: (x) => (oneExtent(x), x.set('arg.in.extent_start', 'unmapped')),
  },
  'memory_op$XENMEM_exchange|EINVAL|resource:arg.in.extent_start:gfn:unmapped': {
    how: 'one extent each way; the input frame is beyond the domain’s memory',
    apply: (x) => (x.set('arg.in.extent_start[]', NO_GFN), oneExtent(x)),
  },

  // The vCPU bitmap is read only for a TLB flush or INVLPG: the flush type goes with the bad address.
  'update_va_mapping|EFAULT|fault:flags': { how: 'UVMF_TLB_FLUSH with a bitmap address the caller cannot access', apply: (x) => x.set('flags', 'unmapped | UVMF_TLB_FLUSH') },
  'update_va_mapping_otherdomain|EFAULT|fault:flags': { how: 'UVMF_TLB_FLUSH with a bitmap address the caller cannot access', apply: (x) => x.set('flags', 'unmapped | UVMF_TLB_FLUSH') },
  // A gfn is looked up only for a translated data-page owner.
  'update_va_mapping|EINVAL|resource:val64:gfn:unmapped': 'the data-page owner of update_va_mapping is the caller, a PV domain: it has no gfns to look up',
  'update_va_mapping_otherdomain|EINVAL|resource:val64:gfn:unmapped': {
    how: 'a privileged PV caller maps a frame of an HVM domain at a gfn beyond its memory',
    apply: (x) => (x.set('domid', hvmOwner(x)), x.set('val64', `${NO_GFN}000 | 0x3`)),
  },
  'mmu_update$MMU_NORMAL_PT_UPDATE|EINVAL|resource:arg.val:gfn:unmapped': {
    how: 'a privileged PV caller maps a frame of an HVM domain at a gfn beyond its memory',
    apply: (x) => (x.set('foreigndom', hvmOwner(x)), x.set('arg.val', `${NO_GFN}000 | 0x3`)),
  },
  'mmu_update$MMU_PT_UPDATE_PRESERVE_AD|EINVAL|resource:arg.val:gfn:unmapped': {
    how: 'a privileged PV caller maps a frame of an HVM domain at a gfn beyond its memory',
    apply: (x) => (x.set('foreigndom', hvmOwner(x)), x.set('arg.val', `${NO_GFN}000 | 0x3`)),
  },

  'console_io$CONSOLEIO_read|EFAULT|fault:buffer': 'the buffer is written only when serial input is pending, which scenarios cannot produce',

  // contains_pte: host_addr is the machine address of an L1 entry, and it must be 8-byte aligned.
  'grant_table_op$GNTTABOP_map_grant_ref|GNTST_general_error|value:arg.host_addr:mask:7': {
    how: 'GNTMAP_contains_pte with a misaligned entry address',
    apply: (x) => (x.set('arg.flags', 'GNTMAP_host_map | GNTMAP_contains_pte'), x.set('arg.host_addr', 1)),
  },
  // Frame lists: EFAULT when the list is not guest memory at all, bad_virt_addr when writing into it fails.
  'grant_table_op$GNTTABOP_setup_table|EFAULT|fault:arg.frame_list': {
    how: 'frame_list is not a guest address (x86 PV checks the range first)',
    apply: (x) => (x86Only('translated callers’ handles are not range-checked')(x), x.set('arg.frame_list', NON_CANONICAL)),
  },
  'grant_table_op$GNTTABOP_get_status_frames|EFAULT|fault:arg.frame_list': {
    how: 'frame_list is not a guest address (x86 PV checks the range first)',
    apply: (x) => (x86Only('translated callers’ handles are not range-checked')(x), x.set('arg.frame_list', NON_CANONICAL), x.set('arg.nr_frames', 1)),
  },
  'grant_table_op$GNTTABOP_setup_table|GNTST_bad_virt_addr|fault:arg.frame_list': {
    how: 'one frame; frame_list is a guest address where nothing is mapped',
    apply: (x) => (x.set('arg.nr_frames', 1), x.set('arg.frame_list', BEYOND_DATA)),
  },
  'grant_table_op$GNTTABOP_get_status_frames|GNTST_bad_virt_addr|fault:arg.frame_list': {
    how: 'a v2 table; frame_list is a guest address where nothing is mapped',
    apply: (x) => {
      notOn('arm', 'Arm tables are v1: they have no status frames to write')(x);
      x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_set_version', x.p.caller, { version: 2 }));
      x.set('arg.nr_frames', 1);
      x.set('arg.frame_list', BEYOND_DATA);
    },
  },
  'grant_table_op$GNTTABOP_set_version|ENOSYS|value:arg.version:eq:2': {
    how: 'the domain is limited to v1 (every Arm domain is)',
    apply: (x) => (notOn('x86', 'x86 domains get v2 unless the toolstack limits them (max_grant_version), which scenarios cannot configure')(x), x.set('arg.version', 2)),
  },
  'grant_table_op$GNTTABOP_unmap_and_replace|GNTST_general_error|value:arg.new_addr:ne:0': {
    how: 'x86 PV: new_addr is an address no L1 table of the caller covers; Arm: any non-zero new_addr',
    apply: (x) => x.set('arg.new_addr', x.ctx.is('x86') ? '0x40000000' : 0x1000),
  },
  'grant_table_op$GNTTABOP_cache_flush|EINVAL|resource:arg.a.dev_bus_addr:mfn:foreign': {
    how: 'the machine address of another domain’s page, with no mapping of it',
    apply: (x) => {
      notOn('arm', 'an Arm guest does not know the machine addresses of pages')(x);
      const other = x.ctx.other(x.p);
      x.set('arg.a.dev_bus_addr', `pte(${other}:${takePage(x.p, other)}, 0)`);
    },
  },
  // Grant references in a state: each operation's own meaning of the state.
  'grant_table_op$GNTTABOP_map_grant_ref|GNTST_general_error|resource:arg.ref:grant_ref:foreign': {
    how: 'entry 9 grants the frame to the granter itself, not to the caller',
    apply: (x) => {
      const granter = x.get('arg.dom');
      if (typeof granter !== 'number') throw new NoRecipe('no granter in the plan');
      x.ctx.grant(x.p, granter, granter, 9);
      x.set('arg.ref', 9);
    },
  },
  'grant_table_op$GNTTABOP_map_grant_ref|GNTST_general_error|resource:arg.ref:grant_ref:wrong-state':
    'an entry in use by another grantee needs the granter to re-grant an entry while it is mapped, beyond what derived scenarios set up',
  'grant_table_op$GNTTABOP_transfer|GNTST_general_error|resource:arg.ref:grant_ref:wrong-state': {
    how: 'entry 9, which the receiver never wrote (not an accept_transfer grant)',
    apply: (x) => x.set('arg.ref', 9),
  },
  'grant_table_op$GNTTABOP_swap_grant_ref|GNTST_eagain|resource:arg.ref_b:grant_ref:wrong-state': {
    how: 'entry 9 of the caller is mapped by another domain',
    apply: (x) => {
      const grantee = x.ctx.other(x.p);
      x.ctx.grant(x.p, x.p.caller, grantee, 9);
      x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_map_grant_ref', grantee, { ...mapKind(x), ref: 9, dom: x.p.caller }));
      x.set('arg.ref_b', 9);
    },
  },
  'grant_table_op$GNTTABOP_dump_table|EFAULT|fault:uop': 'do_grant_table_op has no case for dump_table: ENOSYS comes before any access',
  // cache_flush takes a resume position in bits 12 and up of cmd: that is its EILSEQ, not the hypercall's EINVAL.
  'grant_table_op$GNTTABOP_cache_flush|EINVAL|value:cmd:mask:4294963200': 'cache_flush is the command allowed to have bits 12-31 of cmd set (its resume position)',
  'grant_table_op$GNTTABOP_cache_flush|EILSEQ|value:cmd:mask:4294963200': {
    how: 'length 0 with a resume position in cmd',
    apply: (x) => (x.set('arg.length', 0), x.set('cmd', '0x1000 | GNTTABOP_cache_flush')),
  },
  // A grant reference side: the domain and reference are looked up only with the gref flag.
  'grant_table_op$GNTTABOP_copy|GNTST_bad_domain|resource:arg.source.domid:domid:nonexistent': {
    how: 'the source is a grant reference of a domain that does not exist',
    apply: (x) => (x.set('arg.flags', 'GNTCOPY_source_gref'), x.set('arg.source.domid', NO_DOMAIN), x.set('arg.source.u.ref', 8)),
  },
  'grant_table_op$GNTTABOP_copy|GNTST_bad_gntref|resource:arg.source.u.ref:grant_ref:out-of-range': {
    how: 'the source is a reference beyond the granter’s table',
    apply: (x) => {
      const granter = x.ctx.other(x.p);
      x.ctx.grant(x.p, granter, x.p.caller, 8);
      x.set('arg.flags', 'GNTCOPY_source_gref');
      x.set('arg.source.domid', granter);
      x.set('arg.source.u.ref', 0xfffffff);
    },
  },
  'grant_table_op$GNTTABOP_copy|GNTST_general_error|resource:arg.dest.u.ref:grant_ref:wrong-state': {
    how: 'the destination is a read-only grant',
    apply: (x) => {
      const granter = x.ctx.other(x.p);
      x.ctx.grant(x.p, granter, x.p.caller, 8, 'GTF_permit_access | GTF_readonly');
      x.set('arg.flags', 'GNTCOPY_dest_gref');
      x.set('arg.dest.domid', granter);
      x.set('arg.dest.u.ref', 8);
    },
  },
  'grant_table_op$GNTTABOP_copy|GNTST_permission_denied|state:frame-side-not-domid-self': {
    how: 'a frame side names the caller by its own id',
    apply: (x) => x.set('arg.source.domid', x.p.caller),
  },
  'grant_table_op$GNTTABOP_copy|GNTST_bad_page|resource:arg.source.u.gmfn:gfn:unmapped': {
    how: 'the source frame is beyond the caller’s memory',
    apply: (x) => x.set('arg.source.u.gmfn', NO_GFN),
  },
  'grant_table_op$GNTTABOP_copy|GNTST_bad_copy_arg|state:copy-beyond-page': {
    how: 'offset + len crosses the end of the page',
    apply: (x) => (x.set('arg.source.offset', 4092), x.set('arg.len', 8)),
  },

  // SET_LDT: the base is checked only when there are entries.
  'mmuext_op$MMUEXT_SET_LDT|EINVAL|value:arg.arg1.linear_addr:mask:4095': { how: 'one entry at a misaligned base', apply: (x) => (x.set('arg.arg2.nr_ents', 1), x.set('arg.arg1.linear_addr', 1)) },
  'mmuext_op$MMUEXT_SET_LDT|EINVAL|resource:arg.arg1.linear_addr:linear_address:out-of-range': {
    how: 'one entry at a base in Xen’s range',
    apply: (x) => (x86Only('the range check is 64-bit x86’s')(x), x.set('arg.arg2.nr_ents', 1), x.set('arg.arg1.linear_addr', '0xffff800000000000')),
  },

  'vcpu_op$VCPUOP_initialise|EEXIST|state:vcpu-initialised': { how: 'vCPU 0, which runs', apply: (x) => x.set('vcpuid', 0) },
};

