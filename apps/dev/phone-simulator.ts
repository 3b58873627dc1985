import type { Router } from 'express';
import { DEFAULT_STORE_NUMBER, publicBaseUrlOf, type PhoneNetwork } from '../../ivr/phone-network.ts';
import { createSimulatedPhoneNetwork } from '../../ivr/simulator/network.ts';
import type { SimulatorRegistry } from '../../ivr/simulator/registry.ts';
import { createSimulatorRouter } from '../../ivr/simulator/server.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';

/**
 * Development wiring of the phone simulator: the only production module that may import
 * ivr/simulator/ (the dependency check in .dependency-cruiser.cjs enforces it). apps/runtime.ts
 * uses it when no Twilio account is configured, as the simulated gateway stands in for a payment
 * processor; apps/api/app.ts mounts its router at /simulator outside production.
 */
export interface PhoneSimulator {
  /** The live simulated calls (tests play the rep's phone through it). */
  registry: SimulatorRegistry;
  /** The /simulator page and its JSON API. */
  router: Router;
}

export function createPhoneSimulator({ config, appSecret, logger }: { config: Pick<Config, 'http' | 'twilio'>; appSecret: string; logger: Logger }): { network: PhoneNetwork; simulator: PhoneSimulator } {
  const network = createSimulatedPhoneNetwork({
    publicBaseUrl: publicBaseUrlOf(config),
    storeNumber: config.twilio.phoneNumber ?? DEFAULT_STORE_NUMBER,
    appSecret,
    logger,
  });
  return { network, simulator: { registry: network.simulator, router: createSimulatorRouter({ registry: network.simulator }) } };
}
