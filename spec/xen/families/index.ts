/** The family modules of the Xen spec, in document order. */
import type { FamilyModule } from '../../builders.js';
import { core } from './core.js';
import { errno } from './errno.js';
import { features } from './features.js';
import { arch } from './arch.js';
import { x86Pv } from './x86_pv.js';
import { eventChannel } from './event_channel.js';
import { grantTable } from './grant_table.js';
import { memory } from './memory.js';
import { sched } from './sched.js';
import { vcpu } from './vcpu.js';
import { version } from './version.js';
import { console as consoleFamily } from './console.js';
import { physdev } from './physdev.js';
import { hvm } from './hvm.js';
import { callback } from './callback.js';
import { toolstack } from './toolstack.js';

export const families: FamilyModule[] = [
  core,
  errno,
  features,
  arch,
  x86Pv,
  eventChannel,
  grantTable,
  memory,
  sched,
  vcpu,
  version,
  consoleFamily,
  physdev,
  hvm,
  callback,
  toolstack,
];
