// Watches the working copy with chokidar: a saved file (anything outside .git) → onSave; a moved
// branch ref (a commit, a revert, a reset) → onCommit. Bursts (an editor's save, git writing a
// ref through a lock file) are debounced into one call.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface RepoWatcherOptions {
  readonly repoDir: string;
  readonly onSave: () => void;
  readonly onCommit: () => void;
  readonly debounceMs?: number;
}

export interface RepoWatcher {
  close(): Promise<void>;
}

export async function watchRepo(options: RepoWatcherOptions): Promise<RepoWatcher> {
  const gitDir = path.join(options.repoDir, '.git');
  const debounceMs = options.debounceMs ?? 150;
  const files = watch(options.repoDir, {
    ignoreInitial: true,
    ignored: (file) => file === gitDir || file.startsWith(`${gitDir}${path.sep}`),
  });
  // HEAD moves on a checkout, refs/heads/* on a commit, packed-refs after `git gc`.
  const refs = watch([path.join(gitDir, 'HEAD'), path.join(gitDir, 'refs', 'heads'), path.join(gitDir, 'packed-refs')], {
    ignoreInitial: true,
    ignored: (file) => file.endsWith('.lock'),
  });
  const watchers = [files, refs];
  files.on('all', debounce(options.onSave, debounceMs));
  refs.on('all', debounce(options.onCommit, debounceMs));
  await Promise.all(watchers.map(ready));
  return { close: async () => void (await Promise.all(watchers.map((watcher) => watcher.close()))) };
}

function ready(watcher: FSWatcher): Promise<void> {
  return new Promise((resolve) => watcher.once('ready', () => resolve()));
}

function debounce(run: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
}
