// The DICOM JSON Model (PS3.18 F.2): just what our responses need.
export interface DicomJsonElement {
  vr: string;
  Value?: unknown[];
}
export type DicomJson = Record<string, DicomJsonElement>;

/** An element; an empty or absent value gives an element with no Value (a zero-length attribute). */
export function el(vr: string, ...values: Array<string | number | DicomJson | { Alphabetic: string } | undefined | null>): DicomJsonElement {
  const present = values.filter((v): v is NonNullable<typeof v> => v !== undefined && v !== null && v !== '');
  return present.length > 0 ? { vr, Value: present } : { vr };
}

/** Drops zero-length elements, which some clients render as "missing". */
export function compact(item: DicomJson): DicomJson {
  return Object.fromEntries(Object.entries(item).filter(([, v]) => v.Value !== undefined && v.Value.length > 0));
}
