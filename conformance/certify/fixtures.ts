/**
 * Test fixtures of the certification tests: a small suite whose scenarios pass, fail (a
 * deliberately wrong expectation), break (an unknown constant), are skipped (a limit for the
 * target) or are listed as expected failures; and the expected-failures file for it.
 */
import { parseScenarios, type Scenario } from '../scenario.js';

const head = (id: string, family: string, extra = '') =>
  `id: ${id}\ndoc: certification fixture ${id}\nref: xen/common/kernel.c:do_xen_version\nkind: semantic\nfamily: ${family}\n${extra}machine: { domains: [ { id: 0, abi: x86_64-pv, privileged: true } ] }\n`;

const version = (expect: string) => `steps:\n  - call: xen_version$XENVER_version\n    expect: ${expect}\n`;

/** The name the fixture's reference target runs under (its limits apply to it). */
export const FIXTURE_TARGET = 'ref-fixture';

export function fixtureSuite(): Scenario[] {
  const texts = [
    head('xen_version$XENVER_version/cert-ok', 'version') + version('0x40011'),
    // Deliberately wrong: Xen 4.17 is 0x40011.
    head('xen_version$XENVER_version/cert-wrong', 'version') + version('0x40010'),
    head('event_channel_op$EVTCHNOP_send/cert-broken', 'event_channel') + `steps:\n  - call: event_channel_op$EVTCHNOP_send\n    arg: { port: NO_SUCH_CONSTANT }\n`,
    head('xen_version$XENVER_version/cert-rec-wrong', 'version', 'level: recommended\n') + version('0x30000'),
    head('xen_version$XENVER_version/cert-limited', 'version', `limits: { ${FIXTURE_TARGET}: "the fixture target cannot run this one" }\n`) + version('0x40011'),
    head('xen_version$XENVER_version/cert-listed-pass', 'version') + version('0x40011'),
    head('event_channel_op$EVTCHNOP_send/cert-einval', 'event_channel') +
      `steps:\n  - call: event_channel_op$EVTCHNOP_bind_ipi\n    arg: { vcpu: 0 }\n    expect: { result: 0, arg: { port: 1 } }\n  - call: event_channel_op$EVTCHNOP_send\n    arg: { port: 5 }\n    expect: -EINVAL\n`,
  ];
  return texts.flatMap((t, i) => parseScenarios(t, `fixture-${i}.yaml`));
}

/** Lists the wrong, broken, limited and one passing scenario as expected failures. */
export const FIXTURE_EXPECTATIONS = `# certification fixture: known differences
xen_version$XENVER_version/cert-wrong      the fixture target reports another version
event_channel_op$EVTCHNOP_send/cert-broken # a broken scenario
xen_version$XENVER_version/cert-l*         limited, and one that passes anyway
`;
