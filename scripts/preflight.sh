#!/usr/bin/env bash
# Run before the tests, the chaos suite, the demo and CI: the programs they need besides Node (a
# real etcd and etcdctl, keepalived's and bind's config checkers, git, openssl for test
# certificates). A machine without them stops here at once, with the one command that installs
# them, instead of after minutes of tests timing out; as root (CI, a fresh container) this installs
# them itself. This is the one list of what is needed: everything else calls this script.
# Usage: preflight.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

# command:Debian package
required=(
  etcd:etcd-server
  etcdctl:etcd-client
  keepalived:keepalived
  named-checkzone:bind9-utils
  git:git
  openssl:openssl
)
# `--tests`: what only the test suite uses besides — a browser for the console's test, Prometheus's
# promtool for the generated scrape targets and alert rules, gpg to sign commits with OpenPGP keys.
if [ "${1:-}" = "--tests" ]; then
  required+=(chromium:chromium promtool:prometheus gpg:gnupg)
fi

say() { echo "preflight: $*" >&2; }

node -e '
  const [, major, minor] = /(\d+)\.(\d+)/.exec(require("./package.json").engines.node).map(Number);
  const [haveMajor, haveMinor] = process.versions.node.split(".").map(Number);
  if (haveMajor < major || (haveMajor === major && haveMinor < minor)) {
    console.error(`preflight: Node.js ${major}.${minor} or newer is needed, this is ${process.version}`);
    process.exit(1);
  }'

# Sets missing_commands and missing_packages from what PATH lacks.
find_missing() {
  missing_commands=()
  missing_packages=()
  local entry
  for entry in "${required[@]}"; do
    if ! command -v "${entry%%:*}" >/dev/null 2>&1; then
      missing_commands+=("${entry%%:*}")
      missing_packages+=("${entry#*:}")
    fi
  done
}

find_missing
[ ${#missing_commands[@]} -eq 0 ] && exit 0

# Installed, but in an sbin directory a non-root PATH leaves out (keepalived): installing again would not help.
for command in "${missing_commands[@]}"; do
  for dir in /usr/local/sbin /usr/sbin /sbin; do
    if [ -x "$dir/$command" ]; then
      say "$command is installed in $dir, which is not on your PATH; run: export PATH=\"\$PATH:$dir\""
      exit 1
    fi
  done
done

if ! command -v apt-get >/dev/null 2>&1; then
  say "missing ${missing_commands[*]}; install them with your package manager (on Debian: ${missing_packages[*]})"
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  say "missing ${missing_commands[*]}; install them with:"
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_packages[*]}" >&2
  exit 1
fi

say "installing ${missing_packages[*]} (for ${missing_commands[*]})"
export DEBIAN_FRONTEND=noninteractive
# Packages such as etcd-server start their service when installed: the tests start private servers
# on free ports and need none. policy-rc.d answering 101 is Debian's way to say "start nothing now"
# (invoke-rc.d and deb-systemd-invoke both ask it); one that is already there (Docker images) stays.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Written by ygg scripts/preflight.sh while it installs packages.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null

find_missing
if [ ${#missing_commands[@]} -gt 0 ]; then
  say "still missing ${missing_commands[*]} after installing ${missing_packages[*]}"
  exit 1
fi
say "installed"
