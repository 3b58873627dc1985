/**
 * Chat's shapes: the console contract (agent-console/contract/chat.ts) is the one definition
 * shared with the widget and the console. Zod only.
 */
export * from '../../agent-console/contract/chat.ts';
export { ChatTopic, CHAT_TOPICS } from '../../agent-console/contract/tasks.ts';
