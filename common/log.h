/*
 * log.h - one line per event of note, logfmt or JSON, to a stream (stderr).
 *
 * The logger is a value passed to whoever logs (no global state): the CLI
 * makes one from --log-level/--log-format and hands it down.
 */
#ifndef AM_LOG_H
#define AM_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum am_log_level {
    AM_LOG_DEBUG,
    AM_LOG_INFO,
    AM_LOG_WARN,
    AM_LOG_ERROR,
} am_log_level_t;

typedef struct am_log {
    FILE *out;
    am_log_level_t level;
    bool json;
} am_log_t;

/* Returns 0 and sets *level for debug|info|warn|error, else -1. */
int am_log_level_parse(const char *name, am_log_level_t *level);

/* Writes one line: time, level, msg, then the key/value pairs given as
 * alternating const char * arguments ending with NULL. Values are quoted
 * as needed. A NULL log or a level below the threshold writes nothing. */
void am_log(const am_log_t *log, am_log_level_t level, const char *msg, ...);

#endif
