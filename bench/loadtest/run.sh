#!/usr/bin/env bash
# Gateway load test (issue 8): the mock upstream (nginx), nginx as a plain reverse proxy, our gateway
# with its full pipeline, and the Portkey gateway, each driven in turn by wrk over loopback for a
# bounded time; then our gateway with its limits on Redis (issue 7), our gateway streaming, and a
# soak of our gateway watching its memory.
# Writes a markdown table of requests/s, p50, p99 and resident memory (see README.md beside it).
#
# Everything it starts listens on 127.0.0.1 only and is stopped on exit (trap), by process id.
# Durations, connections and targets come from LT_* environment variables (README.md lists them).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
root=$(cd "$here/../.." && pwd)

DURATION=${LT_DURATION:-20}            # seconds of each measured run
WARMUP=${LT_WARMUP:-30}                # seconds of load before each measured run, not recorded
SOAK=${LT_SOAK:-120}                   # seconds of the soak of our gateway
CONNECTIONS=${LT_CONNECTIONS:-32}
THREADS=${LT_THREADS:-2}
STREAM_CHUNKS=${LT_STREAM_CHUNKS:-20}
ROUNDS=${LT_ROUNDS:-3}                 # rounds of proxy, ours, ours-redis for the ratios (medians)
TARGETS=${LT_TARGETS:-"direct proxy ours portkey redis stream soak"}
PORTKEY_VERSION=${LT_PORTKEY_VERSION:-1.15.2}
PORTKEY_DIR=${LT_PORTKEY_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fast-litellm/portkey-$PORTKEY_VERSION}
OUT=${LT_OUT:-$root/bench/target/loadtest/results-$(date -u +%Y%m%dT%H%M%SZ).md}
GATEWAY_JAVA_OPTS=${FAST_LITELLM_JAVA_OPTS:--Xmx512m -XX:+UseParallelGC -Xmn64m}
MOCK_JAVA_OPTS=${LT_MOCK_JAVA_OPTS:--Xmx256m}

for v in DURATION WARMUP SOAK CONNECTIONS THREADS STREAM_CHUNKS ROUNDS; do
  val=${!v}
  if ! [[ $val =~ ^[0-9]+$ ]]; then
    echo "run.sh: LT_$v: '$val' (expected: a whole number)" >&2
    exit 2
  fi
done
for t in $TARGETS; do
  case $t in direct|proxy|ours|portkey|redis|stream|soak) ;;
    *) echo "run.sh: LT_TARGETS: unknown target '$t' (expected: direct proxy ours portkey redis stream soak)" >&2
       exit 2 ;;
  esac
done
wants() { [[ " $TARGETS " == *" $1 "* ]]; }

log() { printf '%s loadtest: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# --- tools ----------------------------------------------------------------------------------------

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if wants redis && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if wants portkey && ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

portkey_start="$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js"
if wants portkey && [ ! -f "$portkey_start" ]; then
  # Outside the repository on purpose: its node_modules must never be committed.
  log "installing @portkey-ai/gateway@$PORTKEY_VERSION into $PORTKEY_DIR (npm)"
  mkdir -p "$PORTKEY_DIR"
  (cd "$PORTKEY_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     npm install --no-audit --no-fund --silent "@portkey-ai/gateway@$PORTKEY_VERSION" >/dev/null)
fi

# Build the jar now (the launcher rebuilds when sources changed) so no server start waits on Maven.
log "checking the fast-litellm build"
"$root/fast-litellm" --version >/dev/null
# jstat of the JDK the launcher picks: tells heap growth (committed) from a growing live set (old gen).
jstat_bin=$(. "$root/scripts/java-env.sh" && fl_use_jdk >/dev/null 2>&1 && echo "$JAVA_HOME/bin/jstat" || true)

# --- processes --------------------------------------------------------------------------------------

work=$(mktemp -d /tmp/fast-litellm-loadtest.XXXXXX)
chmod 755 "$work"   # nginx workers may run as nobody: they must read www/
pids=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "${LT_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
    log "logs and configs kept in $work"
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    local p
    while :; do
      p=$((20000 + RANDOM % 40000))
      ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
    done
  fi
}

# start NAME CMD...: runs CMD in the background, logs to $work/NAME.log, remembers its pid in $last_pid.
start() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_up NAME PID URL: waits until URL answers anything over HTTP (60 s at most).
wait_up() {
  local name=$1 pid=$2 url=$3
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited at start; its log:"; cat "$work/$name.log" >&2; exit 1
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" != 000 ]; then return; fi
    sleep 0.2
  done
  log "$name did not answer on $url within 60 s; its log:"; cat "$work/$name.log" >&2; exit 1
}

# Resident memory in KiB of a process and its descendants (nginx: master + worker).
rss_kb() {
  local pid=$1 total=0 kb child
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  total=$((total + ${kb:-0}))
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    total=$((total + $(rss_kb "$child")))
  done
  echo "$total"
}
# "committed used-old" heap of a JVM in MiB (S0C+S1C+EC+OC and OU of jstat -gc), "- -" without jstat.
jvm_heap() {
  if [ -x "${jstat_bin:-}" ]; then
    "$jstat_bin" -gc "$1" 2>/dev/null | awk 'NR == 2 { printf "%.0f %.0f", ($1 + $2 + $5 + $7) / 1024, $8 / 1024 }'
  else
    echo "- -"
  fi
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

fill() {  # fill TEMPLATE OUT: substitutes the @NAME@ placeholders
  sed -e "s|@WORKDIR@|$work|g" -e "s|@MOCK_PORT@|$mock_port|g" -e "s|@STREAM_PORT@|$stream_port|g" \
      -e "s|@STREAM_CHUNKS@|$STREAM_CHUNKS|g" -e "s|@UPSTREAM_PORT@|$mock_port|g" \
      -e "s|@STREAM_PROXY_PORT@|$stream_proxy_port|g" -e "s|@PORT@|${port_for_fill}|g" "$1" >"$2"
}

mock_port=$(free_port); stream_port=$(free_port); proxy_port=$(free_port)
stream_proxy_port=$(free_port); gateway_port=$(free_port); portkey_port=$(free_port)
redis_port=$(free_port); redis_gateway_port=$(free_port)

mkdir -p "$work/www/v1/chat" "$work/nginx-mock-tmp" "$work/nginx-proxy-tmp"
cp "$here/chat-completion.json" "$work/www/v1/chat/completions"
chmod -R a+rX "$work/www"
port_for_fill=$mock_port fill "$here/nginx-mock.conf" "$work/nginx-mock.conf"
port_for_fill=$proxy_port fill "$here/nginx-proxy.conf" "$work/nginx-proxy.conf"
port_for_fill=0 fill "$here/gateway.yaml" "$work/gateway.yaml"

log "starting the mock upstream (nginx) on $mock_port"
start nginx-mock "$NGINX" -p "$work" -c "$work/nginx-mock.conf"; mock_pid=$last_pid
wait_up nginx-mock "$mock_pid" "http://127.0.0.1:$mock_port/"

if wants stream; then
  log "starting the streaming upstream (fast-litellm mock-server) on $stream_port"
  FAST_LITELLM_JAVA_OPTS=$MOCK_JAVA_OPTS start mock-server "$root/fast-litellm" mock-server --port "$stream_port"
  stream_pid=$last_pid
  wait_up mock-server "$stream_pid" "http://127.0.0.1:$stream_port/"
fi

if wants proxy || wants stream; then
  log "starting nginx as a reverse proxy on $proxy_port (streams on $stream_proxy_port)"
  start nginx-proxy "$NGINX" -p "$work" -c "$work/nginx-proxy.conf"; proxy_pid=$last_pid
  wait_up nginx-proxy "$proxy_pid" "http://127.0.0.1:$proxy_port/"
fi

if wants ours || wants stream || wants soak; then
  log "starting our gateway on $gateway_port ($GATEWAY_JAVA_OPTS)"
  FAST_LITELLM_JAVA_OPTS=$GATEWAY_JAVA_OPTS start gateway \
    "$root/fast-litellm" serve --config "$work/gateway.yaml" --port "$gateway_port"
  gateway_pid=$last_pid
  wait_up gateway "$gateway_pid" "http://127.0.0.1:$gateway_port/health/liveliness"
fi

if wants redis; then
  # The same gateway and config, with every key and deployment limit on a shared Redis.
  log "starting redis-server on $redis_port and a second gateway on $redis_gateway_port with its limits there"
  start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no; redis_pid=$last_pid
  sed "s|^router_settings:|router_settings:\n  redis_url: redis://127.0.0.1:$redis_port|" "$work/gateway.yaml" >"$work/gateway-redis.yaml"
  FAST_LITELLM_JAVA_OPTS=$GATEWAY_JAVA_OPTS start gateway-redis \
    "$root/fast-litellm" serve --config "$work/gateway-redis.yaml" --port "$redis_gateway_port"
  redis_gateway_pid=$last_pid
  wait_up gateway-redis "$redis_gateway_pid" "http://127.0.0.1:$redis_gateway_port/health/liveliness"
fi

if wants portkey; then
  log "starting the Portkey gateway $PORTKEY_VERSION on $portkey_port"
  start portkey node "$portkey_start" --port="$portkey_port"; portkey_pid=$last_pid
  wait_up portkey "$portkey_pid" "http://127.0.0.1:$portkey_port/"
fi

# --- load ---------------------------------------------------------------------------------------------

our_auth="Authorization: Bearer sk-loadtest-virtual"
portkey_headers="Authorization: Bearer sk-loadtest-upstream|x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$mock_port/v1"
mock_chunks="x-mock-chunks: $STREAM_CHUNKS"

# check NAME URL HEADERS STREAM EXPECT: one request by curl before the load, so that a run that only
# measures errors is caught at once rather than reported as a fast one.
check() {
  local name=$1 url=$2 headers=$3 stream=$4 expect=$5 args=() pair body model=gpt-4o
  IFS='|' read -ra pairs <<<"$headers"
  for pair in "${pairs[@]}"; do args+=(-H "$pair"); done
  body='{"model":"MODEL","messages":[{"role":"user","content":"Say hello to the load test in one short sentence."}],"max_tokens":32'
  [ "$stream" = true ] && body+=',"stream":true,"stream_options":{"include_usage":true}'
  [ "$stream" = true ] && [ "$name" = "ours-stream" ] && model=gpt-4o-stream
  body="${body/MODEL/$model}}"
  local got code
  got=$(curl -s -N --max-time 20 -w '\n%{http_code}' -H 'Content-Type: application/json' "${args[@]}" \
        -d "$body" "$url" || true)
  code=${got##*$'\n'}
  if [ "$code" != 200 ] || [[ $got != *"$expect"* ]]; then
    log "$name: a single request answered $code, expected 200 with '$expect':"
    printf '%s\n' "$got" | head -c 2000 >&2; echo >&2
    exit 1
  fi
  if [ "$stream" = true ]; then
    log "$name: check passed ($(grep -c '"content":"' <<<"$got") content chunks in one stream)"
  else
    log "$name: check passed"
  fi
}

rows=()      # markdown rows of the main table
declare -A rps p50 p99 rss

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "" || b == "") print "n/a"; else printf "%.2f", a / b }'; }

# to_ms "627.00us" -> 0.627
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# load NAME PID URL HEADERS STREAM: a warm-up, then a measured run of DURATION seconds while the
# resident memory of PID is sampled every second; records one row.
load() {
  local name=$1 pid=$2 url=$3 headers=$4 stream=$5 model=gpt-4o
  [ "$name" = ours-stream ] && model=gpt-4o-stream
  local vars=(LT_HEADERS="$headers" LT_STREAM="$stream" LT_MODEL="$model")
  local idle; idle=$(rss_kb "$pid")
  if [ "$WARMUP" -gt 0 ]; then
    log "$name: warm-up ${WARMUP}s"
    env "${vars[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s \
      -s "$here/chat.lua" "$url" >"$work/wrk-$name-warmup.txt" 2>&1 || true
  fi
  log "$name: ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads"
  : >"$work/rss-$name.txt"
  ( while kill -0 "$pid" 2>/dev/null; do rss_kb "$pid" >>"$work/rss-$name.txt"; sleep 1; done ) &
  local sampler=$!
  env "${vars[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$here/chat.lua" "$url" >"$work/wrk-$name.txt" 2>&1 || true
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  local f="$work/wrk-$name.txt"
  if ! grep -q '^Requests/sec:' "$f"; then
    log "$name: wrk failed:"; cat "$f" >&2; exit 1
  fi
  local total errors non2xx sock peak
  total=$(awk '/requests in/ {print $1}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f"); non2xx=${non2xx:-0}
  sock=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$f"); sock=${sock:-0}
  errors=$((non2xx + sock))
  peak=$(sort -n "$work/rss-$name.txt" | tail -1)
  rps[$name]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
  p50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")
  p99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")
  rss[$name]=$(mb "${peak:-0}")
  rows+=("| $name | ${rps[$name]} | ${p50[$name]} | ${p99[$name]} | $errors / $total | ${rss[$name]} | $(mb "$idle") |")
  log "$name: ${rps[$name]} requests/s, p50 ${p50[$name]} ms, p99 ${p99[$name]} ms, errors $errors / $total, RSS ${rss[$name]} MB"
}

load_avg_start=$(cut -d' ' -f1-3 /proc/loadavg)

if wants direct; then
  check direct "http://127.0.0.1:$mock_port/v1/chat/completions" "" false '"chat.completion"'
  load direct "$mock_pid" "http://127.0.0.1:$mock_port/v1/chat/completions" "" false
fi
if wants proxy; then
  check proxy "http://127.0.0.1:$proxy_port/v1/chat/completions" "" false '"chat.completion"'
  load proxy "$proxy_pid" "http://127.0.0.1:$proxy_port/v1/chat/completions" "" false
fi
if wants ours; then
  check ours "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" false '"chat.completion"'
  load ours "$gateway_pid" "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" false
fi
if wants portkey; then
  check portkey "http://127.0.0.1:$portkey_port/v1/chat/completions" "$portkey_headers" false '"chat.completion"'
  load portkey "$portkey_pid" "http://127.0.0.1:$portkey_port/v1/chat/completions" "$portkey_headers" false
fi
if wants redis; then
  check ours-redis "http://127.0.0.1:$redis_gateway_port/v1/chat/completions" "$our_auth" false '"chat.completion"'
  load ours-redis "$redis_gateway_pid" "http://127.0.0.1:$redis_gateway_port/v1/chat/completions" "$our_auth" false
  scripts=$(redis-cli -p "$redis_port" INFO commandstats | awk -F'[=,:]' '/cmdstat_evalsha/ {print $3}')
  log "ours-redis: ${scripts:-0} scripts run on Redis"
fi
# One run of a target swings by 20 % on two shared cores (the in-memory gateway alone from 22k to
# 29k requests/s within ten minutes): rounds 2..LT_ROUNDS run proxy, ours and ours-redis again, one
# after the other, all warm (no warm-up), and each ratio below is the median of its rounds' ratios.
declare -A ratios   # goal -> "r1 r2 ..."
add_ratio() { [ "$2" != n/a ] && ratios[$1]="${ratios[$1]:-}${ratios[$1]:+ }$2"; return 0; }
round_ratios() {  # round_ratios SUFFIX: the ratios of one round's rows
  add_ratio rps-proxy "$(ratio "${rps[ours$1]:-}" "${rps[proxy$1]:-}")"
  add_ratio p99-proxy "$(ratio "${p99[ours$1]:-}" "${p99[proxy$1]:-}")"
  add_ratio rps-redis "$(ratio "${rps[ours-redis$1]:-}" "${rps[ours$1]:-}")"
}
round_ratios ""
if wants ours; then
  for ((r = 2; r <= ROUNDS; r++)); do
    if wants proxy; then
      WARMUP=0 load "proxy-round$r" "$proxy_pid" "http://127.0.0.1:$proxy_port/v1/chat/completions" "" false
    fi
    WARMUP=0 load "ours-round$r" "$gateway_pid" "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" false
    if wants redis; then
      WARMUP=0 load "ours-redis-round$r" "$redis_gateway_pid" "http://127.0.0.1:$redis_gateway_port/v1/chat/completions" "$our_auth" false
    fi
    round_ratios "-round$r"
  done
fi
if wants redis; then
  kill -TERM "$redis_gateway_pid" 2>/dev/null || true   # two gateways at once would share the cores
fi
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END {
  if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rounds_of() { local n; n=$(wc -w <<<"${ratios[$1]:-}"); echo "median of $n rounds: ${ratios[$1]:-none}"; }

if wants stream; then
  check stream-direct "http://127.0.0.1:$stream_port/v1/chat/completions" "$mock_chunks" true '[DONE]'
  load stream-direct "$stream_pid" "http://127.0.0.1:$stream_port/v1/chat/completions" "$mock_chunks" true
  check stream-proxy "http://127.0.0.1:$stream_proxy_port/v1/chat/completions" "$mock_chunks" true '[DONE]'
  load stream-proxy "$proxy_pid" "http://127.0.0.1:$stream_proxy_port/v1/chat/completions" "$mock_chunks" true
  check ours-stream "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" true '[DONE]'
  load ours-stream "$gateway_pid" "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" true
fi

soak_line=""
if wants soak; then
  check ours "http://127.0.0.1:$gateway_port/v1/chat/completions" "$our_auth" false '"chat.completion"'
  log "soak: our gateway, ${SOAK}s, $CONNECTIONS connections (RSS every 5 s)"
  : >"$work/rss-soak.txt"
  LT_HEADERS="$our_auth" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SOAK}s" --timeout 10s --latency \
    -s "$here/chat.lua" "http://127.0.0.1:$gateway_port/v1/chat/completions" >"$work/wrk-soak.txt" 2>&1 &
  soak_wrk=$!
  sleep 1
  elapsed=0
  while kill -0 "$soak_wrk" 2>/dev/null; do
    echo "$elapsed $(rss_kb "$gateway_pid") $(jvm_heap "$gateway_pid")" >>"$work/rss-soak.txt"
    sleep 5; elapsed=$((elapsed + 5))
  done
  wait "$soak_wrk" || true
  soak_start=$(awk 'NR == 1 {print $2}' "$work/rss-soak.txt")
  soak_end=$(awk 'END {print $2}' "$work/rss-soak.txt")
  soak_peak=$(awk '$2 > m {m = $2} END {print m}' "$work/rss-soak.txt")
  soak_growth=$(awk -v a="$soak_start" -v b="$soak_end" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
  soak_rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk-soak.txt")
  soak_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk-soak.txt")")
  soak_non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/wrk-soak.txt")
  soak_total=$(awk '/requests in/ {print $1}' "$work/wrk-soak.txt")
  soak_line="Soak (our gateway, ${SOAK} s at $CONNECTIONS connections, $soak_rps requests/s, p99 $soak_p99 ms, non-2xx ${soak_non2xx:-0} / $soak_total): RSS $(mb "$soak_start") MB at start, $(mb "$soak_end") MB at end, peak $(mb "$soak_peak") MB: growth **$soak_growth %**."
  soak_series=$(awk '{printf "%s| %s | %.0f | %s | %s |", (NR > 1 ? "\n" : ""), $1, $2 / 1024, $3, $4} END {print ""}' "$work/rss-soak.txt")
  log "soak: RSS $(mb "$soak_start") -> $(mb "$soak_end") MB ($soak_growth %)"
fi
load_avg_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -------------------------------------------------------------------------------------------

verdict() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
  if (v == "n/a") { print "n/a"; exit }
  if (op == ">=") ok = v + 0 >= g + 0; else if (op == "<=") ok = v + 0 <= g + 0; else ok = v + 0 < g + 0
  print ok ? "met" : "**not met**" }'; }

java_version=$(. "$root/scripts/java-env.sh" && fl_use_jdk >/dev/null 2>&1 && "$JAVA_HOME/bin/java" -version 2>&1 | head -1)
mkdir -p "$(dirname "$OUT")"
{
  echo "# Gateway load test: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`LT_DURATION=$DURATION LT_WARMUP=$WARMUP LT_SOAK=$SOAK LT_CONNECTIONS=$CONNECTIONS LT_THREADS=$THREADS LT_STREAM_CHUNKS=$STREAM_CHUNKS LT_TARGETS=\"$TARGETS\" bench/loadtest/run.sh\`"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr); load average $load_avg_start at start, $load_avg_end at end."
  echo "Software: $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), node $(node --version 2>/dev/null || echo -), Portkey gateway $PORTKEY_VERSION, $java_version, gateway JVM \`$GATEWAY_JAVA_OPTS\`."
  echo
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s warm-up; POST /v1/chat/completions (non-streaming unless named stream), loopback."
  echo "RSS: peak of the server's resident memory (with its child processes: nginx master + worker) sampled every second under load; idle: before the warm-up."
  echo
  echo "| target | requests/s | p50 ms | p99 ms | errors / requests | RSS under load MB | RSS idle MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Targets: direct = the nginx mock upstream; proxy = nginx reverse proxy (upstream keepalive) in front of it;"
  echo "ours = fast-litellm serve (master key, virtual key with rpm/tpm/parallel limits checked on every request, 2 deployments, simple-shuffle, usage accounting);"
  echo "portkey = Portkey gateway (node) with x-portkey-provider openai and x-portkey-custom-host to the mock;"
  echo "ours-redis = the same gateway and config with router_settings.redis_url: every key and deployment limit checked and reconciled on a local redis-server;"
  echo "stream-direct = fast-litellm mock-server streaming $STREAM_CHUNKS chunks; stream-proxy = nginx (proxy_buffering off) in front of it; ours-stream = our gateway in front of it."
  echo
  if wants ours; then
    r1=$(median "${ratios[rps-proxy]:-}"); r2=$(ratio "${rps[ours]:-}" "${rps[portkey]:-}")
    r3=$(median "${ratios[p99-proxy]:-}")
    echo "| goal (issue 8) | figure | verdict |"
    echo "| --- | ---: | --- |"
    echo "| requests/s ours / nginx proxy >= 0.6 ($(rounds_of rps-proxy)) | $r1 | $(verdict "$r1" '>=' 0.6) |"
    echo "| requests/s ours / Portkey >= 15 | $r2 | $(verdict "$r2" '>=' 15) |"
    echo "| p99 ours / nginx proxy <= 2 ($(rounds_of p99-proxy)) | $r3 | $(verdict "$r3" '<=' 2) |"
    echo "| RSS under load < 300 MB | ${rss[ours]} MB | $(verdict "${rss[ours]}" '<' 300) |"
    if wants redis; then
      r6=$(median "${ratios[rps-redis]:-}")
      echo "| requests/s ours with limits on Redis / ours in memory >= 0.7 (issue 7) ($(rounds_of rps-redis)) | $r6 | $(verdict "$r6" '>=' 0.7) |"
    fi
    if wants stream; then
      r4=$(ratio "${rps[ours-stream]:-}" "${rps[stream-proxy]:-}"); r5=$(ratio "${p99[ours-stream]:-}" "${p99[stream-proxy]:-}")
      echo "| streaming: requests/s ours / nginx proxy >= 0.6 | $r4 | $(verdict "$r4" '>=' 0.6) |"
      echo "| streaming: p99 ours / nginx proxy <= 2 | $r5 | $(verdict "$r5" '<=' 2) |"
      echo "| streaming: RSS under load < 300 MB | ${rss[ours-stream]} MB | $(verdict "${rss[ours-stream]}" '<' 300) |"
    fi
    if wants soak; then
      echo "| soak: RSS growth < 10 % | $soak_growth % | $(verdict "$soak_growth" '<' 10) |"
    fi
    echo
  fi
  if [ -n "$soak_line" ]; then
    echo "$soak_line"
    echo
    echo "| soak second | RSS MB | JVM heap committed MB | old generation used MB |"
    echo "| ---: | ---: | ---: | ---: |"
    echo "$soak_series"
    echo
  fi
} >"$OUT"
cat "$OUT"
log "written to $OUT"
