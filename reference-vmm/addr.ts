/**
 * Frame numbers and addresses as distinct types, never bare numbers mixed up: a guest
 * frame (gfn, the domain's pseudo-physical page), a machine frame (mfn, a host page) and a
 * guest address (a byte address the guest passes in a register or a struct).
 */

/** Bytes per page on every ABI the reference VMM runs (Xen's PAGE_SIZE). */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;

declare const gfnBrand: unique symbol;
declare const mfnBrand: unique symbol;
declare const gaddrBrand: unique symbol;

/** A guest frame number. */
export type Gfn = number & { readonly [gfnBrand]: true };
/** A machine frame number. */
export type Mfn = number & { readonly [mfnBrand]: true };
/** A guest byte address (below 2^53 in this model). */
export type GuestAddress = number & { readonly [gaddrBrand]: true };

/** Brands a number as a guest frame number. */
export const gfn = (n: number): Gfn => n as Gfn;
/** Brands a number as a machine frame number. */
export const mfn = (n: number): Mfn => n as Mfn;
/** Brands a number as a guest address. */
export const gaddr = (n: number): GuestAddress => n as GuestAddress;

/** The guest frame an address lies in. */
export const frameOf = (a: GuestAddress): Gfn => gfn(Math.floor(a / PAGE_SIZE));
/** The offset of an address within its page. */
export const offsetOf = (a: GuestAddress): number => a % PAGE_SIZE;
/** The first address of a guest frame. */
export const addressOf = (f: Gfn): GuestAddress => gaddr(f * PAGE_SIZE);
