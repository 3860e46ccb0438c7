// docs/configuration.md's key reference is generated from the zod schema: this fails when the
// committed file is out of date (fix: `npm run docs:config`), and checks the generator against the
// schema it reads.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BEGIN_MARKER, END_MARKER, envName, renderConfigReference, schemaComments, spliceReference } from '../src/config/reference.js';
import { configSchema, envOverrides } from '../src/config/index.js';

const doc = readFileSync('docs/configuration.md', 'utf8');

describe('configuration reference', () => {
  it('docs/configuration.md is up to date with the schema (run `npm run docs:config`)', () => {
    expect(doc).toContain(BEGIN_MARKER);
    expect(doc).toContain(END_MARKER);
    expect(spliceReference(doc, renderConfigReference())).toBe(doc);
  });

  it('lists every section and key of the schema, with environment names the loader accepts', () => {
    const generated = renderConfigReference();
    for (const [section, schema] of Object.entries(configSchema.shape)) {
      expect(generated).toContain(`### \`${section}\``);
      const inner = (schema as unknown as { def: { innerType: { shape: Record<string, unknown> } } }).def.innerType;
      for (const key of Object.keys(inner.shape)) {
        expect(generated).toContain(`| \`${section}.${key}\` |`);
        const name = envName([section, key]);
        expect(envOverrides({ [name]: '1' }).unknown).toEqual([]);
      }
    }
  });

  it('takes meanings from the JSDoc comments next to the keys', () => {
    const comments = schemaComments();
    expect(comments.get('dicomweb.maxRequestBytes')).toMatch(/413/);
    expect(comments.get('dimse.tls.requireClientCert')).toMatch(/mutual TLS/);
    expect(comments.get('export.destinations[].tls.ca')).toMatch(/CA certificate/);
  });
});
