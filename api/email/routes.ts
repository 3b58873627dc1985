import express, { Router, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isAppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { escapeHtml } from '../../platform/html.ts';
import { clientIp, rateLimit } from '../http/rate-limit.ts';
import { parseParams } from '../http/validate.ts';
import type { EmailService } from './service.ts';

export const EMAIL_PUBLIC_MOUNT = '/api/email';

const TokenParam = z.strictObject({ token: z.string().min(1).max(300) });

/**
 * The unsubscribe link of every newsletter (RFC 8058). POST unsubscribes at once: that is what a
 * mailbox provider's "Unsubscribe" button sends (`List-Unsubscribe=One-Click`, form-encoded) and
 * what the confirmation page's button sends. GET only shows that page and changes nothing, because
 * mail security scanners fetch every link in a message before the person reads it.
 */
export function createEmailRouter({ email, redis, redisPrefix, logger, storeName }: { email: EmailService; redis: Redis; redisPrefix: string; logger: Logger; storeName: string }) {
  const router = Router();
  const limiter = rateLimit({ redis, prefix: redisPrefix, name: 'email-unsubscribe', limit: 60, windowSeconds: 60, key: clientIp, logger });
  // The /api JSON parser ignores form bodies; one-click POSTs are application/x-www-form-urlencoded.
  const formBody = express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 10 });

  router.get('/unsubscribe/:token', limiter, (req, res) => {
    const { token } = parseParams(TokenParam, req);
    const target = email.describeUnsubscribe(token);
    if (!target) return sendPage(res, 400, storeName, 'This link is not valid', '<p style="margin:0 0 14px 0;">We could not read this unsubscribe link. Use the link in the newsletter itself, or change your subscriptions in your account settings.</p>');
    sendPage(
      res,
      200,
      storeName,
      `Unsubscribe from ${target.title}?`,
      `<p style="margin:0 0 14px 0;">You will no longer receive ${escapeHtml(target.title)} emails. Emails about your orders are not affected.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="padding:10px 18px;background-color:#14284b;color:#ffffff;border:0;border-radius:3px;font-size:15px;cursor:pointer;">Unsubscribe</button></form>`,
    );
  });

  router.post('/unsubscribe/:token', limiter, formBody, async (req: Request, res: Response) => {
    const { token } = parseParams(TokenParam, req);
    try {
      const done = await email.unsubscribe(token, { ip: clientIp(req) });
      res.format({
        html: () => sendPage(res, 200, storeName, 'You are unsubscribed', `<p style="margin:0 0 14px 0;">You will no longer receive ${escapeHtml(done.title)} emails. Emails about your orders are not affected.</p>`),
        default: () => void res.status(200).json({ unsubscribed: true, topic: done.topic }),
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'email.unsubscribe_invalid' && req.accepts(['json', 'html']) === 'html') {
        return sendPage(res, 400, storeName, 'This link is not valid', `<p style="margin:0 0 14px 0;">${escapeHtml(error.message)}</p>`);
      }
      throw error;
    }
  });

  return router;
}

/** A small self-contained page: inline styles only, nothing loaded, never cached or indexed. */
function sendPage(res: Response, status: number, storeName: string, title: string, bodyHtml: string): void {
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Robots-Tag', 'noindex');
  res
    .status(status)
    .type('html')
    .send(
      `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} | ${escapeHtml(storeName)}</title></head>
<body style="margin:0;padding:0;background-color:#f2f5f4;font-family:Arial,Helvetica,sans-serif;color:#1f2a37;">
<div style="max-width:560px;margin:40px auto;background-color:#ffffff;border:1px solid #d8e2dd;">
<div style="background-color:#14284b;padding:18px 24px;border-bottom:4px solid #8fd3bd;font-family:Georgia,serif;font-size:20px;color:#ffffff;">${escapeHtml(storeName)}</div>
<div style="padding:24px;font-size:15px;line-height:1.55;"><h1 style="margin:0 0 16px 0;font-family:Georgia,serif;font-size:21px;font-weight:normal;color:#14284b;">${escapeHtml(title)}</h1>
${bodyHtml}</div></div></body></html>`,
    );
}
