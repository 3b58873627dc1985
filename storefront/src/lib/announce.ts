/** Says `text` to screen-reader users through the page's polite live region (#announcer in app.tsx). */
export function announce(text: string): void {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node is what screen readers notice in a live region.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
