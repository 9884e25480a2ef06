# shellcheck shell=bash
#
# bench/lib.sh — helpers the benchmark scripts share (sourced, not run).

# Busy CPU seconds of the whole machine so far (all CPUs, from /proc/stat).
busy_s() { awk '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }

# quiet: waits (at most $quiet_max seconds, the scripts' --quiet-wait) until
# the machine was at least 80 % idle for a second, so that other work
# disturbs the runs less.
quiet() {
    local t a b
    [ "$quiet_max" -gt 0 ] || return 0
    for ((t = 0; t < quiet_max; t++)); do
        a=$(busy_s)
        sleep 1
        b=$(busy_s)
        awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { exit !((b - a) / n < 0.2) }' && return 0
    done
    echo "note: the machine stayed busy for ${quiet_max}s; running anyway" >&2
}
