import type { Logger } from 'pino';
import type { Principal } from '../api/http/principal.ts';

declare global {
  namespace Express {
    interface Request {
      /** Request id, echoed as X-Request-Id and put on every log line of the request. */
      id: string;
      log: Logger;
      /** Who is calling, once an auth middleware has run. */
      principal?: Principal;
    }
  }
}
export {};
