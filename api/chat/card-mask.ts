/**
 * Card numbers in chat text (PIA: never stored, broadcast or logged). A Luhn-valid run of 13-19
 * digits, with or without single spaces or dashes between digits, becomes `•••• •••• •••• 1234`.
 * Runs that fail the Luhn check (order numbers, phone numbers, ZIP+4) are left alone.
 *
 * A shared free-text helper is being written elsewhere; this one is deliberately small so the two
 * can be unified without changing chat's behaviour.
 */
// A maximal run of 13 or more digits with single spaces or dashes between them.
const DIGIT_RUN = /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The last four digits of a Luhn-valid 13-19 digit window inside the run, if there is one. */
function cardInside(digits: string): string | undefined {
  for (let length = Math.min(19, digits.length); length >= 13; length -= 1) {
    for (let start = 0; start + length <= digits.length; start += 1) {
      const window = digits.slice(start, start + length);
      if (luhnValid(window)) return window.slice(-4);
    }
  }
  return undefined;
}

/**
 * Masks every run that holds a card number. A card glued to more digits ("4111 1111 1111 1111 123")
 * is still found: every 13-19 digit window of the run is checked, and the whole run is masked.
 */
export function maskCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, (run) => {
    const last4 = cardInside(run.replace(/\D/g, ''));
    return last4 ? `•••• •••• •••• ${last4}` : run;
  });
}

export function containsCardNumber(text: string): boolean {
  return maskCardNumbers(text) !== text;
}
