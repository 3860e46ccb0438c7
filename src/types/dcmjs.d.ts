// dcmjs ships no type declarations; this covers the parts Precedent uses.
declare module 'dcmjs' {
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
  }
  export type DicomDataset = Record<string, DicomElement>;
  export interface DicomDict {
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  interface ReadOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }
  const dcmjs: {
    data: {
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict;
      };
      DicomDict: new (meta: DicomDataset) => DicomDict;
      ValueRepresentation: {
        /** The VR dcmjs reads `type` as (an unknown type becomes UN, OW or US). */
        createByTypeString(type: string): { type: string; maxLength: number | null; isLength32(): boolean; isBinary(): boolean };
      };
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DicomDataset): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
        uid(): string;
        /** "(gggg,eeee)" -> entry. */
        dictionary: Record<string, { tag: string; vr: string; name: string } | undefined>;
        /** Keyword -> entry. */
        nameMap: Record<string, { tag: string; vr: string; name: string } | undefined>;
      };
    };
    log: { setLevel(level: string): void; getLogger(name: string): { setLevel(level: string): void } };
  };
  export default dcmjs;
}
