// dimse.allowedHosts entries: an IPv4 or IPv6 address, or an IPv4 CIDR block. Validated here, so that
// a typo fails the configuration instead of matching nobody (999.1.1.1) or everybody (10.0.0.0/, which
// once parsed as a /0); and a list that no peer the listener can accept would ever match is found
// before the PACS's first association is refused.
import { isIP } from 'node:net';
import { z } from 'zod';

function problem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) ? undefined : 'not an IPv4 or IPv6 address (host names are not resolved)';
  const [net, bits] = [entry.slice(0, slash), entry.slice(slash + 1)];
  if (isIP(net) === 6) return 'IPv6 CIDR blocks are not supported: list the IPv6 addresses';
  if (isIP(net) !== 4) return 'a CIDR block needs an IPv4 network address before the slash';
  if (!/^\d{1,2}$/.test(bits) || Number(bits) > 32) return 'a CIDR prefix length is a whole number 0-32 after the slash';
  return undefined;
}

export const allowedHost = z
  .string()
  .trim()
  .min(1)
  .superRefine((entry, ctx) => {
    const why = problem(entry);
    if (why) ctx.addIssue({ code: 'custom', message: `"${entry}": ${why}` });
  });

const UNSPECIFIED = new Set(['0.0.0.0', '::', '0.0.0.0/32']);

const ipv4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** Whether the entry lets a peer on the loopback interface (127.0.0.1 or ::1) in. */
function coversLoopback(entry: string): boolean {
  if (entry === '::1' || entry.startsWith('127.')) return true;
  const [net, bits] = entry.split('/');
  if (bits === undefined || net === undefined || isIP(net) !== 4) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(net) / size) === Math.floor(ipv4('127.0.0.1') / size);
}

/**
 * Why no peer could ever associate with this list on this listener, or undefined. Checked at start
 * (a warning: the list is the operator's to decide, but a locked door should not be a surprise).
 */
export function allowedHostsLockout(listenHost: string, allowed: readonly string[]): string | undefined {
  if (allowed.length === 0) return undefined;
  const real = allowed.filter((e) => !UNSPECIFIED.has(e));
  if (real.length === 0) return 'every entry is an unspecified address (0.0.0.0, ::), which no peer has';
  const family = isIP(listenHost);
  const v4 = real.filter((e) => isIP(e.split('/')[0] ?? '') === 4);
  const v6 = real.filter((e) => isIP(e) === 6 && !e.toLowerCase().startsWith('::ffff:'));
  if (family === 4 && v4.length === 0) return `dimse.host ${listenHost} accepts IPv4 peers only, and every entry is an IPv6 address`;
  if (family === 6 && listenHost !== '::' && v6.length === 0) return `dimse.host ${listenHost} accepts IPv6 peers only, and every entry is IPv4`;
  const loopbackOnly = listenHost === '::1' || /^127\./.test(listenHost) || listenHost === 'localhost';
  if (loopbackOnly && !real.some(coversLoopback)) return `dimse.host ${listenHost} accepts local peers only, and no entry is a loopback address`;
  return undefined;
}
