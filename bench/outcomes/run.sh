#!/usr/bin/env bash
# The clinic-wide results benchmark (docs/outcomes.md, "Scale" and "Benchmark"): generates 100,000
# treated patients with 50 pain scores each, on PostgreSQL and on SQLite, by bulk INSERT … SELECT in
# the database (the course triggers leave every patient marked stale), then times (a) the one-off
# refresh of every course summary and (b) the page data — Store::assessed_courses (refresh with
# nothing stale, read the summaries) and respite-clinical's summarise_clinic, the two calls
# /staff/results makes — against a plain SELECT count(*) over the scores in the same run, and
# checks the answer equals the old path's (every pain report judged from scratch; skip with
# RESPITE_BENCH_OLD_PATH=0). Prints the figures and writes each query's plan (PostgreSQL EXPLAIN
# (ANALYZE, BUFFERS), SQLite EXPLAIN QUERY PLAN) to bench/outcomes/plans/.
#
# PostgreSQL: the server of RESPITE_TEST_POSTGRES when set (a database is created and dropped);
# otherwise a throw-away server is started on a private port, as scripts/test does.
#
# Usage: bench/outcomes/run.sh                      (100,000 patients, optimised build)
#        RESPITE_BENCH_PATIENTS=10000 bench/outcomes/run.sh
#        PROFILE=dev bench/outcomes/run.sh          (no optimised build: slower figures)
# Not part of scripts/test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
profile="${PROFILE:-bench}"

if [ -z "${RESPITE_TEST_POSTGRES:-}" ]; then
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$pg_bin" ]; then
        echo "no PostgreSQL server found (apt-get install postgresql); SQLite only" >&2
    else
        pg_port=${RESPITE_BENCH_PG_PORT:-55433}
        pg_data=$(mktemp -d /tmp/respite-bench-pg.XXXXXX)
        pg_user=$(id -un)
        run_pg() { "$@"; }
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres: "$pg_data"
            pg_user=postgres
            run_pg() { runuser -u postgres -- "$@"; }
        fi
        trap 'run_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_data"' EXIT
        run_pg "$pg_bin/initdb" -D "$pg_data" -A trust -U "$pg_user" --no-sync >/dev/null
        run_pg "$pg_bin/pg_ctl" -D "$pg_data" -w -l "$pg_data/server.log" \
            -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
        export RESPITE_TEST_POSTGRES="postgres://$pg_user@127.0.0.1:$pg_port/postgres"
    fi
fi

export RESPITE_BENCH_PLANS="$here/plans"
mkdir -p "$RESPITE_BENCH_PLANS"
cd "$repo"
cargo bench -p respite-store --bench outcomes --profile "$profile"
