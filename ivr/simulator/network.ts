import { createHmac } from 'node:crypto';
import type { Logger } from '../../platform/logger.ts';
import type { PhoneNetwork } from '../phone-network.ts';
import { createSimulatorRegistry, type SimulatorRegistry } from './registry.ts';

/**
 * The simulator's webhook signing key. There is no Twilio account to take it from, so it is derived
 * from the app secret (stable across restarts of a development platform, different per deployment);
 * a signature made with it proves the request came from this process's simulator.
 */
export function simulatorAuthToken(appSecret: string): string {
  return createHmac('sha256', appSecret).update('mintdesk:phone-simulator:twilio-auth-token').digest('hex');
}

export interface SimulatedPhoneNetworkOptions {
  publicBaseUrl: string;
  storeNumber: string;
  appSecret: string;
  logger: Logger;
}

/**
 * The phone network without a Twilio account: the IVR talks to it exactly as to Twilio (signed
 * webhooks, dequeue by redirect), and `simulator` is the live calls the /simulator page drives.
 */
export function createSimulatedPhoneNetwork(options: SimulatedPhoneNetworkOptions): PhoneNetwork & { readonly simulator: SimulatorRegistry } {
  const { publicBaseUrl, storeNumber, logger } = options;
  const authToken = simulatorAuthToken(options.appSecret);
  const simulator = createSimulatorRegistry({ publicBaseUrl, authToken, storeNumber, logger });
  return {
    mode: 'simulator',
    authToken,
    publicBaseUrl,
    storeNumber,
    simulator,
    async dequeueToUrl({ callSid, url }) {
      await simulator.redirect(callSid, url);
    },
    close: () => simulator.close(),
  };
}
