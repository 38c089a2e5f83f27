#!/bin/sh
# Creating records of one family over the API, on SQLite, with a release build:
#   bench/family_bench.sh [BINARY] [RECORDS]
# Starts `homeward serve` on a fresh data directory, makes a custody caseworker (and a mediator
# admin, to wait for the job queue where the binary has one), runs bench/family_bench.py.
set -eu
BIN=${1:-target/release/homeward}
N=${2:-2000}
DIR=$(mktemp -d)
PW="a long enough bench password"
H="$BIN --data $DIR"
$H admin create-party --name M --kind mediator >/dev/null
$H admin create-party --name C --kind custody >/dev/null
echo "$PW" | $H admin create-user --party C --username c.cw --role caseworker --password-stdin >/dev/null
echo "$PW" | $H admin create-user --party M --username m.admin --role admin --password-stdin >/dev/null
HOMEWARD_LOG=warn $H serve --listen 127.0.0.1:8089 --insecure-cookies &
PID=$!
trap 'kill $PID; rm -rf "$DIR"' EXIT
sleep 1
ADMIN=""
if $H jobs list >/dev/null 2>&1; then ADMIN="--jobs-admin m.admin"; fi
python3 "$(dirname "$0")/family_bench.py" --url http://127.0.0.1:8089 --user c.cw --password "$PW" --records "$N" $ADMIN
