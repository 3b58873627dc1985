import { render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChatAvailability, LeaveMessageRequest, looksLikeCardNumber, PreChatForm, type ChatMessage } from '../../../api/console-contract/chat.ts';
import type { z } from 'zod';
import { CHAT_TOPICS, type ChatTopic } from '../../../api/console-contract/tasks.ts';
import { timeOfDay, waitInWords } from '../../app/lib/format.ts';
import { HttpError, requestJson } from '../../app/lib/http.ts';
import { agentTyping, answerSurvey, connection, emailTranscript, endChat, markSeen, messages, pending, queue, reset, resumeSaved, send, startChat, typing, visitorSession } from './chat-session.ts';

const TOPIC_LABELS: Record<ChatTopic, string> = { order: 'An order', product: 'A product', subscription: 'A subscription', account: 'My account', other: 'Something else' };
const CARD_WARNING = 'Never share card numbers in chat. We will never ask for them here; pay only in the secure checkout.';
const CARD_HIDDEN = 'We hid what looked like a card number in your message. Please never share card details in chat.';

type Availability = z.infer<typeof ChatAvailability>;
type View = { kind: 'form' } | { kind: 'leave'; reason: 'closed' | 'nobody_available'; nextOpening: Availability['nextOpening'] } | { kind: 'left' } | { kind: 'chat' };

function fieldErrors(error: unknown): Record<string, string> {
  if (error instanceof HttpError) return Object.fromEntries(error.fields.map((f) => [f.path.split('.').pop() ?? f.path, f.message]));
  return {};
}

function Field(props: { id: string; label: string; error?: string | undefined; children: ComponentChildren }) {
  return (
    <div class="mdw-field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error ? (
        <p id={`${props.id}-error`} class="mdw-field__error">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** Name, email, topic: no account needed. */
function PreChat({ onStarted }: { onStarted: (view: View) => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [topic, setTopic] = useState<ChatTopic>('order');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const firstRef = useRef<HTMLInputElement>(null);
  useEffect(() => firstRef.current?.focus(), []);

  async function submit(event: Event) {
    event.preventDefault();
    const parsed = PreChatForm.safeParse({ name, email, topic });
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.path[0] === 'email' ? 'Enter a valid email address.' : i.message])));
      return;
    }
    setErrors({});
    setFailure(null);
    setBusy(true);
    try {
      const started = await startChat({ name: parsed.data.name, email: parsed.data.email, topic: parsed.data.topic });
      onStarted(started.mode === 'chat' ? { kind: 'chat' } : { kind: 'leave', reason: started.reason, nextOpening: started.nextOpening });
    } catch (error) {
      setErrors(fieldErrors(error));
      setFailure((error as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="mdw-form" onSubmit={submit} noValidate aria-labelledby="mdw-title">
      <p class="mdw-lede">Ask us about an order, a coin or your subscription. A member of our team answers here.</p>
      <Field id="mdw-name" label="Your name" error={errors.name}>
        <input id="mdw-name" ref={firstRef} autocomplete="name" value={name} aria-invalid={errors.name ? 'true' : undefined} aria-describedby={errors.name ? 'mdw-name-error' : undefined} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="mdw-email" label="Email" error={errors.email}>
        <input id="mdw-email" type="email" autocomplete="email" value={email} aria-invalid={errors.email ? 'true' : undefined} aria-describedby={errors.email ? 'mdw-email-error' : undefined} onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <Field id="mdw-topic" label="What is it about?">
        <select id="mdw-topic" value={topic} onChange={(e) => setTopic(e.currentTarget.value as ChatTopic)}>
          {CHAT_TOPICS.map((t) => (
            <option key={t} value={t}>
              {TOPIC_LABELS[t]}
            </option>
          ))}
        </select>
      </Field>
      <p class="mdw-warning" id="mdw-card-warning">
        <strong>Keep your card safe.</strong> {CARD_WARNING}
      </p>
      {failure && !Object.keys(errors).length ? (
        <p class="mdw-error" role="alert">
          {failure}
        </p>
      ) : null}
      <button type="submit" class="mdw-button mdw-button--primary" disabled={busy}>
        {busy ? 'Starting…' : 'Start chat'}
      </button>
    </form>
  );
}

/** Outside opening hours, or when nobody can take a chat: the message becomes a task. */
function LeaveMessage({ reason, nextOpening, onLeft }: { reason: 'closed' | 'nobody_available'; nextOpening: Availability['nextOpening']; onLeft: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [topic, setTopic] = useState<ChatTopic>('order');
  const [body, setBody] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const parsed = LeaveMessageRequest.safeParse({ name, email, topic, body });
    if (!parsed.success) return setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.path[0] === 'email' ? 'Enter a valid email address.' : i.message])));
    setBusy(true);
    try {
      await requestJson('POST', '/api/chat/messages', { body: parsed.data });
      onLeft();
    } catch (error) {
      setErrors({ ...fieldErrors(error), form: (error as Error).message });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="mdw-form" onSubmit={submit} noValidate>
      <p class="mdw-lede" role="status">
        {reason === 'closed'
          ? `Our chat is closed right now${nextOpening ? `; we open again ${nextOpening.date} at ${nextOpening.open} (${nextOpening.timeZone})` : ''}. Leave a message and we will email you.`
          : 'Everyone on our team is busy right now. Leave a message and we will email you.'}
      </p>
      <Field id="mdw-leave-name" label="Your name" error={errors.name}>
        <input id="mdw-leave-name" autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="mdw-leave-email" label="Email" error={errors.email}>
        <input id="mdw-leave-email" type="email" autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <Field id="mdw-leave-topic" label="What is it about?">
        <select id="mdw-leave-topic" value={topic} onChange={(e) => setTopic(e.currentTarget.value as ChatTopic)}>
          {CHAT_TOPICS.map((t) => (
            <option key={t} value={t}>
              {TOPIC_LABELS[t]}
            </option>
          ))}
        </select>
      </Field>
      <Field id="mdw-leave-body" label="Your message" error={errors.body}>
        <textarea id="mdw-leave-body" rows={4} maxLength={4000} value={body} aria-invalid={errors.body ? 'true' : undefined} aria-describedby={errors.body ? 'mdw-leave-body-error' : 'mdw-leave-warning'} onInput={(e) => setBody(e.currentTarget.value)} />
      </Field>
      <p class="mdw-warning" id="mdw-leave-warning">
        {CARD_WARNING}
      </p>
      {errors.form ? (
        <p class="mdw-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <button type="submit" class="mdw-button mdw-button--primary" disabled={busy}>
        Send message
      </button>
    </form>
  );
}

function receiptOf(message: ChatMessage): string | null {
  const receipts = visitorSession.value?.receipts.agent;
  if (message.author.kind !== 'visitor' || !receipts) return null;
  if (receipts.readSeq >= message.seq) return 'Read';
  if (receipts.deliveredSeq >= message.seq) return 'Delivered';
  return 'Sent';
}

function Survey() {
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (visitorSession.value?.surveyAnswered) {
    return (
      <p class="mdw-thanks" role="status">
        Thank you for your feedback.
      </p>
    );
  }
  return (
    <form
      class="mdw-survey"
      onSubmit={async (event) => {
        event.preventDefault();
        if (!rating) return setError('Choose a rating.');
        try {
          await answerSurvey(rating, comment.trim());
        } catch (e) {
          setError((e as Error).message);
        }
      }}
    >
      <fieldset class="mdw-rating">
        <legend>How did we do? (anonymous)</legend>
        <div class="mdw-rating__options">
          {[1, 2, 3, 4, 5].map((value) => (
            <label key={value} class={`mdw-star ${value <= rating ? 'is-on' : ''}`}>
              <input type="radio" name="mdw-rating" value={value} checked={rating === value} onChange={() => setRating(value)} />
              <span aria-hidden="true">★</span>
              <span class="mdw-sr">
                {value} of 5{value === 1 ? ' (poor)' : value === 5 ? ' (excellent)' : ''}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div class="mdw-field">
        <label for="mdw-survey-comment">Anything to add? (optional)</label>
        <textarea id="mdw-survey-comment" rows={2} maxLength={1000} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </div>
      {error ? (
        <p class="mdw-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" class="mdw-button mdw-button--primary">
        Send feedback
      </button>
    </form>
  );
}

function AfterChat() {
  const [transcript, setTranscript] = useState<'idle' | 'sent' | string>('idle');
  return (
    <div class="mdw-after">
      <p class="mdw-ended" role="status">
        This chat has ended.
      </p>
      {transcript === 'sent' ? (
        <p class="mdw-thanks" role="status">
          The transcript is on its way to your email.
        </p>
      ) : (
        <button type="button" class="mdw-button" onClick={() => emailTranscript().then(() => setTranscript('sent'), (e: Error) => setTranscript(e.message))}>
          Email me the transcript
        </button>
      )}
      {transcript !== 'idle' && transcript !== 'sent' ? (
        <p class="mdw-error" role="alert">
          {transcript}
        </p>
      ) : null}
      <Survey />
      <button type="button" class="mdw-link" onClick={reset}>
        Start a new chat
      </button>
    </div>
  );
}

function Conversation({ open }: { open: boolean }) {
  const [body, setBody] = useState('');
  // The server masks card numbers before storing or showing them; the visitor is told it happened.
  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const typingSince = useRef(0);
  const session = visitorSession.value;
  const ended = session?.state === 'ended';
  const list = messages.value;
  const lastFromStaff = [...list].reverse().find((m) => m.author.kind !== 'visitor')?.seq ?? 0;

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [list.length, pending.value.length, agentTyping.value]);
  useEffect(() => {
    if (lastFromStaff) markSeen(lastFromStaff, open && document.visibilityState === 'visible');
  }, [lastFromStaff, open]);
  useEffect(() => inputRef.current?.focus(), []);

  function submit(event: Event) {
    event.preventDefault();
    const text = body.trim();
    if (!text) return;
    setNotice(looksLikeCardNumber(text) ? CARD_HIDDEN : null);
    setBody('');
    typingSince.current = 0;
    typing(false);
    void send(text).then((masked) => masked && setNotice(CARD_HIDDEN));
  }

  return (
    <div class="mdw-conversation">
      {session?.state === 'waiting' || (!session && queue.value) ? (
        <p class="mdw-queue" role="status">
          {queue.value ? (
            <>
              You are <strong>number {queue.value.position}</strong> in line. Expected wait: {waitInWords(queue.value.expectedWaitSeconds)}.
            </>
          ) : (
            'Connecting you to our team…'
          )}
        </p>
      ) : null}
      <div class="mdw-messages" ref={listRef} role="log" aria-label="Chat messages" tabIndex={0}>
        <ol>
          <li class="mdw-msg mdw-msg--system">{CARD_WARNING}</li>
          {list.map((m) => {
            const receipt = receiptOf(m);
            return (
              <li key={m.id} class={`mdw-msg mdw-msg--${m.author.kind}`}>
                <span class="mdw-msg__who">
                  {m.author.kind === 'visitor' ? 'You' : m.author.kind === 'system' ? 'Mintdesk' : m.author.name} · <time dateTime={m.createdAt}>{timeOfDay(m.createdAt)}</time>
                </span>
                <span class="mdw-msg__body">{m.body}</span>
                {m.link ? (
                  <a class="mdw-msg__link" href={m.link.url}>
                    {m.link.label}
                  </a>
                ) : null}
                {receipt ? <span class="mdw-msg__receipt">{receipt}</span> : null}
              </li>
            );
          })}
          {pending.value.map((p) => (
            <li key={p.clientId} class="mdw-msg mdw-msg--visitor mdw-msg--pending">
              <span class="mdw-msg__body">{p.body}</span>
              <span class="mdw-msg__receipt">{p.failed ? `Not sent: ${p.failed}` : 'Sending…'}</span>
            </li>
          ))}
        </ol>
      </div>
      <p class="mdw-typing" aria-live="polite">
        {agentTyping.value ? `${agentTyping.value} is typing…` : ''}
      </p>
      {ended ? (
        <AfterChat />
      ) : (
        <form class="mdw-composer" onSubmit={submit}>
          <label for="mdw-input" class="mdw-sr">
            Your message
          </label>
          <textarea
            id="mdw-input"
            ref={inputRef}
            rows={2}
            maxLength={4000}
            placeholder="Type your message…"
            value={body}
            aria-describedby={notice ? 'mdw-input-notice' : undefined}
            onInput={(e) => {
              const value = e.currentTarget.value;
              setBody(value);
              const now = Date.now();
              if (value && now - typingSince.current > 2500) {
                typingSince.current = now;
                typing(true);
              }
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
            }}
          />
          {notice ? (
            <p id="mdw-input-notice" class="mdw-error" role="alert">
              {notice}
            </p>
          ) : null}
          <div class="mdw-composer__bar">
            <button type="button" class="mdw-link" onClick={() => void endChat()}>
              End chat
            </button>
            <button type="submit" class="mdw-button mdw-button--primary" disabled={!body.trim()}>
              Send
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function Widget() {
  const [open, setOpen] = useState(false);
  const [view, setView] = useState<View>(() => (resumeSaved() ? { kind: 'chat' } : { kind: 'form' }));
  const [checked, setChecked] = useState(false);
  const launcherRef = useRef<HTMLButtonElement>(null);
  const session = visitorSession.value;
  const inChat = view.kind === 'chat' && (session !== null || connection.value !== 'idle');

  // After "start a new chat" the session is gone: back to the form.
  useEffect(() => {
    if (view.kind === 'chat' && connection.value === 'idle' && !session) setView({ kind: 'form' });
  }, [connection.value, session]);

  // Before the form: is anyone there? (Closed or nobody available: leave a message instead.)
  useEffect(() => {
    if (!open || checked || view.kind !== 'form') return;
    setChecked(true);
    requestJson<Availability>('GET', '/api/chat/availability').then(
      (a) => {
        if (!a.open || !a.agentsAvailable) setView({ kind: 'leave', reason: a.open ? 'nobody_available' : 'closed', nextOpening: a.nextOpening });
      },
      () => undefined,
    );
  }, [open, view.kind]);

  const agentName = session?.agentFirstName;
  const title = inChat ? (agentName ? `Chatting with ${agentName}` : 'Chat with Mintdesk') : view.kind === 'leave' || view.kind === 'left' ? 'Leave us a message' : 'Chat with Mintdesk';
  const unread = !open && messages.value.some((m) => m.author.kind !== 'visitor' && m.seq > (session?.receipts.visitor.readSeq ?? 0));

  return (
    <div class="mdw">
      {open ? (
        <section class="mdw-panel" role="dialog" aria-modal="false" aria-labelledby="mdw-title">
          <header class="mdw-header">
            <div>
              <h2 id="mdw-title">{title}</h2>
              <p class="mdw-header__sub">{connection.value === 'reconnecting' ? 'Reconnecting…' : inChat && session?.state === 'active' ? 'Mintdesk customer service' : 'We usually answer within minutes'}</p>
            </div>
            <button
              type="button"
              class="mdw-close"
              aria-label="Minimise chat"
              onClick={() => {
                setOpen(false);
                setTimeout(() => launcherRef.current?.focus(), 0);
              }}
            >
              ×
            </button>
          </header>
          <div class="mdw-body">
            {inChat ? <Conversation open={open} /> : null}
            {!inChat && view.kind === 'form' ? <PreChat onStarted={setView} /> : null}
            {!inChat && view.kind === 'leave' ? <LeaveMessage reason={view.reason} nextOpening={view.nextOpening} onLeft={() => setView({ kind: 'left' })} /> : null}
            {!inChat && view.kind === 'left' ? (
              <p class="mdw-thanks mdw-pad" role="status">
                Thank you. Your message has reached our team; we will answer by email.
              </p>
            ) : null}
          </div>
        </section>
      ) : null}
      {open ? null : (
        <button type="button" class="mdw-launcher" ref={launcherRef} aria-expanded={false} onClick={() => setOpen(true)}>
          <span class="mdw-launcher__icon" aria-hidden="true" />
          {inChat ? 'Your chat' : 'Chat with us'}
          {unread ? <span class="mdw-launcher__dot">new message</span> : null}
        </button>
      )}
    </div>
  );
}

export function mountWidget(element: HTMLElement): void {
  render(<Widget />, element);
}
