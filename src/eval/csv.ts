// CSV tables for the evaluation inputs (the labels CSV, the split file), over the one parser.
import { parseCsv } from '../shared/csv.js';

export { parseCsv };

export interface CsvTable {
  header: string[];
  /** One record per data row, keyed by header name (missing trailing fields are ''). */
  records: Array<Record<string, string>>;
}

/** Header row + records; `source` names the file in errors. */
export function readCsvTable(text: string, source: string): CsvTable {
  const [header, ...body] = parseCsv(text);
  if (header === undefined) throw new Error(`${source} is empty`);
  const names = header.map((h) => h.trim());
  const records = body.map((fields) => {
    const rec: Record<string, string> = {};
    names.forEach((name, i) => {
      rec[name] = (fields[i] ?? '').trim();
    });
    return rec;
  });
  return { header: names, records };
}
