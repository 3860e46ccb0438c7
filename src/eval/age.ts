// `--adults-only`: which rows of the labels CSV are adults. The shared CSVs write ages as years ("52"),
// sometimes with a plus ("67+"); DICOM writes an Age String ("045Y", "018M"). Anything else ("early
// 40s", empty) is no readable age, and the row's collection decides: the pediatric collection is left
// out, every other collection is adult (the same rule as the `adult` subset).

export const ADULT_AGE = 18;

/** Collections whose name starts with this are pediatric; every other collection is adult. */
export const PEDIATRIC_PREFIX = 'kermany';

export function isAdultCollection(dataset: string): boolean {
  return !dataset.toLowerCase().startsWith(PEDIATRIC_PREFIX);
}

const YEARS = /^(\d+(?:\.\d+)?)\s*(?:\+|y|yr|yrs|year|years)?$/i;
const DICOM_AGE = /^(\d{3})([DWMY])$/i;
const UNIT_YEARS: Record<string, number> = { D: 365.25, W: 365.25 / 7, M: 12, Y: 1 };

/** Age in years, or undefined when the field holds no age we can read. */
export function parseAge(text: string): number | undefined {
  const t = text.trim();
  const dicom = DICOM_AGE.exec(t);
  if (dicom) return Number(dicom[1]) / UNIT_YEARS[dicom[2]!.toUpperCase()]!;
  const years = YEARS.exec(t);
  return years ? Number(years[1]) : undefined;
}

export type AgeDecision = 'adult' | 'under-age' | 'adult-without-age' | 'pediatric-without-age';

/** Whether a row counts as an adult; `age` is undefined when the CSV has no age column. */
export function ageDecision(age: string | undefined, dataset: string): AgeDecision {
  const years = age === undefined ? undefined : parseAge(age);
  if (years !== undefined) return years >= ADULT_AGE ? 'adult' : 'under-age';
  return isAdultCollection(dataset) ? 'adult-without-age' : 'pediatric-without-age';
}
