// The renderer's state as Prometheus metrics, read from its status at scrape time.
import { Gauge, type Registry } from 'prom-client';
import type { RenderStatusRecord } from './render-status.js';

export function registerRenderMetrics(registry: Registry, status: () => RenderStatusRecord | undefined): void {
  const read = (pick: (record: RenderStatusRecord) => number) => () => {
    const record = status();
    return record ? pick(record) : 0;
  };
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  gauge('ygg_render_renders_total', 'Renders attempted since the renderer started.', read((record) => record.renders));
  gauge('ygg_render_writes_total', 'Renders that changed the file (each one reloaded keepalived).', read((record) => record.writes));
  gauge('ygg_render_last_success_timestamp_seconds', 'When the file in place was rendered.', read((record) => (record.lastRenderAt ? Date.parse(record.lastRenderAt) / 1000 : 0)));
  gauge('ygg_render_last_error_timestamp_seconds', 'When the last render failed (0: never).', read((record) => (record.lastErrorAt ? Date.parse(record.lastErrorAt) / 1000 : 0)));
  gauge('ygg_render_held', '1 while the render gate keeps the file as it is (unknown store state, reset, or a mass removal nobody committed).', read((record) => (record.held ? 1 : 0)));
  gauge('ygg_render_held_total', 'Times the render gate started holding the file since the renderer started.', read((record) => record.holds));
  gauge('ygg_render_skipped_inputs', 'Invalid records (e.g. naming entries) the last render left out.', read((record) => record.skipped));
}
