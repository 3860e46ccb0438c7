// Readiness: every check answers within a timeout; /readyz lists the failing ones by name.
export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface ReadinessCheck {
  name: string;
  run: () => Promise<CheckResult> | CheckResult;
}

export interface ReadinessReport {
  ready: boolean;
  failing: string[];
  checks: Array<CheckResult & { name: string; ms: number }>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const started = performance.now();
      let result: CheckResult;
      try {
        result = await withTimeout(Promise.resolve().then(c.run), timeoutMs, c.name);
      } catch (err) {
        result = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
      return { name: c.name, ...result, ms: Math.round(performance.now() - started) };
    }),
  );
  const failing = results.filter((r) => !r.ok).map((r) => r.name);
  return { ready: failing.length === 0, failing, checks: results };
}

export interface NodeCheckDeps {
  /** A catalog query (throws when the database is unusable). */
  catalog: () => number;
  queueDepth: () => Promise<number>;
  diskFreeBytes: () => number;
  minFreeBytes: number;
  /** ok: a model is loaded, or analysis is explicitly elsewhere/absent (detail says which). */
  model: () => CheckResult;
}

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`;

/** The checks of `precedent serve` (and, without the disk check, of `precedent worker`). */
export function nodeChecks(deps: NodeCheckDeps): ReadinessCheck[] {
  return [
    { name: 'catalog', run: () => ({ ok: true, detail: `${deps.catalog()} instances catalogued` }) },
    { name: 'queue', run: async () => ({ ok: true, detail: `${await deps.queueDepth()} jobs waiting or running` }) },
    {
      name: 'disk',
      run: () => {
        const free = deps.diskFreeBytes();
        const ok = free >= deps.minFreeBytes;
        return { ok, detail: `${gib(free)} free, watermark ${gib(deps.minFreeBytes)}${ok ? '' : ': objects are refused (0xA700 / HTTP 507)'}` };
      },
    },
    { name: 'model', run: deps.model },
  ];
}
