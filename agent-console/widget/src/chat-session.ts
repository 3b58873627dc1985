import { signal } from '@preact/signals';
import type { ChatMessage, ChatReceipts, ChatStartResponse, PreChatForm, VisitorSessionView } from '../../../api/console-contract/chat.ts';
import { ShopperClientEvents, ShopperServerEvents } from '../../../api/console-contract/events.ts';
import type { QueueEstimate } from '../../../api/console-contract/tasks.ts';
import { newClientId } from '../../app/lib/ids.ts';
import { connectSocket, RequestError, type TypedSocket } from '../../app/lib/socket.ts';
import { requestJson } from '../../app/lib/http.ts';

/**
 * The visitor's chat: started by the pre-chat form over HTTP, then the /chat socket with the
 * signed session token. Messages are kept by seq (each once); a reload or reconnect resumes from
 * the last seq seen, and messages typed meanwhile are sent again with their client ids, so the
 * server stores each once.
 */
const STORAGE_KEY = 'mintdesk.chat';

interface Saved {
  token: string;
  sessionId: string;
  name: string;
}

export interface Pending {
  clientId: string;
  body: string;
  failed?: string;
}

export const visitorSession = signal<VisitorSessionView | null>(null);
export const messages = signal<ChatMessage[]>([]);
export const pending = signal<Pending[]>([]);
export const queue = signal<QueueEstimate | null>(null);
export const agentTyping = signal<string | null>(null);
export const connection = signal<'idle' | 'connecting' | 'online' | 'reconnecting'>('idle');
export const visitorName = signal('');

let socket: TypedSocket<typeof ShopperClientEvents, typeof ShopperServerEvents> | null = null;
let typingTimer: ReturnType<typeof setTimeout> | undefined;

function merge(incoming: ChatMessage[]) {
  if (!incoming.length) return;
  const bySeq = new Map(messages.value.map((m) => [m.seq, m]));
  for (const m of incoming) bySeq.set(m.seq, m);
  messages.value = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const clientIds = new Set(incoming.map((m) => m.clientId));
  pending.value = pending.value.filter((p) => !clientIds.has(p.clientId));
}

function setReceipts(receipts: ChatReceipts) {
  if (visitorSession.value) visitorSession.value = { ...visitorSession.value, receipts };
}

function save(saved: Saved | null) {
  try {
    if (saved) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage may be unavailable (private mode); the chat still works until the page reloads.
  }
}

function connect(saved: Saved) {
  visitorName.value = saved.name;
  connection.value = 'connecting';
  socket = connectSocket('/chat', { client: ShopperClientEvents, server: ShopperServerEvents }, { auth: { token: saved.token } });
  let connectedBefore = false;
  socket.raw.on('connect', () => {
    connection.value = 'online';
    const s = socket!;
    const first = !connectedBefore;
    connectedBefore = true;
    const load = first && messages.value.length === 0 ? s.request('chat:state', {}) : s.request('chat:resume', { afterSeq: messages.value.at(-1)?.seq ?? 0 });
    load.then(
      (state) => {
        visitorSession.value = state.session;
        queue.value = state.session.queue;
        merge(state.messages);
        for (const p of pending.value) void send(p.body, p.clientId);
      },
      (error: RequestError) => {
        if (error.code.endsWith('not_found') || error.code.includes('token')) reset();
      },
    );
  });
  socket.raw.on('disconnect', () => {
    connection.value = 'reconnecting';
  });
  socket.raw.on('connect_error', (error: Error & { data?: { code?: string } }) => {
    // An expired or unknown chat token: the chat is over, start afresh.
    if (error.data?.code) reset();
    else connection.value = 'reconnecting';
  });
  socket.on('chat:message', (message) => merge([message]));
  socket.on('chat:queue', (estimate) => {
    queue.value = estimate;
  });
  socket.on('chat:session', (session) => {
    visitorSession.value = session;
    if (session.state !== 'waiting') queue.value = null;
  });
  socket.on('chat:typing', ({ author, typing }) => {
    if (author.kind === 'visitor') return;
    agentTyping.value = typing ? author.name : null;
    clearTimeout(typingTimer);
    if (typing) typingTimer = setTimeout(() => (agentTyping.value = null), 6000);
  });
  socket.on('chat:receipt', ({ receipts }) => setReceipts(receipts));
}

/** A chat of this tab that is still going (a reload of the store page resumes it). */
export function resumeSaved(): boolean {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return false;
    const saved = JSON.parse(raw) as Saved;
    if (!saved.token || !saved.sessionId) return false;
    connect(saved);
    return true;
  } catch {
    return false;
  }
}

export async function startChat(form: PreChatForm): Promise<ChatStartResponse> {
  const started = await requestJson<ChatStartResponse>('POST', '/api/chat/sessions', { body: form });
  if (started.mode === 'chat') {
    const saved = { token: started.token, sessionId: started.sessionId, name: form.name };
    save(saved);
    queue.value = started.queue;
    connect(saved);
  }
  return started;
}

/** Sends a message; true when the server hid a card number in it (the visitor is told). */
export async function send(body: string, clientId = newClientId()): Promise<boolean> {
  if (!pending.value.some((p) => p.clientId === clientId)) pending.value = [...pending.value, { clientId, body }];
  if (!socket) return false;
  try {
    const ack = await socket.request('chat:send', { clientId, body });
    // Our own message comes back as chat:message too; the ack is enough to show it as sent.
    const session = visitorSession.value;
    if (session && !messages.value.some((m) => m.seq === ack.seq)) {
      merge([{ id: ack.id, seq: ack.seq, sessionId: session.sessionId, clientId, author: { kind: 'visitor', name: visitorName.value }, body: ack.body, visibility: 'all', createdAt: ack.createdAt }]);
    }
    return ack.body !== body.trim();
  } catch (error) {
    const offline = error instanceof RequestError && error.code === 'timeout';
    if (!offline) pending.value = pending.value.map((p) => (p.clientId === clientId ? { ...p, failed: (error as Error).message } : p));
    return false;
  }
}

export function typing(active: boolean) {
  void socket?.request('chat:typing', { typing: active }).catch(() => undefined);
}

export function markSeen(seq: number, read: boolean) {
  const receipts = visitorSession.value?.receipts.visitor;
  if (!socket || !receipts) return;
  if (seq <= receipts.deliveredSeq && (!read || seq <= receipts.readSeq)) return;
  void socket.request('chat:receipt', read ? { deliveredSeq: seq, readSeq: seq } : { deliveredSeq: seq }).then(setReceipts, () => undefined);
}

export async function endChat() {
  if (socket) visitorSession.value = await socket.request('chat:end', {});
}

export async function emailTranscript() {
  if (!socket) throw new Error('The chat is not connected.');
  await socket.request('chat:transcript', {});
}

export async function answerSurvey(rating: number, comment: string) {
  if (!socket) throw new Error('The chat is not connected.');
  await socket.request('chat:survey', comment ? { rating, comment } : { rating });
  if (visitorSession.value) visitorSession.value = { ...visitorSession.value, surveyAnswered: true };
}

/** Forgets the chat (after the survey, or "start a new chat"). */
export function reset() {
  socket?.close();
  socket = null;
  save(null);
  visitorSession.value = null;
  messages.value = [];
  pending.value = [];
  queue.value = null;
  agentTyping.value = null;
  connection.value = 'idle';
}
