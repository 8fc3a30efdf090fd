#!/usr/bin/env bash
# The SLURM script on a real one-node SLURM: installs Debian's slurmctld, slurmd, slurm-client and munge
# if needed, starts private daemons (own config, ports, state and munge socket under a temporary folder),
# and checks scripts/slurm/pollutant-fem.sbatch on the smoke configuration:
#   1. submitted from another working directory with relative paths: 3-shard array + merge give the
#      bytes of an unsharded run (c3, status, points, every .vtu of the Figure 2 fields);
#   2. a task that fails (a wrapper around the executable fails shard 2 while a flag file exists):
#      the merge stays pending, `status` lists shard 2 as missing, `resume` resubmits it alone, cancels
#      the stale merge, and the new merge gives the same bytes.
# Stops the daemons it started (by PID). Root only: elsewhere, or when apt-get cannot install the
# packages, it says why and exits 0 (skipped).
#
#   scripts/slurm/test-real-slurm.sh [BIN]     BIN: folder of the release executables (default .build/release)
set -euo pipefail
ROOT=$(cd "$(dirname "$(realpath "$0")")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/.build/release}")
CONFIG=$ROOT/configs/smoke.toml
SBATCH_SCRIPT=$ROOT/scripts/slurm/pollutant-fem.sbatch
PACKAGES=(slurmctld slurmd slurm-client munge)
say() { printf 'test-real-slurm: %s\n' "$*" >&2; }
skip() { say "SKIPPED: $*"; exit 0; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (installs packages and starts the SLURM and munge daemons)"
for exe in lhs-sample blasius-solve pollutant-fem; do
    [ -x "$BIN/$exe" ] || die "$BIN/$exe is not built (swift build -c release)"
done
missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 \
        || skip "apt-get could not install ${missing[*]}"
fi
t0=$SECONDS

# --- a private one-node cluster -------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/real-slurm.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$TMP"/{munge,state,spool,work,elsewhere}
chmod 755 "$TMP"
# munge: its own key and socket, so that a system munged (or another test's) is neither used nor disturbed.
dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$TMP/munge"; chmod 711 "$TMP/munge"; chmod 400 "$TMP/munge/munge.key"
mkdir -p /run/munge && chown munge:munge /run/munge
runuser -u munge -- /usr/sbin/munged --foreground --key-file="$TMP/munge/munge.key" --socket="$TMP/munge/munge.sock" \
    --pid-file="$TMP/munge/munged.pid" --seed-file="$TMP/munge/munge.seed" --log-file="$TMP/munge/munged.log" > "$TMP/munge/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$TMP/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$TMP/munge/munge.sock" ] || die "munged did not start ($(cat "$TMP/munge/munged.log" 2>/dev/null))"

# Free ports of our own (another SLURM on this machine keeps its 6817/6818).
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
HOST=$(hostname -s)
NODE=$(slurmd -C | head -1)
cores=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<< "$NODE")
export SLURM_CONF=$TMP/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=ci
SlurmctldHost=$HOST
SlurmctldPort=$(port)
SlurmdPort=$(port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$TMP/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/slurmctld.log
SlurmdLogFile=$TMP/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
MpiDefault=none
ReturnToService=2
MinJobAge=600
$NODE State=UNKNOWN
PartitionName=ci Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
sed -i 's/ UpTime=[^ ]*//' "$SLURM_CONF"
/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" > "$TMP/slurmctld.out" 2>&1 &
PIDS+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" > "$TMP/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break; sleep 0.2; done
sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' \
    || die "the node did not come up: $(tail -3 "$TMP/slurmctld.log" "$TMP/slurmd.log" 2>/dev/null)"
say "one-node SLURM up in $((SECONDS - t0)) s ($HOST, $cores CPUs)"

# --- the data: samples and wind once, the unsharded reference -------------------------------------------
ref=$TMP/work/reference
mkdir -p "$ref"
"$BIN/lhs-sample" --config "$CONFIG" --data-dir "$ref" 2>/dev/null
"$BIN/blasius-solve" --config "$CONFIG" --data-dir "$ref" 2>/dev/null
for d in sharded failing; do mkdir -p "$TMP/work/$d" && cp -r "$ref/samples" "$ref/wind" "$TMP/work/$d/"; done
"$BIN/pollutant-fem" --config "$CONFIG" --data-dir "$ref" 2>/dev/null

# wait_job ID STATE: until SLURM reports the job in STATE (COMPLETED, FAILED, …); 60 s at most.
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
wait_job() {
    local s
    for _ in $(seq 300); do
        s=$(job_state "$1")
        [ "$s" = "$2" ] && return 0
        case $s in *PENDING*|*RUNNING*|*CONFIGURING*|*COMPLETING*|"") sleep 0.2 ;; *) break ;; esac
    done
    die "job $1 is '$(job_state "$1")', expected $2; $(scontrol show job "$1" 2>/dev/null | grep -o 'Reason=[^ ]*' | sort -u | tr '\n' ' ')"
}
same_bytes() { # DATA: the merged files equal the reference's
    local f n=0
    for f in c3.npy status.npy points.npy $(cd "$ref/fem" && ls fields/*.vtu 2>/dev/null); do
        cmp -s "$ref/fem/$f" "$1/fem/$f" || die "$1/fem/$f differs from the unsharded run's"
        n=$((n + 1))
    done
    say "  $n files byte-identical to the unsharded run (c3, status, points, $((n - 3)) .vtu)"
}
ids() { sed -n 's/.*array job \([0-9]*\).*merge job \([0-9]*\).*/\1 \2/p'; }

# --- 1. submitted from another directory, with relative paths -------------------------------------------
say "1. 3 shards + merge, submitted from $TMP/elsewhere"
cd "$TMP/elsewhere"
# The executable too is given relative to the submission directory (the jobs run elsewhere).
out=$(POLLUTANT_FEM=$(realpath --relative-to=. "$BIN/pollutant-fem") bash "$SBATCH_SCRIPT" "$(realpath --relative-to=. "$CONFIG")" ../work/sharded 3)
say "  $out"
read -r array merge <<< "$(ids <<< "$out")"
wait_job "$array" COMPLETED
wait_job "$merge" COMPLETED
same_bytes "$TMP/work/sharded"
ls "$TMP/work/sharded/fem/slurm-logs/pollutant-fem-merge-$merge.out" >/dev/null || die "no merge log in fem/slurm-logs"
[ -z "$(ls "$TMP/elsewhere")" ] || die "files landed in the submission directory: $(ls "$TMP/elsewhere")"

# --- 2. a failing task, status and resume -------------------------------------------------------------------
say "2. shard 2 fails, then status and resume"
flag=$TMP/fail-shard-2
touch "$flag"
cat > "$TMP/failing-pollutant-fem" <<EOF
#!/usr/bin/env bash
# Fails shard 2 of 3 while $flag exists (a test's stand-in for a crashed task).
if [[ " \$* " == *" 2/3 "* ]] && [ -e "$flag" ]; then echo "injected failure of shard 2" >&2; exit 1; fi
exec "$BIN/pollutant-fem" "\$@"
EOF
chmod +x "$TMP/failing-pollutant-fem"
out=$(POLLUTANT_FEM=$TMP/failing-pollutant-fem bash "$SBATCH_SCRIPT" "$CONFIG" ../work/failing 3)
read -r array merge <<< "$(ids <<< "$out")"
for _ in $(seq 300); do [[ $(job_state "$array") == *FAILED* && $(job_state "$array") != *PENDING* && $(job_state "$array") != *RUNNING* ]] && break; sleep 0.2; done
[[ $(job_state "$array") == *FAILED* ]] || die "array job $array: '$(job_state "$array")', expected a failed task"
# SLURM marks the dependency unsatisfiable at its next scheduling pass.
for _ in $(seq 100); do scontrol show job "$merge" | grep -q "Reason=DependencyNeverSatisfied" && break; sleep 0.2; done
scontrol show job "$merge" | grep -q "Reason=DependencyNeverSatisfied" || die "merge job $merge is not waiting on the failed task: $(job_state "$merge")"
status=$(bash "$SBATCH_SCRIPT" status "$CONFIG" ../work/failing 3)
say "  status: $(tr '\n' ';' <<< "$status")"
grep -q "shards done: 2 of 3" <<< "$status" && grep -q "missing: 2 " <<< "$status" || die "status does not list shard 2 as missing"
rm "$flag"
out=$(POLLUTANT_FEM=$TMP/failing-pollutant-fem bash "$SBATCH_SCRIPT" resume "$CONFIG" ../work/failing 3)
say "  resume: $(tr '\n' ';' <<< "$out")"
grep -q "cancelled the earlier merge job $merge" <<< "$out" || die "resume did not cancel the stale merge $merge"
grep -q "resubmitted shards 2 as array job" <<< "$out" || die "resume did not resubmit shard 2 alone"
read -r array2 merge2 <<< "$(ids <<< "$out")"
wait_job "$merge" CANCELLED
wait_job "$array2" COMPLETED
wait_job "$merge2" COMPLETED
same_bytes "$TMP/work/failing"
status=$(bash "$SBATCH_SCRIPT" status "$CONFIG" ../work/failing 3)
grep -q "shards done: 3 of 3" <<< "$status" || die "status after resume: $status"

say "ok in $((SECONDS - t0)) s (package installation excluded)"
