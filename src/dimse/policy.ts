// Who may associate. Pure decisions, so they are tested without sockets.
import { isIP } from 'node:net';

export type AssociationDecision =
  | { accept: true }
  | {
      accept: false;
      transient: boolean;
      source: 'service-user' | 'service-provider-presentation';
      reason: 'no-reason' | 'calling-ae' | 'called-ae' | 'local-limit';
      why: string;
    };

export interface AssociationPolicy {
  aeTitles: readonly string[]; // titles we answer to
  allowedCallingAETitles: readonly string[];
  allowedHosts: readonly string[];
  maxAssociations: number;
}

export interface AssociationAttempt {
  calledAETitle: string;
  callingAETitle: string;
  remoteAddress: string;
  activeAssociations: number;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

/** Strips the IPv4-mapped IPv6 prefix that dual-stack sockets report. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** An allowed-hosts entry is an IP address or an IPv4 CIDR block (10.1.0.0/16). */
export function hostAllowed(address: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const ip = normaliseAddress(address);
  return allowed.some((entry) => {
    const [net, bits] = entry.split('/');
    if (bits === undefined || net === undefined) return normaliseAddress(entry) === ip;
    if (isIP(ip) !== 4 || isIP(net) !== 4) return false;
    const prefix = Number(bits);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
  });
}

export function decideAssociation(policy: AssociationPolicy, attempt: AssociationAttempt): AssociationDecision {
  if (!hostAllowed(attempt.remoteAddress, policy.allowedHosts)) {
    return { accept: false, transient: false, source: 'service-user', reason: 'no-reason', why: 'host not in dimse.allowedHosts' };
  }
  if (!policy.aeTitles.includes(attempt.calledAETitle)) {
    return { accept: false, transient: false, source: 'service-user', reason: 'called-ae', why: 'called AE title not recognised' };
  }
  if (policy.allowedCallingAETitles.length > 0 && !policy.allowedCallingAETitles.includes(attempt.callingAETitle)) {
    return { accept: false, transient: false, source: 'service-user', reason: 'calling-ae', why: 'calling AE title not in dimse.allowedCallingAETitles' };
  }
  if (attempt.activeAssociations >= policy.maxAssociations) {
    return { accept: false, transient: true, source: 'service-provider-presentation', reason: 'local-limit', why: 'dimse.maxAssociations reached' };
  }
  return { accept: true };
}
