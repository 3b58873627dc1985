import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { Config } from '../platform/config.ts';
import type { QueueConnector } from '../api/ivr/service.ts';

/**
 * The phone network mintdesk talks to: Twilio when an account is configured (below), otherwise the
 * development simulator (ivr/simulator/network.ts, wired by apps/dev/phone-simulator.ts). Both sign
 * webhooks with an auth token the IVR verifies, and both can take a waiting caller out of the queue
 * into a TwiML URL (how a rep's accept connects the call).
 */
export interface PhoneNetwork extends QueueConnector {
  /** The token webhooks are signed with: Twilio's auth token, or the simulator's development secret. */
  readonly authToken: string;
  /** The app's public root as Twilio reaches it; signatures are checked against it. */
  readonly publicBaseUrl: string;
  /** The store's number. */
  readonly storeNumber: string;
  close(): Promise<void>;
}

/** Where Twilio reaches the app: PUBLIC_BASE_URL, else http://localhost:PORT (development). */
export function publicBaseUrlOf(config: Pick<Config, 'http'>): string {
  return (config.http.publicBaseUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
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

type RequestOptions<T> = RequestClient.RequestOptions<T>;

/** The store's number when TWILIO_PHONE_NUMBER is not set (a 555 number: never a real line). */
export const DEFAULT_STORE_NUMBER = '+12025550199';

/** Twilio's side of the phone network: the account in TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN. */
export function createTwilioPhoneNetwork(config: Pick<Config, 'http' | 'twilio'>): PhoneNetwork {
  const { accountSid, authToken, apiBaseUrl } = config.twilio;
  if (!accountSid || !authToken) throw new TypeError('createTwilioPhoneNetwork needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  const client = twilio(accountSid, authToken, apiBaseUrl ? { httpClient: new RebasedRequestClient(new URL(apiBaseUrl)) } : {});
  return {
    mode: 'twilio',
    authToken,
    publicBaseUrl: publicBaseUrlOf(config),
    storeNumber: config.twilio.phoneNumber ?? DEFAULT_STORE_NUMBER,
    async dequeueToUrl({ callSid, queueSid, url }) {
      // Dequeuing through the queue's member resource is Twilio's documented way to take one
      // particular caller out; before the first wait request names the queue, a call redirect does the same.
      if (queueSid) await client.queues(queueSid).members(callSid).update({ url, method: 'POST' });
      else await client.calls(callSid).update({ url, method: 'POST' });
    },
    async close() {},
  };
}
