import { signal, type Signal } from '@preact/signals';
import type { ChatMessage, ChatReceipts, StaffSessionView } from '../../../../api/console-contract/chat.ts';
import type { AgentClientEvents, AgentServerEvents } from '../../../../api/console-contract/events.ts';
import { newClientId } from '../../lib/ids.ts';
import { RequestError } from '../../lib/socket.ts';
import type { StaffSocket } from '../staff-socket.ts';

/** A message typed here that the server has not acknowledged yet. */
export interface Outgoing {
  clientId: string;
  body: string;
  visibility: 'all' | 'internal' | 'whisper';
  status: 'sending' | 'failed';
  error?: string;
}

export interface ChatThread {
  session: StaffSessionView;
  /** By seq, each once: a message seen live and again in a replay is kept once. */
  messages: ChatMessage[];
  outgoing: Outgoing[];
  typing: { name: string; until: number } | null;
}

type ChatEvents = 'chat:resume' | 'chat:send';
type ChatServer = 'chat:message' | 'chat:typing' | 'chat:receipt' | 'chat:session';

export function mergeMessages(existing: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return existing;
  const bySeq = new Map(existing.map((m) => [m.seq, m]));
  for (const message of incoming) bySeq.set(message.seq, message);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const TYPING_SHOWN_MS = 6000;

/**
 * The chats a staff socket follows (an agent's tabs, a supervisor's monitored chat): messages
 * merged by seq, sends with a client id (a retry after a reconnect is stored once), and on every
 * reconnect a resume from the last seq seen, so nothing is lost or shown twice.
 */
export function createChatThreads(socket: StaffSocket<Pick<typeof AgentClientEvents, ChatEvents>, Pick<typeof AgentServerEvents, ChatServer>>) {
  const threads: Signal<Map<string, ChatThread>> = signal(new Map());

  function update(sessionId: string, change: (thread: ChatThread) => ChatThread) {
    const current = threads.value.get(sessionId);
    if (!current) return;
    const next = new Map(threads.value);
    next.set(sessionId, change(current));
    threads.value = next;
  }

  function set(session: StaffSessionView, messages: ChatMessage[]) {
    const current = threads.value.get(session.sessionId);
    const next = new Map(threads.value);
    next.set(session.sessionId, {
      session,
      messages: mergeMessages(current?.messages ?? [], messages),
      outgoing: current?.outgoing ?? [],
      typing: current?.typing ?? null,
    });
    threads.value = next;
  }

  function forget(sessionId: string) {
    if (!threads.value.has(sessionId)) return;
    const next = new Map(threads.value);
    next.delete(sessionId);
    threads.value = next;
  }

  async function resume() {
    const sessions = [...threads.value.values()].map((t) => ({ sessionId: t.session.sessionId, afterSeq: t.messages.at(-1)?.seq ?? 0 }));
    if (sessions.length === 0) return;
    const result = await socket.request('chat:resume', { sessions });
    for (const { session, messages } of result.sessions) set(session, messages);
    // What was typed while offline goes out now, with the same client ids.
    for (const thread of threads.value.values()) for (const pending of thread.outgoing) void send(thread.session.sessionId, pending.body, pending.visibility === 'internal' ? 'internal' : 'all', pending.clientId);
  }

  async function send(sessionId: string, body: string, visibility: 'all' | 'internal', clientId = newClientId()) {
    update(sessionId, (t) => ({ ...t, outgoing: [...t.outgoing.filter((o) => o.clientId !== clientId), { clientId, body, visibility, status: 'sending' }] }));
    try {
      await socket.request('chat:send', { sessionId, clientId, body, visibility });
      // The stored message arrives as chat:message (to every staff socket of the chat, this one included).
      update(sessionId, (t) => ({ ...t, outgoing: t.outgoing.filter((o) => o.clientId !== clientId) }));
    } catch (error) {
      const retryable = error instanceof RequestError && (error.code === 'timeout' || !socket.raw.connected);
      update(sessionId, (t) => ({ ...t, outgoing: t.outgoing.map((o) => (o.clientId === clientId ? { ...o, status: retryable ? 'sending' : 'failed', error: (error as Error).message } : o)) }));
      if (!retryable) throw error;
    }
  }

  const unsubscribe = [
    socket.on('chat:message', (message) => {
      update(message.sessionId, (t) => ({
        ...t,
        messages: mergeMessages(t.messages, [message]),
        outgoing: t.outgoing.filter((o) => o.clientId !== message.clientId),
        typing: message.author.kind === 'visitor' ? null : t.typing,
        session: { ...t.session, lastSeq: Math.max(t.session.lastSeq, message.seq) },
      }));
    }),
    socket.on('chat:typing', ({ sessionId, author, typing }) => {
      if (author.kind !== 'visitor') return;
      update(sessionId, (t) => ({ ...t, typing: typing ? { name: author.name, until: Date.now() + TYPING_SHOWN_MS } : null }));
    }),
    socket.on('chat:receipt', ({ sessionId, receipts }: { sessionId: string; receipts: ChatReceipts }) => {
      update(sessionId, (t) => ({ ...t, session: { ...t.session, receipts } }));
    }),
    socket.on('chat:session', (session) => {
      update(session.sessionId, (t) => ({ ...t, session }));
    }),
  ];
  socket.raw.on('connect', () => void resume().catch(() => undefined));

  return {
    threads,
    set,
    forget,
    send,
    resume,
    close() {
      for (const off of unsubscribe) off();
    },
  };
}

export type ChatThreads = ReturnType<typeof createChatThreads>;
