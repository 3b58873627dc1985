import { z } from 'zod';
import { CannedResponse, CannedResponseInput, ChatAvailability, ChatStartResponse, LeaveMessageRequest, LeftMessageReceipt, PreChatForm } from './chat.ts';

/**
 * The few HTTP endpoints around the sockets: the widget's pre-chat form and leave-a-message (public),
 * and the admins' canned responses (staff, bearer token). Errors are the usual `{ error: { code, message, fields } }`.
 */
export const ChatHttp = {
  availability: { method: 'GET', path: '/api/chat/availability', response: ChatAvailability },
  /** Pre-chat form: a chat session and its socket token, or the invitation to leave a message. */
  start: { method: 'POST', path: '/api/chat/sessions', body: PreChatForm, response: ChatStartResponse },
  leaveMessage: { method: 'POST', path: '/api/chat/messages', body: LeaveMessageRequest, response: LeftMessageReceipt },
  cannedList: { method: 'GET', path: '/api/staff/chat/canned', permission: 'chat:handle', response: z.object({ items: z.array(CannedResponse) }) },
  /** The same list for admins, who manage the responses but do not chat. */
  cannedManageList: { method: 'GET', path: '/api/staff/chat/canned/manage', permission: 'chat:canned_manage', response: z.object({ items: z.array(CannedResponse) }) },
  cannedCreate: { method: 'POST', path: '/api/staff/chat/canned', permission: 'chat:canned_manage', body: CannedResponseInput, response: CannedResponse },
  cannedUpdate: { method: 'PUT', path: '/api/staff/chat/canned/:id', permission: 'chat:canned_manage', body: CannedResponseInput, response: CannedResponse },
  cannedDelete: { method: 'DELETE', path: '/api/staff/chat/canned/:id', permission: 'chat:canned_manage' },
} as const;
