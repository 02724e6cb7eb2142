// Every scenario of the suite, in the order the table lists them.
import { assignmentsVandalised, etcdKilled, etcdRestoredOld, etcdWiped } from './etcd-scenarios.js';
import type { Scenario } from './scenario-run.js';

export const SCENARIOS: readonly Scenario[] = [etcdKilled, etcdWiped, etcdRestoredOld, assignmentsVandalised];
