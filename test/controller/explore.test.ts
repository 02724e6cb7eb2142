import { test } from 'node:test';
import { startEtcd } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { FleetView, startInProcess, reconcileNow } from '../fixtures/controller-harness.js';

test('explore', async () => {
  const etcd = await startEtcd();
  const fleet = createGitFleet();
  const view = new FleetView(etcd.url, '/explore');
  const t0 = Date.now();
  const ctl = await startInProcess({ repo: fleet.dir, etcdPrefix: '/explore', etcdUrl: etcd.url });
  console.log('started', Date.now() - t0);
  await ctl.loop.idle();
  await new Promise((r) => setTimeout(r, 300));
  console.log(await view.specHashes());
  console.log(JSON.stringify(await view.current(), null, 1));
  console.log(JSON.stringify(await view.history(), null, 1).slice(0, 3000));
  const events = await view.record();
  await reconcileNow(ctl);
  await reconcileNow(ctl);
  await new Promise((r) => setTimeout(r, 300));
  console.log('events', events.length, events.map((e) => e.type + ' ' + ('key' in e ? e.key : '')));
  console.log(ctl.logs.map((l) => JSON.stringify(l)).join('\n').slice(0, 4000));
  await ctl.close();
  await view.close();
  await etcd.stop();
});
