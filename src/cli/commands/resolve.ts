// ygg resolve SERVICE: the live endpoints of a service from naming/, the lookup operators use instead
// of static IP lists. One read, no watch.
import { compareEndpoints } from '../../render/compare-endpoints.js';
import { isNamingRecord } from '../../store/record-checks.js';
import type { NamingRecord } from '../../store/records.js';
import { withEtcd } from '../cluster.js';
import { choice, type Command } from '../command.js';
import { ETCD_OPTIONS, type EtcdFlagValues } from '../etcd-options.js';
import { formatTable } from '../format-table.js';
import { OUTPUT_OPTION } from '../repo-options.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from '../usage-error.js';

export const resolveCommand: Command<EtcdFlagValues & { output?: string }> = {
  name: 'resolve',
  summary: 'Print the live, healthy endpoints of a service (from naming/).',
  usage: 'resolve SERVICE [--etcd URL[,URL]] [--output text|json]',
  options: { ...ETCD_OPTIONS, ...OUTPUT_OPTION },
  positionals: ['SERVICE'],
  details: 'Endpoints are sorted by ip then port. Exit code: 0 when the service has live endpoints, 1 when it has none (or etcd cannot be read).',
  async run(values, positionals, io) {
    const service = positionals[0];
    if (!service) throw new UsageError('missing SERVICE');
    const output = choice(values.output, 'output', ['text', 'json'], 'text');
    const endpoints = await readEndpoints(values, service);
    if (output === 'json') {
      io.stdout(JSON.stringify({ service, endpoints: endpoints.map(({ ip, port, host, job, specHash, weight }) => ({ address: `${ip}:${port}`, ip, port, host, job, specHash, weight })) }, null, 2));
    } else if (endpoints.length === 0) {
      io.stderr(`ygg resolve: service "${service}" has no live endpoint`);
    } else {
      io.stdout(formatTable(['ENDPOINT', 'HOST', 'JOB', 'SPEC'], endpoints.map((endpoint) => [`${endpoint.ip}:${endpoint.port}`, endpoint.host, endpoint.job, endpoint.specHash.slice(0, 12)])));
    }
    return endpoints.length > 0 ? EXIT_OK : EXIT_FINDINGS;
  },
};

function readEndpoints(values: EtcdFlagValues, service: string): Promise<NamingRecord[]> {
  return withEtcd(values, async ({ store, layout }) => {
    const read = await store.getPrefixJson(layout.namings(service), isNamingRecord);
    return [...read.entries.values()].map((entry) => entry.value).sort(compareEndpoints);
  });
}
