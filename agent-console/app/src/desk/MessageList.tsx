import { useEffect, useRef } from 'preact/hooks';
import type { ChatMessage, ChatReceipts } from '../../../../api/console-contract/chat.ts';
import { timeOfDay } from '../../lib/format.ts';
import type { Outgoing } from './chats.ts';

function receiptLabel(message: ChatMessage, receipts: ChatReceipts): string | null {
  if (message.visibility !== 'all' || message.author.kind === 'visitor' || message.author.kind === 'system') return null;
  if (receipts.visitor.readSeq >= message.seq) return 'Read';
  if (receipts.visitor.deliveredSeq >= message.seq) return 'Delivered';
  return 'Sent';
}

function kindClass(message: ChatMessage): string {
  if (message.visibility === 'whisper') return 'message--whisper';
  if (message.visibility === 'internal') return 'message--note';
  return `message--${message.author.kind}`;
}

function Prefix({ message }: { message: ChatMessage }) {
  if (message.visibility === 'whisper') return <span class="message__tag">Whisper · only you can see this</span>;
  if (message.visibility === 'internal') return <span class="message__tag">Internal note</span>;
  return null;
}

/**
 * The conversation as a log: screen readers announce new entries politely. Staff see internal
 * notes and whispers inline, marked, never sent to the visitor.
 */
export function MessageList(props: { messages: ChatMessage[]; outgoing: Outgoing[]; receipts: ChatReceipts; typing: string | null; label: string; ownerName: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const count = props.messages.length + props.outgoing.length;
  useEffect(() => {
    const list = ref.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [count, props.typing]);
  return (
    <div class="messages">
      <div class="messages__list" ref={ref} role="log" aria-label={props.label} tabIndex={0}>
        <ol class="messages__items">
        {props.messages.map((message) => {
          const receipt = receiptLabel(message, props.receipts);
          return (
            <li key={message.id} class={`message ${kindClass(message)}`} data-seq={message.seq}>
              <div class="message__meta">
                <span class="message__author">{message.author.kind === 'system' ? 'Mintdesk' : message.author.name}</span>
                <time dateTime={message.createdAt}>{timeOfDay(message.createdAt)}</time>
                <Prefix message={message} />
              </div>
              <p class="message__body">{message.body}</p>
              {message.link ? (
                <p class="message__link">
                  Link sent: <a href={message.link.url} target="_blank" rel="noopener noreferrer">{message.link.label}</a>
                </p>
              ) : null}
              {receipt ? <span class={`message__receipt message__receipt--${receipt.toLowerCase()}`}>{receipt}</span> : null}
            </li>
          );
        })}
        {props.outgoing.map((pending) => (
          <li key={pending.clientId} class={`message message--agent message--pending ${pending.visibility === 'internal' ? 'message--note' : ''}`}>
            <div class="message__meta">
              <span class="message__author">{props.ownerName}</span>
            </div>
            <p class="message__body">{pending.body}</p>
            <span class="message__receipt">{pending.status === 'failed' ? `Not sent: ${pending.error ?? 'error'}` : 'Sending…'}</span>
          </li>
        ))}
        </ol>
      </div>
      <p class="typing" aria-live="polite">
        {props.typing ? `${props.typing} is typing…` : ''}
      </p>
    </div>
  );
}
