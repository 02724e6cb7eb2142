// Every scenario of the suite, in the order the table lists them.
import { agentKilled, agentsLost, twoAgentsOneHost } from './agent-scenarios.js';
import { clusterMemberFaults } from './cluster-scenarios.js';
import { controllerKilled, leaderFrozen } from './controller-scenarios.js';
import { assignmentsVandalised, etcdKilled, etcdRestoredOld, etcdWiped } from './etcd-scenarios.js';
import { directorTypo } from './render-scenarios.js';
import type { Scenario } from './scenario-run.js';
import { commitStorm } from './storm-scenarios.js';

export const SCENARIOS: readonly Scenario[] = [
  etcdKilled,
  etcdWiped,
  etcdRestoredOld,
  assignmentsVandalised,
  controllerKilled,
  leaderFrozen,
  agentKilled,
  agentsLost,
  twoAgentsOneHost,
  directorTypo,
  commitStorm,
  clusterMemberFaults,
];
