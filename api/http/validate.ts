import type { Request } from 'express';
import type { z } from 'zod';
import { parseOrThrow } from '../../platform/errors.ts';

/** Body, query and params are untrusted: every route parses them with its zod schema. */
export const parseBody = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.body ?? {});
export const parseQuery = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.query ?? {});
export const parseParams = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.params ?? {});
