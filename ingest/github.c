/*
 * github.c - GitHub "deployment" and "deployment_status" webhooks -> deploy
 * events, source "github".
 *
 * One deployment id is one deploy: it is the identity of every event of
 * that deployment, whose statuses then update it. A deployment webhook
 * (created) is the deploy starting; a status maps by state: pending,
 * queued and in_progress -> started, success -> succeeded, failure and
 * error -> failed. "inactive" decodes to no event: GitHub sets it on the
 * previous deployment of an environment when a newer one succeeds, so it
 * says nothing about the deploy happening now (that one has its own
 * status). Each event's id comes from GitHub's own id (the status's, or the
 * deployment's for the created webhook) with the state and time, so a
 * redelivery is a duplicate while payloads that reuse an id for another
 * state (GitHub's own examples do) stay two events.
 * The repository's name is the deployed thing and its service (label
 * service; full_name is the label repository), the environment is the
 * label env, the commit sha the version, the ref the label ref, the
 * status's (else the deployment's) creator the actor, and the status's
 * log_url, target_url or environment_url (else the repository page) the
 * url.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int gh_detect(const json_t *root)
{
    return json_is_object(root) && json_is_object(json_object_get(root, "deployment")) &&
           (json_is_object(json_object_get(root, "deployment_status")) ||
            json_is_object(json_object_get(root, "repository")));
}

static const struct {
    const char *state, *status;
} states[] = {
    {"pending", "started"},   {"queued", "started"}, {"in_progress", "started"},
    {"success", "succeeded"}, {"failure", "failed"}, {"error", "failed"},
    {"inactive", NULL},
};

static const char *login_of(const json_t *obj, const char *key)
{
    const char *login = json_string_value(json_object_get(json_object_get(obj, key), "login"));
    return login && *login ? login : NULL;
}

static const char *first_nonempty(const char *a, const char *b, const char *c)
{
    return a && *a ? a : b && *b ? b : c && *c ? c : NULL;
}

static int gh_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    const json_t *deployment, *status_obj, *repo;
    char dep_id[64], status_id[64] = "";
    const char *sha, *ref, *env, *description, *repo_name, *full_name, *repo_url;
    if (ingest_get_object(root, "deployment", "", &deployment, err, errlen) != 0 ||
        ingest_get_object(root, "deployment_status", "", &status_obj, err, errlen) != 0 ||
        ingest_get_object(root, "repository", "", &repo, err, errlen) != 0)
        return -1;
    if (!deployment) {
        am_errf(err, errlen, "field deployment: missing");
        return -1;
    }
    if (ingest_get_id(deployment, "id", "deployment.", dep_id, sizeof dep_id, err, errlen) != 0 ||
        ingest_get_string(deployment, "sha", "deployment.", &sha, err, errlen) != 0 ||
        ingest_get_string(deployment, "ref", "deployment.", &ref, err, errlen) != 0 ||
        ingest_get_string(deployment, "environment", "deployment.", &env, err, errlen) != 0 ||
        ingest_get_string(deployment, "description", "deployment.", &description, err, errlen) !=
            0 ||
        ingest_get_string(repo, "name", "repository.", &repo_name, err, errlen) != 0 ||
        ingest_get_string(repo, "full_name", "repository.", &full_name, err, errlen) != 0 ||
        ingest_get_string(repo, "html_url", "repository.", &repo_url, err, errlen) != 0)
        return -1;
    if (!*dep_id) {
        am_errf(err, errlen, "field deployment.id: missing");
        return -1;
    }
    if (!repo_name || !*repo_name) {
        am_errf(err, errlen, "field repository.name: missing (the deployed thing)");
        return -1;
    }

    const char *status = "started", *actor = login_of(deployment, "creator"), *url = NULL;
    const json_t *time_obj = deployment;
    const char *time_field = "deployment.";
    if (status_obj) {
        const char *state, *s_env, *s_desc, *log_url, *target_url, *env_url;
        if (ingest_get_id(status_obj, "id", "deployment_status.", status_id, sizeof status_id, err,
                          errlen) != 0 ||
            ingest_get_string(status_obj, "state", "deployment_status.", &state, err, errlen) !=
                0 ||
            ingest_get_string(status_obj, "environment", "deployment_status.", &s_env, err,
                              errlen) != 0 ||
            ingest_get_string(status_obj, "description", "deployment_status.", &s_desc, err,
                              errlen) != 0 ||
            ingest_get_string(status_obj, "log_url", "deployment_status.", &log_url, err, errlen) !=
                0 ||
            ingest_get_string(status_obj, "target_url", "deployment_status.", &target_url, err,
                              errlen) != 0 ||
            ingest_get_string(status_obj, "environment_url", "deployment_status.", &env_url, err,
                              errlen) != 0)
            return -1;
        size_t i = 0, n = sizeof states / sizeof states[0];
        while (i < n && state && strcmp(states[i].state, state) != 0)
            i++;
        if (i == n) {
            am_errf(err, errlen,
                    "field deployment_status.state: \"%.32s\" is not one of pending, queued, "
                    "in_progress, success, failure, error, inactive",
                    state ? state : "");
            return -1;
        }
        if (!states[i].status)
            return 0; /* inactive: superseded, see above */
        status = states[i].status;
        if (s_env && *s_env)
            env = s_env;
        if (s_desc && *s_desc)
            description = s_desc;
        if (login_of(status_obj, "creator"))
            actor = login_of(status_obj, "creator");
        url = first_nonempty(log_url, target_url, env_url);
        time_obj = status_obj;
        time_field = "deployment_status.";
    }
    if (!actor)
        actor = login_of(root, "sender");

    am_event_t *ev = am_event_list_push(out);
    ev->kind = AM_KIND_DEPLOY;
    ev->source = "github";
    ev->status = am_xstrdup(status);
    if (ingest_get_time(time_obj, "created_at", time_field, &ev->starts_at, err, errlen) != 0)
        return -1;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %screated_at: missing", time_field);
        return -1;
    }
    ev->observed_at = ctx->observed_at;
    ev->identity = am_xstrdup(dep_id);
    ev->name = am_xstrdup(repo_name);
    ev->version = am_xstrdup(sha && *sha ? sha : NULL);
    ev->actor = am_xstrdup(actor);
    ev->summary = am_xstrdup(description && *description ? description : NULL);
    ev->url = am_xstrdup(url ? url : repo_url && *repo_url ? repo_url : NULL);
    ingest_set_native(&ev->labels, "service", &ev->service, repo_name);
    ingest_set_label(&ev->labels, "repository", full_name);
    ingest_set_native(&ev->labels, "env", &ev->environment, env);
    ingest_set_label(&ev->labels, "ref", ref);
    am_event_apply_label_map(ev, ctx->map);
    char at[24];
    snprintf(at, sizeof at, "%" PRId64, ev->starts_at);
    const char *parts[] = {status_obj ? "status" : "deployment", status_obj ? status_id : dep_id,
                           status, at};
    if (*parts[1])
        ingest_event_id_from(ev, parts, 4);
    ingest_event_default_id(ev);
    return 0;
}

const ingest_format_t ingest_format_github = {
    .name = "github",
    .detect = gh_detect,
    .decode = gh_decode,
};
