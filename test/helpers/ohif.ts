// The built OHIF viewer (dist/ of @ohif/app, unpacked by scripts/fetch-ohif.sh) served by a small node
// http server, with an app-config.js whose only data source is one DICOMweb root: the test Orthanc's or
// Precedent's own. The server forwards that root's path to its server, so the viewer reads it from its
// own origin (neither Orthanc nor Precedent sends CORS headers) — as a site's reverse proxy would.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { REPO_ROOT } from '../fixtures/shared.js';

export const OHIF_VERSION = '3.13.2';
export const OHIF_DIST = join(REPO_ROOT, 'vendor', 'ohif', OHIF_VERSION, 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** OHIF's app-config: one DICOMweb data source (OHIF's documented settings for Orthanc's plugin). */
export function appConfig(dicomwebRoot: string): string {
  const config = {
    routerBasename: '/',
    extensions: [],
    modes: [],
    showStudyList: true,
    maxNumberOfWebWorkers: 1,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    showLoadingIndicator: true,
    showErrorDetails: 'always',
    investigationalUseDialog: { option: 'never' },
    defaultDataSourceName: 'orthanc',
    dataSources: [
      {
        namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
        sourceName: 'orthanc',
        configuration: {
          friendlyName: 'Test Orthanc (PACS)',
          name: 'orthanc',
          wadoUriRoot: dicomwebRoot,
          qidoRoot: dicomwebRoot,
          wadoRoot: dicomwebRoot,
          qidoSupportsIncludeField: true,
          imageRendering: 'wadors',
          thumbnailRendering: 'wadors',
          enableStudyLazyLoad: true,
          supportsFuzzyMatching: true,
          supportsWildcard: true,
          omitQuotationForMultipartRequest: true,
          bulkDataURI: { enabled: true },
        },
      },
    ],
  };
  return `window.config = ${JSON.stringify(config, null, 2)};\n`;
}

export interface OhifServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves OHIF on a free port. `dicomwebRoot` is the DICOMweb root URL: Orthanc's plugin
 * (`<orthanc>/dicom-web`) or Precedent's (`<node>/dicomweb`); its path is proxied unchanged.
 */
export async function startOhif(dicomwebRoot: string): Promise<OhifServer> {
  if (!existsSync(join(OHIF_DIST, 'index.html'))) throw new Error(`${OHIF_DIST} is missing: run scripts/install-test-peers.sh (it runs scripts/fetch-ohif.sh)`);
  const upstream = new URL(dicomwebRoot);
  const rootPath = upstream.pathname.replace(/\/+$/, '');
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    if (path.startsWith(`${rootPath}/`)) {
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
      return;
    }
    if (path === '/app-config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] }).end(appConfig(rootPath));
      return;
    }
    const file = join(OHIF_DIST, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    // A route of the single-page app (/viewer, /) is its index.html.
    const target = existsSync(file) && statSync(file).isFile() ? file : join(OHIF_DIST, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
    createReadStream(target).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
