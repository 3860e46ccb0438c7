// Value types shared by the configuration sections.
import { z } from 'zod';

// AE titles are at most 16 characters of the default character repertoire, no backslash (PS3.5 6.2).
export const aeTitle = z
  .string()
  .trim()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE title: printable ASCII without backslash');

export const seconds = z.number().positive();

export const port = z.number().int().min(0).max(65535);
