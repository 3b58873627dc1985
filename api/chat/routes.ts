import { Router } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../platform/logger.ts';
import { staffPrincipal, type createStaffGuard } from '../http/auth.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseParams, parseQuery } from '../http/validate.ts';
import type { ChatService } from './service.ts';

export const CHAT_PUBLIC_MOUNT = '/api/chat';
export const CHAT_STAFF_MOUNT = '/api/staff/chat';

const IdParam = z.strictObject({ id: z.uuid() });
const AvailabilityQuery = z.strictObject({ language: z.string().regex(/^[a-z]{2}$/).default('en') });

/**
 * The widget's pre-chat form and leave-a-message (public, rate-limited per address), and the
 * admins' canned responses. Everything after the pre-chat form goes over the /chat socket.
 */
export function createChatRoutes(deps: { chat: ChatService; guard: ReturnType<typeof createStaffGuard>; redis: Redis; redisPrefix: string; logger: Logger }) {
  const { chat } = deps;
  const limited = (name: string, limit: number) => rateLimit({ redis: deps.redis, prefix: deps.redisPrefix, name, limit, windowSeconds: 600, key: clientIp, logger: deps.logger });

  const router = Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.get('/availability', async (req, res) => {
    res.json(await chat.availability(parseQuery(AvailabilityQuery, req).language));
  });
  router.post('/sessions', limited('chat-start', 30), async (req, res) => {
    const started = await chat.start(req.body);
    res.status(started.mode === 'chat' ? 201 : 200).json(started);
  });
  router.post('/messages', limited('chat-leave-message', 10), async (req, res) => {
    res.status(201).json(await chat.leaveMessage(req.body));
  });

  const staff = new StaffRouter(deps.guard, CHAT_STAFF_MOUNT);
  staff.get('/canned', 'chat:handle', async (_req, res) => {
    res.json({ items: await chat.listCanned() });
  });
  // Admins manage the responses without chatting themselves (they have no chat:handle).
  staff.get('/canned/manage', 'chat:canned_manage', async (_req, res) => {
    res.json({ items: await chat.listCanned() });
  });
  staff.post('/canned', 'chat:canned_manage', async (req, res) => {
    res.status(201).json(await chat.createCanned(staffPrincipal(req), req.body));
  });
  staff.put('/canned/:id', 'chat:canned_manage', async (req, res) => {
    res.json(await chat.updateCanned(staffPrincipal(req), parseParams(IdParam, req).id, req.body));
  });
  staff.delete('/canned/:id', 'chat:canned_manage', async (req, res) => {
    await chat.deleteCanned(staffPrincipal(req), parseParams(IdParam, req).id);
    res.status(204).end();
  });
  return { router, staff };
}
