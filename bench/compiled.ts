// The compiled modules (npm run build) the benchmarks measure: users run dist/, not the TypeScript
// sources under tsx. One place, typed by the sources.
const load = <T>(module: string): Promise<T> => import(new URL(`../dist/${module}`, import.meta.url).href) as Promise<T>;

export const { computePlan } = await load<typeof import('../src/plan/compute-plan.js')>('plan/compute-plan.js');
export const { placeInstances } = await load<typeof import('../src/plan/place-instances.js')>('plan/place-instances.js');
export const { GitSource } = await load<typeof import('../src/repo/git-source.js')>('repo/git-source.js');
export const { RepoLoader } = await load<typeof import('../src/repo/load-repo.js')>('repo/load-repo.js');
export const { createSchemaValidator } = await load<typeof import('../src/repo/schema-validator.js')>('repo/schema-validator.js');
export const { runController } = await load<typeof import('../src/controller/run-controller.js')>('controller/run-controller.js');
export const { EtcdStateStore } = await load<typeof import('../src/store/state-store.js')>('store/state-store.js');
export const { connectEtcd } = await load<typeof import('../src/store/etcd-connection.js')>('store/etcd-connection.js');
export const { anyJson } = await load<typeof import('../src/store/decode-entry.js')>('store/decode-entry.js');
export const { keyLayout } = await load<typeof import('../src/store/keys.js')>('store/keys.js');
export const { createConsoleApi } = await load<typeof import('../src/server/console/console-api.js')>('server/console/console-api.js');
export const { startHttpServer } = await load<typeof import('../src/server/http-server.js')>('server/http-server.js');
export const { createControllerMetrics } = await load<typeof import('../src/server/metrics.js')>('server/metrics.js');
export const { buildFleetIndex } = await load<typeof import('../src/model/fleet-index.js')>('model/fleet-index.js');
export const { hashInstanceSpec } = await load<typeof import('../src/controller/spec-hash.js')>('controller/spec-hash.js');
export const { HostAgent } = await load<typeof import('../src/agent/host-agent.js')>('agent/host-agent.js');
