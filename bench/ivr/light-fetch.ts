import { Agent, request } from 'node:http';

/**
 * The part of `fetch` the simulated call uses (ivr/simulator/call.ts: method, headers, a string
 * body, an abort signal; status, one header and the text of the answer), over node:http with
 * keep-alive. Node's fetch (undici with WHATWG streams) cost the callers' thread about as much CPU
 * per request as the server spent answering it; on two cores shared with the server, FerretDB and
 * PostgreSQL that is CPU taken from what is measured. Both sides of the comparison use this.
 *
 * Idle sockets are closed after `idleMs`, before the server's keep-alive timeout (Node: 5 s)
 * closes them under a request, and a request that fails on a reused socket before any answer
 * is sent once more on a fresh one, as HTTP clients do.
 */
export function createLightFetch({ idleMs = 4_000 }: { idleMs?: number } = {}): typeof fetch {
  const agent = new Agent({ keepAlive: true, timeout: idleMs, scheduling: 'lifo' });

  function send(url: URL, init: RequestInit, retry: boolean): Promise<Response> {
    const signal = init.signal ?? undefined;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
      const headers: Record<string, string | number> = { ...(init.headers as Record<string, string> | undefined) };
      if (body) headers['content-length'] = body.length;
      const req = request({ agent, protocol: url.protocol, hostname: url.hostname, port: url.port, method: init.method ?? 'GET', path: `${url.pathname}${url.search}`, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            headers: { get: (name: string) => headerValue(res.headers[name.toLowerCase()]) },
            text: async () => text,
          } as unknown as Response);
        });
      });
      function fail(error: Error) {
        signal?.removeEventListener('abort', onAbort);
        if (retry && req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(send(url, init, false));
        else reject(error);
      }
      function onAbort() {
        req.destroy();
        reject(signal!.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(body);
    });
  }

  return ((input: string | URL | Request, init: RequestInit = {}) => send(new URL(String(input instanceof Request ? input.url : input)), init, true)) as typeof fetch;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}
