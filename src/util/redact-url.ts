// URLs end up in messages, status and logs: credentials written into them must not.

/** The address with any `user:password@` hidden; works on text that is not a valid URL too. */
export function redactUrl(address: string): string {
  return address.replace(/\/\/[^/@]*@/g, '//***@');
}
