#!/usr/bin/env bash
# A throwaway single-node Ceph cluster serving S3 on 127.0.0.1, for tests:
# one monitor, one OSD on the in-memory "memstore" backend (nothing touches a
# real disk beyond DIR), no manager, and one radosgw.
#
#   scripts/s3-rgw.sh start DIR [PORT]   wipes DIR, starts, prints the endpoint
#   scripts/s3-rgw.sh stop DIR           stops every daemon started in DIR
#
# On success `start` prints shell assignments on stdout:
#   CARELOG_S3_ENDPOINT=http://127.0.0.1:PORT
#   CARELOG_S3_ACCESS_KEY=CARELOGKEY
#   CARELOG_S3_SECRET_KEY=CARELOGSECRET
#   CARELOG_S3_REGION=us-east-1
# Buckets are not created here (the test harness creates its own).
# Packages: ceph-mon ceph-osd radosgw (scripts/deps-test.txt).
# Env: CARELOG_RGW_MON_PORT (default PORT+10000) for the monitor.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$(realpath -m "$2")
port=${3:-7480}
mon_port=${CARELOG_RGW_MON_PORT:-$((port + 10000))}
export CEPH_CONF="$dir/ceph.conf"
access_key=CARELOGKEY
secret_key=CARELOGSECRET

# Daemons in stop order: the gateway first so it does not log errors about a
# vanished cluster, the monitor last.
daemons=(client.rgw.gw osd.0 mon.a)

stop_all() {
  local name pid
  for name in "${daemons[@]}"; do
    pid=$(cat "$dir/run/$name.pid" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "${daemons[@]}"; do
    pid=$(cat "$dir/run/$name.pid" 2>/dev/null) || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/run/$name.pid"
  done
}

# wait_for SECONDS DESC CMD...: polls CMD every 0.1 s.
wait_for() {
  local secs=$1 desc=$2; shift 2
  for _ in $(seq $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "s3-rgw: timed out after ${secs}s waiting for $desc (logs in $dir/log)" >&2
  return 1
}

case $cmd in
  stop)
    [[ -d $dir ]] || exit 0
    stop_all
    exit 0
    ;;
  start) ;;
  *) usage ;;
esac

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
  command -v "$tool" >/dev/null || { echo "s3-rgw: $tool not found (apt-get install --no-install-recommends ceph-mon ceph-osd radosgw)" >&2; exit 1; }
done

# A leftover cluster from an earlier run in the same DIR goes first.
[[ -d $dir/run ]] && stop_all
rm -rf "$dir"
mkdir -p "$dir"/{run,log,mon.a,osd.0}
# If anything below fails, do not leave half a cluster running.
trap 'rc=$?; if [[ $rc -ne 0 ]]; then stop_all; fi' EXIT

fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$CEPH_CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
keyring = $dir/admin.keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/crash
# One OSD: every pool has one replica and one placement group.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
auth allow insecure global id reclaim = false

[mon]
mon data = $dir/mon.\$id
mon data avail warn = 1
mon data avail crit = 0
mon cluster log file = $dir/log/cluster.log
# Commit cluster-map changes quickly; start-up waits on several of them.
paxos propose interval = 0.05

[osd]
osd data = $dir/osd.\$id
keyring = $dir/osd.\$id/keyring
osd objectstore = memstore
memstore device bytes = 2147483648
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw.gw]
keyring = $dir/rgw.keyring
rgw frontends = beast endpoint=127.0.0.1:$port
rgw thread pool size = 32
rgw dns name = localhost
EOF

ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/admin.keyring" >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" 2>>"$dir/log/mkfs.log"
ceph-mon -i a 2>>"$dir/log/daemons.log"
wait_for 30 "the monitor" timeout 5 ceph mon stat

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_id=$(ceph osd new "$osd_uuid")
[[ $osd_id == 0 ]] || { echo "s3-rgw: unexpected osd id '$osd_id'" >&2; exit 1; }
ceph-authtool --create-keyring "$dir/osd.0/keyring" --gen-key -n osd.0 >/dev/null
ceph auth add osd.0 osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
  -i "$dir/osd.0/keyring" 2>>"$dir/log/daemons.log"
ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$dir/log/mkfs.log" >/dev/null
ceph-osd -i 0 2>>"$dir/log/daemons.log" >/dev/null
osd_up() { ceph osd stat -f json | grep -q '"num_up_osds":1'; }
wait_for 30 "the OSD" osd_up

ceph auth get-or-create client.rgw.gw mon 'allow rw' osd 'allow rwx' -o "$dir/rgw.keyring"
radosgw -n client.rgw.gw 2>>"$dir/log/daemons.log"
wait_for 60 "radosgw on 127.0.0.1:$port" curl -sf -o /dev/null "http://127.0.0.1:$port/"
radosgw-admin user create --uid=carelog --display-name=carelog \
  --access-key="$access_key" --secret-key="$secret_key" >/dev/null 2>>"$dir/log/admin.log"

echo "CARELOG_S3_ENDPOINT=http://127.0.0.1:$port"
echo "CARELOG_S3_ACCESS_KEY=$access_key"
echo "CARELOG_S3_SECRET_KEY=$secret_key"
echo "CARELOG_S3_REGION=us-east-1"
