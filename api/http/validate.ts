import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { invalidCharacterError, parseOrThrow, refuseUnsafeText } from '../../platform/errors.ts';
import { hasUnsafeCharacter } from '../../platform/safe-text.ts';

/** Body, query and params are untrusted: every route parses them with its zod schema. */
export const parseBody = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.body ?? {});
export const parseQuery = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.query ?? {});
export const parseParams = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => parseOrThrow(schema, req.params ?? {});

/**
 * Before any route: a NUL or an unpaired surrogate anywhere in the parsed body, the query string or
 * a path segment is refused with 400 `input.invalid_character`, so no route (or a lookup it makes
 * with a raw path parameter) ever hands one to the database. Mount it after the body parser.
 */
export const refuseUnsafeRequestText: RequestHandler = (req, _res, next) => {
  try {
    refuseUnsafeText(req.body);
    refuseUnsafeText(req.query, 'query');
    for (const segment of req.path.split('/')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        continue; // malformed percent-encoding: the router refuses it (request.malformed_url)
      }
      if (hasUnsafeCharacter(decoded)) throw invalidCharacterError('path');
    }
    next();
  } catch (error) {
    next(error);
  }
};
