/*
 * main.c - the aftermath command line: global options, the command table,
 * --help and --version. Commands live in cmd_*.c; this file only routes.
 *
 * Exit codes: 0 ok; 1 runtime failure (I/O, database, broker); 2 usage or
 * configuration error.
 *
 * Process-wide settings made here, before any command: the umask gains
 * 077, so the database, its -wal and -shm files, drafts and their
 * directories are created 0600/0700 (they hold alert payloads, which can
 * be sensitive); and SIGXFSZ is ignored, so a file-size limit
 * (RLIMIT_FSIZE) is a write error the store reports as "storage full"
 * rather than a crash.
 */
#include "cli/commands.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cli_command_t *const commands[] = {
    &cli_cmd_replay, &cli_cmd_incidents,   &cli_cmd_show,   &cli_cmd_report,  &cli_cmd_metrics,
    &cli_cmd_rules,  &cli_cmd_recorrelate, &cli_cmd_run,    &cli_cmd_status,  &cli_cmd_prune,
    &cli_cmd_demo,   &cli_cmd_correct,     &cli_cmd_action, &cli_cmd_actions, &cli_cmd_serve,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_command_help(const cli_command_t *c)
{
    fputs(c->help, stdout);
    if (c->help_more)
        c->help_more(stdout);
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: aftermath [--log-level LEVEL] [--log-format logfmt|json] COMMAND [ARGS]\n"
                 "\n"
                 "aftermath turns alert and deploy events into incidents, detection-latency\n"
                 "figures and pre-filled postmortem drafts.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n"
                 "Global options:\n"
                 "  --log-level LEVEL   debug, info, warn (default) or error; logs go to stderr\n"
                 "  --log-format FMT    logfmt (default) or json\n"
                 "  -h, --help          this help; 'aftermath COMMAND --help' for a command\n"
                 "  -V, --version       print the version\n"
                 "\n"
                 "Exit codes:\n"
                 "  0  success (records refused as bad input do not count as failure: they are\n"
                 "     kept in the database's rejected table and reported)\n"
                 "  1  runtime failure: a file, the database or the broker failed\n"
                 "  2  usage or configuration error\n"
                 "\n"
                 "Files aftermath creates (database, drafts) are private to its user\n"
                 "(0600, directories 0700).\n");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "aftermath%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'aftermath%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    cli_global_t g = {.log = {.out = stderr, .level = AM_LOG_WARN, .json = false}};
    int i = 1;
    umask(umask(077) | 077);
    signal(SIGXFSZ, SIG_IGN);
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("aftermath %s\n", AFTERMATH_VERSION);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            if (am_log_level_parse(argv[++i], &g.log.level) != 0)
                return cli_usage_error(NULL, "--log-level: unknown level '%s'", argv[i]);
        } else if (strcmp(a, "--log-format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "json") == 0)
                g.log.json = true;
            else if (strcmp(f, "logfmt") != 0)
                return cli_usage_error(NULL, "--log-format: unknown format '%s'", f);
        } else {
            return cli_usage_error(NULL, "unknown option '%s'", a);
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            print_help(stdout);
            return CLI_EXIT_OK;
        }
        name = argv[i + 1];
        for (size_t k = 0; k < NCOMMANDS; k++)
            if (strcmp(commands[k]->name, name) == 0) {
                print_command_help(commands[k]);
                return CLI_EXIT_OK;
            }
        return cli_usage_error(NULL, "unknown command '%s'", name);
    }
    for (size_t k = 0; k < NCOMMANDS; k++) {
        if (strcmp(commands[k]->name, name) != 0)
            continue;
        for (int j = i + 1; j < argc; j++) {
            if (strcmp(argv[j], "--") == 0)
                break;
            if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
                print_command_help(commands[k]);
                return CLI_EXIT_OK;
            }
        }
        return commands[k]->run(&g, argc - i, argv + i);
    }
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
