/**
 * console_io handlers (xen/drivers/char/console.c:do_console_io at RELEASE-4.17.7): the
 * control domain writes to its console buffer; reading returns the bytes of Xen's input
 * ring, which the reference VMM keeps empty.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import type { GuestArrayRef } from '../../generated/xen/runtime.js';
import type { CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';

export function consoleHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const E = vmm.machine.errno;
  return {
    console_io$CONSOLEIO_write: (c, count, buffer: GuestArrayRef<number>) => {
      if (!c.domain.privileged) return E['EPERM'] as number;
      for (let i = 0; i < count; i++) c.domain.console.push(buffer.read(i) & 0xff);
      return 0;
    },
    console_io$CONSOLEIO_read: (c, count) => {
      if (!c.domain.privileged) return E['EPERM'] as number;
      if (count > 0x7fffffff) return E['E2BIG'] as number;
      return 0;
    },
  };
}
