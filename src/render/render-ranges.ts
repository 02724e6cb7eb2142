// The etcd ranges a render is made from (RenderInputs.reads): what the renderer watches, and all
// that a director's credential may read (etcd-setup's ygg-director role). One list, so the two
// cannot drift: a range watched but not granted would be refused, one granted but not watched
// would be read access nobody needs.
import type { KeyLayout } from '../store/keys.js';
import type { WatchRange } from '../store/range-watch.js';

export function renderRanges(layout: KeyLayout): WatchRange[] {
  const prefixes = [layout.vips, layout.namings(), layout.hosts, layout.agents, layout.lostHosts, layout.zones];
  return [...prefixes.map((prefix) => ({ prefix })), { key: layout.syncCurrent }];
}
