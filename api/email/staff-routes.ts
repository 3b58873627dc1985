import { staffPrincipal, type StaffGuard } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import type { EmailService } from './service.ts';

export const EMAIL_STAFF_MOUNT = '/api/staff';

/**
 * Email administration: template previews with sample data, the email log (failures and why),
 * newsletter campaigns, and the embedded SMTP server's mailbox. Reads that show a recipient are
 * audited by the service. Push `routes` into app.locals.staffRoutes for the permission matrix.
 */
export function createEmailStaffRouter(email: EmailService, guard: StaffGuard): StaffRouter {
  const staff = new StaffRouter(guard, EMAIL_STAFF_MOUNT);

  staff.get('/email/templates', 'mail:read', (_req, res) => {
    res.json({ items: email.templates() });
  });

  staff.get('/email/templates/:template/preview', 'mail:read', (req, res) => {
    const { format, rendered } = email.preview(String(req.params.template), req.query ?? {});
    res.setHeader('X-Email-Subject', encodeURIComponent(rendered.subject));
    if (format === 'text') return void res.type('text/plain; charset=utf-8').send(rendered.text);
    // Shown in the console inside a frame: the sandbox keeps the message inert.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox");
    res.type('html').send(rendered.html);
  });

  staff.get('/email/log', 'mail:read', async (req, res) => {
    res.json(await email.listLog(staffPrincipal(req), req.query ?? {}));
  });

  staff.get('/email/log/:eventId', 'mail:read', async (req, res) => {
    res.json(await email.getLogEntry(staffPrincipal(req), String(req.params.eventId)));
  });

  staff.post('/email/campaigns', 'marketing:send', async (req, res) => {
    const campaign = await email.createCampaign(staffPrincipal(req), req.body ?? {});
    res.status(202).location(`${EMAIL_STAFF_MOUNT}/email/campaigns/${campaign.campaignId}`).json(campaign);
  });

  staff.get('/email/campaigns/:campaignId', 'marketing:send', async (req, res) => {
    res.json(await email.getCampaign(String(req.params.campaignId)));
  });

  staff.get('/mail', 'mail:read', async (req, res) => {
    res.json(await email.listMail(staffPrincipal(req)));
  });

  staff.get('/mail/:id', 'mail:read', async (req, res) => {
    res.json(await email.getMail(staffPrincipal(req), String(req.params.id)));
  });

  return staff;
}
