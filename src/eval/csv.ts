// Minimal RFC 4180 CSV reading (quoted fields, doubled quotes, CRLF or LF, BOM) for the evaluation
// inputs: the labels CSV, the split file. No dependency: the files are small and plain.

/** Parses CSV text into rows of fields; blank lines are dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else inQuotes = false;
    } else if (c === '"') inQuotes = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

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
