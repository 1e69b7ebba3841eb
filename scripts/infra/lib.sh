# shellcheck shell=bash
# Shared helpers for the infra scripts; sourced, not executed.
# Messages go to stderr so that stdout stays clean for `eval "$(up.sh)"`.

INFRA_DIR="${INFRA_DIR:-${TMPDIR:-/tmp}/agora-infra}"
# shellcheck disable=SC2034 # used by the scripts that source this file
INFRA_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { echo "$SVC: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# A real MongoDB round trip to 127.0.0.1:$1 in pure bash: OP_MSG {ping: 1, $db: "admin"}, then
# look for {ok: 1.0} in the reply. An open port alone can be a half-started server.
mongo_ping() {
  # shellcheck disable=SC2016 # the script is for the inner shell
  timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
    # header(len 51, id 1, respTo 0, opcode 2013) flags(0) kind(0) bson(30 bytes)
    printf "\x33\0\0\0\x01\0\0\0\0\0\0\0\xdd\x07\0\0\0\0\0\0\0\x1e\0\0\0\x10ping\0\x01\0\0\0\x02\$db\0\x06\0\0\0admin\0\0" >&3
    len=$(dd bs=1 count=4 status=none <&3 | od -An -tu4 | tr -d " ")
    [[ $len -gt 16 ]] || exit 1
    dd bs=1 count=$((len - 4)) status=none <&3 | od -An -tx1 | tr -d " \n" | grep -q 016f6b00000000000000f03f
  ' _ "$1" 2>/dev/null
}

# Print the PID from pidfile $1 if that process is alive and its command line
# contains $2 (guards against a recycled PID after a reboot or crash).
our_pid() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"; then
    echo "$pid"
  else
    rm -f "$1"; return 1
  fi
}

# Start "$@" detached in its own session (so it survives the caller's shell and
# its job control), logging to $1 and recording its real PID in $2.
spawn() {
  local log=$1 pidfile=$2; shift 2
  rm -f "$pidfile"
  # The inner shell writes its own PID then execs, so the PID is the server's,
  # whether or not setsid had to fork.
  # fd 9 is the up-lock (see lock_dir): the server must not inherit and hold it.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$log" 2>&1 </dev/null 9>&- &
  local i; for i in 1 2 3 4 5 6 7 8 9 10; do [[ -s $pidfile ]] && return 0; sleep 0.1; done
  die "could not start: $*"
}

# Serialise concurrent `up` calls (parallel test workers, up.sh plus a manual
# call): the second waits, then takes the already-running fast path.
lock_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock -w 600 9 || die "timed out waiting for another '$SVC up' to finish"
}

# Signal $4 (default TERM), give it $3 seconds to shut down cleanly, then SIGKILL.
stop_pid() {
  local pidfile=$1 pattern=$2 grace=${3:-20} signal=${4:-TERM} pid i
  if ! pid=$(our_pid "$pidfile" "$pattern"); then say "not running"; return 0; fi
  kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped (pid $pid)"; return 0; }
    sleep 0.1
  done
  say "no exit after ${grace}s, sending SIGKILL to $pid"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# Run "$@" every $3 seconds until it succeeds. Startup failed, with the last lines of $LOG, if
# process $1 exits meanwhile or $2 seconds pass.
wait_until() {
  local pid=$1 limit=$2 pause=$3 deadline=$((SECONDS + $2))
  shift 3
  until "$@"; do
    kill -0 "$pid" 2>/dev/null || fail_with_log "$SVC exited during startup" "$LOG"
    ((SECONDS < deadline)) || fail_with_log "not ready after ${limit}s" "$LOG"
    sleep "$pause"
  done
}

fail_with_log() {
  say "ERROR: $1; last lines of $2:"
  tail -n "${3:-40}" "$2" >&2 || true
  exit 1
}

# Build Go package $4 of the wrapper module in directory $2 into $1, announced as $3 (name and
# version). Rebuilds only when a file of the module is newer than the binary; Go's module and
# build caches make even a rebuild fast after the first one. Callers hold their lock_dir, so
# two concurrent calls never build into the same file.
go_build() {
  local bin=$1 src=$2 what=$3 pkg=$4
  if [[ -x $bin && -z $(find "$src" -type f -newer "$bin") ]]; then return 0; fi
  command -v go >/dev/null || die "go not found (need Go 1.24+)"
  mkdir -p "$(dirname "$bin")"
  say "building $what into $bin (a few minutes when Go's build cache is cold)..."
  local t0=$SECONDS
  # -buildvcs=false: the repo may have no commits yet, which makes VCS stamping fail.
  # Go's output goes to stderr: stdout belongs to up.sh's exports.
  (cd "$src" && go mod download && exec go build -buildvcs=false -trimpath -o "$bin.tmp" "$pkg") >&2 &
  local gpid=$!
  local n=0
  while kill -0 "$gpid" 2>/dev/null; do  # heartbeat so CI logs show it is not hung
    sleep 1; ((++n % 20)) || say "still building ($((SECONDS - t0))s)..."
  done
  wait "$gpid" || die "go build failed"
  mv "$bin.tmp" "$bin"
  say "built in $((SECONDS - t0))s"
}
