/**
 * Chat's shapes: the console contract (api/console-contract/chat.ts) is the one definition
 * shared with the widget and the console. Zod only.
 */
export * from '../console-contract/chat.ts';
export { ChatTopic, CHAT_TOPICS } from '../console-contract/tasks.ts';
