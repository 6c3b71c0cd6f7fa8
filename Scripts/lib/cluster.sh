# Start and stop a loopback cluster of etcd-compatible members: real etcd or `faultline etcd`,
# with the same flags (that is the point). Sourced by Scripts/bench-vs-etcd and tests.
#
#   cluster_start NAME BINARY SIZE CLIENT_BASE PEER_BASE DIR [extra flags...]
#       member i listens on 127.0.0.1:(CLIENT_BASE+i) and 127.0.0.1:(PEER_BASE+i), data in DIR/mi
#       BINARY is a command: "etcd" or "/path/faultline etcd"
#   cluster_endpoints NAME       comma-separated client URLs
#   cluster_wait_healthy NAME    until every member answers /health (30 s)
#   cluster_kill NAME i [SIGNAL] signal one member by its PID (default KILL)
#   cluster_restart NAME i       start member i again with its original flags
#   cluster_stop NAME            stop every member this script started, by PID

declare -gA CLUSTER_PIDS CLUSTER_CMDS CLUSTER_SIZE CLUSTER_CLIENT_BASE

cluster_start() {
    local name=$1 binary=$2 size=$3 client_base=$4 peer_base=$5 dir=$6
    shift 6
    local initial="" i
    for ((i = 1; i <= size; i++)); do
        initial+="${initial:+,}m$i=http://127.0.0.1:$((peer_base + i))"
    done
    CLUSTER_SIZE[$name]=$size
    CLUSTER_CLIENT_BASE[$name]=$client_base
    mkdir -p "$dir"
    for ((i = 1; i <= size; i++)); do
        local client="http://127.0.0.1:$((client_base + i))" peer="http://127.0.0.1:$((peer_base + i))"
        CLUSTER_CMDS[$name.$i]="$binary --name m$i --data-dir $dir/m$i \
            --listen-client-urls $client --advertise-client-urls $client \
            --listen-peer-urls $peer --initial-advertise-peer-urls $peer \
            --initial-cluster $initial --initial-cluster-state new --initial-cluster-token $name $*"
        cluster_restart "$name" "$i"
    done
}

cluster_restart() {
    local name=$1 i=$2
    local log="${CLUSTER_LOG_DIR:-/tmp}/$name-m$i.log"
    # shellcheck disable=SC2086
    ${CLUSTER_CMDS[$name.$i]} >>"$log" 2>&1 &
    CLUSTER_PIDS[$name.$i]=$!
}

cluster_endpoints() {
    local name=$1 i out=""
    for ((i = 1; i <= CLUSTER_SIZE[$name]; i++)); do
        out+="${out:+,}http://127.0.0.1:$((CLUSTER_CLIENT_BASE[$name] + i))"
    done
    echo "$out"
}

cluster_wait_healthy() {
    local name=$1 deadline=$((SECONDS + ${2:-30})) i
    for ((i = 1; i <= CLUSTER_SIZE[$name]; i++)); do
        until curl -sf "http://127.0.0.1:$((CLUSTER_CLIENT_BASE[$name] + i))/health" 2>/dev/null | grep -q '"health":"true"'; do
            if ((SECONDS > deadline)); then
                echo "cluster $name: member m$i not healthy after ${2:-30}s (log: ${CLUSTER_LOG_DIR:-/tmp}/$name-m$i.log)" >&2
                return 1
            fi
            sleep 0.1
        done
    done
}

cluster_kill() {
    local name=$1 i=$2 signal=${3:-KILL}
    local pid=${CLUSTER_PIDS[$name.$i]:-}
    [ -n "$pid" ] && kill "-$signal" "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}

cluster_stop() {
    local name=$1 i
    for ((i = 1; i <= CLUSTER_SIZE[$name]; i++)); do cluster_kill "$name" "$i" TERM; done
}
