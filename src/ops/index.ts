// ops/: the operations surface: Prometheus metrics behind shared/metrics.ts, readiness checks and the
// HTTP API on its own port.
export { createPromMetrics, type PromMetrics, type GaugeSources } from './metrics.js';
export { createOpsServer, type OpsServer, type OpsServerDeps, type Lifecycle } from './server.js';
export { nodeChecks, runChecks, type ReadinessCheck, type CheckResult, type NodeCheckDeps, type ReadinessReport } from './readiness.js';
