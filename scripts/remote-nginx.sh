#!/usr/bin/env bash
# A real HTTP remote for `repro push` and `repro pull`: nginx with WebDAV PUT on loopback, for
# the remote tests, CI and benchmarks. Installing nginx needs root; running it does not.
#
#   url=$(scripts/remote-nginx.sh start DIR [USER:PASSWORD])  # prints the remote's URL only
#   scripts/remote-nginx.sh stop DIR
#
# start: installs Debian's `nginx-light` (apt-get install -y --no-install-recommends) when no
#   `nginx` is found; writes DIR/nginx.conf for a server on 127.0.0.1 at a free port (tried from
#   $REPRO_NGINX_PORT, default a random one from 20000 to 59999, up to 20 ports), serving
#   DIR/root with GET, HEAD and PUT (`dav_methods PUT; create_full_put_path on;`), no body size
#   limit, and every temporary, log and pid file inside DIR; with USER:PASSWORD, HTTP Basic
#   authentication (DIR/htpasswd, `{PLAIN}`). Prints `http://127.0.0.1:PORT/cache/` on stdout;
#   the remote's files are then under DIR/root/cache/. Exit 3 when nginx is absent and cannot
#   be installed (not root, no apt-get), 2 on any other failure.
# stop: stops the nginx of DIR by its pid file and waits for it to exit (at most 10 s). DIR is
#   left for the caller to remove.
#
# Limits: plain HTTP only (no TLS); nginx's WebDAV ignores `If-None-Match` on PUT, so two
#   pushers racing to create one record leave the later of the two whole records.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

say() { echo "remote-nginx: $*" >&2; }
die() { say "error: $*"; exit 2; }

ensure_nginx() {
    command -v nginx >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "nginx is not installed and cannot be installed here (needs root and apt-get)"
        exit 3
    fi
    # Tests start servers in parallel: one installs while the others wait for it on a lock
    # (and apt-get waits for any other holder of dpkg's lock), then finds nginx there. The
    # lock is this script itself, opened for reading: no file is created or truncated, as
    # root, in a directory others can write to.
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
    if ! command -v nginx >/dev/null 2>&1; then
        say "installing nginx-light"
        local apt=(apt-get -o DPkg::Lock::Timeout=300)
        if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends nginx-light >&2; then
            "${apt[@]}" update >&2 || true
            DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends nginx-light >&2 \
                || { say "apt-get could not install nginx-light"; exit 3; }
        fi
    fi
    flock -u 9
    exec 9>&-
    command -v nginx >/dev/null 2>&1 || { say "nginx-light installed no nginx"; exit 3; }
}

write_conf() { # DIR PORT
    local dir=$1 port=$2 auth="" user=""
    if [ -f "$dir/htpasswd" ]; then
        auth="auth_basic \"repro\"; auth_basic_user_file $dir/htpasswd;"
    fi
    if [ "$(id -u)" = 0 ]; then user="user root;"; fi
    cat > "$dir/nginx.conf" <<CONF
$user
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 512; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $dir/root;
        log_not_found off;
        location / {
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
            $auth
        }
    }
}
CONF
}

start() {
    local dir=${1:?usage: remote-nginx.sh start DIR [USER:PASSWORD]} cred=${2:-}
    ensure_nginx
    mkdir -p "$dir/root/cache" "$dir/tmp"
    dir=$(cd "$dir" && pwd)
    if [ -n "$cred" ]; then
        case $cred in *:*) ;; *) die "expected USER:PASSWORD";; esac
        printf '%s:{PLAIN}%s\n' "${cred%%:*}" "${cred#*:}" > "$dir/htpasswd"
    else
        rm -f "$dir/htpasswd"
    fi
    local port=${REPRO_NGINX_PORT:-$((20000 + RANDOM % 40000))} try
    for try in $(seq 1 20); do
        write_conf "$dir" "$port"
        if nginx -c "$dir/nginx.conf" -p "$dir" 2>>"$dir/start.log"; then
            for _ in $(seq 1 50); do
                [ -s "$dir/nginx.pid" ] && break
                sleep 0.1
            done
            echo "$port" > "$dir/port"
            echo "http://127.0.0.1:$port/cache/"
            return 0
        fi
        port=$((20000 + RANDOM % 40000))
    done
    die "nginx did not start (see $dir/start.log and $dir/error.log)"
}

stop() {
    local dir=${1:?usage: remote-nginx.sh stop DIR} pid
    [ -s "$dir/nginx.pid" ] || { say "no nginx running for $dir"; return 0; }
    pid=$(cat "$dir/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/nginx.pid"; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/nginx.pid"
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: remote-nginx.sh start DIR [USER:PASSWORD] | stop DIR" >&2; exit 2 ;;
esac
