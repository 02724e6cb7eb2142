#!/usr/bin/env bash
# A tour of what ygg does with the bundled example-repo: validate it, show the service tree and the
# hosts, make a change as a pull request would (in a scratch git copy) and plan it, then run a
# controller and an agent on a private etcd.
set -euo pipefail
cd "$(dirname "$0")/.."
# etcd and git, as for the tests: installed as root, else the one command that installs them.
bash scripts/preflight.sh
ygg() { node bin/ygg.js "$@"; }
step() { printf '\n\033[1m$ ygg %s\033[0m\n' "$*"; }

# A dist/ older than the sources (or from before a module existed) would run yesterday's code.
[ -f dist/cli/process-entry.js ] && [ -z "$(find src -name '*.ts' -newer dist/cli/process-entry.js | head -1)" ] || npm run build --silent

step validate --repo example-repo
ygg validate --repo example-repo
step tree --repo example-repo
ygg tree --repo example-repo
step hosts --repo example-repo
ygg hosts --repo example-repo

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r example-repo/. "$scratch"
# The tour's one agent runs lg-im-01 on this machine: its host gets a loopback address of its own
# (DESIGN §3b), the address its health checks probe and naming registers, as in a real fleet.
sed -i 's/ip: 10.1.1.11$/ip: 127.0.0.11/' "$scratch/hosts/lg.yaml"
git -C "$scratch" init -q -b main
git -C "$scratch" add -A
git -C "$scratch" -c user.name="Ada Admin" -c user.email=ada@example.com commit -qm "Import the fleet"
# The pull request: debug logging for the dispatcher and a third im-presence replica.
sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$scratch/jobs/miliao/alias-job-dispatcher.yaml"
sed -i 's/replicas: 2/replicas: 3/' "$scratch/jobs/miliao/im-presence.yaml"
git -C "$scratch" -c user.name="Bo Builder" -c user.email=bo@example.com commit -qam "Debug logs for the dispatcher, a third presence replica"

step plan --repo SCRATCH --base HEAD~1 --head HEAD
ygg plan --repo "$scratch" --base HEAD~1 --head HEAD
step history --repo SCRATCH --job im-presence
ygg history --repo "$scratch" --job im-presence

# The controller: run one against a private etcd for a few seconds and look at what it assigned.
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
client=$(port); peer=$(port)
etcd --name demo --data-dir "$scratch/etcd" --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "demo=http://127.0.0.1:$peer" >"$scratch/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill $etcd_pid 2>/dev/null; wait $etcd_pid 2>/dev/null || true; rm -rf "$scratch"' EXIT
http=$(port)
step controller --repo SCRATCH --etcd http://127.0.0.1:$client --listen 127.0.0.1:$http
node bin/ygg.js controller --repo "$scratch" --etcd "http://127.0.0.1:$client" --listen "127.0.0.1:$http" --cache-dir "$scratch/cache" >"$scratch/controller.log" 2>&1 &
controller_pid=$!
# One host agent, for lg-im-01: it fetches the echo-server artifact from the controller, unpacks it,
# renders its config, starts it, checks /health and registers it in naming.
step agent --host lg-im-01 --root SCRATCH/agent --controller http://127.0.0.1:$http '(for 6 seconds)'
node bin/ygg.js agent --host lg-im-01 --root "$scratch/agent" --etcd "http://127.0.0.1:$client" --controller "http://127.0.0.1:$http" \
  --metrics-listen 127.0.0.1:0 --no-watchdog >"$scratch/agent.log" 2>&1 &
agent_pid=$!
stop_all() {
  kill -TERM $agent_pid $controller_pid 2>/dev/null; wait $agent_pid $controller_pid 2>/dev/null || true
  # A stopped agent leaves its jobs running (the next agent adopts them): the tour ends them itself.
  for pidfile in "$scratch"/agent/run/*.json; do
    case "$pidfile" in *.assignment.json) continue ;; esac
    [ -f "$pidfile" ] && kill -KILL -- "-$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).pid)' "$pidfile")" 2>/dev/null || true
  done
  kill $etcd_pid 2>/dev/null; wait $etcd_pid 2>/dev/null || true
  rm -rf "$scratch"
}
trap stop_all EXIT
sleep 6
grep -m 2 '"event":"reconciled"' "$scratch/controller.log" | cut -c1-200
grep -m 4 '"event":"instance_started"' "$scratch/agent.log" | cut -c1-200
step status --etcd http://127.0.0.1:$client
ygg status --etcd "http://127.0.0.1:$client" || true
step blame lg-im-01/alias-job-dispatcher --etcd http://127.0.0.1:$client --repo SCRATCH
ygg blame lg-im-01/alias-job-dispatcher --etcd "http://127.0.0.1:$client" --repo "$scratch"
printf '\nThe dispatcher on lg-im-01 answers: '
node -e 'const y=require("fs").readFileSync(process.argv[1],"utf8");fetch(`http://127.0.0.11:${/port: (\d+)/.exec(y)?.[1]??8080}/`).then(r=>r.text()).then(console.log,e=>console.log(`(no answer: ${e.cause?.code??e.message})`))' "$scratch/jobs/miliao/alias-job-dispatcher.yaml"
