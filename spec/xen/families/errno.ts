/**
 * Xen error numbers (XEN_E*) returned negated by hypercalls.
 *
 * The values follow the x86 Linux errno numbering. `EINTR` (4) and `ERESTART` (85) are
 * defined only inside the hypervisor (`__XEN__`) and never reach a guest, so they are not
 * part of the ABI and are left out.
 *
 * @see xen/include/public/errno.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/errno.h';
const b = familyBuilder('errno', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('XEN_E', 'errno', 'Error numbers of enum xen_errno; a failing hypercall returns the negated value.', [
    ['XEN_EPERM', 1, 'The caller lacks the privilege the operation needs.'],
    ['XEN_ENOENT', 2, 'The named object (vCPU, entry, path) does not exist.'],
    ['XEN_ESRCH', 3, 'The named domain (or other target) does not exist.'],
    ['XEN_EIO', 5, 'A hardware or device access failed.'],
    ['XEN_ENXIO', 6, 'The device or address does not exist.'],
    ['XEN_E2BIG', 7, 'A count or size argument is larger than allowed.'],
    ['XEN_ENOEXEC', 8, 'An image has an unusable format.'],
    ['XEN_EBADF', 9, 'A handle or descriptor is not valid.'],
    ['XEN_ECHILD', 10, 'No child object exists to act on.'],
    ['XEN_EAGAIN', 11, 'The operation cannot complete now; retry it later.'],
    ['XEN_EWOULDBLOCK', 11, 'Same value as XEN_EAGAIN: the operation would have to wait.'],
    ['XEN_ENOMEM', 12, 'The hypervisor could not allocate memory.'],
    ['XEN_EACCES', 13, 'Access is denied (also: an interface version does not match).'],
    ['XEN_EFAULT', 14, 'A guest buffer or handle cannot be read or written.'],
    ['XEN_EBUSY', 16, 'The object is in use or the resource is held elsewhere.'],
    ['XEN_EEXIST', 17, 'The object already exists or is already bound.'],
    ['XEN_EXDEV', 18, 'The operation would cross domains or devices where it may not.'],
    ['XEN_ENODEV', 19, 'No such device (or register).'],
    ['XEN_ENOTDIR', 20, 'A path component is not a directory.'],
    ['XEN_EISDIR', 21, 'The path names a directory where a leaf was expected.'],
    ['XEN_EINVAL', 22, 'An argument or field has a value the operation does not accept.'],
    ['XEN_ENFILE', 23, 'A system-wide table is full.'],
    ['XEN_EMFILE', 24, 'A per-domain table is full.'],
    ['XEN_ENOSPC', 28, 'No free slot is left (ports, entries, space).'],
    ['XEN_EROFS', 30, 'The object is read-only.'],
    ['XEN_EMLINK', 31, 'Too many links or references to an object.'],
    ['XEN_EDOM', 33, 'An argument lies outside the domain of the operation.'],
    ['XEN_ERANGE', 34, 'A result or argument is out of the representable range.'],
    ['XEN_EDEADLK', 35, 'Proceeding would deadlock.'],
    ['XEN_EDEADLOCK', 35, 'Same value as XEN_EDEADLK.'],
    ['XEN_ENAMETOOLONG', 36, 'A name or path is too long.'],
    ['XEN_ENOLCK', 37, 'No lock is available.'],
    ['XEN_ENOSYS', 38, 'The hypercall or command is not implemented (or not available to this caller).'],
    ['XEN_ENOTEMPTY', 39, 'The object still has contents.'],
    ['XEN_ENODATA', 61, 'No data is available (for example, an empty buffer list).'],
    ['XEN_ETIME', 62, 'A timer expired.'],
    ['XEN_EBADMSG', 74, 'A message is malformed.'],
    ['XEN_EOVERFLOW', 75, 'A value does not fit in the field that should carry it.'],
    ['XEN_EILSEQ', 84, 'An illegal sequence (also used by Xen for internal “should not happen” paths).'],
    ['XEN_ENOTSOCK', 88, 'The object is not a communication endpoint.'],
    ['XEN_EMSGSIZE', 90, 'A message is too large.'],
    ['XEN_EOPNOTSUPP', 95, 'The operation is not supported in this configuration or state.'],
    ['XEN_EADDRINUSE', 98, 'The address is already in use.'],
    ['XEN_EADDRNOTAVAIL', 99, 'The address cannot be assigned.'],
    ['XEN_ENOBUFS', 105, 'No buffer space is available.'],
    ['XEN_EISCONN', 106, 'The endpoint is already connected.'],
    ['XEN_ENOTCONN', 107, 'The endpoint is not connected.'],
    ['XEN_ETIMEDOUT', 110, 'The operation timed out.'],
    ['XEN_ECONNREFUSED', 111, 'The peer refused the connection.'],
  ], { type: 'int' }),
];

export const errno: FamilyModule = {
  family: b.family('Xen error numbers (XEN_E*) returned negated by hypercalls.'),
  types: [],
  constants,
  hypercalls: [],
  resources: [],
};
