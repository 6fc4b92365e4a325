/*
 * cmd_serve.c - `aftermath serve`: the web pages (run/ui.h) of one
 * database on a local address, until SIGINT or SIGTERM. The pages and
 * their security are run/ui.c's and run/http.c's; this file only parses
 * options, starts the server and waits for a signal.
 */
#include "cli/commands.h"
#include "run/http.h"
#include "run/ui.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DEFAULT_LISTEN "127.0.0.1:9488"

static const char serve_help[] =
    "usage: aftermath serve [--db PATH] [--listen HOST:PORT] [--edit-token-file FILE]\n"
    "\n"
    "Serves web pages to browse the incidents of a database and read their drafts,\n"
    "until interrupted (SIGINT or SIGTERM). Open http://HOST:PORT/ui/ in a browser.\n"
    "\n"
    "Pages (docs/pages.md):\n"
    "  /ui/                 incidents, open first then the latest; filters: status\n"
    "                       (open, resolved, all), service, rule, severity, since,\n"
    "                       until (RFC 3339 or a duration ago: 7d), q (text in the\n"
    "                       id, rule, services, key, lead, deploys); 50 a page (page=N)\n"
    "  /ui/incidents/ID     one incident: its events and links, its draft with the\n"
    "                       timeline picture, downloads (draft.md, draft.json,\n"
    "                       summary.txt, draft.html: what `report --format` writes);\n"
    "                       an open incident's page reloads when its events change\n"
    "  /ui/metrics          the figures of `metrics --format html`; since, until, by\n"
    "  /ui/actions          action items: status (open, overdue, done), owner\n"
    "An unknown incident is a 404 page, a bad parameter a 400 page naming it.\n"
    "\n"
    "Without --edit-token-file the pages are read-only. With it, whoever signs in\n"
    "at /ui/login with the file's token may correct incidents and add or close\n"
    "action items from an incident's page: the same events `aftermath correct`\n"
    "and `aftermath action` write, stored in the database (docs/pages.md).\n"
    "\n"
    "Reading needs no login: anyone who can reach the address can read every\n"
    "incident. Keep the default loopback address, or put a proxy\n"
    "that authenticates in front. Every page is sent with a strict\n"
    "Content-Security-Policy (no inline script or style, nothing from elsewhere);\n"
    "the connection limits are those of the metrics endpoint (docs/http.md).\n"
    "`aftermath run` serves the same pages under /ui/ on its metrics address in\n"
    "the roles that hold incidents (all, view).\n"
    "\n"
    "Options:\n"
    "  --db PATH           SQLite database (default aftermath.db; must exist)\n"
    "  --listen HOST:PORT  address to listen on (default " SERVE_DEFAULT_LISTEN "; [::1]:PORT\n"
    "                      for IPv6; port 0: any free port, printed at start)\n"
    "  --edit-token-file FILE\n"
    "                      enable corrections: FILE holds the edit token (one line,\n"
    "                      at least 16 bytes), asked at /ui/login\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit codes: 0 stopped by a signal; 1 the database or the address failed;\n"
    "2 usage error.\n";

static volatile sig_atomic_t serve_stop;

static void on_signal(int sig)
{
    (void)sig;
    serve_stop = 1;
}

static int serve_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"edit-token-file", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "aftermath.db", *listen = SERVE_DEFAULT_LISTEN, *token_file = NULL;
    char err[1024], host[RUN_HTTP_HOSTLEN];
    int c, port;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'l')
            listen = optarg;
        else if (c == 't')
            token_file = optarg;
        else
            return cli_usage_error("serve", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (run_http_parse_addr(listen, host, &port, err, sizeof err) != 0)
        return cli_usage_error("serve", "--listen: %s", err);

    run_ui_t *ui = run_ui_create(db, 1, err, sizeof err);
    if (!ui) {
        fprintf(stderr, "aftermath serve: %s\n", err);
        return CLI_EXIT_FAILURE;
    }
    if (token_file && run_ui_set_edit_token_file(ui, token_file, err, sizeof err) != 0) {
        run_ui_destroy(ui);
        return cli_usage_error("serve", "--edit-token-file: %s", err);
    }
    run_http_route_t routes[3];
    size_t n = run_ui_routes(ui, 1, routes);
    run_http_t *h = run_http_start("ui", listen, routes, n, NULL, err, sizeof err);
    if (!h) {
        fprintf(stderr, "aftermath serve: %s\n", err);
        run_ui_destroy(ui);
        return CLI_EXIT_FAILURE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    am_log(&g->log, AM_LOG_INFO, "serving pages", "address", run_http_address(h), "db", db, NULL);
    printf("aftermath serve: http://%s/ui/\n", run_http_address(h));
    fflush(stdout);
    while (!serve_stop) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    run_http_stop(h);
    run_ui_destroy(ui);
    return CLI_EXIT_OK;
}

const cli_command_t cli_cmd_serve = {
    .name = "serve",
    .summary = "web pages to browse incidents, drafts and metrics; corrections with a token",
    .help = serve_help,
    .run = serve_run,
};
