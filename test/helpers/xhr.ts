// dicomweb-client (the DICOMweb community's JavaScript client, used as the third-party client in
// tests) speaks XMLHttpRequest, which Node 20 lacks. This is the part of XMLHttpRequest it uses
// (open, setRequestHeader, responseType, send, readyState/onreadystatechange, status, response,
// getResponseHeader, getAllResponseHeaders) over Node's own fetch, so the client's URL building,
// parameter encoding and response decoding run unchanged. Install with installXhr().
export class FetchXhr {
  readyState = 0;
  status = 0;
  responseType: '' | 'json' | 'arraybuffer' | 'text' = '';
  response: unknown = null;
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: (() => void) | null = null;
  private method = 'GET';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private responseHeaders: Headers | undefined;

  open(method: string, url: string): void {
    this.method = method.toUpperCase();
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders?.get(name) ?? null;
  }

  getAllResponseHeaders(): string {
    return [...(this.responseHeaders?.entries() ?? [])].map(([k, v]) => `${k}: ${v}\r\n`).join('');
  }

  send(body?: RequestInit['body']): void {
    this.onloadstart?.();
    void fetch(this.url, { method: this.method, headers: this.headers, ...(body === undefined ? {} : { body }) }).then(
      async (res) => {
        this.status = res.status;
        this.responseHeaders = res.headers;
        const bytes = await res.arrayBuffer();
        const text = (): string => Buffer.from(bytes).toString('utf8');
        if (this.responseType === 'arraybuffer') this.response = bytes;
        else if (this.responseType === 'json') this.response = parseJson(text());
        else this.response = text();
        this.finish();
      },
      () => {
        this.status = 0;
        this.finish();
      },
    );
  }

  private finish(): void {
    this.readyState = 4;
    this.onreadystatechange?.();
    this.onloadend?.();
  }
}

export function installXhr(): void {
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FetchXhr;
}

/** As XMLHttpRequest: a body that is not JSON gives a null response, not an exception. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
