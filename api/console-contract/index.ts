/** The console contract: zod schemas and typed event maps shared by the server, the console and the widget. Browser-safe. */
export * from './tasks.ts';
export * from './agents.ts';
export * from './chat.ts';
export * from './floor.ts';
export * from './fraud.ts';
export * from './events.ts';
export * from './http.ts';
