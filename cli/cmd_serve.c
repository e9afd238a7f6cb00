/* cmd_serve — `fwpcast serve` (the HTTP service) and `fwpcast healthcheck` (for Docker). */
#include "cli/cli.h"
#include "server/app.h"
#include "server/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct serve_args {
    const char *bind, *db, *token_file, *static_dir, *data_dir, *cors;
    long port, workers, threads, train_threads, timeout, max_body, max_jobs;
    int quiet;
};

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Reads the token: the first line of a file (which should be readable by its owner only). */
static int read_token(const char *path, char *token, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail("serve", "--token-file %s: %s", path, strerror(errno));
    int ok = fgets(token, (int)size, f) != NULL;
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    if (!ok || strlen(token) < 8)
        return cli_fail("serve", "--token-file %s: the token must be at least 8 characters", path);
    return 0;
}

static int is_loopback(const char *bind)
{
    return !strncmp(bind, "127.", 4);
}

/* Whether writes need a token, and a warning when none guards a port beyond loopback. */
static void print_token_notice(const char *token, const char *bind, int quiet)
{
    if (token[0])
        return;
    if (!is_loopback(bind))
        fprintf(stderr,
                "fwpcast: WARNING: listening on %s with NO TOKEN: anyone who can reach this "
                "port can upload data, train models and delete them. Set one with "
                "--token-file FILE or FWPCAST_TOKEN.\n",
                bind);
    else if (!quiet)
        fprintf(stderr, "fwpcast: writes need no token (set one with --token-file FILE or "
                        "FWPCAST_TOKEN)\n");
}

/* Defaults, the environment, then the options. 0, or the exit code after printing why. */
static int parse_serve_args(int argc, char **argv, struct serve_args *a)
{
    static const struct option options[] = {{"port", required_argument, 0, 'p'},
                                            {"bind", required_argument, 0, 'b'},
                                            {"db", required_argument, 0, 'd'},
                                            {"workers", required_argument, 0, 'w'},
                                            {"token-file", required_argument, 0, 't'},
                                            {"static", required_argument, 0, 's'},
                                            {"max-body", required_argument, 0, 'm'},
                                            {"threads", required_argument, 0, 'T'},
                                            {"train-threads", required_argument, 0, 'r'},
                                            {"timeout", required_argument, 0, 'o'},
                                            {"data", required_argument, 0, 'D'},
                                            {"max-jobs", required_argument, 0, 'j'},
                                            {"quiet", no_argument, 0, 'q'},
                                            {"cors-origins", required_argument, 0, 'C'},
                                            {0, 0, 0, 0}};
    *a = (struct serve_args){0};
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    a->bind = env_or("FWPCAST_BIND", "127.0.0.1");
    a->static_dir = env_or("FWPCAST_STATIC", access("static", R_OK) == 0 ? "static" : NULL);
    a->token_file = env_or("FWPCAST_TOKEN_FILE", NULL);
    a->cors = env_or("FWPCAST_CORS_ORIGINS", NULL);
    a->data_dir = cli_data_dir();
    a->workers = 1;
    a->threads = online > 1 ? online : 2;
    a->train_threads = online > 1 ? online : 1;
    a->timeout = 30;
    a->max_body = 32L << 20;
    a->max_jobs = 16;
    if (cli_parse_long(env_or("FWPCAST_PORT", "8080"), 0, 65535, &a->port))
        return cli_fail("serve", "FWPCAST_PORT must be a port number");
    const char *workers_env = env_or("FWPCAST_WORKERS", NULL);
    if (workers_env && cli_parse_long(workers_env, 0, 64, &a->workers))
        return cli_fail("serve", "FWPCAST_WORKERS must be 0..64");
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        long *target = NULL, min = 0, max = 0;
        switch (c) {
        case 'p':
            target = &a->port, min = 0, max = 65535;
            break;
        case 'w':
            target = &a->workers, min = 0, max = 64;
            break;
        case 'T':
            target = &a->threads, min = 1, max = 256;
            break;
        case 'r':
            target = &a->train_threads, min = 1, max = 256;
            break;
        case 'o':
            target = &a->timeout, min = 1, max = 3600;
            break;
        case 'm':
            target = &a->max_body, min = 1024, max = 1L << 31;
            break;
        case 'j':
            target = &a->max_jobs, min = 1, max = 100000;
            break;
        case 'b':
            a->bind = optarg;
            break;
        case 'd':
            a->db = optarg;
            break;
        case 't':
            a->token_file = optarg;
            break;
        case 's':
            a->static_dir = optarg;
            break;
        case 'D':
            a->data_dir = optarg;
            break;
        case 'C':
            a->cors = optarg;
            break;
        case 'q':
            a->quiet = 1;
            break;
        default:
            cli_fail("serve", "unknown or incomplete option '%s'", argv[optind - 1]);
            return 2;
        }
        if (target && cli_parse_long(optarg, min, max, target)) {
            cli_fail("serve", "%s: '%s' must be a number in %ld..%ld", argv[optind - 2], optarg,
                     min, max);
            return 2;
        }
    }
    if (optind < argc) {
        cli_fail("serve", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_args a;
    int bad = parse_serve_args(argc, argv, &a);
    if (bad)
        return bad;
    char token[256] = "";
    if (a.token_file && read_token(a.token_file, token, sizeof token))
        return 1;
    if (!token[0])
        snprintf(token, sizeof token, "%s", env_or("FWPCAST_TOKEN", ""));

    /* SIGTERM and SIGINT are taken by sigwait below; every thread inherits the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct app_config cfg = {.db_path = cli_db_path(a.db),
                             .data_dir = a.data_dir,
                             .static_dir = a.static_dir,
                             .token = token,
                             .cors_origins = a.cors,
                             .workers = (int)a.workers,
                             .train_threads = (int)a.train_threads,
                             .max_queued_jobs = (int)a.max_jobs,
                             .max_points = 1000000,
                             .max_epochs = 10000,
                             .quiet = a.quiet};
    fw_error err = {0};
    struct app *app = NULL;
    if (!a.quiet)
        fprintf(stderr, "fwpcast: opening %s (a first start imports the bundled data)\n",
                cfg.db_path);
    if (app_create(&cfg, &app, &err))
        return cli_fail("serve", "%s", err.msg);
    struct http_config hc = {.bind = a.bind,
                             .port = (int)a.port,
                             .threads = (int)a.threads,
                             .max_body = (size_t)a.max_body,
                             .timeout_seconds = (int)a.timeout,
                             .quiet = a.quiet};
    struct http_server *srv = NULL;
    if (http_server_start(&hc, app_handle, app, &srv, &err)) {
        app_destroy(app);
        return cli_fail("serve", "%s", err.msg);
    }
    fprintf(stderr, "fwpcast: listening on http://%s:%d/ (%ld training worker(s), db %s%s%s)\n",
            a.bind, http_server_port(srv), a.workers, cfg.db_path,
            a.static_dir ? ", dashboard from " : "", a.static_dir ? a.static_dir : "");
    print_token_notice(token, a.bind, a.quiet);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr,
            "fwpcast: %s: stopping (running jobs are checkpointed and left "
            "interrupted)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(srv);
    app_destroy(app);
    fprintf(stderr, "fwpcast: stopped cleanly\n");
    return 0;
}

static size_t discard(void *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr, (void)ctx;
    return size * n;
}

int cmd_healthcheck(int argc, char **argv)
{
    long port = 8080;
    if (cli_parse_long(env_or("FWPCAST_PORT", "8080"), 0, 65535, &port) ||
        (argc > 2 && !strcmp(argv[1], "--port") && cli_parse_long(argv[2], 1, 65535, &port)))
        return cli_fail("healthcheck", "usage: fwpcast healthcheck [--port N]");
    /* the address the server binds ($FWPCAST_BIND), or loopback when it binds every address */
    const char *bind = env_or("FWPCAST_BIND", "127.0.0.1");
    int any = !strcmp(bind, "0.0.0.0") || !strcmp(bind, "::") || !*bind;
    int v6 = !any && strchr(bind, ':') != NULL;
    char url[128];
    if (strlen(bind) > 64)
        return cli_fail("healthcheck", "FWPCAST_BIND is not an address");
    snprintf(url, sizeof url, "http://%s%s%s:%ld/healthz", v6 ? "[" : "", any ? "127.0.0.1" : bind,
             v6 ? "]" : "", port);
    CURL *curl = curl_easy_init();
    if (!curl)
        return 1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status != 200)
        return cli_fail("healthcheck", "%s: %s", url,
                        rc != CURLE_OK ? curl_easy_strerror(rc) : "not healthy");
    return 0;
}
