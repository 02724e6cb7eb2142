// Cross-document checks, through the loader: each case changes the small fleet and expects exactly
// the located lines `ygg validate` prints.
import { describe, it } from 'node:test';
import { edit } from '../fixtures/small-fleet.js';
import { assertFindings } from './load-findings.js';

describe('names of Object.prototype are not ports or labels', () => {
  it('a service on port "constructor"', () =>
    assertFindings(edit('services.yaml', 'port: http', 'port: constructor'), ['services.yaml:6:9: job frontend has no port named "constructor" (ports: http)']));

  it('a template reading host.labels.constructor needs that label on every host', () =>
    assertFindings(edit('jobs/frontend.yaml', 'listen: {{host.ip}}', 'listen: {{host.labels.constructor}}'), [
      'jobs/frontend.yaml:14:17: the template reads host.labels.constructor, but host(s) web-a1, web-a2, web-b1 and 1 more of the job\'s tree node have no label "constructor"',
    ]));
});
