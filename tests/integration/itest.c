/* itest — integration test helpers (see itest.h). */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- time ------------------------------------------------------------------------------------ */

double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void it_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

double it_slow(void)
{
    static double factor = 0;
    if (factor > 0)
        return factor;
    const char *env = getenv("ITEST_SLOW");
    const char *bin = getenv("FWPCAST_BIN");
    double f = env && *env ? atof(env) : 0;
    if (!(f > 0))
        f = bin && strstr(bin, "/asan/") ? 4 : 1;
    factor = f;
    return f;
}

/* ---- the registry: servers a failed test left running are killed at exit --------------------- */

#define MAX_SERVERS 64
static struct itest_server *registry[MAX_SERVERS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void cleanup_all(void)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (registry[i]) {
            its_free(registry[i]);
            registry[i] = NULL;
        }
    curl_global_cleanup();
}

static void init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    atexit(cleanup_all);
}

static void registry_add(struct itest_server *s)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (!registry[i]) {
            registry[i] = s;
            return;
        }
}

static void registry_remove(struct itest_server *s)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (registry[i] == s)
            registry[i] = NULL;
}

/* ---- the server process ---------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *out = malloc((size_t)n + 1);
    assert_non_null(out);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* A port nobody listens on right now (bind to port 0, read it back, close). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
             getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    close(fd);
    assert_true(ok);
    return ntohs(a.sin_port);
}

char *its_log(const struct itest_server *s)
{
    size_t len = 0;
    char *text = s && s->log_path ? tu_read_file(s->log_path, &len) : NULL;
    return text ? text : xstrdup("");
}

static void print_log_tail(const struct itest_server *s)
{
    char *log = its_log(s);
    size_t n = strlen(log);
    const char *tail = n > 4000 ? log + n - 4000 : log;
    print_error("---- server log (%s), last %zu bytes ----\n%s\n---- end of server log ----\n",
                s->log_path ? s->log_path : "?", strlen(tail), tail);
    free(log);
}

static void log_marker(const struct itest_server *s, const char *text)
{
    FILE *f = fopen(s->log_path, "a");
    if (f) {
        fprintf(f, "---- itest: %s ----\n", text);
        fclose(f);
    }
}

static int healthz_ok(struct itest_server *s)
{
    struct it_req rq = {.method = "GET", .path = "/healthz", .timeout_s = 2};
    struct it_resp r;
    it_do(s, &rq, &r);
    int ok = r.status == 200;
    it_resp_free(&r);
    return ok;
}

/* One attempt: 0 healthy, 1 the port was taken (try another), fails the test otherwise. */
static int launch_once(struct itest_server *s)
{
    const char *bin = getenv("FWPCAST_BIN");
    s->port = free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[16 + ITS_MAX_ARGS];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--db";
    argv[n++] = s->db_path;
    argv[n++] = "--data";
    argv[n++] = s->data_dir;
    argv[n++] = "--train-threads";
    argv[n++] = "1";
    argv[n++] = "--quiet";
    for (int i = 0; i < s->n_args; i++)
        argv[n++] = s->args[i];
    argv[n] = NULL;

    /* the environment, prepared before fork: no FWPCAST_* from the caller, plus ours */
    size_t n_environ = 0;
    while (environ[n_environ])
        n_environ++;
    char **envp = calloc(n_environ + ITS_MAX_ENV + 1, sizeof *envp);
    assert_non_null(envp);
    size_t e = 0;
    for (size_t i = 0; i < n_environ; i++)
        if (strncmp(environ[i], "FWPCAST_", 8))
            envp[e++] = environ[i];
    for (int i = 0; i < s->n_env; i++)
        envp[e++] = s->env[i];
    envp[e] = NULL;

    char marker[512];
    int m = snprintf(marker, sizeof marker, "start %d:", ++s->starts);
    for (int i = 0; argv[i] && m < (int)sizeof marker - 2; i++)
        m += snprintf(marker + m, sizeof marker - (size_t)m, " %s", argv[i]);
    log_marker(s, marker);

    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        int log = open(s->log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (log < 0 || null < 0 || chdir(s->dir) || dup2(null, 0) < 0 || dup2(log, 1) < 0 ||
            dup2(log, 2) < 0)
            _exit(126);
        close(log);
        close(null);
        execve(bin, (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    s->pid = pid;
    double deadline = it_now() + 20 * it_slow();
    while (it_now() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            char *log = its_log(s);
            int port_taken = strstr(log, "cannot listen") != NULL;
            free(log);
            if (port_taken)
                return 1;
            print_log_tail(s);
            fail_msg("itest: %s serve exited (status 0x%x) before answering GET /healthz", bin,
                     status);
        }
        if (healthz_ok(s))
            return 0;
        it_sleep_ms(20);
    }
    print_log_tail(s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    fail_msg("itest: the server did not answer GET /healthz on port %d within %.0f s", s->port,
             20 * it_slow());
    return -1;
}

static void launch(struct itest_server *s)
{
    for (int attempt = 0; attempt < 5; attempt++)
        if (launch_once(s) == 0)
            return;
    print_log_tail(s);
    fail_msg("itest: no free port after 5 attempts");
}

struct itest_server *its_start(const char *const *args, const char *const *env)
{
    pthread_once(&once, init_once);
    const char *bin = getenv("FWPCAST_BIN");
    if (!bin || !*bin || access(bin, X_OK))
        fail_msg("itest: FWPCAST_BIN must name the fwpcast binary to test (got '%s')",
                 bin ? bin : "(unset)");
    struct itest_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->dir = tu_mkdtemp();
    assert_non_null(s->dir);
    s->db_path = xprintf("%s/fwpcast.db", s->dir);
    s->log_path = xprintf("%s/server.log", s->dir);
    s->data_dir = tu_path("data");
    for (int i = 0; args && args[i]; i++) {
        assert_true(s->n_args < ITS_MAX_ARGS);
        s->args[s->n_args++] = xstrdup(args[i]);
    }
    for (int i = 0; env && env[i]; i++) {
        assert_true(s->n_env < ITS_MAX_ENV);
        s->env[s->n_env++] = xstrdup(env[i]);
    }
    registry_add(s);
    launch(s);
    return s;
}

void its_restart(struct itest_server *s)
{
    assert_int_equal(s->pid, 0);
    launch(s);
}

int its_signal_wait(struct itest_server *s, int sig)
{
    if (!s->pid)
        return -1;
    kill(s->pid, sig);
    double deadline = it_now() + 30 * it_slow();
    int status = 0;
    for (;;) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (it_now() > deadline) {
            print_error("itest: the server (pid %d) did not stop within %.0f s of signal %d\n",
                        (int)s->pid, 30 * it_slow(), sig);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            status = -1;
            break;
        }
        it_sleep_ms(10);
    }
    s->pid = 0;
    return status;
}

void its_stop(struct itest_server *s)
{
    int status = its_signal_wait(s, SIGTERM);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        print_log_tail(s);
        if (status != -1 && WIFSIGNALED(status))
            fail_msg("itest: after SIGTERM the server died of signal %d", WTERMSIG(status));
        fail_msg("itest: after SIGTERM the server exited with status %d, not 0",
                 status == -1 ? -1 : WEXITSTATUS(status));
    }
}

void its_kill(struct itest_server *s)
{
    its_signal_wait(s, SIGKILL);
}

void its_free(struct itest_server *s)
{
    if (!s)
        return;
    registry_remove(s);
    if (s->pid) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    const char *keep = getenv("ITEST_KEEP");
    if (keep && !strcmp(keep, "1")) {
        fprintf(stderr, "itest: kept %s\n", s->dir);
        free(s->dir);
    } else {
        tu_rmtree(s->dir);
    }
    free(s->db_path), free(s->log_path), free(s->data_dir);
    for (int i = 0; i < s->n_args; i++)
        free(s->args[i]);
    for (int i = 0; i < s->n_env; i++)
        free(s->env[i]);
    free(s);
}

long its_rss_kb(const struct itest_server *s)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* ---- HTTP client ----------------------------------------------------------------------------- */

struct sink {
    char *p;
    size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ctx)
{
    struct sink *b = ctx;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return 0;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, ptr, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

static void clear_headers(struct it_resp *r)
{
    free(r->location), free(r->allow), free(r->content_type), free(r->www_authenticate);
    free(r->content_disposition), free(r->retry_after), free(r->csp), free(r->nosniff);
    free(r->acao), free(r->acam);
    r->location = r->allow = r->content_type = r->www_authenticate = r->content_disposition =
        r->retry_after = r->csp = r->nosniff = r->acao = r->acam = NULL;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ctx)
{
    struct it_resp *r = ctx;
    size_t len = size * n;
    if (len >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        clear_headers(r); /* a new response (after a 100 Continue) */
        return len;
    }
    static const char *const names[] = {"Location",
                                        "Allow",
                                        "Content-Type",
                                        "WWW-Authenticate",
                                        "Content-Disposition",
                                        "Retry-After",
                                        "Content-Security-Policy",
                                        "X-Content-Type-Options",
                                        "Access-Control-Allow-Origin",
                                        "Access-Control-Allow-Methods"};
    char **slots[] = {&r->location,
                      &r->allow,
                      &r->content_type,
                      &r->www_authenticate,
                      &r->content_disposition,
                      &r->retry_after,
                      &r->csp,
                      &r->nosniff,
                      &r->acao,
                      &r->acam};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k = strlen(names[i]);
        if (len > k && ptr[k] == ':' && !strncasecmp(ptr, names[i], k)) {
            const char *v = ptr + k + 1;
            size_t vl = len - k - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
            free(*slots[i]);
            *slots[i] = strndup(v, vl);
        }
    }
    return len;
}

struct generator {
    size_t left;
};

static size_t on_read(char *ptr, size_t size, size_t n, void *ctx)
{
    struct generator *g = ctx;
    size_t want = size * n;
    if (want > g->left)
        want = g->left;
    memset(ptr, ' ', want);
    g->left -= want;
    return want;
}

void it_do(struct itest_server *s, const struct it_req *rq, struct it_resp *out)
{
    pthread_once(&once, init_once);
    memset(out, 0, sizeof *out);
    snprintf(out->what, sizeof out->what, "%s %.140s", rq->method, rq->path);
    CURL *h = rq->curl;
    if (h)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    assert_non_null(h);
    char url[64 + 8192];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, rq->path);
    struct curl_slist *headers = NULL;
    char line[512];
    int has_auth = 0;
    for (int i = 0; rq->headers && rq->headers[i]; i++) {
        headers = curl_slist_append(headers, rq->headers[i]);
        has_auth |= !strncasecmp(rq->headers[i], "Authorization", 13);
    }
    if (s->token && !rq->no_auth && !has_auth) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", s->token);
        headers = curl_slist_append(headers, line);
    }
    int has_body = rq->body != NULL || rq->gen_len > 0;
    if (rq->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
        headers = curl_slist_append(headers, line);
    } else if (has_body) {
        headers = curl_slist_append(headers, "Content-Type:"); /* no curl default */
    }
    if (rq->no_expect)
        headers = curl_slist_append(headers, "Expect:");
    struct generator gen = {rq->gen_len};
    struct sink body = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT,
                     rq->timeout_s > 0 ? rq->timeout_s : (long)(60 * it_slow()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    if (!strcmp(rq->method, "GET") && !has_body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (rq->gen_len > 0) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &gen);
            if (rq->gen_chunked)
                headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
            else
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->gen_len);
        } else if (rq->body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
        }
        if (strcmp(rq->method, "POST") || !has_body)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    out->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(headers);
    if (!rq->curl)
        curl_easy_cleanup(h);
    if (!body.p)
        body.p = xstrdup("");
    out->body = body.p;
    out->len = body.len;
}

void it_resp_free(struct it_resp *r)
{
    if (!r)
        return;
    free(r->body);
    clear_headers(r);
    r->body = NULL;
}

void it_get(struct itest_server *s, const char *path, struct it_resp *out)
{
    struct it_req rq = {.method = "GET", .path = path};
    it_do(s, &rq, out);
}

void it_delete(struct itest_server *s, const char *path, struct it_resp *out)
{
    struct it_req rq = {.method = "DELETE", .path = path};
    it_do(s, &rq, out);
}

void it_post(struct itest_server *s, const char *path, const char *content_type, const void *body,
             size_t len, struct it_resp *out)
{
    struct it_req rq = {
        .method = "POST", .path = path, .content_type = content_type, .body = body, .len = len};
    it_do(s, &rq, out);
}

void it_post_json(struct itest_server *s, const char *path, const char *json, struct it_resp *out)
{
    it_post(s, path, "application/json", json, strlen(json), out);
}

static void describe(const struct it_resp *r)
{
    print_error("  request:  %s\n  response: %ld%s%s, Content-Type %s\n  body: %.600s\n", r->what,
                r->status, r->rc != CURLE_OK ? " curl: " : "",
                r->rc != CURLE_OK ? curl_easy_strerror(r->rc) : "",
                r->content_type ? r->content_type : "(none)", r->body ? r->body : "");
}

void it_expect_status_(const struct it_resp *r, long status, const char *file, int line)
{
    if (r->status == status)
        return;
    print_error("%s:%d: expected HTTP %ld\n", file, line, status);
    describe(r);
    _fail(file, line);
}

static int problem_ok(const struct it_resp *r, long status, char *why, size_t size)
{
    if (!r->content_type || strncmp(r->content_type, "application/problem+json", 24)) {
        snprintf(why, size, "Content-Type is not application/problem+json");
        return 0;
    }
    json_error_t jerr;
    json_t *o = json_loadb(r->body, r->len, 0, &jerr);
    int ok = json_is_object(o) && json_is_string(json_object_get(o, "type")) &&
             json_is_string(json_object_get(o, "title")) &&
             json_is_string(json_object_get(o, "detail")) &&
             json_integer_value(json_object_get(o, "status")) == status;
    json_decref(o);
    if (!ok)
        snprintf(why, size, "the body is not a problem {type,title,status:%ld,detail}", status);
    return ok;
}

void it_expect_problem_(const struct it_resp *r, long status, const char *file, int line)
{
    it_expect_status_(r, status, file, line);
    char why[128];
    if (!problem_ok(r, status, why, sizeof why)) {
        print_error("%s:%d: %s\n", file, line, why);
        describe(r);
        _fail(file, line);
    }
}

void it_expect_problem_any_(const struct it_resp *r, const char *file, int line, ...)
{
    va_list ap;
    va_start(ap, line);
    long st, found = 0;
    char list[128] = "";
    size_t used = 0;
    while ((st = va_arg(ap, long)) != 0) {
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%ld", used ? " or " : "", st);
        if (r->status == st)
            found = st;
    }
    va_end(ap);
    if (!found) {
        print_error("%s:%d: expected HTTP %s\n", file, line, list);
        describe(r);
        _fail(file, line);
    }
    it_expect_problem_(r, found, file, line);
}

json_t *it_json_(const struct it_resp *r, const char *file, int line)
{
    json_error_t jerr;
    json_t *o = json_loadb(r->body, r->len, 0, &jerr);
    if (!o) {
        print_error("%s:%d: the body is not JSON: %s\n", file, line, jerr.text);
        describe(r);
        _fail(file, line);
    }
    return o;
}

json_t *it_get_json_(struct itest_server *s, const char *path, const char *file, int line)
{
    struct it_resp r;
    it_get(s, path, &r);
    it_expect_status_(&r, 200, file, line);
    json_t *o = it_json_(&r, file, line);
    it_resp_free(&r);
    return o;
}

static const json_t *member(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!v) {
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        print_error("%s:%d: no member '%s' in %.600s\n", file, line, key, text ? text : "(null)");
        free(text);
        _fail(file, line);
    }
    return v;
}

static void wrong_type(const char *key, const char *want, const char *file, int line)
{
    print_error("%s:%d: member '%s' is not %s\n", file, line, key, want);
    _fail(file, line);
}

const char *it_js_(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = member(o, key, file, line);
    if (!json_is_string(v))
        wrong_type(key, "a string", file, line);
    return json_string_value(v);
}

json_int_t it_ji_(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = member(o, key, file, line);
    if (!json_is_integer(v))
        wrong_type(key, "an integer", file, line);
    return json_integer_value(v);
}

double it_jd_(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = member(o, key, file, line);
    if (!json_is_number(v))
        wrong_type(key, "a number", file, line);
    return json_number_value(v);
}

json_t *it_ja_(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = member(o, key, file, line);
    if (!json_is_array(v))
        wrong_type(key, "an array", file, line);
    return (json_t *)v;
}

json_t *it_jo_(const json_t *o, const char *key, const char *file, int line)
{
    const json_t *v = member(o, key, file, line);
    if (!json_is_object(v))
        wrong_type(key, "an object", file, line);
    return (json_t *)v;
}

/* ---- API helpers ----------------------------------------------------------------------------- */

int64_t it_train_start(struct itest_server *s, int window, int epochs, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"dataset\":1,\"window\":%d,\"horizon\":6,\"epochs\":%d," IT_TINY_CONFIG "%s}",
             window, epochs, extra ? extra : "");
    struct it_resp r;
    it_post_json(s, "/models", body, &r);
    IT_STATUS(&r, 202);
    json_t *o = IT_JSON(&r);
    int64_t id = JI(o, "job");
    assert_string_equal(JS(o, "state"), "queued");
    assert_int_equal(JI(o, "epochs"), epochs);
    char want[64];
    snprintf(want, sizeof want, "/jobs/%lld", (long long)id);
    assert_non_null(r.location);
    assert_string_equal(r.location, want);
    assert_string_equal(JS(o, "location"), want);
    json_decref(o);
    it_resp_free(&r);
    return id;
}

json_t *it_job(struct itest_server *s, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld", (long long)id);
    return IT_GET_JSON(s, path);
}

static int is_final(const char *state)
{
    return !strcmp(state, "succeeded") || !strcmp(state, "failed") || !strcmp(state, "cancelled") ||
           !strcmp(state, "interrupted");
}

json_t *it_job_wait(struct itest_server *s, int64_t id, int (*pred)(const json_t *, void *),
                    void *arg, double timeout_s)
{
    double deadline = it_now() + timeout_s * it_slow();
    for (;;) {
        json_t *job = it_job(s, id);
        if ((pred && pred(job, arg)) || is_final(JS(job, "state")))
            return job;
        if (it_now() > deadline) {
            char *text = json_dumps(job, JSON_COMPACT);
            json_decref(job);
            print_error("job %lld, still: %.800s\n", (long long)id, text ? text : "");
            free(text);
            fail_msg("itest: job %lld did not get there within %.0f s", (long long)id,
                     timeout_s * it_slow());
        }
        json_decref(job);
        it_sleep_ms(20);
    }
}

int64_t it_train_tiny(struct itest_server *s, int epochs)
{
    int64_t job_id = it_train_start(s, 24, epochs, "");
    json_t *job = it_job_wait(s, job_id, NULL, NULL, 60 + 2.0 * epochs);
    if (strcmp(JS(job, "state"), "succeeded")) {
        char *text = json_dumps(job, JSON_COMPACT);
        print_error("training job: %.800s\n", text ? text : "");
        free(text);
        fail_msg("itest: the tiny training job did not succeed");
    }
    int64_t model = JI(job, "model");
    json_decref(job);
    return model;
}

int64_t it_default_model(struct itest_server *s)
{
    json_t *o = IT_GET_JSON(s, "/models");
    json_t *models = JA(o, "models"), *m;
    size_t i;
    int64_t id = 0;
    json_array_foreach(models, i, m)
    {
        if (json_is_true(json_object_get(m, "default")))
            id = JI(m, "id");
    }
    json_decref(o);
    return id;
}

size_t it_model_count(struct itest_server *s)
{
    json_t *o = IT_GET_JSON(s, "/models");
    size_t n = json_array_size(JA(o, "models"));
    json_decref(o);
    return n;
}

char *it_snapshot(struct itest_server *s)
{
    struct it_resp a, b, c;
    it_get(s, "/datasets", &a);
    it_get(s, "/models", &b);
    it_get(s, "/metrics", &c);
    IT_STATUS(&a, 200);
    IT_STATUS(&b, 200);
    IT_STATUS(&c, 200);
    size_t cap = a.len + b.len + 4096, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    used += (size_t)snprintf(out + used, cap - used, "%s\n%s\n", a.body, b.body);
    for (char *line = c.body; line && *line;) {
        char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (!strncmp(line, "fwpcast_jobs{", 13) && used + n + 2 < cap)
            used += (size_t)snprintf(out + used, cap - used, "%.*s\n", (int)n, line);
        line = end ? end + 1 : NULL;
    }
    it_resp_free(&a), it_resp_free(&b), it_resp_free(&c);
    return out;
}

int it_wait_jobs_idle(struct itest_server *s, double timeout_s)
{
    double deadline = it_now() + timeout_s * it_slow();
    for (;;) {
        struct it_resp r;
        it_get(s, "/metrics", &r);
        double busy = it_metric(r.body, "fwpcast_jobs{state=\"queued\"}") +
                      it_metric(r.body, "fwpcast_jobs{state=\"running\"}");
        it_resp_free(&r);
        if (busy == 0)
            return 0;
        if (it_now() > deadline)
            return -1;
        it_sleep_ms(50);
    }
}

double it_metric(const char *text, const char *sample)
{
    size_t k = strlen(sample);
    for (const char *line = text; line && *line;) {
        if (!strncmp(line, sample, k) && line[k] == ' ')
            return strtod(line + k + 1, NULL);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NAN;
}

/* ---- raw sockets ----------------------------------------------------------------------------- */

int it_raw_connect(const struct itest_server *s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        fail_msg("itest: cannot connect to 127.0.0.1:%d: %s", s->port, strerror(errno));
    }
    return fd;
}

int it_raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int it_raw_status(int fd, double timeout_s)
{
    char buf[4096];
    size_t len = 0;
    double deadline = it_now() + timeout_s;
    while (len < sizeof buf - 1) {
        int left = (int)((deadline - it_now()) * 1000);
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n"))
            break;
    }
    buf[len] = '\0';
    int major, minor, status;
    if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &status) == 3)
        return status;
    return -1;
}

double it_raw_wait_closed(int fd, double timeout_s)
{
    double t0 = it_now(), deadline = t0 + timeout_s;
    char buf[4096];
    for (;;) {
        int left = (int)((deadline - it_now()) * 1000);
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return it_now() - t0;
    }
}
