/**
 * Fastify's `trustProxy` from HERALD_TRUST_PROXY: false (the default: X-Forwarded-For is ignored), true
 * (trust every hop), a number of hops in front of Herald, or addresses/CIDRs (comma-separated) of the
 * proxies. Without it, `req.ip` behind a load balancer is the balancer's, and every client shares it.
 */
export function trustProxyOption(
  value: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}
