/*
 * cmd_correct.c - the people's record from the command line:
 * `aftermath correct` (a correction of an incident), `aftermath action`
 * (an action item added, changed or done) and `aftermath actions` (the
 * follow-ups, by status and owner).
 *
 * correct and action write an event like any other: they build the
 * generic format's JSON, decode it with the generic decoder (so a person
 * at the command line is held to exactly what a topic or a file is), fill
 * `about` from the store (the incident's rule, key, start and alert
 * identities, so the correction can follow its alerts when new rules
 * rename the incident), and store it in one transaction with the
 * refreshed people's record (correlate/people.h), queueing the incident
 * in the outbox. They write to the database directly (a run that owns it
 * sees the event at its next batch, as replay's), or with --config produce
 * it to the topic that run consumes, which then stores it as any event.
 */
#include "cli/commands.h"
#include "common/buf.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/people.h"
#include "correlate/queries.h"
#include "ingest/decode.h"
#include "ingest/producer.h"
#include "report/escape.h"
#include "run/config.h"
#include "run/edit.h"
#include "run/publish.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* ---- shared ----------------------------------------------------------- */

static int64_t time_arg(const char *s)
{
    int64_t ms;
    if (am_time_parse(s, strlen(s), &ms, NULL, 0) != 0 || ms == AM_TIME_NONE)
        return AM_TIME_NONE;
    return ms;
}

static const char *default_actor(void)
{
    const char *a = getenv("AFTERMATH_ACTOR");
    if (!a || !*a)
        a = getenv("USER");
    return a && *a ? a : NULL;
}

/* Where the event goes: the database directly, or (with --config) the
 * topic a running `run` consumes, which then stores it like any event. */
typedef struct dest {
    const cli_global_t *g;
    const char *config; /* aftermath.yaml, or NULL: the database */
    const char *topic;  /* --topic, or NULL: the config's first generic or detected topic */
} dest_t;

/* Produces text to the topic dest names. Returns an exit code. */
static int produce(const char *cmd, const dest_t *dest, const char *id, const char *text)
{
    char err[1024];
    run_config_t *cfg = run_config_build(dest->config, environ, NULL, 0, err, sizeof err);
    ingest_producer_t *producer = NULL;
    int rc = CLI_EXIT_USAGE;
    if (!cfg) {
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
        goto done;
    }
    const char *topic = dest->topic;
    for (size_t i = 0; !topic && i < cfg->ntopics; i++)
        if (!cfg->topics[i].format || strcmp(cfg->topics[i].format, "generic") == 0)
            topic = cfg->topics[i].name;
    if (!topic) {
        fprintf(stderr,
                "aftermath %s: %s: no topic reads the generic format (name one with --topic)\n",
                cmd, dest->config);
        goto done;
    }
    rc = CLI_EXIT_FAILURE;
    if (!(producer = run_publish_producer(cfg, &dest->g->log, err, sizeof err))) {
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
        goto done;
    }
    am_record_t rec = {.payload = text,
                       .len = strlen(text),
                       .key = id,
                       .key_len = strlen(id),
                       .partition = -1,
                       .offset = -1,
                       .ts = AM_TIME_NONE};
    if (ingest_producer_send(producer, &rec, topic, 0, NULL, 0, err, sizeof err) != 0 ||
        ingest_producer_flush(producer, 30000, err, sizeof err) != 0) {
        fprintf(stderr, "aftermath %s: producing to %s: %s\n", cmd, topic, err);
        goto done;
    }
    printf("produced %s to %s\n", id, topic);
    rc = CLI_EXIT_OK;
done:
    ingest_producer_destroy(producer);
    run_config_destroy(cfg);
    return rc;
}

/* Reports a run_edit_* error of cmd: usage (exit 2) or failure (exit 1);
 * an unknown incident names the database. Returns the exit code. */
static int edit_error(const char *cmd, int rc, store_t *st, const char *err)
{
    if (rc == RUN_EDIT_FAILED) {
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
        return CLI_EXIT_FAILURE;
    }
    if (strncmp(err, "no incident ", 12) == 0 && st)
        return cli_usage_error(cmd, "%s: %s (see aftermath incidents --all)", store_path(st), err);
    return cli_usage_error(cmd, "%s", err);
}

/* Decodes obj as the generic format and stores it with the refreshed
 * people's record (run/edit.h), or produces it (dest->config). Returns an
 * exit code, printing what happened. */
static int write_event(const char *cmd, store_t *st, const json_t *obj, const dest_t *dest)
{
    char err[1024];
    char *text = NULL;
    am_event_list_t evs = {0};
    int rc = run_edit_decode(obj, &text, &evs, err, sizeof err);
    if (rc != 0) {
        rc = edit_error(cmd, rc, NULL, err);
        goto done;
    }
    if (dest->config) {
        rc = produce(cmd, dest, evs.v[0].id, text);
        goto done;
    }
    store_outcome_t outcome = STORE_NEW;
    if ((rc = run_edit_store(st, text, cmd, &evs, &outcome, err, sizeof err)) != 0) {
        rc = edit_error(cmd, rc, st, err);
        goto done;
    }
    printf("%s %s (%s)\n", outcome == STORE_NEW ? "recorded" : "already recorded", evs.v[0].id,
           evs.v[0].name);
    rc = CLI_EXIT_OK;
done:
    am_event_list_free(&evs);
    free(text);
    return rc;
}

static store_t *open_db(const char *cmd, const char *db)
{
    char err[1024];
    store_t *st = store_open(db, &store_existing, err, sizeof err);
    if (!st)
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
    return st;
}

/* The database to read: --db, else the config's store, else aftermath.db.
 * --topic needs --config. Returns 0 or an exit code. */
static int dest_check(const char *cmd, const dest_t *dest, const char **db)
{
    static char store[4096];
    if (dest->topic && !dest->config)
        return cli_usage_error(cmd, "--topic: needs --config (the brokers)");
    if (!*db && dest->config) {
        char err[1024];
        run_config_t *cfg = run_config_build(dest->config, environ, NULL, 0, err, sizeof err);
        if (!cfg) {
            fprintf(stderr, "aftermath %s: %s\n", cmd, err);
            return CLI_EXIT_USAGE;
        }
        snprintf(store, sizeof store, "%s", cfg->store ? cfg->store : "aftermath.db");
        run_config_destroy(cfg);
        *db = store;
    }
    if (!*db)
        *db = "aftermath.db";
    return 0;
}

/* ---- correct ---------------------------------------------------------- */

static const char correct_help[] =
    "usage: aftermath correct ID [--set FIELD=VALUE]... [--unset FIELD]...\n"
    "                         [--suspect NAME@VERSION=confirmed|rejected|none]\n"
    "                         [--dismiss REASON | --undismiss] [--merge-into ID | --unmerge]\n"
    "                         [--reason TEXT] [--actor NAME] [--at TIME] [--db PATH]\n"
    "                         [--config FILE [--topic TOPIC]]\n"
    "\n"
    "Records a person's correction of incident ID (or one of its aliases): an\n"
    "event of kind correction (docs/formats.md), stored like any other, so it\n"
    "survives replays, recorrelate and rule changes. Per field the latest\n"
    "correction wins; the derived value stays visible beside it in the draft.\n"
    "\n"
    "Fields: title, severity, lead (commander is the same), role.NAME (comms,\n"
    "scribe, ...), started_at, detected_at, acknowledged_at, mitigated_at,\n"
    "resolved_at (RFC 3339), users_impacted (a count). --unset FIELD returns a\n"
    "field to its derived value.\n"
    "\n"
    "Options:\n"
    "  --set FIELD=VALUE      correct a field (repeatable)\n"
    "  --unset FIELD          drop a correction of a field (repeatable)\n"
    "  --suspect D=VERDICT    confirm or reject suspect deploy NAME@VERSION (none:\n"
    "                         withdraw the verdict); confirmed suspects become the\n"
    "                         change failure rate's basis for their period\n"
    "  --dismiss REASON       not an incident: it leaves every list and figure\n"
    "                         (aftermath incidents --all still shows it)\n"
    "  --undismiss            withdraw a dismissal\n"
    "  --merge-into ID        the same incident as ID: it leaves the lists, ID\n"
    "                         names it as merged\n"
    "  --unmerge              withdraw a merge\n"
    "  --reason TEXT          why (shown in the draft)\n"
    "  --actor NAME           who (default $AFTERMATH_ACTOR, else $USER)\n"
    "  --at TIME              when it was made (RFC 3339; default now)\n"
    "  --db PATH              SQLite database (default: the config's store, else\n"
    "                         aftermath.db); the correction is written to it\n"
    "  --config FILE          aftermath.yaml of a running `run`: the correction is\n"
    "                         produced to its first topic read as generic (or\n"
    "                         detected), for run to store, instead of written\n"
    "  --topic TOPIC          with --config: produce to this topic\n"
    "  -h, --help             this help\n"
    "\n"
    "A time order that makes no sense is refused rather than recorded: mitigated\n"
    "or resolved before the start, resolved before mitigated (a negative duration\n"
    "would be left out of every percentile); correct both times in one command.\n"
    "\n"
    "Exit codes: 0 recorded; 1 the database or the broker failed; 2 usage error\n"
    "(unknown incident or field, bad time or count, a time order refused).\n";

/* Puts FIELD=VALUE (value NULL: unset) into set. Returns 0 or an exit code. */
static int set_field(json_t *set, const char *arg, bool unset)
{
    const char *eq = unset ? NULL : strchr(arg, '=');
    if (!unset && !eq)
        return cli_usage_error("correct", "--set: '%s' is not FIELD=VALUE", arg);
    char *field = am_xstrndup(arg, unset ? strlen(arg) : (size_t)(eq - arg));
    char err[1024];
    int rc = 0;
    if (run_edit_set_field(set, field, unset ? NULL : eq + 1, err, sizeof err) != 0)
        rc = err[0] == '\'' ? cli_usage_error("correct", "%s", err)
                            : cli_usage_error("correct", "--set %s", err);
    free(field);
    return rc;
}

static int correct_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},     {"unset", required_argument, NULL, 'u'},
        {"suspect", required_argument, NULL, 'S'}, {"dismiss", required_argument, NULL, 'D'},
        {"undismiss", no_argument, NULL, 'U'},     {"merge-into", required_argument, NULL, 'm'},
        {"unmerge", no_argument, NULL, 'M'},       {"reason", required_argument, NULL, 'r'},
        {"actor", required_argument, NULL, 'a'},   {"at", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'd'},      {"config", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 'T'},   {NULL, 0, NULL, 0},
    };
    dest_t dest = {.g = g};
    const char *db = NULL, *actor = default_actor(), *reason = NULL, *at = NULL;
    json_t *obj = json_object(), *set = json_object();
    store_t *st = NULL;
    int c, rc = 0;
    optind = 0;
    opterr = 0;
    /* The ID may come first: options are permuted. */
    while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
        case 'u':
            rc = set_field(set, optarg, c == 'u');
            break;
        case 'S': {
            char err[1024];
            if (run_edit_suspect(obj, optarg, err, sizeof err) != 0)
                rc = cli_usage_error("correct", "--suspect: %s", err);
            break;
        }
        case 'D':
        case 'U':
            json_object_set_new(obj, "dismiss", c == 'D' ? json_string(optarg) : json_null());
            break;
        case 'm':
        case 'M':
            json_object_set_new(obj, "merge_into", c == 'm' ? json_string(optarg) : json_null());
            break;
        case 'r':
            reason = optarg;
            break;
        case 'a':
            actor = optarg;
            break;
        case 't':
            at = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'c':
            dest.config = optarg;
            break;
        case 'T':
            dest.topic = optarg;
            break;
        default:
            rc = cli_usage_error("correct", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (rc != 0)
        goto done;
    if (optind + 1 != argc) {
        rc = optind < argc
                 ? cli_usage_error("correct", "unexpected argument '%s'", argv[optind + 1])
                 : cli_usage_error("correct", "which incident? (an ID)");
        goto done;
    }
    if (!actor || !*actor) {
        rc = cli_usage_error("correct", "--actor: who is correcting? ($USER is not set)");
        goto done;
    }
    int64_t when = at ? time_arg(at) : am_wall_ms();
    if (when == AM_TIME_NONE) {
        rc = cli_usage_error("correct", "--at: '%s' is not an RFC 3339 time", at);
        goto done;
    }
    if (json_object_size(set) == 0 && json_object_size(obj) == 0) {
        rc = cli_usage_error("correct", "nothing to correct (--set, --suspect, --dismiss, ...)");
        goto done;
    }
    if ((rc = dest_check("correct", &dest, &db)) != 0)
        goto done;
    if (!(st = open_db("correct", db))) {
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    char err[1024];
    if ((rc = run_edit_correction(st, obj, set, argv[optind], actor, when, reason, err,
                                  sizeof err)) != 0) {
        rc = edit_error("correct", rc, st, err);
        goto done;
    }
    rc = write_event("correct", st, obj, &dest);
done:
    json_decref(obj);
    json_decref(set);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_correct = {
    .name = "correct",
    .summary = "correct an incident: title, severity, roles, times, suspects, dismiss, merge",
    .help = correct_help,
    .run = correct_run,
};

/* ---- action ----------------------------------------------------------- */

static const char action_help[] =
    "usage: aftermath action ID add [ITEM] --task TEXT [--owner NAME] [--due DAY] [--url URL]\n"
    "       aftermath action ID set ITEM [--task TEXT] [--owner NAME] [--due DAY] [--url URL]\n"
    "                                    [--status open|done]\n"
    "       aftermath action ID done ITEM\n"
    "       (each also [--actor NAME] [--at TIME] [--db PATH] [--config FILE [--topic T]])\n"
    "\n"
    "Tracks an action item of incident ID: an event of kind action\n"
    "(docs/formats.md). add opens one (ITEM defaults to AI-<next number>), set\n"
    "changes its fields, done closes it. The draft's Action Items table and\n"
    "aftermath actions list them; aftermath metrics counts them.\n"
    "\n"
    "Options:\n"
    "  --task TEXT      what is to be done\n"
    "  --owner NAME     who does it\n"
    "  --due DAY        by when: YYYY-MM-DD (the end of that day, UTC) or RFC 3339\n"
    "  --url URL        the ticket in a tracker\n"
    "  --status S       open or done\n"
    "  --actor NAME     who (default $AFTERMATH_ACTOR, else $USER)\n"
    "  --at TIME        when (RFC 3339; default now)\n"
    "  --db PATH        SQLite database (default: the config's store, else\n"
    "                   aftermath.db); the event is written to it\n"
    "  --config FILE    produce the event to the running `run`'s first topic read\n"
    "                   as generic (or detected) instead, as correct does\n"
    "  --topic TOPIC    with --config: produce to this topic\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit codes: 0 recorded; 1 the database or the broker failed; 2 usage error\n"
    "(unknown incident or item, bad day).\n";

static int action_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"task", required_argument, NULL, 'T'},
        {"owner", required_argument, NULL, 'o'},
        {"due", required_argument, NULL, 'u'},
        {"url", required_argument, NULL, 'l'},
        {"status", required_argument, NULL, 's'},
        {"actor", required_argument, NULL, 'a'},
        {"at", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    dest_t dest = {.g = g};
    const char *db = NULL, *actor = default_actor(), *at = NULL;
    json_t *obj = json_object();
    store_t *st = NULL;
    int c, rc = 0;
    optind = 0;
    opterr = 0;
    /* Options may follow the positional arguments. */
    while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'T':
            json_object_set_new(obj, "task", json_string(optarg));
            break;
        case 'o':
            json_object_set_new(obj, "owner", json_string(optarg));
            break;
        case 'u':
            json_object_set_new(obj, "due", json_string(optarg));
            break;
        case 'l':
            json_object_set_new(obj, "url", json_string(optarg));
            break;
        case 's':
            json_object_set_new(obj, "status", json_string(optarg));
            break;
        case 'a':
            actor = optarg;
            break;
        case 't':
            at = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'c':
            dest.config = optarg;
            break;
        case 'P':
            dest.topic = optarg;
            break;
        default:
            rc = cli_usage_error("action", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (rc != 0)
        goto done;
    int npos = argc - optind;
    const char *verb = npos >= 2 ? argv[optind + 1] : NULL;
    const char *item = npos >= 3 ? argv[optind + 2] : NULL;
    if (!verb ||
        (strcmp(verb, "add") != 0 && strcmp(verb, "set") != 0 && strcmp(verb, "done") != 0)) {
        rc = cli_usage_error("action", "expected ID add|set|done [ITEM]");
        goto done;
    }
    if (npos > 3 || (!item && strcmp(verb, "add") != 0)) {
        rc = cli_usage_error("action", npos > 3 ? "unexpected argument '%s'" : "%s: which item?",
                             npos > 3 ? argv[optind + 3] : verb);
        goto done;
    }
    if (strcmp(verb, "add") == 0 && !json_object_get(obj, "task")) {
        rc = cli_usage_error("action", "add: --task is required");
        goto done;
    }
    if (!actor || !*actor) {
        rc = cli_usage_error("action", "--actor: who is it? ($USER is not set)");
        goto done;
    }
    int64_t when = at ? time_arg(at) : am_wall_ms();
    if (when == AM_TIME_NONE) {
        rc = cli_usage_error("action", "--at: '%s' is not an RFC 3339 time", at);
        goto done;
    }
    if ((rc = dest_check("action", &dest, &db)) != 0)
        goto done;
    if (!(st = open_db("action", db))) {
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    char err[1024];
    if ((rc = run_edit_action(st, obj, argv[optind], verb, item, actor, when, err, sizeof err)) !=
        0) {
        rc = edit_error("action", rc, st, err);
        goto done;
    }
    rc = write_event("action", st, obj, &dest);
done:
    json_decref(obj);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_action = {
    .name = "action",
    .summary = "add, change or close an incident's action item",
    .help = action_help,
    .run = action_run,
};

/* ---- actions ---------------------------------------------------------- */

static const char actions_help[] =
    "usage: aftermath actions [--open|--overdue|--done] [--owner NAME]\n"
    "                         [--format table|json|csv] [--now TIME] [--db PATH]\n"
    "\n"
    "Lists the action items of the incidents (not of dismissed ones), by due\n"
    "day: incident, item, status, owner, due, task, closed.\n"
    "\n"
    "Options:\n"
    "  --open           only open items\n"
    "  --overdue        only open items past their due time\n"
    "  --done           only closed items\n"
    "  --owner NAME     only items of this owner\n"
    "  --format FORMAT  table (default), json (an array of objects) or csv\n"
    "  --now TIME       judge overdue at this time (RFC 3339; default now)\n"
    "  --db PATH        SQLite database (default aftermath.db)\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit codes: 0 ok; 1 the database failed; 2 usage error.\n";

static json_t *col_time_json(sqlite3_stmt *s, int col)
{
    char buf[AM_TIME_STRLEN];
    return sqlite3_column_type(s, col) == SQLITE_NULL
               ? json_null()
               : json_string(am_time_format(sqlite3_column_int64(s, col), buf));
}

static json_t *col_text_json(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return t ? json_string(t) : json_null();
}

static void put_cell(am_buf_t *b, const json_t *v, bool csv, bool last)
{
    const char *s = json_string_value(v);
    if (csv)
        report_csv(b, s ? s : "");
    else
        report_term(b, s ? s : "-");
    am_buf_putc(b, last ? '\n' : csv ? ',' : '\t');
}

static int actions_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"open", no_argument, NULL, 'o'},         {"overdue", no_argument, NULL, 'v'},
        {"done", no_argument, NULL, 'x'},         {"owner", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'}, {"now", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'd'},     {NULL, 0, NULL, 0},
    };
    (void)g;
    const char *db = "aftermath.db", *format = "table", *owner = NULL, *filter = NULL;
    int64_t now = am_wall_ms();
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'o' || c == 'v' || c == 'x') {
            if (filter)
                return cli_usage_error("actions", "one of --open, --overdue, --done");
            filter = c == 'o' ? "open" : c == 'v' ? "overdue" : "done";
        } else if (c == 'w') {
            owner = optarg;
        } else if (c == 'f' && (strcmp(optarg, "table") == 0 || strcmp(optarg, "json") == 0 ||
                                strcmp(optarg, "csv") == 0)) {
            format = optarg;
        } else if (c == 'f') {
            return cli_usage_error("actions", "--format: '%s' is not table, json or csv", optarg);
        } else if (c == 'n') {
            if ((now = time_arg(optarg)) == AM_TIME_NONE)
                return cli_usage_error("actions", "--now: '%s' is not an RFC 3339 time", optarg);
        } else if (c == 'd') {
            db = optarg;
        } else {
            return cli_usage_error("actions", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("actions", "unexpected argument '%s'", argv[optind]);
    store_t *st = open_db("actions", db);
    if (!st)
        return CLI_EXIT_FAILURE;
    sqlite3_stmt *s = NULL;
    json_t *list = json_array();
    int rc = sqlite3_prepare_v2(store_db(st), corr_sql_action_items, -1, &s, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 5);
        const char *who = (const char *)sqlite3_column_text(s, 3);
        bool overdue = strcmp(status, "open") == 0 && sqlite3_column_type(s, 4) != SQLITE_NULL &&
                       sqlite3_column_int64(s, 4) < now;
        rc = SQLITE_OK;
        if ((filter && strcmp(filter, "overdue") == 0 && !overdue) ||
            (filter && strcmp(filter, "overdue") != 0 && strcmp(filter, status) != 0) ||
            (owner && (!who || strcmp(owner, who) != 0)))
            continue;
        json_t *a = json_object();
        json_object_set_new(a, "incident", col_text_json(s, 0));
        json_object_set_new(a, "item", col_text_json(s, 1));
        json_object_set_new(a, "status", col_text_json(s, 5));
        json_object_set_new(a, "overdue", json_boolean(overdue));
        json_object_set_new(a, "owner", col_text_json(s, 3));
        json_object_set_new(a, "due", col_time_json(s, 4));
        json_object_set_new(a, "task", col_text_json(s, 2));
        json_object_set_new(a, "url", col_text_json(s, 6));
        json_object_set_new(a, "opened_at", col_time_json(s, 7));
        json_object_set_new(a, "closed_at", col_time_json(s, 8));
        json_array_append_new(list, a);
    }
    sqlite3_finalize(s);
    int exit = CLI_EXIT_OK;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "aftermath actions: %s: reading action items: %s\n", store_path(st),
                sqlite3_errmsg(store_db(st)));
        exit = CLI_EXIT_FAILURE;
    } else if (strcmp(format, "json") == 0) {
        json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        bool csv = strcmp(format, "csv") == 0;
        am_buf_t b = {0};
        am_buf_puts(&b, csv ? "incident,item,status,owner,due,task,closed_at\n"
                            : "INCIDENT\tITEM\tSTATUS\tOWNER\tDUE\tTASK\tCLOSED\n");
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a)
        {
            static const char *const cols[] = {"incident", "item", "status",   "owner",
                                               "due",      "task", "closed_at"};
            for (size_t k = 0; k < 7; k++) {
                json_t *v = json_object_get(a, cols[k]);
                json_t *shown = k == 2 && json_is_true(json_object_get(a, "overdue"))
                                    ? json_string("overdue")
                                    : json_incref(v);
                put_cell(&b, shown, csv, k == 6);
                json_decref(shown);
            }
        }
        if (!csv && json_array_size(list) == 0)
            am_buf_reset(&b), am_buf_puts(&b, "no action items\n");
        fwrite(b.p, 1, b.len, stdout);
        am_buf_free(&b);
    }
    json_decref(list);
    store_close(st);
    return exit;
}

const cli_command_t cli_cmd_actions = {
    .name = "actions",
    .summary = "list action items: open, overdue, done; by owner",
    .help = actions_help,
    .run = actions_run,
};
