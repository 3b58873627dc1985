import cssUrl from './widget.css?url';
console.error(cssUrl);
void import('./widget.tsx');
