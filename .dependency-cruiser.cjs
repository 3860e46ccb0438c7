// Architecture rules (see docs/architecture in README): no cycles; leaf capabilities never import one
// another, only the foundations shared/ and dicom/ (and config types); the edges (dimse, dicomweb) reach the core through ingest's
// interface only; archive/ composes some leaves; only the assembly folder (app/: one composition root per process) and the CLI know everyone.
const LEAVES = ['store', 'ingest', 'queue', 'jobs', 'remote', 'decode', 'embed', 'index', 'report', 'reports', 'export', 'eval', 'ops'];
const EDGES = ['dimse', 'dicomweb'];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...[...LEAVES, ...EDGES].map((folder) => ({
      name: `${folder}-is-a-leaf`,
      comment: `${folder}/ may import only itself, shared/, dicom/ and config/`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: '^src/', pathNot: [`^src/${folder}/`, '^src/shared/', '^src/dicom/', '^src/config/', '^src/types/'] },
    })),
    {
      // The archive composes leaves (store's case store, ingest's header reader, index's retriever, decode
      // for import's images); it is opened by app/ and the CLI, and knows neither them nor the edges.
      name: 'archive-composes-leaves-only',
      comment: 'archive/ may import itself, shared/, dicom/, config/ and the leaves store, ingest, index, decode',
      severity: 'error',
      from: { path: '^src/archive/' },
      to: { path: '^src/', pathNot: ['^src/(archive|shared|dicom|config|types|store|ingest|index|decode)/'] },
    },
    {
      // app/ assembles the processes and may import everything; only the command line starts them.
      name: 'only-the-cli-imports-app',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/app/', '^src/commands/', '^src/cli\\.ts$'] },
      to: { path: '^src/app/' },
    },
    {
      name: 'shared-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: ['^src/shared/', '^src/types/'] },
    },
    {
      // dicom/ is the DICOM foundation (UIDs, statuses, the header reader): shared/ may not import it,
      // so the two foundations cannot form a cycle.
      name: 'dicom-imports-only-shared',
      severity: 'error',
      from: { path: '^src/dicom/' },
      to: { path: '^src/', pathNot: ['^src/dicom/', '^src/shared/', '^src/types/'] },
    },
    {
      name: 'config-imports-only-shared',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/config/', '^src/shared/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/types/' },
  },
};
