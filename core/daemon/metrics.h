/*
 * Metrics in the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector (issue 15): uftpd and uftpproxyd fill
 * a metrics_buf from their engines' counters every few seconds and
 * metrics_write() replaces the file atomically (a temporary file in the
 * same directory, then rename(2)), so the collector never reads half a file.
 *
 *   struct metrics_buf b;  metrics_init(&b);
 *   metrics_family(&b, "uftpd_files_received_total", "counter", "Files received.");
 *   metrics_u64(&b, "uftpd_files_received_total", NULL, n);
 *   metrics_u64(&b, "uftpd_datagrams_refused_total", "reason=\"replay\"", k);
 *   metrics_write(&b, "/var/lib/node_exporter/uftpd.prom");
 *   metrics_free(&b);
 *
 * Names and label sets are the caller's constants (never network text), so
 * no escaping is needed and the number of series stays bounded.
 */
#ifndef UFTP_DAEMON_METRICS_H
#define UFTP_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds of the metrics interval, seconds (option metrics-interval). */
#define METRICS_INTERVAL_MIN 1
#define METRICS_INTERVAL_MAX 3600
#define METRICS_INTERVAL_DEF 5

struct metrics_buf {
    char *p;
    size_t len, cap;
    bool oom; /* an append failed: metrics_write() refuses the buffer */
};

void metrics_init(struct metrics_buf *b);
void metrics_free(struct metrics_buf *b);
/* Empties the buffer for the next round (keeps its memory). */
void metrics_reset(struct metrics_buf *b);

/* "# HELP name help" and "# TYPE name type" (type: "counter" or "gauge"). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);
/* "name{labels} value"; labels NULL or "" for none. */
void metrics_u64(struct metrics_buf *b, const char *name, const char *labels, uint64_t v);

/* A counter family of one series. */
void metrics_counter(struct metrics_buf *b, const char *name, const char *help, uint64_t v);

/* One series of a family split by a label: its value (a constant) and count. */
struct metrics_row {
    const char *value;
    uint64_t v;
};
/* A counter family with a series per row, in order: name{label="value"} v. */
void metrics_counters(struct metrics_buf *b, const char *name, const char *help, const char *label,
                      const struct metrics_row *rows, size_t n);

/*
 * Writes the buffer to path through "<dir>/.<name>.XXXXXX" (mode 0644: the
 * collector runs as another user), renamed over path. Returns 0,
 * -ENOMEM for a buffer that lost an append, or -errno (the temporary file
 * is removed).
 */
int metrics_write(const struct metrics_buf *b, const char *path);

/*
 * Any text file replaced the same way: data[0..len) to a temporary dot
 * file beside path, chmod mode, renamed over path (uftp --summary-json
 * too). Returns 0 or -errno; the temporary file never stays.
 */
int textfile_write(const char *path, const char *data, size_t len, unsigned mode);

/* Checks a configured path: absolute, and its directory exists. Returns 0, -EINVAL or -errno. */
int metrics_path_check(const char *path);

#endif
