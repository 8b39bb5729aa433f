/** The family modules of the Xen spec, in document order. */
import type { FamilyModule } from '../../builders.js';
import { core } from './core.js';
import { eventChannel } from './event_channel.js';

export const families: FamilyModule[] = [core, eventChannel];
