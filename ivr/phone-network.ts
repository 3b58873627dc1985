import { createHmac } from 'node:crypto';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { QueueConnector } from '../api/ivr/service.ts';
import { createSimulatorRegistry, type SimulatorRegistry } from './simulator/registry.ts';

/**
 * The phone network mintdesk talks to: Twilio when an account is configured, otherwise the
 * embedded simulator. Both sign webhooks with an auth token the IVR verifies, and both can take a
 * waiting caller out of the queue into a TwiML URL (how a rep's accept connects the call).
 */
export interface PhoneNetwork extends QueueConnector {
  /** The token webhooks are signed with: Twilio's auth token, or the simulator's development secret. */
  readonly authToken: string;
  /** The app's public root as Twilio reaches it; signatures are checked against it. */
  readonly publicBaseUrl: string;
  /** The store's number. */
  readonly storeNumber: string;
  /** The simulated network, in simulator mode only. */
  readonly simulator: SimulatorRegistry | undefined;
  close(): Promise<void>;
}

/** Where Twilio reaches the app: PUBLIC_BASE_URL, else http://localhost:PORT (development). */
export function publicBaseUrlOf(config: Pick<Config, 'http'>): string {
  return (config.http.publicBaseUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
}

/**
 * The simulator's webhook signing key. There is no Twilio account to take it from, so it is derived
 * from the app secret (stable across restarts of a development platform, different per deployment);
 * a signature made with it proves the request came from this process's simulator.
 */
export function simulatorAuthToken(appSecret: string): string {
  return createHmac('sha256', appSecret).update('mintdesk:phone-simulator:twilio-auth-token').digest('hex');
}

/**
 * Points the official client at another API origin (TWILIO_API_BASE_URL, a local stand-in in tests)
 * while keeping its paths, auth and form encoding exactly as they are against api.twilio.com.
 */
class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(base: URL) {
    super({ timeout: 10_000 });
    this.base = base;
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    uri.protocol = this.base.protocol;
    uri.host = this.base.host;
    return super.request<TData>({ ...opts, uri: uri.href });
  }
}

export interface PhoneNetworkOptions {
  config: Readonly<Config>;
  appSecret: string;
  logger: Logger;
}

type RequestOptions<T> = RequestClient.RequestOptions<T>;

const DEFAULT_STORE_NUMBER = '+12025550199';

export function createPhoneNetwork({ config, appSecret, logger }: PhoneNetworkOptions): PhoneNetwork {
  const publicBaseUrl = publicBaseUrlOf(config);
  const storeNumber = config.twilio.phoneNumber ?? DEFAULT_STORE_NUMBER;
  const { accountSid, authToken, apiBaseUrl } = config.twilio;

  if (accountSid && authToken) {
    const client = twilio(accountSid, authToken, apiBaseUrl ? { httpClient: new RebasedRequestClient(new URL(apiBaseUrl)) } : {});
    return {
      mode: 'twilio',
      authToken,
      publicBaseUrl,
      storeNumber,
      simulator: undefined,
      async dequeueToUrl({ callSid, queueSid, url }) {
        // Dequeuing through the queue's member resource is Twilio's documented way to take one
        // particular caller out; before the first wait request names the queue, a call redirect does the same.
        if (queueSid) await client.queues(queueSid).members(callSid).update({ url, method: 'POST' });
        else await client.calls(callSid).update({ url, method: 'POST' });
      },
      async close() {},
    };
  }

  const token = simulatorAuthToken(appSecret);
  const simulator = createSimulatorRegistry({ publicBaseUrl, authToken: token, storeNumber, logger });
  return {
    mode: 'simulator',
    authToken: token,
    publicBaseUrl,
    storeNumber,
    simulator,
    async dequeueToUrl({ callSid, url }) {
      await simulator.redirect(callSid, url);
    },
    close: () => simulator.close(),
  };
}
