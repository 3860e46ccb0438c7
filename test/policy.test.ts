import { describe, expect, it } from 'vitest';
import { decideAssociation, hostAllowed } from '../src/dimse/policy.js';
import { chooseTransferSyntax } from '../src/dimse/syntaxes.js';

const policy = { aeTitles: ['PRECEDENT'], allowedCallingAETitles: ['PACS'], allowedHosts: [], maxAssociations: 2 };
const attempt = { calledAETitle: 'PRECEDENT', callingAETitle: 'PACS', remoteAddress: '10.0.0.5', activeAssociations: 0 };

describe('association policy', () => {
  it('accepts a known caller', () => {
    expect(decideAssociation(policy, attempt)).toEqual({ accept: true });
  });
  it('rejects a wrong called AE title with reason called-ae', () => {
    expect(decideAssociation(policy, { ...attempt, calledAETitle: 'OTHER' })).toMatchObject({ accept: false, reason: 'called-ae', transient: false });
  });
  it('rejects a calling AE not on the list with reason calling-ae', () => {
    expect(decideAssociation(policy, { ...attempt, callingAETitle: 'MALLORY' })).toMatchObject({ accept: false, reason: 'calling-ae' });
  });
  it('accepts any calling AE when the list is empty', () => {
    expect(decideAssociation({ ...policy, allowedCallingAETitles: [] }, { ...attempt, callingAETitle: 'ANY' })).toEqual({ accept: true });
  });
  it('rejects transiently at the association limit', () => {
    expect(decideAssociation(policy, { ...attempt, activeAssociations: 2 })).toMatchObject({ accept: false, reason: 'local-limit', transient: true });
  });
  it('matches hosts by address and IPv4 CIDR, including IPv4-mapped IPv6', () => {
    expect(hostAllowed('10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(hostAllowed('::ffff:10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(hostAllowed('10.2.0.1', ['10.1.0.0/16'])).toBe(false);
    expect(hostAllowed('192.168.1.9', ['192.168.1.9'])).toBe(true);
    expect(hostAllowed('192.168.1.9', [])).toBe(true);
    expect(decideAssociation({ ...policy, allowedHosts: ['127.0.0.1'] }, attempt)).toMatchObject({ accept: false, reason: 'no-reason' });
  });
});

describe('transfer syntax selection', () => {
  const CR = '1.2.840.10008.5.1.4.1.1.1';
  it('honours the requestor order among supported syntaxes', () => {
    expect(chooseTransferSyntax(CR, ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.1'])).toBe('1.2.840.10008.1.2.4.80');
    expect(chooseTransferSyntax(CR, ['1.2.840.10008.1.2.2', '1.2.840.10008.1.2'])).toBe('1.2.840.10008.1.2');
  });
  it('accepts HTJ2K and deflate, refuses unknown syntaxes and non-storage classes', () => {
    expect(chooseTransferSyntax(CR, ['1.2.840.10008.1.2.4.201'])).toBe('1.2.840.10008.1.2.4.201');
    expect(chooseTransferSyntax(CR, ['1.2.840.10008.1.2.1.99'])).toBe('1.2.840.10008.1.2.1.99');
    expect(chooseTransferSyntax(CR, ['1.2.3.4'])).toBeUndefined();
    expect(chooseTransferSyntax('1.2.840.10008.5.1.4.1.2.1.1', ['1.2.840.10008.1.2'])).toBeUndefined();
  });
  it('verification uses uncompressed syntaxes only', () => {
    expect(chooseTransferSyntax('1.2.840.10008.1.1', ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2'])).toBe('1.2.840.10008.1.2');
  });
});
