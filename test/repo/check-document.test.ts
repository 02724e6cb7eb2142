// Checks of one document alone, through the loader: each case breaks one file of the small fleet
// and expects exactly the located lines `ygg validate` prints.
import { describe, it } from 'node:test';
import { edit } from '../fixtures/small-fleet.js';
import { assertFindings } from './load-findings.js';

describe('names of Object.prototype are not variables, ports or labels', () => {
  for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
    it(`{{${name}}} in a config template is a located unknown variable`, () =>
      assertFindings(edit('jobs/frontend.yaml', 'listen: {{host.ip}}', `listen: {{${name}}}`), [
        `jobs/frontend.yaml:14:17: unknown template variable "${name}" (known: host, job, dirs, tags, ports)`,
      ]));
  }

  it('{{constructor}} in a command argument', () =>
    assertFindings(edit('jobs/search.yaml', '"{{ports.http}}"', '"{{constructor}}"'), [/^jobs\/search\.yaml:9:33: unknown template variable "constructor"/.source]));

  it('a health check on port "constructor"', () =>
    assertFindings(edit('jobs/frontend.yaml', 'http: { port: http, path: /health }', 'http: { port: constructor, path: /health }'), [
      'jobs/frontend.yaml:18:27: health check port "constructor" is not one of the job\'s ports (http)',
    ]));
});
