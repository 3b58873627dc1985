import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ConflictError, NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import type { CallEvent } from './call.ts';
import type { LiveSimCall, SimulatorRegistry } from './registry.ts';

/**
 * The phone simulator's HTTP side, mounted at /simulator when no Twilio account is configured:
 * the page in ./public and a small JSON API that places simulated calls into the IVR and acts as
 * the caller. Calls go to the IVR webhooks over real HTTP, signed like Twilio's.
 *
 *   POST /simulator/api/calls                     { from? }  place a call  -> 201 view
 *   GET  /simulator/api/calls/:id?after=N         state and the transcript events after N (polling)
 *   GET  /simulator/api/calls/:id/stream          the same events as Server-Sent Events
 *   POST /simulator/api/calls/:id/press           { digits }
 *   POST /simulator/api/calls/:id/say             { speech }
 *   POST /simulator/api/calls/:id/timeout         stay silent until the Gather times out
 *   POST /simulator/api/calls/:id/continue-waiting   the hold audio ended (Twilio re-requests waitUrl)
 *   POST /simulator/api/calls/:id/rep-hangup      the rep on the line hangs up
 *   POST /simulator/api/calls/:id/hangup          the caller hangs up
 *
 * A rep answers a waiting call through the staff API (POST /api/staff/ivr/calls/:callSid/accept);
 * the call's id is its CallSid. Action answers return once the call waits for the caller again.
 */

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

const PlaceCall = z.strictObject({ from: z.string().regex(/^\+[1-9]\d{6,14}$/, 'Use an E.164 number such as +12025550100.').optional() });
const Press = z.strictObject({ digits: z.string().regex(/^[0-9*#]{1,32}$/, 'Keys are 0-9, * and #.') });
const Say = z.strictObject({ speech: z.string().trim().min(1).max(300) });
const After = z.strictObject({ after: z.coerce.number().int().min(0).default(0) });

export interface SimulatorRouterOptions {
  registry: SimulatorRegistry;
  /** How long the simulated hold audio lasts before the wait document is requested again. */
  holdLoopMs?: number;
}

/** Resolves once the call is no longer running a webhook (or after 10 s): what an action's answer shows. */
function settled(live: LiveSimCall): Promise<void> {
  if (live.call.state !== 'running') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      live.events.off('state', onState);
      resolve();
    };
    const onState = (state: string) => {
      if (state !== 'running') done();
    };
    const timer = setTimeout(done, 10_000);
    live.events.on('state', onState);
  });
}

/** A transcript event as JSON: dates as ISO strings. */
function serialize(event: CallEvent): Record<string, unknown> {
  return { ...event, at: event.at.toISOString() };
}

export function callView(live: LiveSimCall, after = 0) {
  const { call } = live;
  const gather = call.pendingGather;
  const events = call.transcript.slice(after).map(serialize);
  return {
    id: live.id,
    callSid: call.callSid,
    from: live.from,
    state: call.state,
    queue: call.queue ?? null,
    endReason: call.endReason ?? null,
    applicationError: call.applicationError ? serialize(call.applicationError) : null,
    gather: gather ? { input: gather.input, numDigits: gather.numDigits ?? null, finishOnKey: gather.finishOnKey, timeout: gather.timeout, language: gather.language } : null,
    repLeg: live.repLeg() ?? null,
    events,
    next: after + events.length,
  };
}

export function createSimulatorRouter(options: SimulatorRouterOptions): Router {
  const { registry } = options;
  const holdLoopMs = options.holdLoopMs ?? 20_000;
  const router = Router();

  const api = Router();
  api.use(express.json({ limit: '8kb' }));
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const live = (req: Request): LiveSimCall => {
    const found = registry.get(String(req.params.id));
    if (!found) throw new NotFoundError('simulated_call', 'simulator.call_not_found', 'No such simulated call.');
    return found;
  };
  /** Runs a caller action; the answer is the call as it stands afterwards (events since `after`). */
  const act = (action: (call: LiveSimCall, req: Request) => Promise<unknown>) => async (req: Request, res: Response) => {
    const call = live(req);
    const { after } = parseOrThrow(After, req.query ?? {});
    await action(call, req);
    res.json(callView(call, after));
  };

  api.post('/calls', async (req, res) => {
    const body = parseOrThrow(PlaceCall, req.body ?? {});
    // The IVR is reached on the socket this request came in on: no proxy, no public DNS needed.
    const local = req.socket.localAddress?.includes(':') ? `[${req.socket.localAddress}]` : req.socket.localAddress;
    const placed = registry.place({ ...(body.from ? { from: body.from } : {}), connectTo: `http://${local}:${req.socket.localPort}`, holdLoopMs });
    await placed.call.start();
    res.status(201).json(callView(placed));
  });

  api.get('/calls/:id', (req, res) => {
    const { after } = parseOrThrow(After, req.query ?? {});
    res.json(callView(live(req), after));
  });

  api.get('/calls/:id/stream', (req, res) => {
    const call = live(req);
    const { after } = parseOrThrow(After, req.query ?? {});
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    let index = after;
    const send = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const event of call.call.transcript.slice(after)) send('call-event', { index: index++, event: serialize(event) });
    send('state', { state: call.call.state, queue: call.call.queue ?? null, repLeg: call.repLeg() ?? null });
    const onEvent = (event: CallEvent) => send('call-event', { index: index++, event: serialize(event) });
    const onState = () => send('state', { state: call.call.state, queue: call.call.queue ?? null, repLeg: call.repLeg() ?? null });
    const onLeg = () => onState();
    call.events.on('event', onEvent);
    call.events.on('state', onState);
    call.events.on('rep-leg', onLeg);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      call.events.off('event', onEvent);
      call.events.off('state', onState);
      call.events.off('rep-leg', onLeg);
    });
  });

  api.post('/calls/:id/press', act((call, req) => call.call.press(parseOrThrow(Press, req.body ?? {}).digits)));
  api.post('/calls/:id/say', act((call, req) => call.call.say(parseOrThrow(Say, req.body ?? {}).speech)));
  api.post('/calls/:id/timeout', act((call) => call.call.timeout()));
  api.post('/calls/:id/continue-waiting', act((call) => call.call.continueWaiting()));
  api.post(
    '/calls/:id/rep-hangup',
    act(async (call) => {
      if (!registry.endRepLeg(call.id)) throw new ConflictError('simulator.no_rep_leg', 'No representative is on this call.');
      await settled(call);
    }),
  );
  api.post('/calls/:id/hangup', act((call) => registry.hangup(call.id)));

  router.use('/api', api);
  router.use(
    express.static(PUBLIC_DIR, {
      index: 'index.html',
      setHeaders: (res) => {
        // The page needs nothing but itself; hold audio may come from Twilio's public playlist.
        res.setHeader('Content-Security-Policy', "default-src 'self'; media-src *; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
