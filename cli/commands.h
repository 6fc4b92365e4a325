/*
 * commands.h - the subcommands of the aftermath CLI. Each takes the
 * arguments after its name (argv[0] is the command name) and returns the
 * process exit code (see main.c).
 */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include <stdio.h>

#include "common/log.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

/* Options every command accepts, parsed by main before the command. */
typedef struct cli_global {
    am_log_t log;
} cli_global_t;

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *help;             /* full --help text */
    void (*help_more)(FILE *out); /* appended to help, or NULL (run: the config map) */
    int (*run)(const cli_global_t *g, int argc, char **argv);
} cli_command_t;

extern const cli_command_t cli_cmd_replay;
extern const cli_command_t cli_cmd_incidents;
extern const cli_command_t cli_cmd_metrics;
extern const cli_command_t cli_cmd_rules;
extern const cli_command_t cli_cmd_recorrelate;
extern const cli_command_t cli_cmd_run;
extern const cli_command_t cli_cmd_status;
extern const cli_command_t cli_cmd_demo;
extern const cli_command_t cli_cmd_report;
extern const cli_command_t cli_cmd_show;
extern const cli_command_t cli_cmd_prune;
extern const cli_command_t cli_cmd_correct;
extern const cli_command_t cli_cmd_action;
extern const cli_command_t cli_cmd_actions;
extern const cli_command_t cli_cmd_serve;

/* Prints "aftermath CMD: msg" and the --help hint to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
