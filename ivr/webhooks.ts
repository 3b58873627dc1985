import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { normaliseError } from '../api/http/errors.ts';
import { refuseUnsafeText } from '../platform/errors.ts';
import type { Services } from '../api/services.ts';
import { describeError, twimlForError } from './errors.ts';
import { createIvrFlow, type FlowStep, type Scope, type TwilioParams } from './flow.ts';
import type { PhoneNetwork } from './phone-network.ts';
import { verifyTwilioRequest } from './signature.ts';
import { createCallStateStore } from './state.ts';

/**
 * The Twilio webhooks, mounted at /ivr. Every request must carry a valid X-Twilio-Signature for
 * the public URL it was sent to (rebuilt from the configured public base, never from the Host
 * header, so it holds behind a proxy); anything else is 403 and logged. Twilio itself never gets
 * an error: every step answers 200 TwiML within the time budget, the apology and a rep when
 * anything failed (ivr/errors.ts).
 */
export function createIvrWebhookRouter(services: Services, phone: Pick<PhoneNetwork, 'authToken' | 'publicBaseUrl'>): Router {
  const { core, ivr } = services;
  const flow = createIvrFlow({
    ivr,
    orders: services.orders,
    catalog: services.catalog,
    states: createCallStateStore({ redis: core.redis, prefix: core.redisPrefix }),
    clock: core.clock,
    logger: core.logger,
    publicBaseUrl: phone.publicBaseUrl,
  });
  const budgetMs = core.config.ivr.requestBudgetMs;

  const router = Router();
  // Twilio posts form fields, each once; `extended: false` keeps every value a string as signed.
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 300 }));
  router.use(requireTwilioSignature(phone.authToken, phone.publicBaseUrl));
  for (const [path, step] of Object.entries(flow)) router.post(path, webhook(step, budgetMs, services, phone.publicBaseUrl));
  router.use(unreadableBody(flow, services, phone.publicBaseUrl));
  return router;
}

/**
 * A body the parser cannot read (labelled gzip but not compressed, too large, a bad charset) has no
 * signature that can be checked, and Twilio never sends one. If someone dialled anyway, they hear
 * the apology and the way to a rep rather than Twilio's "application error" (it plays that on any 4xx).
 */
function unreadableBody(flow: Record<string, FlowStep>, services: Services, publicBaseUrl: string): ErrorRequestHandler {
  return (error, req, res, next) => {
    const appError = normaliseError(error);
    if (appError.kind !== 'validation' || res.headersSent) return next(error);
    req.log.warn({ path: req.path, code: appError.code }, 'IVR webhook body unreadable; answered with the apology');
    const context = Object.hasOwn(flow, req.path) ? flow[req.path]!.context : 'flow';
    res.status(200).type('text/xml').send(twimlForError({ context, lang: null, config: services.ivr.lastKnownConfig(), publicBaseUrl }));
  };
}

function requireTwilioSignature(authToken: string, publicBaseUrl: string): RequestHandler {
  return (req, res, next) => {
    const signature = req.headers['x-twilio-signature'];
    const ok = verifyTwilioRequest({
      authToken,
      publicBaseUrl,
      originalUrl: req.originalUrl,
      params: req.method === 'POST' ? ((req.body ?? {}) as Record<string, unknown>) : {},
      signature,
    });
    if (ok) return next();
    // Twilio always signs; an unsigned or mis-signed request is someone else (or a misconfigured base URL).
    req.log.warn({ path: req.path, ip: req.ip, signature: signature === undefined ? 'missing' : 'invalid' }, 'IVR webhook refused: bad Twilio signature');
    res.status(403).type('text/plain').send('Invalid Twilio signature.');
  };
}

function paramsOf(req: Request): TwilioParams {
  const params: Record<string, string> = {};
  // Our own query parameters (e.g. the whisper's call id) are signed as part of the URL.
  for (const [key, value] of Object.entries(req.query ?? {})) if (typeof value === 'string') params[key] = value;
  for (const [key, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) if (typeof value === 'string') params[key] = value;
  return params;
}

function webhook(step: FlowStep, budgetMs: number, services: Services, publicBaseUrl: string): RequestHandler {
  return async (req, res) => {
    const scope: Scope = { lang: null, config: undefined, callSid: undefined };
    const reply = (xml: string) => {
      if (res.headersSent) return;
      res.status(200).type('text/xml').send(xml);
    };
    const fallback = (why: 'error' | 'budget', error?: unknown) => {
      if (res.headersSent) return;
      const details = { path: req.path, callSid: scope.callSid, ...(error ? describeError(error) : {}) };
      if (why === 'budget') req.log.error({ ...details, budgetMs }, 'IVR webhook ran over its time budget; caller offered a rep');
      else req.log.error(details, 'IVR webhook failed; caller offered a rep');
      reply(twimlForError({ context: step.context, lang: scope.lang, config: scope.config ?? services.ivr.lastKnownConfig(), publicBaseUrl }));
    };
    const timer = setTimeout(() => fallback('budget'), budgetMs);
    try {
      // A NUL or an unpaired surrogate in a signed parameter: refused like anywhere else, apologised for.
      const params = paramsOf(req);
      refuseUnsafeText(params);
      reply(await step.handle(params, scope));
    } catch (error) {
      fallback('error', error);
    } finally {
      clearTimeout(timer);
    }
  };
}
