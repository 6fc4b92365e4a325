/*
 * rules_int.h - private to correlate/: the loaded form of a rule.
 */
#ifndef CORR_RULES_INT_H
#define CORR_RULES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/matcher.h"
#include "correlate/rules.h"

typedef enum { CORR_USERS_NONE, CORR_USERS_ANNOTATION, CORR_USERS_LABEL } corr_users_from_t;

typedef struct corr_rule {
    char *name;
    char *description;
    corr_matcher_t **match;
    size_t nmatch;
    char **group_by; /* sorted label names */
    size_t ngroup;
    bool group_all; /* group_by: ['...'] */
    int64_t gap;
    int64_t quiet;
    corr_matcher_t **deploy_match;
    size_t ndeploy_match;
    char **same;
    size_t nsame;
    int64_t before;
    bool during;
    bool ack_by_deploy;         /* deploys.acknowledge: true or a list */
    corr_matcher_t **ack_match; /* deploys.acknowledge: [...]: who counts as a human */
    size_t nack_match;
    bool impact_from_deploy; /* impact_start: deploy */
    int64_t pending;         /* pending: the alerts' `for:`, taken off their start (ms) */
    bool silence_ack;        /* silences: acknowledge */
    corr_users_from_t users_from;
    char *users_name;
    bool cont;
} corr_rule_t;

struct corr_rules {
    corr_rule_t *v;
    size_t n;
    char digest[17];
};

/* route.c */
/* True when ev is an alert that satisfies every matcher of r. */
bool corr_rule_matches(const corr_rule_t *r, const am_event_t *ev);

/* The group key of ev under r as canonical JSON ({"label":"value",...},
 * keys sorted; every label for group_by ['...']). With require_all,
 * NULL when ev lacks one of the labels (an ack or note that does not carry
 * the key). The caller frees it. */
char *corr_group_key(const corr_rule_t *r, const am_event_t *ev, bool require_all);

#endif
