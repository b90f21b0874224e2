#!/usr/bin/env bash
# A three-node RabbitMQ cluster of the installed RabbitMQ, on this machine, for the cluster tests:
#
#   scripts/rabbitmq-cluster.sh start        start herald-c1..c3@localhost and join them (idempotent)
#   scripts/rabbitmq-cluster.sh stop         stop the three nodes and delete their data
#   scripts/rabbitmq-cluster.sh status       cluster_status as herald-c1 sees it
#   scripts/rabbitmq-cluster.sh urls         the AMQP_URL of the cluster (the three URLs, comma-separated)
#   scripts/rabbitmq-cluster.sh node-start N start node N again (it rejoins with its data)
#   scripts/rabbitmq-cluster.sh node-stop N  stop node N cleanly (rabbitmqctl stop)
#   scripts/rabbitmq-cluster.sh node-pid N   the OS pid of node N (for kill -9)
#   scripts/rabbitmq-cluster.sh ctl N ARGS   rabbitmqctl ARGS against node N
#
# Node N listens for AMQP on 127.0.0.1:$((HERALD_CLUSTER_BASE_PORT + N)) (5681, 5682, 5683 by default)
# and for Erlang distribution on that port + 20000 (25681..25683). It never touches the machine's own
# RabbitMQ (rabbit@localhost on 5672): its nodes have their own names, config, data and log
# directories under HERALD_CLUSTER_DIR, and their own Erlang cookie (HOME is that directory, for the
# servers and for every rabbitmqctl this script runs). Each node runs on one scheduler with a 512 MiB
# memory watermark, to stay small on a shared machine.
set -euo pipefail

BASE_PORT=${HERALD_CLUSTER_BASE_PORT:-5680}
DIR=${HERALD_CLUSTER_DIR:-/tmp/herald-rabbitmq-cluster}
NODES=(1 2 3)
RMQ_BIN=/usr/lib/rabbitmq/bin
[ -x "$RMQ_BIN/rabbitmq-server" ] || RMQ_BIN=$(dirname "$(command -v rabbitmq-server)")

node_name() { echo "herald-c$1@localhost"; }
amqp_port() { echo $((BASE_PORT + $1)); }

node_env() {
  local n=$1 d="$DIR/c$1"
  echo HOME="$DIR" \
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_PORT="$(amqp_port "$n")" \
    RABBITMQ_DIST_PORT="$(($(amqp_port "$n") + 20000))" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_PID_FILE="$d/pid" \
    ERL_CRASH_DUMP="$DIR/erl_crash.dump"
}

ctl() {
  local n=$1
  shift
  # shellcheck disable=SC2046
  env $(node_env "$n") "$RMQ_BIN/rabbitmqctl" -n "$(node_name "$n")" "$@"
}

prepare() {
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if [ ! -f "$DIR/.erlang.cookie" ]; then
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/.erlang.cookie"
    chmod 400 "$DIR/.erlang.cookie"
  fi
  cat >"$DIR/rabbitmq-env.conf" <<'EOF'
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 +A 4"
EOF
  echo '[].' >"$DIR/enabled_plugins"
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/c$n/log" "$DIR/c$n/mnesia"
    cat >"$DIR/c$n/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$(amqp_port "$n")
vm_memory_high_watermark.absolute = 512MiB
disk_free_limit.absolute = 100MB
collect_statistics_interval = 1000
EOF
  done
}

running() { ctl "$1" -q status >/dev/null 2>&1; }

start_node() {
  local n=$1
  if running "$n"; then return 0; fi
  # shellcheck disable=SC2046
  (env $(node_env "$n") setsid "$RMQ_BIN/rabbitmq-server" >"$DIR/c$n/log/console.log" 2>&1 &)
  ctl "$n" wait --timeout 120 "$DIR/c$n/pid" >/dev/null
}


start() {
  prepare
  for n in "${NODES[@]}"; do start_node "$n"; done
  for n in "${NODES[@]:1}"; do
    if ! ctl 1 -q cluster_status --formatter json | grep -o '"running_nodes":\[[^]]*\]' | grep -q "$(node_name "$n")"; then
      {
        ctl "$n" -q stop_app
        ctl "$n" -q reset
        ctl "$n" -q join_cluster "$(node_name 1)"
        ctl "$n" -q start_app
      } >>"$DIR/c$n/log/join.log" 2>&1 || {
        cat "$DIR/c$n/log/join.log" >&2
        return 1
      }
    fi
  done
  ctl 1 -q await_online_nodes 3 --timeout 120 >/dev/null
  echo "cluster up: $(urls)"
}

stop() {
  for n in "${NODES[@]}"; do
    if running "$n"; then ctl "$n" -q stop >/dev/null 2>&1 || true; fi
    if [ -f "$DIR/c$n/pid" ]; then
      local pid
      pid=$(cat "$DIR/c$n/pid")
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
  echo "cluster stopped and removed ($DIR)"
}

urls() {
  local out=()
  for n in "${NODES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$n")"); done
  (
    IFS=,
    echo "${out[*]}"
  )
}

cmd=${1:-}
case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) ctl 1 cluster_status ;;
  urls) urls ;;
  node-start) start_node "$2" ;;
  node-stop) ctl "$2" -q stop ;;
  node-pid) cat "$DIR/c$2/pid" ;;
  ctl)
    n=$2
    shift 2
    ctl "$n" "$@"
    ;;
  *)
    echo "usage: $0 start|stop|status|urls|node-start N|node-stop N|node-pid N|ctl N ARGS" >&2
    exit 2
    ;;
esac
