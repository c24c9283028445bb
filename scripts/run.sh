#!/usr/bin/env bash
# Serve DL Portal locally; `make run` calls this after migrating and seeding.
#
# Without REDIS_URL the portal runs embedded (Celery tasks execute in-process), so this is just
# `manage.py runserver`. With REDIS_URL it also starts a Celery worker and Celery beat, and
# supervises the three: Ctrl-C stops them all, and if one of them dies the others are stopped too.
#
# Environment: RUN_ADDR (default 127.0.0.1:8000), STOP_GRACE seconds before a child that ignores
# SIGTERM is killed (default 15). Everything else (DATABASE_URL, REDIS_URL, CELERY_QUEUE, DEBUG)
# is read by Django's settings.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
CELERY=.venv/bin/celery
ADDR=${RUN_ADDR:-127.0.0.1:8000}
STOP_GRACE=${STOP_GRACE:-15}
mkdir -p var

if [[ -z "${REDIS_URL:-}" ]]; then
  exec "$PY" manage.py runserver "$ADDR"
fi

# Fail at once with a clear message rather than a worker retrying its connection forever.
if ! "$PY" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()' 2>/dev/null; then
  echo "run.sh: REDIS_URL is set but Redis does not answer at ${REDIS_URL}" >&2
  exit 1
fi

# Job control puts each child in its own process group: Ctrl-C reaches only this shell, which then
# stops every child together with whatever it started (runserver's autoreloader child, Celery's
# pool processes) by signalling the whole group.
set -m
pids=()
# shellcheck disable=SC2317  # called by the EXIT trap
stop_all() {
  trap - EXIT INT TERM
  local pid alive deadline=$((SECONDS + STOP_GRACE))
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  while ((SECONDS < deadline)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'echo; echo "run.sh: stopping..." >&2; exit 130' INT
trap 'exit 143' TERM

"$CELERY" -A dl_portal worker -l info &
pids+=($!)
"$CELERY" -A dl_portal beat -l info --schedule var/celerybeat-schedule &
pids+=($!)
"$PY" manage.py runserver "$ADDR" &
pids+=($!)
echo "run.sh: web (pid ${pids[2]}), celery worker (pid ${pids[0]}), beat (pid ${pids[1]}); Ctrl-C stops all" >&2

status=0
wait -n || status=$?
echo "run.sh: a process exited (status ${status}); stopping the others" >&2
exit "$status"
