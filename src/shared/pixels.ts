// What WADO-RS needs from the pixel code (decode/ implements it, on its worker threads; the DICOMweb
// edge asks): frames as stored or decoded to native samples, a whole object in another transfer
// syntax, and frame 1 rendered for display as a viewer would show it.

export interface FrameRequest {
  path: string;
  /** 1-based; undefined: every frame. */
  numbers: number[] | undefined;
  /** stored: native samples or one compressed codestream per frame, as in the file; native: decoded. */
  as: 'stored' | 'native';
}

export type FrameAnswer =
  | { ok: true; transferSyntaxUID: string; frames: Uint8Array[] }
  /** none: the object has no Pixel Data; range: a number is not one of its frames. */
  | { ok: false; why: 'none' | 'range'; frameCount: number };

export interface RenderRequest {
  path: string;
  format: 'jpeg' | 'png';
  /** The box the picture is fitted into, aspect kept (PS3.18 8.3.5.1.3 viewport); absent: its own size. */
  viewport?: { width: number; height: number };
  /** JPEG quality 1-100. */
  quality?: number;
}

export interface PixelService {
  frames(request: FrameRequest): Promise<FrameAnswer>;
  /** The Part 10 file in `transferSyntaxUID` (one of WRITABLE_SYNTAXES, dicom/uids.ts). */
  transcode(path: string, transferSyntaxUID: string): Promise<Uint8Array>;
  /** Frame 1 in display space (Modality LUT, VOI window, MONOCHROME1 inverted; colour kept) as JPEG or PNG. */
  render(request: RenderRequest): Promise<Uint8Array>;
}
