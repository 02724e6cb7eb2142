// The page behind `GET /`: what an operator glances at on a wall screen. Plain server-rendered
// HTML, no scripts (the Content-Security-Policy served with it forbids them), refreshed by the
// browser itself. Pure: the caller passes the status and the clock.
import type { ControllerStatus, HistoryEntry, JobHealth, JobState, SyncResult } from './controller-status.js';
import { escapeHtml } from './escape-html.js';

export const STATUS_PAGE_REFRESH_SECONDS = 10;
/** Older records are in `ygg history`; the page shows what happened lately. */
export const STATUS_PAGE_HISTORY_LIMIT = 20;

export interface StatusPageOptions {
  readonly now: Date;
}

const RESULT_TONE: Readonly<Record<SyncResult, Tone>> = {
  Synced: 'good',
  Progressing: 'busy',
  OutOfSync: 'warn',
  Rejected: 'bad',
  Unknown: 'none',
};

const JOB_TONE: Readonly<Record<JobState, Tone>> = { Healthy: 'good', Progressing: 'busy', Degraded: 'bad', Missing: 'warn' };

/** Problems first, so the rows that need someone are the ones at the top of the screen. */
const JOB_STATE_ORDER: readonly JobState[] = ['Degraded', 'Missing', 'Progressing', 'Healthy'];

type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'none';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;background:#fff}th,td{padding:.3rem .7rem;border-bottom:1px solid #e5e5e5;text-align:left}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,monospace}.muted{color:#777}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;font-weight:600;color:#fff}
.good{background:#2e7d32}.busy{background:#1565c0}.warn{background:#ef6c00}.bad{background:#c62828}.none{background:#757575}
.box{background:#fff;border:1px solid #e5e5e5;padding:.7rem 1rem;max-width:60rem}
.rejected{border-color:#c62828}pre{white-space:pre-wrap;margin:.3rem 0}
`;

export function renderStatusPage(status: ControllerStatus, options: StatusPageOptions): string {
  const body = [
    `<h1>Yggdrasil ${badge(status.result, RESULT_TONE[status.result])}</h1>`,
    renderCommit(status, options.now),
    status.rejected === undefined ? '' : renderRejected(status.rejected.sha, status.rejected.errors),
    renderJobs(status.jobs),
    renderLostHosts(status.lostHosts),
    renderHistory(status.history, options.now),
  ];
  return page('Yggdrasil status', body.join('\n'), options.now);
}

/** Shown when the controller cannot say what its status is (not leader yet, etcd unreachable). */
export function renderStatusUnavailablePage(reason: string, options: StatusPageOptions): string {
  const body = `<h1>Yggdrasil ${badge('Unknown', 'none')}</h1>\n<div class="box"><p>Status unavailable: ${escapeHtml(reason)}</p></div>`;
  return page('Yggdrasil status (unavailable)', body, options.now);
}

function page(title: string, body: string, now: Date): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${STATUS_PAGE_REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<p class="muted">Rendered ${escapeHtml(now.toISOString())}; refreshes every ${STATUS_PAGE_REFRESH_SECONDS} s. JSON: <a href="/api/status">/api/status</a></p>
</body>
</html>
`;
}

function renderCommit(status: ControllerStatus, now: Date): string {
  if (status.commit === null) return '<div class="box"><p>No commit in force yet.</p></div>';
  const { sha, author, message, time } = status.commit;
  return `<div class="box">
<p>Commit in force <code title="${escapeHtml(sha)}">${escapeHtml(shortSha(sha))}</code> by ${escapeHtml(author)}, <span title="${escapeHtml(time)}">${escapeHtml(age(time, now))}</span></p>
<pre>${escapeHtml(message)}</pre>
</div>`;
}

function renderRejected(sha: string, errors: readonly string[]): string {
  const items = errors.map((error) => `<li><code>${escapeHtml(error)}</code></li>`).join('\n');
  return `<h2>Rejected commit</h2>
<div class="box rejected">
<p>Commit <code title="${escapeHtml(sha)}">${escapeHtml(shortSha(sha))}</code> was not applied; the commit above stays in force.</p>
<ul>
${items}
</ul>
</div>`;
}

function renderJobs(jobs: readonly JobHealth[]): string {
  if (jobs.length === 0) return '<h2>Jobs</h2>\n<p class="muted">No jobs.</p>';
  const sorted = [...jobs].sort(
    (a, b) => JOB_STATE_ORDER.indexOf(a.state) - JOB_STATE_ORDER.indexOf(b.state) || compareText(a.name, b.name),
  );
  const rows = sorted.map(
    (job) =>
      `<tr><td>${escapeHtml(job.name)}</td><td>${badge(job.state, JOB_TONE[job.state])}</td>` +
      `<td class="n">${escapeHtml(job.healthy)}/${escapeHtml(job.desired)}</td><td class="n">${escapeHtml(job.progressing)}</td>` +
      `<td><code>${escapeHtml(job.version)}</code></td></tr>`,
  );
  return `<h2>Jobs</h2>
<table>
<thead><tr><th>Job</th><th>State</th><th>Healthy</th><th title="assigned but not (yet) healthy on the assigned spec">Pending</th><th>Version</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function renderLostHosts(lostHosts: readonly string[]): string {
  if (lostHosts.length === 0) return '<h2>Lost hosts</h2>\n<p class="muted">None: every assigned host has a live agent.</p>';
  const items = [...lostHosts].sort(compareText).map((host) => `<li><code>${escapeHtml(host)}</code></li>`);
  return `<h2>Lost hosts ${badge(String(lostHosts.length), 'bad')}</h2>\n<ul>\n${items.join('\n')}\n</ul>`;
}

function renderHistory(history: readonly HistoryEntry[], now: Date): string {
  if (history.length === 0) return '<h2>Recent history</h2>\n<p class="muted">No reconciles recorded yet.</p>';
  // ISO-8601 times sort as text; newest first.
  const recent = [...history].sort((a, b) => compareText(b.time, a.time) || compareText(a.sha, b.sha)).slice(0, STATUS_PAGE_HISTORY_LIMIT);
  const rows = recent.map(
    (entry) =>
      `<tr><td title="${escapeHtml(entry.time)}">${escapeHtml(age(entry.time, now))}</td>` +
      `<td><code title="${escapeHtml(entry.sha)}">${escapeHtml(shortSha(entry.sha))}</code></td>` +
      `<td>${escapeHtml(entry.author)}</td><td>${escapeHtml(firstLine(entry.message))}</td>` +
      `<td>${escapeHtml(entry.outcome)}</td><td class="n">${escapeHtml(entry.actions)}</td></tr>`,
  );
  return `<h2>Recent history</h2>
<table>
<thead><tr><th>When</th><th>Commit</th><th>Author</th><th>Message</th><th>Outcome</th><th>Actions</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function badge(text: string, tone: Tone): string {
  return `<span class="badge ${tone}">${escapeHtml(text)}</span>`;
}

function shortSha(sha: string): string {
  return sha.slice(0, 10);
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}

/** "3 min ago" reads faster than a timestamp; the exact time is in the title attribute. */
function age(time: string, now: Date): string {
  const then = Date.parse(time);
  if (Number.isNaN(then)) return time;
  const seconds = Math.round((now.getTime() - then) / 1000);
  if (seconds < 0) return time;
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
