// The shipped templates: templates/ sits two levels above both src/render/ and dist/render/.
export const TEMPLATES_DIR = new URL('../../templates/', import.meta.url);
