// Renders a handlebars template over prepared, already-validated data. Config files are not HTML:
// no escaping (values are validated instead). Strict: a missing field is an error, not "".
import Handlebars from 'handlebars';

const MAX_COMPILED = 100;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

export function renderTemplate(templateText: string, view: object): string {
  let delegate = compiled.get(templateText);
  if (!delegate) {
    // A handful of templates in practice; the cap only guards a caller that generates them.
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    delegate = Handlebars.compile(templateText, { noEscape: true, strict: true });
    compiled.set(templateText, delegate);
  }
  // No custom helpers, no prototype access: the view is plain data.
  return delegate(view);
}
