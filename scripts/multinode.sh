#!/usr/bin/env bash
# A multi-node Docker Swarm on one machine, for the distributed tests (docs/distributed.md):
# N Docker engines (default 3), each `dockerd` in a network namespace of its own with its own
# address on a private segment, its own hostname, data, exec root and /etc/docker; the first
# node is the swarm manager, the others join it. The host's own engine is never touched.
#
#   bash scripts/multinode.sh up [N]          sweep leftovers, then start N nodes and the swarm
#   bash scripts/multinode.sh load IMAGE...   copy images from node 1 to the other nodes
#                                             (docker save | docker load; --from-host: from the host engine)
#   bash scripts/multinode.sh exec K CMD...   run CMD in node K's namespaces, DOCKER_HOST set to it
#   bash scripts/multinode.sh kill K          kill node K's engine outright (the machine is gone)
#   bash scripts/multinode.sh link K down|up  take node K's link to the segment down or up
#   bash scripts/multinode.sh env             print NODES, MANAGER_HOST and each node's DOCKER_HOST
#   bash scripts/multinode.sh down            stop everything this script started
#   bash scripts/multinode.sh sweep           the same, for a crashed run's leftovers
#
# Layout: namespaces tfmn-br (the bridge that joins the nodes; in its own namespace, since on
# the host Docker's FORWARD policy DROP eats the traffic) and tfmn-1…N; node K is 192.168.231.(10+K)
# and its hostname tfmn-K; the host has one leg, 192.168.231.1, to reach the nodes. State under
# TFMN_ROOT (default /var/tmp/tfmn): node K's socket is $TFMN_ROOT/K/docker.sock.
# `up` tears down on failure and on Ctrl-C; needs root, ip, unshare, dockerd.
set -euo pipefail

root="${TFMN_ROOT:-/var/tmp/tfmn}"
prefix=tfmn
subnet=192.168.231
brns="$prefix-br"

die() { echo "multinode: $*" >&2; exit 2; }
node_ns() { echo "$prefix-$1"; }
node_ip() { echo "$subnet.$((10 + $1))"; }
sock() { echo "unix://$root/$1/docker.sock"; }
dk() { local k=$1; shift; docker -H "$(sock "$k")" "$@"; }
node_count() { find "$root" -maxdepth 1 -mindepth 1 -type d -name '[0-9]*' 2>/dev/null | wc -l; }

# Every cgroup hierarchy the host has mounted, as "type options mountpoint" (ip netns exec
# remounts /sys and hides them; dockerd then fails with "Devices cgroup isn't mounted").
cgroup_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $3, $4, $2 }' /proc/self/mounts; }

# The script each node runs as PID 1 of its own UTS and mount namespaces.
node_boot() { # K
  local k=$1 dir="$root/$1"
  cat >"$dir/boot.sh" <<EOF
set -e
hostname $prefix-$k
mount --make-rprivate /
mount -t tmpfs cgroup /sys/fs/cgroup
while read -r type opts point; do
  mkdir -p "\$point"
  mount -t "\$type" -o "\$opts" "\$type" "\$point"
done <"$dir/cgroups"
mount --bind "$dir/etc-docker" /etc/docker
mkdir -p "$dir/run"
mount --bind "$dir/run" /run
mkdir -p /run/docker /run/containerd
# The engine finds the CLI's sockets and plugins under /var/run too.
[ -L /var/run ] || mount --bind "$dir/run" /var/run
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
exec dockerd --config-file "$dir/etc-docker/daemon.json" -H "$(sock "$k")" \
  --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
  --cgroup-parent "$prefix-$k" >"$dir/dockerd.log" 2>&1
EOF
}

start_node() { # K
  local k=$1 dir="$root/$1" ns
  ns=$(node_ns "$k")
  mkdir -p "$dir/etc-docker" "$dir/data" "$dir/exec"
  cgroup_mounts >"$dir/cgroups"
  echo "{\"storage-driver\": \"${TFMN_STORAGE_DRIVER:-overlay2}\", \"mtu\": 1400, \"log-driver\": \"json-file\"}" \
    >"$dir/etc-docker/daemon.json"
  ip netns add "$ns"
  ip link add "$prefix-$k" type veth peer name eth0 netns "$ns"
  ip link set "$prefix-$k" netns "$brns"
  ip -n "$brns" link set "$prefix-$k" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(node_ip "$k")/24" dev eth0
  ip -n "$ns" link set eth0 mtu 1500 up
  ip -n "$ns" route add default via "$subnet.1"
  node_boot "$k"
  # setsid: the engine outlives this shell and a Ctrl-C at the terminal reaches only the script.
  setsid ip netns exec "$ns" unshare --uts --mount --propagation private sh "$dir/boot.sh" \
    </dev/null >>"$dir/boot.log" 2>&1 &
}

wait_engine() { # K
  local k=$1 i
  for i in $(seq 1 150); do
    dk "$k" version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -n 20 "$root/$k/dockerd.log" >&2 || true
  die "node $k's engine did not answer within 30 s (its log above: $root/$k/dockerd.log)"
}

up() { # N
  local n=${1:-3} k token
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 9 ]] || die "up N: N must be 1…9, got '$n'"
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces, mounts, dockerd)"
  for c in ip unshare dockerd docker setsid; do command -v "$c" >/dev/null || die "$c is missing"; done
  sweep
  trap 'trap - EXIT; echo "multinode: interrupted, tearing down" >&2; sweep; exit 130' INT TERM
  trap 'rc=$?; if [[ $rc != 0 ]]; then echo "multinode: up failed, tearing down" >&2; sweep; fi' EXIT
  mkdir -p "$root"
  ip netns add "$brns"
  ip -n "$brns" link set lo up
  ip -n "$brns" link add br0 type bridge
  ip -n "$brns" link set br0 up
  ip link add "$prefix-host" type veth peer name hostleg netns "$brns"
  ip -n "$brns" link set hostleg master br0 up
  ip addr add "$subnet.1/24" dev "$prefix-host"
  ip link set "$prefix-host" up
  for k in $(seq 1 "$n"); do start_node "$k"; done
  for k in $(seq 1 "$n"); do wait_engine "$k"; done
  dk 1 swarm init --advertise-addr "$(node_ip 1)" --listen-addr "$(node_ip 1):2377" >/dev/null
  token=$(dk 1 swarm join-token -q worker)
  local joins=()
  for k in $(seq 2 "$n"); do
    dk "$k" swarm join --token "$token" --advertise-addr "$(node_ip "$k")" "$(node_ip 1):2377" >/dev/null &
    joins+=($!)
  done
  for k in "${joins[@]}"; do wait "$k" || die "a node failed to join the swarm"; done
  for _ in $(seq 1 100); do
    [[ $(dk 1 node ls --filter role=worker -q | wc -l) -ge $((n - 1)) ]] && break
    sleep 0.2
  done
  echo "$n" >"$root/nodes"
  trap - INT TERM EXIT
  env_lines
}

env_lines() {
  local k n
  n=$(cat "$root/nodes" 2>/dev/null || echo 0)
  echo "NODES=$n"
  echo "MANAGER_HOST=$(sock 1)"
  for k in $(seq 1 "$n"); do echo "NODE_${k}_HOST=$(sock "$k") NODE_${k}_IP=$(node_ip "$k")"; done
}

load() { # [--from-host] IMAGE...
  local from=1 k n loads=()
  if [[ ${1:-} == --from-host ]]; then from=host; shift; fi
  (($#)) || die "load IMAGE...: name at least one image"
  n=$(cat "$root/nodes" 2>/dev/null) || die "no nodes are up (run: bash scripts/multinode.sh up)"
  for k in $(seq 1 "$n"); do
    [[ $from == 1 && $k == 1 ]] && continue
    if [[ $from == host ]]; then docker save "$@"; else dk 1 save "$@"; fi | dk "$k" load -q >/dev/null &
    loads+=($!)
  done
  for k in "${loads[@]}"; do wait "$k" || die "loading $* into a node failed"; done
}

exec_in() { # K CMD...
  local k=$1
  shift
  [[ -d $root/$k ]] || die "node $k is not up"
  DOCKER_HOST=$(sock "$k") exec nsenter --net="/run/netns/$(node_ns "$k")" -- "$@"
}

kill_node() { # K: the engine and everything it started, at once
  pids_of "$(node_ns "$1")" | xargs -r kill -KILL 2>/dev/null || true
}

# Every process of namespace NS's node: those in its network namespace (engine, containerd,
# shims) and those in its cgroups (the tasks, which have network namespaces of their own).
pids_of() { # NS (tfmn-K, or tfmn- for all)
  local ns=$1 n
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ns" || true); do
    ip netns pids "$n" 2>/dev/null || true
  done
  cat /sys/fs/cgroup/pids/"$ns"*/cgroup.procs /sys/fs/cgroup/pids/"$ns"*/*/cgroup.procs 2>/dev/null || true
}

link() { # K down|up
  [[ ${2:-} == up || ${2:-} == down ]] || die "link K down|up"
  ip -n "$brns" link set "$prefix-$1" "$2"
}

# Stops engines (in parallel, TERM then KILL), unmounts what they left, removes namespaces,
# the host leg, the nodes' cgroups and the state folder. Safe to run when nothing is up.
sweep() {
  local ns k pids
  pids=$(pids_of "$prefix-" | sort -u)
  [[ -n $pids ]] && kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 50); do
    pids=$(pids_of "$prefix-" | sort -u)
    [[ -z $pids ]] && break
    sleep 0.2
  done
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
  sleep 0.2
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do ip netns del "$ns" || true; done
  ip link del "$prefix-host" 2>/dev/null || true
  for d in /sys/fs/cgroup/*/; do
    for k in "$d"$prefix-*; do [[ -d $k ]] && find "$k" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
  done
  if [[ -d $root ]]; then
    { grep -o " $root/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  rm -rf "$root"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up "$@" ;;
  load) load "$@" ;;
  exec) exec_in "$@" ;;
  kill) kill_node "$@" ;;
  link) link "$@" ;;
  env) env_lines ;;
  down | sweep) sweep ;;
  *) die "usage: $0 up [N] | load IMAGE... | exec K CMD... | kill K | link K down|up | env | down | sweep" ;;
esac
