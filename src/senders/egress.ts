import dns from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { HeraldError } from '../errors';

/**
 * Where robot and vendor requests may go: the channel's own vendor hosts over https on 443, plus the
 * entries of HERALD_WEBHOOK_ALLOW_HOSTS (a private gateway, a test endpoint), which may use http and may
 * be private addresses. Checked on the URL when an account is saved and again at send time, where the
 * name is also checked after DNS resolution, so a vendor-looking name that resolves inside cannot be used.
 */

export const ALLOW_HOSTS_VARIABLE = 'HERALD_WEBHOOK_ALLOW_HOSTS';

/** One HERALD_WEBHOOK_ALLOW_HOSTS entry; without a port, any port of the host. */
export interface AllowedHost {
  host: string;
  port?: number;
}

/** Parses `host` or `host:port` (an IPv6 address in brackets); undefined when it is neither. */
export function parseAllowedHost(entry: string): AllowedHost | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s@]+)(?::(\d{1,5}))?$/.exec(entry.trim());
  if (!m?.[1]) return undefined;
  const host = normalHost(m[1]);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (!host || (host.includes(':') && isIP(host) !== 6)) return undefined;
  return port === undefined ? { host } : { host, port };
}

const normalHost = (h: string) =>
  h
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();

/** Addresses a vendor host must never resolve to: loopback, private, link-local, CGNAT, reserved. */
const inside = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  inside.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  inside.addSubnet(net, bits, 'ipv6');

export function isInsideAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return inside.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 4) return inside.check(address, 'ipv4');
  if (family === 6) return inside.check(address, 'ipv6') || /^::ffff:/i.test(address);
  return true;
}

/** A request Herald will not make; permanent, since retrying cannot change where the URL points. */
export class EgressRefusedError extends HeraldError {
  constructor(message: string) {
    super('webhook_host_not_allowed', message, 400);
  }
}

/** A DNS lookup as axios takes it (it picks the first address unless the socket asks for all). */
export type EgressLookup = (
  hostname: string,
  options: object,
  callback: (err: Error | null, addresses: Array<{ address: string; family: 4 | 6 }>) => void,
) => void;

export interface EgressGuard {
  /** Throws an EgressRefusedError when the URL's scheme, host or port is not allowed. */
  checkUrl(url: string): void;
  /** The DNS lookup for requests to `url` (checkUrl first): refuses inside addresses of vendor hosts. */
  lookupFor(url: string): EgressLookup;
}

export interface EgressOptions {
  /** The channel's vendor hosts (its module's `vendorHosts`). */
  vendorHosts: readonly string[];
  /** HERALD_WEBHOOK_ALLOW_HOSTS. */
  allowHosts: readonly AllowedHost[];
  /** For messages, e.g. "DingTalk robot". */
  label: string;
  /** The variable that lists allowed hosts, named in refusals (default HERALD_WEBHOOK_ALLOW_HOSTS). */
  allowVariable?: string;
  /**
   * Any public host over https (status webhooks: the business's own services), instead of vendor hosts
   * only; inside addresses still need the allow-list.
   */
  anyHttpsHost?: boolean;
  /** Tests of DNS rebinding give their own resolver. */
  lookup?: (
    hostname: string,
    options: { all: true },
    callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
  ) => void;
}

export function createEgressGuard(opts: EgressOptions): EgressGuard {
  const vendors = new Set(opts.vendorHosts.map(normalHost));
  const resolve = opts.lookup ?? dns.lookup;
  const variable = opts.allowVariable ?? ALLOW_HOSTS_VARIABLE;

  const target = (raw: string) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new EgressRefusedError(`"${raw}" is not a URL`);
    }
    const host = normalHost(url.hostname);
    const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    const listed = opts.allowHosts.some((a) => a.host === host && (a.port === undefined || a.port === port));
    return { url, host, port, listed };
  };

  return {
    checkUrl(raw) {
      const { url, host, port, listed } = target(raw);
      if (listed && (url.protocol === 'https:' || url.protocol === 'http:')) return;
      if (opts.anyHttpsHost) {
        if (url.protocol === 'https:') return;
        throw new EgressRefusedError(
          `${opts.label} URLs use https; for http to "${host}", add it to ${variable}`,
        );
      }
      const known = [...vendors].join(', ') || 'none';
      if (!vendors.has(host))
        throw new EgressRefusedError(
          `host "${host}" is not a ${opts.label} host (${known}); to allow it, add it to ${variable}`,
        );
      if (url.protocol !== 'https:' || port !== 443)
        throw new EgressRefusedError(
          `${opts.label} host "${host}" is reached over https on port 443; for another scheme or port, add "${host}:${port}" to ${variable}`,
        );
    },
    lookupFor(raw) {
      const { host, listed } = target(raw);
      return (hostname, _options, callback) => {
        resolve(hostname, { all: true }, (err, found) => {
          if (err) return callback(err, []);
          const bad = listed ? undefined : found.find((a) => isInsideAddress(a.address));
          if (bad)
            return callback(
              new EgressRefusedError(
                `host "${host}" resolved to the private address ${bad.address}; only hosts in ${variable} may`,
              ),
              [],
            );
          callback(
            null,
            found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })),
          );
        });
      };
    },
  };
}
