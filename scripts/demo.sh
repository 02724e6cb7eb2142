#!/usr/bin/env bash
# The demo is `ygg dev` on the bundled example-repo: a private etcd, the controller, one agent per
# host on its own loopback address, the directors' keepalived.conf and the console, all on this
# machine until Ctrl-C. Extra arguments go to ygg dev (e.g. --port 7070, --output json).
set -euo pipefail
cd "$(dirname "$0")/.."
# etcd and git, as for the tests: installed as root, else the one command that installs them.
bash scripts/preflight.sh

# A dist/ older than the sources (or from before a module existed) would run yesterday's code.
[ -f dist/cli/process-entry.js ] && [ -z "$(find src -name '*.ts' -newer dist/cli/process-entry.js | head -1)" ] || npm run build --silent

cat <<'TOUR'
ygg dev: the example fleet on this machine. Once every job is healthy:
  edit .ygg/repo/jobs/miliao/alias-job-dispatcher.yaml (LOG_LEVEL: debug)  → the plan prints on save
  git -C .ygg/repo commit -am "Debug logs"                                 → the rollout runs, live
  Ctrl-C                                                                   → everything stops
TOUR
# exec: Ctrl-C reaches ygg dev itself, which stops the agents, their jobs, the controller and etcd.
exec node bin/ygg.js dev --repo example-repo "$@"
