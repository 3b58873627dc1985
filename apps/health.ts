import { Router } from 'express';

export interface Readiness {
  check(): Promise<Record<string, 'ok' | string>>;
}

/**
 * /healthz (the process answers) and /readyz (its backing services answer: 503 naming the ones that
 * do not), for a load balancer or orchestrator. Every HTTP-serving process mounts it.
 */
export function createHealthRouter(readiness: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const checks = await readiness.check();
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  return router;
}
