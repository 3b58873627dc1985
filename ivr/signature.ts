import { createHash, timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import { AppError } from '../platform/errors.ts';

/**
 * Twilio webhook signatures, both sides: the IVR webhooks verify them (ivr/webhooks.ts), and the
 * development phone simulator (ivr/simulator/) signs its requests with the same functions, so it
 * exercises exactly the check production runs against real Twilio. Both delegate to the `twilio`
 * package so the algorithm (URL + sorted params, HMAC-SHA1, base64) can never drift from Twilio's.
 */

/** Form parameters as Twilio sends them: one string per name (the simulator never repeats a name). */
export type TwilioParams = Readonly<Record<string, string>>;

function requireAuthToken(authToken: string): void {
  // An empty HMAC key is a key anyone can sign with: refuse loudly rather than "verify" forged requests.
  if (typeof authToken !== 'string' || authToken === '') {
    throw new AppError('internal', 'twilio.auth_token_missing', 'The Twilio auth token is not configured.');
  }
}

/**
 * The X-Twilio-Signature value for a form-encoded request to `url` (the exact string requested,
 * query included) with POST `params`. For a GET, pass `{}` and put the params in the URL, as Twilio does.
 */
export function signTwilioRequest(authToken: string, url: string, params: TwilioParams): string {
  requireAuthToken(authToken);
  return twilio.getExpectedTwilioSignature(authToken, url, { ...params });
}

/**
 * Signs a JSON-body webhook the way Twilio does: the body's SHA-256 goes into a `bodySHA256` query
 * parameter, and the signature covers that URL with no params. Returns the URL to request.
 */
export function signTwilioJsonRequest(authToken: string, url: string, body: string): { url: string; signature: string } {
  requireAuthToken(authToken);
  const target = new URL(url);
  target.searchParams.set('bodySHA256', twilio.getExpectedBodyHash(body));
  return { url: target.href, signature: twilio.getExpectedTwilioSignature(authToken, target.href, {}) };
}

export interface VerifyTwilioRequestInput {
  authToken: string;
  /**
   * The externally visible URL of this app's root, as configured in Twilio (e.g.
   * `https://ivr.example.com` or `https://example.com/mintdesk`). The URL Twilio signed is rebuilt
   * from it, never from the Host header, which behind a proxy names the internal host.
   */
  publicBaseUrl: string;
  /** Path and query as the app received them (`req.originalUrl` in express). */
  originalUrl: string;
  /** Parsed form body for POST; `{}`/undefined for GET (Twilio signs GET params as part of the URL). */
  params?: Readonly<Record<string, unknown>> | undefined;
  /** The X-Twilio-Signature header; missing or repeated headers fail verification. */
  signature: string | readonly string[] | undefined;
  /** Raw request body, needed only for the JSON variant (URL carries `bodySHA256`). */
  rawBody?: string | Buffer | undefined;
}

/**
 * True when the request carries a valid Twilio signature for this app. Accepts the exact URL and
 * the URL with/without the default port (Twilio signs whichever form it was configured with),
 * which `twilio.validateRequest` checks for us.
 *
 * @throws AppError `twilio.auth_token_missing` / `twilio.public_base_url_invalid`: configuration
 *   errors, surfaced instead of silently rejecting every call.
 */
export function verifyTwilioRequest(input: VerifyTwilioRequestInput): boolean {
  const { authToken, publicBaseUrl, originalUrl, params, signature, rawBody } = input;
  requireAuthToken(authToken);
  if (typeof signature !== 'string' || signature === '') return false;
  // Only origin-form request targets: anything else would let the request choose the host we sign over.
  if (typeof originalUrl !== 'string' || !originalUrl.startsWith('/')) return false;

  return candidateUrls(publicBaseUrl, originalUrl).some((url) => {
    try {
      const bodyHash = new URL(url).searchParams.get('bodySHA256');
      if (bodyHash !== null) {
        // JSON variant: the signature covers the URL alone; the body is bound by its hash.
        if (rawBody === undefined) return false;
        return twilio.validateRequest(authToken, signature, url, {}) && sameHex(bodyHash, sha256Hex(rawBody));
      }
      return twilio.validateRequest(authToken, signature, url, formParams(params));
    } catch {
      return false; // an unparsable URL cannot be what Twilio signed
    }
  });
}

/**
 * The URL(s) Twilio may have signed. With a path prefix in the public base, a proxy may or may not
 * strip it before forwarding, so both `prefix + originalUrl` and (when it already starts with the
 * prefix) `originalUrl` are tried; each is still bound to the configured origin, so this widens
 * nothing an attacker controls.
 */
function candidateUrls(publicBaseUrl: string, originalUrl: string): string[] {
  let base: URL;
  try {
    base = new URL(publicBaseUrl);
  } catch {
    throw new AppError('internal', 'twilio.public_base_url_invalid', 'The public base URL for Twilio webhooks is not a valid URL.');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new AppError('internal', 'twilio.public_base_url_invalid', 'The public base URL for Twilio webhooks must be http(s).');
  }
  const origin = `${base.protocol}//${base.host}`;
  const prefix = base.pathname.replace(/\/+$/, '');
  const urls = [`${origin}${prefix}${originalUrl}`];
  if (prefix !== '' && (originalUrl === prefix || originalUrl.startsWith(`${prefix}/`) || originalUrl.startsWith(`${prefix}?`))) {
    urls.push(`${origin}${originalUrl}`);
  }
  return urls;
}

/** Passes string and string-array values (what a urlencoded body parser yields) to the validator. */
function formParams(params: Readonly<Record<string, unknown>> | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!params) return out;
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value as string[];
    // Nested objects (qs "extended" parsing) are not what Twilio sent; stringified they cannot match
    // the signature, so such a request fails verification instead of being checked against a guess.
    else out[key] = String(value);
  }
  return out;
}

function sha256Hex(body: string | Buffer): string {
  // Hash the bytes as received; re-encoding a Buffer through a string could alter non-UTF-8 input.
  return createHash('sha256').update(body).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase());
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
