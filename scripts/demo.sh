#!/usr/bin/env bash
# A tour of what ygg does with the bundled example-repo: validate it, show the service tree and the
# hosts, then make a change as a pull request would (in a scratch git copy) and plan it.
set -euo pipefail
cd "$(dirname "$0")/.."
ygg() { node bin/ygg.js "$@"; }
step() { printf '\n\033[1m$ ygg %s\033[0m\n' "$*"; }

[ -f dist/cli/main.js ] || npm run build --silent

step validate --repo example-repo
ygg validate --repo example-repo
step tree --repo example-repo
ygg tree --repo example-repo
step hosts --repo example-repo
ygg hosts --repo example-repo

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r example-repo/. "$scratch"
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
