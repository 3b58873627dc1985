const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Text made safe to place in HTML content or a quoted attribute: the five markup characters, and
 * the backtick, which old browsers took as an attribute quote. Used by the emails and the API reference.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (char) => HTML_ESCAPES[char]!);
}
