// The one helper that builds elements: text always goes in as text, never as HTML, so nothing the
// server answers (image names, error messages) can inject markup.

/** el('p', {class: 'note'}, 'text', childElement, ...) */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Styles bundled as text (esbuild's text loader), added once per document. */
export function addStyles(id, css) {
  if (document.getElementById(id)) return;
  document.head.append(el('style', { id }, css));
}
