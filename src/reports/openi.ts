// The Open-i (Indiana University) chest radiograph reports, read straight from the published
// NLMCXR_reports.tgz: the reference set the labeller's rules are measured against (docs/reports.md).
// The archive is test and evaluation data only (CC BY-NC-ND): it is read where it lies, never copied.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PrecedentError } from '../shared/errors.js';

export interface OpenIReport {
  /** The file's number (ecgen-radiology/<id>.xml). */
  id: string;
  sections: Record<string, string>;
  /** Human MeSH indexing: `major` terms such as `normal`, `Cardiomegaly/mild`, `Pleural Effusion/right`. */
  major: string[];
}

/** Plain files of a POSIX (ustar) tar: name -> content. Only what the published archive uses. */
export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number): string => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const type = field(156, 1);
    if (type === '0' || type === '') files.set(name, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** One report file: its sections and MeSH major terms (the files are regular; no general XML parser needed). */
export function parseOpenIXml(id: string, xml: string): OpenIReport {
  const sections: Record<string, string> = {};
  for (const m of xml.matchAll(/<AbstractText Label="([A-Z]+)">([\s\S]*?)<\/AbstractText>/g)) sections[m[1]!] = decodeXml(m[2]!).trim();
  const major = [...xml.matchAll(/<major>([\s\S]*?)<\/major>/g)].map((m) => decodeXml(m[1]!).trim());
  return { id, sections, major };
}

/** Every report of NLMCXR_reports.tgz, in file-number order. */
export function readOpenIReports(tgzPath: string): OpenIReport[] {
  let files: Map<string, Buffer>;
  try {
    files = readTar(gunzipSync(readFileSync(tgzPath)));
  } catch (err) {
    throw new PrecedentError('INPUT_INVALID', `${tgzPath}: not a readable .tgz of Open-i reports`, { cause: err });
  }
  const reports: OpenIReport[] = [];
  for (const [name, content] of files) {
    const m = /(?:^|\/)(\d+)\.xml$/.exec(name);
    if (m) reports.push(parseOpenIXml(m[1]!, content.toString('utf8')));
  }
  if (reports.length === 0) throw new PrecedentError('INPUT_INVALID', `${tgzPath}: holds no ecgen-radiology/<n>.xml report`);
  return reports.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Reference status from the indexers' MeSH terms: `normal`, abnormal (any finding), or none (not indexed). */
export function meshStatus(major: readonly string[]): 'normal' | 'abnormal' | undefined {
  const findings = major.filter((t) => !/^(No Indexing|Technical Quality of Image Unsatisfactory)\s*$/i.test(t));
  if (findings.length === 0) return undefined;
  if (findings.some((t) => t.toLowerCase() === 'normal')) return findings.length === 1 ? 'normal' : 'abnormal';
  return 'abnormal';
}
