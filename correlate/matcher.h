/*
 * matcher.h - Alertmanager label matchers: name="v", name!="v",
 * name=~"re", name!~"re".
 *
 * Matchers see an event's labels plus its fields kind, status, service,
 * severity, environment and name (fields win over labels of the same
 * name); a label the event lacks has the value "", as in Alertmanager.
 */
#ifndef CORR_MATCHER_H
#define CORR_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/event.h"

typedef struct corr_matcher corr_matcher_t;

/* Parses one matcher. Values may be double-quoted (with \" \\ \n
 * escapes) or bare. Regexes are POSIX extended, fully anchored as in
 * Alertmanager ("a|b" matches "a" or "b", not "xa"). Returns NULL with
 * a message in err. */
corr_matcher_t *corr_matcher_parse(const char *text, char *err, size_t errlen);
void corr_matcher_destroy(corr_matcher_t *m);

/* True when the event satisfies the matcher. */
bool corr_matcher_match(const corr_matcher_t *m, const am_event_t *ev);

/* The value of name as matchers see it (borrowed; "" when absent). */
const char *corr_event_value(const am_event_t *ev, const char *name);

/* Borrowed label name of the matcher. */
const char *corr_matcher_name(const corr_matcher_t *m);

#endif
