import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { RenderStatusRecord } from '../../src/render/debounced-renderer.js';
import { registerRenderMetrics } from '../../src/render/render-metrics.js';

test('the renderer status shows in Prometheus text, read at scrape time', async () => {
  const registry = new Registry();
  let status: RenderStatusRecord | undefined;
  registerRenderMetrics(registry, () => status);
  assert.match(await registry.metrics(), /^ygg_render_renders_total 0$/m);
  status = { target: '/etc/keepalived/keepalived.conf', renders: 7, writes: 3, holds: 2, skipped: 3, lastRenderAt: '2026-01-01T00:00:10.000Z', held: true, heldReason: 'etcd is unreachable', updatedAt: '2026-01-01T00:00:10.000Z' };
  const text = await registry.metrics();
  assert.match(text, /^ygg_render_renders_total 7$/m);
  assert.match(text, /^ygg_render_writes_total 3$/m);
  assert.match(text, /^ygg_render_held 1$/m);
  assert.match(text, /^ygg_render_held_total 2$/m);
  assert.match(text, /^ygg_render_skipped_inputs 3$/m);
  assert.match(text, new RegExp(`^ygg_render_last_success_timestamp_seconds ${Date.parse('2026-01-01T00:00:10.000Z') / 1000}$`, 'm'));
  assert.match(text, /^ygg_render_last_error_timestamp_seconds 0$/m);
});
