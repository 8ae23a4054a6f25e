// The rules a console page keeps for a keyboard or screen-reader user, run in the page by
// tests/browser/a11y.py (page.evaluate): each breach as "rule: what", [] when it keeps them.
() => {
  const found = [];
  const said = (n) => (n.getAttribute('aria-label') || '').trim()
    || (n.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
         .map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim()
    || [...(n.labels || [])].map((l) => l.textContent).join(' ').trim()
    || (n.getAttribute('title') || '').trim();
  const shown = (n) => n.getClientRects().length > 0 && getComputedStyle(n).visibility !== 'hidden';
  const what = (n) => n.tagName.toLowerCase() + (n.id ? '#' + n.id : '')
    + (n.getAttribute('name') ? '[name=' + n.getAttribute('name') + ']' : '')
    + ' "' + (n.textContent || '').trim().slice(0, 40) + '"';

  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) found.push('one h1: ' + h1 + ' on the page');
  if (document.querySelectorAll('main').length !== 1) found.push('landmarks: not one main');
  if (!document.querySelector('body > header')) found.push('landmarks: no banner (body > header)');
  if (document.querySelector('meta[name=csrf]') && !document.querySelector('header nav[aria-label]'))
    found.push('landmarks: no named nav in the header');
  for (const nav of document.querySelectorAll('nav')) {
    if (document.querySelectorAll('nav').length > 1 && !said(nav)) found.push('landmarks: unnamed ' + what(nav));
  }

  for (const n of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!said(n)) found.push('control without a label: ' + what(n));
  }
  for (const n of document.querySelectorAll('button, [role=button], a[href], summary')) {
    if (!said(n) && !(n.textContent || '').trim()) found.push('control without a name: ' + what(n));
  }
  for (const n of document.querySelectorAll('audio, video')) {
    if (!said(n)) found.push('player without a name: ' + what(n));
  }
  for (const n of document.querySelectorAll('[tabindex]')) {
    if (Number(n.getAttribute('tabindex')) > 0) found.push('tabindex above 0: ' + what(n));
  }
  for (const n of document.querySelectorAll('th')) {
    // what it heads, said: its column, its row, or (a heading row spanning the table, the
    // desk's CRM record's name) the columns it spans
    if (!n.hasAttribute('scope')) found.push('th without scope: ' + what(n));
  }
  for (const n of document.querySelectorAll('table')) {
    const wide = [...n.rows].some((r) => r.cells.length > 1);
    if (wide && !n.querySelector('th')) found.push('table without headers: ' + what(n));
    if (n.tHead && !n.tHead.querySelector('th')) found.push('table head without th: ' + what(n));
    // a table's own name (its heading's, through aria-labelledby, or a caption): a screen
    // reader's list of tables says which is which
    const caption = n.caption ? n.caption.textContent.trim() : '';
    if (!said(n) && !caption) found.push('table without a name: ' + what(n));
  }
  const controls = 'a, button, input, select, textarea, label, summary, audio, video, [role=button], [tabindex]';
  for (const n of document.querySelectorAll('body *')) {
    if (!shown(n) || n.closest(controls) || n.closest('svg')) continue;
    if (getComputedStyle(n).cursor === 'pointer') found.push('clickable non-control: ' + what(n));
  }

  // text contrast: the text's colour over the first background behind it that is not
  // transparent (the page's white when none is)
  const rgba = (c) => (c.match(/[\d.]+/g) || ['0', '0', '0', '0']).map(Number).concat([1]).slice(0, 4);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (n) => {
    for (let at = n; at && at.nodeType === 1; at = at.parentElement) {
      const c = rgba(getComputedStyle(at).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const seen = new Set();
  for (const n of document.querySelectorAll('body *')) {
    if (n.closest('svg, .sr-only, :disabled, option, script, style')) continue;
    const words = [...n.childNodes].filter((t) => t.nodeType === 3).map((t) => t.textContent).join('').trim();
    if (!words || !shown(n)) continue;
    const style = getComputedStyle(n);
    const fg = rgba(style.color), bg = behind(n);
    const mix = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [a, b] = [lum(mix), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const key = style.color + '/' + bg.join(',') + '/' + need;
    if (ratio < need && !seen.has(key)) {
      seen.add(key);
      found.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': ' + what(n) + ' ' + style.color);
    }
  }
  return found;
}
