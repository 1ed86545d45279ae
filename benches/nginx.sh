# Sourced by the benchmarks that compare against nginx (peers.sh, mock_server.sh): one
# nginx worker answering every path with a static JSON body, no logs, keep-alive without a
# request limit (so nobody pays reconnects), everything it writes under DIR.

# nginx_conf DIR PORT BODY [LISTEN_OPTIONS]: writes DIR/nginx.conf. LISTEN_OPTIONS go after
# the port in `listen`, e.g. " ssl; ssl_certificate C; ssl_certificate_key K".
nginx_conf() {
  local dir="$1" port="$2" body="$3" listen_options="${4:-}"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log /dev/null;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  server { listen 127.0.0.1:$port$listen_options;
    location / { default_type application/json; return 200 '$body'; } }
}
CONF
}

# nginx_start CORE DIR: starts the nginx of DIR/nginx.conf pinned to CORE.
nginx_start() { taskset -c "$1" nginx -p "$2/tmp" -e /dev/null -c "$2/nginx.conf"; }

# nginx_stop DIR: stops it (nothing to do if it is not running).
nginx_stop() {
  if [[ -f "$1/nginx.pid" ]]; then kill "$(cat "$1/nginx.pid")" 2>/dev/null || true; rm -f "$1/nginx.pid"; fi
}
