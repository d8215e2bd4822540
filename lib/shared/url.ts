/** `scheme://host:port`, with IPv6 literals bracketed as URLs require. */
export function formatUrl(scheme: string, host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
