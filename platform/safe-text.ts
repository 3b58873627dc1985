/**
 * Text no store of ours can keep faithfully, refused at every boundary (HTTP bodies, query strings
 * and paths, socket payloads, every `parseOrThrow`):
 * - NUL: PostgreSQL (under FerretDB) cannot store it, so it failed as a 500 deep in a query, and C
 *   libraries read it as the end of the string.
 * - A UTF-16 surrogate without its pair: not Unicode at all; UTF-8 encoders (BSON, JSON to a log)
 *   silently replace it, so what is stored is not what was sent.
 * No Node imports: the console and the socket layer use the same check.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const INVALID_CHARACTER = 'input.invalid_character';
export const INVALID_CHARACTER_MESSAGE = "This text contains a character we can't accept (a NUL or a broken Unicode character). Please type it again.";

export function hasUnsafeCharacter(text: string): boolean {
  return UNSAFE.test(text);
}

/** A JSON-shaped value (plain objects and arrays) is walked; anything else (Date, Buffer, documents) is not input. */
function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The dotted path of the first string (value or key) in `input` holding an unsafe character, or
 * undefined. Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function findUnsafeText(input: unknown): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: input, path: '' }];
  const seen = new WeakSet<object>();
  const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSAFE.test(value)) return path;
      continue;
    }
    if (!isPlainContainer(value) || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1) stack.push({ value: value[index], path: join(path, index) });
      continue;
    }
    const keys = Object.keys(value);
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index]!;
      // A key is text the client chose too; name it without repeating the unreadable character.
      if (UNSAFE.test(key)) return join(path, key.replace(new RegExp(UNSAFE.source, 'g'), '\uFFFD'));
      stack.push({ value: value[key], path: join(path, key) });
    }
  }
  return undefined;
}
