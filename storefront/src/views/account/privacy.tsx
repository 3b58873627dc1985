import { useState } from 'preact/hooks';
import { NEWSLETTER_TOPICS, type CustomerProfile, type NewsletterTopic, type WithdrawableConsent } from '../../../../api/customers/schema.ts';
import { CheckField } from '../../components/fields.tsx';
import { api } from '../../lib/api.ts';
import { formatDate } from '../../lib/format.ts';
import { setCustomer } from '../../lib/store.ts';

const TOPIC_NAMES: Record<NewsletterTopic, string> = {
  product_updates: 'New releases and product updates',
  lessons_that_make_cents: 'Lessons That Make Cents (coin education)',
  news_releases: 'News releases',
  coins_online: 'Coins online',
};

const CONSENTS: { type: WithdrawableConsent; label: string; on: string; off: string }[] = [
  {
    type: 'marketing_email',
    label: 'Email me about new releases and offers',
    on: 'You will receive our marketing email.',
    off: 'You will not receive marketing email. Emails about your orders and account still come.',
  },
  {
    type: 'tracking',
    label: 'Keep my browsing and full IP address with my account to tailor the store',
    on: 'Your browsing is kept with your account.',
    off: 'Your browsing is not kept with your account.',
  },
];

async function reloadProfile(): Promise<void> {
  const result = await api<CustomerProfile>('GET', '/api/customers/me');
  if (result.ok) setCustomer(result.data);
}

/** The two opt-ins a customer may give and withdraw at any time (PIA C.4), and the newsletters. */
export function PrivacySection({ customer }: { customer: CustomerProfile }) {
  const [status, setStatus] = useState('');
  const [problem, setProblem] = useState('');
  const [topics, setTopics] = useState(customer.emailTopics);
  const [busy, setBusy] = useState(false);
  /** The choice just made, shown while it is being saved (the box does not jump back meanwhile). */
  const [saving, setSaving] = useState<Partial<Record<WithdrawableConsent, boolean>>>({});

  async function setConsent(type: WithdrawableConsent, granted: boolean) {
    setProblem('');
    setStatus('');
    setBusy(true);
    setSaving((current) => ({ ...current, [type]: granted }));
    const result = await api('POST', '/api/customers/me/consents', { body: { type, granted } });
    if (result.ok) await reloadProfile();
    setSaving((current) => ({ ...current, [type]: undefined }));
    setBusy(false);
    if (!result.ok) return setProblem(result.error.message);
    const consent = CONSENTS.find((entry) => entry.type === type)!;
    setStatus(`Saved. ${granted ? consent.on : consent.off}`);
    // Withdrawing marketing email unsubscribes from every newsletter.
    if (type === 'marketing_email' && !granted) setTopics(Object.fromEntries(NEWSLETTER_TOPICS.map((topic) => [topic, false])) as typeof topics);
  }

  async function saveTopics(event: Event) {
    event.preventDefault();
    setProblem('');
    setStatus('');
    setBusy(true);
    const result = await api<CustomerProfile>('PUT', '/api/customers/me/preferences', { body: { emailTopics: topics } });
    setBusy(false);
    if (!result.ok) return setProblem(result.error.message);
    setCustomer(result.data);
    setTopics(result.data.emailTopics);
    setStatus('Saved. Your newsletters are updated.');
  }

  const recorded = (type: 'terms' | 'age_attestation') => customer.consents[type];
  return (
    <>
      {problem ? <p class="alert alert--error">{problem}</p> : null}
      <p class="muted" role="status" id="privacy-status">
        {status}
      </p>
      <fieldset class="consents">
        <legend>Your choices</legend>
        {CONSENTS.map((consent) => {
          const state = customer.consents[consent.type];
          return (
            <div key={consent.type} class="consent">
              <CheckField id={`consent-${consent.type}`} label={consent.label} checked={saving[consent.type] ?? state?.granted ?? false} onChecked={(granted) => void setConsent(consent.type, granted)} />
              <p class="hint">{state ? `${state.granted ? 'Given' : 'Withdrawn'} on ${formatDate(state.at)}.` : 'Not given.'}</p>
            </div>
          );
        })}
      </fieldset>
      <form class="account-form" onSubmit={saveTopics} aria-label="Newsletters">
        <fieldset>
          <legend>Newsletters</legend>
          {NEWSLETTER_TOPICS.map((topic) => (
            <CheckField key={topic} id={`topic-${topic}`} label={TOPIC_NAMES[topic]} checked={topics[topic]} onChecked={(on) => setTopics({ ...topics, [topic]: on })} />
          ))}
          <p class="hint">Choosing a newsletter also gives consent to marketing email.</p>
          <button type="submit" class="button button--secondary" disabled={busy}>
            Save newsletters
          </button>
        </fieldset>
      </form>
      <p class="hint">
        {recorded('age_attestation') ? `You confirmed you are 18 or older on ${formatDate(recorded('age_attestation')!.at)}. ` : ''}
        {recorded('terms') ? `You accepted the terms of service on ${formatDate(recorded('terms')!.at)}.` : ''}
      </p>
    </>
  );
}
