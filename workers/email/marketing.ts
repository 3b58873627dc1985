import { NewsletterTopicSchema } from '../../api/email/schema.ts';
import type { Services } from '../../api/services.ts';
import { isAppError } from '../../platform/errors.ts';
import type { EmailBrand } from '../../api/email/render.ts';
import type { Composed, EmailJob } from './sender.ts';
import { renderEmail } from '../../api/email/templates.ts';

/**
 * One newsletter email of a campaign. Consent is checked here, when the email is about to be sent,
 * not only when the campaign was queued: a customer who unsubscribed in between gets nothing
 * (the log records `skipped: no_consent`). Each email carries its own signed one-click link and the
 * RFC 8058 headers, so mailbox providers can offer "Unsubscribe" next to the sender.
 */
export async function marketingEmail({ job, services, brand }: { job: EmailJob; services: Pick<Services, 'email' | 'customers'>; brand: EmailBrand }): Promise<Composed | { skip: string } | { invalid: string; message: string }> {
  const campaignId = typeof job.data.campaignId === 'string' ? job.data.campaignId : undefined;
  if (!campaignId || !job.customerId) return { invalid: 'invalid_campaign_job', message: 'a newsletter job needs data.campaignId and customerId' };
  const campaign = await services.email.campaign(campaignId);
  if (!campaign) return { invalid: 'campaign_not_found', message: `campaign ${campaignId} not found` };
  const topic = NewsletterTopicSchema.parse(campaign.topic);

  if (!(await services.customers.mayEmailNewsletter(job.customerId, topic))) return { skip: 'no_consent' };
  let profile;
  try {
    profile = await services.customers.getProfile(job.customerId);
  } catch (error) {
    if (isAppError(error) && error.kind === 'not_found') return { skip: 'customer_inactive' };
    throw error;
  }
  if (!profile.email) return { skip: 'no_email_address' };

  const unsubscribe = services.email.unsubscribeFor(job.customerId, topic);
  const rendered = renderEmail(
    'marketing_newsletter',
    { firstName: profile.firstName, topic, subject: campaign.subject, html: campaign.html, text: campaign.text, unsubscribeUrl: unsubscribe.url },
    brand,
  );
  return { to: profile.email, rendered, headers: { ...unsubscribe.headers, Precedence: 'bulk' } };
}
