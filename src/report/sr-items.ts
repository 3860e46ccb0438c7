// SR content items (PS3.3 C.17.3 Document Content Macro) in dcmjs naturalized form. One
// constructor per Value Type keeps each item's attributes right by construction.
import { ds, type NaturalDataset } from './common.js';
import type { Code } from './codes.js';

export type RelationshipType = 'CONTAINS' | 'HAS PROPERTIES' | 'HAS OBS CONTEXT' | 'HAS ACQ CONTEXT' | 'HAS CONCEPT MOD' | 'INFERRED FROM' | 'SELECTED FROM';

export type ContentItem = NaturalDataset;

const concept = (name: Code): NaturalDataset[] => [{ ...name }];

function item(relationship: RelationshipType, valueType: string, name: Code | undefined, value: NaturalDataset, children: ContentItem[] = []): ContentItem {
  const out: ContentItem = { RelationshipType: relationship, ValueType: valueType };
  if (name) out['ConceptNameCodeSequence'] = concept(name);
  Object.assign(out, value);
  if (children.length > 0) out['ContentSequence'] = children;
  return out;
}

/**
 * Orthanc Explorer hides any string over 256 characters ("Too long"): every TEXT stays under it.
 * Callers write short sentences; the cut is only a guard against unusually many labels or outcomes.
 */
export const MAX_TEXT = 255;

export function text(relationship: RelationshipType, name: Code, value: string, children: ContentItem[] = []): ContentItem {
  const short = value.length <= MAX_TEXT ? value : `${value.slice(0, MAX_TEXT - 3)}...`;
  return item(relationship, 'TEXT', name, { TextValue: short }, children);
}

export function codeItem(relationship: RelationshipType, name: Code, value: Code, children: ContentItem[] = []): ContentItem {
  return item(relationship, 'CODE', name, { ConceptCodeSequence: [{ ...value }] }, children);
}

export function num(relationship: RelationshipType, name: Code, value: number, units: Code, children: ContentItem[] = []): ContentItem {
  return item(relationship, 'NUM', name, { MeasuredValueSequence: [{ NumericValue: ds(value), MeasurementUnitsCodeSequence: [{ ...units }] }] }, children);
}

export function uidref(relationship: RelationshipType, name: Code, uid: string): ContentItem {
  return item(relationship, 'UIDREF', name, { UID: uid });
}

export function date(relationship: RelationshipType, name: Code, value: string): ContentItem {
  return item(relationship, 'DATE', name, { Date: value });
}

/**
 * Spatial coordinates in the image's pixel space (C.18.6), with the image as their one SELECTED FROM
 * child (the Comprehensive 3D SR way of saying which image).
 */
export function scoord(relationship: RelationshipType, name: Code, graphicType: 'POINT' | 'POLYLINE', data: number[], on: ContentItem): ContentItem {
  return item(relationship, 'SCOORD', name, { GraphicType: graphicType, GraphicData: data }, [on]);
}

/** An IMAGE reference; the concept name is optional for IMAGE (C.17.3.2.1) except where a viewer needs it. */
export function image(relationship: RelationshipType, name: Code | undefined, sopClassUID: string, sopInstanceUID: string): ContentItem {
  return item(relationship, 'IMAGE', name, { ReferencedSOPSequence: [{ ReferencedSOPClassUID: sopClassUID, ReferencedSOPInstanceUID: sopInstanceUID }] });
}

/** A CONTAINER; SEPARATE: its children are independent statements, not one running text. */
export function container(relationship: RelationshipType, name: Code, children: ContentItem[]): ContentItem {
  return item(relationship, 'CONTAINER', name, { ContinuityOfContent: 'SEPARATE' }, children);
}
