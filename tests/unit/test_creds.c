/* Tests for quantum/creds: the environment and 0600 files, refusals that name the file or the
 * variable, and that no message ever quotes a value. */
#include "testutil.h"
#include "quantum/creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET "sk-test-Zq8vN3pL0wX7"
#define CRN    "crn:v1:bluemix:public:quantum-computing:us-east:a/acct:inst::"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    unsetenv(CREDS_IONQ_API_KEY);
    unsetenv(CREDS_IBM_API_KEY);
    unsetenv(CREDS_IBM_CRN);
    unsetenv(CREDS_FILE_ENV);
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    dir = NULL;
    unsetenv(CREDS_IONQ_API_KEY);
    unsetenv(CREDS_IBM_API_KEY);
    unsetenv(CREDS_IBM_CRN);
    unsetenv(CREDS_FILE_ENV);
    return 0;
}

/* Writes a file with the given mode; returns its malloc'd path. */
static char *write_creds(const char *name, const char *text, mode_t mode)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/%s", dir, name);
    assert_int_equal(tu_write_file(path, text, strlen(text)), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void assert_no_secret(const fw_error *err)
{
    assert_null(strstr(err->msg, SECRET));
    assert_null(strstr(err->msg, "Zq8vN3pL0wX7"));
}

static void test_environment(void **state)
{
    (void)state;
    struct ionq_creds ionq;
    fw_error err = {0};
    setenv(CREDS_IONQ_API_KEY, SECRET, 1);
    assert_int_equal(creds_ionq(NULL, &ionq, &err), 0);
    assert_string_equal(ionq.api_key, SECRET);
    creds_wipe(&ionq, sizeof ionq);
    assert_int_equal(ionq.api_key[0], 0);

    struct ibm_creds ibm;
    setenv(CREDS_IBM_API_KEY, SECRET, 1);
    assert_int_equal(creds_ibm(NULL, &ibm, &err), FW_EINVAL); /* no CRN yet */
    assert_non_null(strstr(err.msg, CREDS_IBM_CRN));
    assert_no_secret(&err);
    setenv(CREDS_IBM_CRN, CRN, 1);
    assert_int_equal(creds_ibm(NULL, &ibm, &err), 0);
    assert_string_equal(ibm.api_key, SECRET);
    assert_string_equal(ibm.crn, CRN);
}

static void test_missing_names_the_variable(void **state)
{
    (void)state;
    struct ionq_creds ionq;
    struct ibm_creds ibm;
    fw_error err = {0};
    assert_int_equal(creds_ionq(NULL, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    assert_int_equal(creds_ibm(NULL, &ibm, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IBM_CLOUD_API_KEY"));
    setenv(CREDS_IONQ_API_KEY, "", 1); /* empty is missing */
    assert_int_equal(creds_ionq(NULL, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    /* a file that lacks it: the message names the variable and the file */
    char *path = write_creds("c.env", "# nothing here\nOTHER=1\n", 0600);
    assert_int_equal(creds_ionq(path, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    assert_non_null(strstr(err.msg, path));
    free(path);
}

static void test_file(void **state)
{
    (void)state;
    char *path = write_creds("creds.env",
                             "# fwpcast credentials\n\n"
                             "export IONQ_API_KEY=\"" SECRET "\"\r\n"
                             "IBM_CLOUD_API_KEY = '" SECRET "2'\n"
                             "IBM_QUANTUM_CRN=" CRN "\n",
                             0600);
    struct ionq_creds ionq;
    struct ibm_creds ibm;
    fw_error err = {0};
    assert_int_equal(creds_ionq(path, &ionq, &err), 0);
    assert_string_equal(ionq.api_key, SECRET);
    assert_int_equal(creds_ibm(path, &ibm, &err), 0);
    assert_string_equal(ibm.api_key, SECRET "2");
    assert_string_equal(ibm.crn, CRN);
    /* 0400 is as private as 0600 */
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(creds_ionq(path, &ionq, &err), 0);
    /* the file named by FWPCAST_CREDENTIALS, when no file is given and the env lacks it */
    setenv(CREDS_FILE_ENV, path, 1);
    assert_int_equal(creds_ionq(NULL, &ionq, &err), 0);
    assert_string_equal(ionq.api_key, SECRET);
    /* the environment wins when no file is named */
    setenv(CREDS_IONQ_API_KEY, "from-env", 1);
    assert_int_equal(creds_ionq(NULL, &ionq, &err), 0);
    assert_string_equal(ionq.api_key, "from-env");
    /* an explicitly named file wins over the environment */
    assert_int_equal(creds_ionq(path, &ionq, &err), 0);
    assert_string_equal(ionq.api_key, SECRET);
    free(path);
}

static void test_file_mode_refused(void **state)
{
    (void)state;
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0602, 0620};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char *path = write_creds("open.env", "IONQ_API_KEY=" SECRET "\n", modes[i]);
        struct ionq_creds ionq;
        fw_error err = {0};
        assert_int_equal(creds_ionq(path, &ionq, &err), FW_EINVAL);
        assert_non_null(strstr(err.msg, path)); /* names the file */
        assert_non_null(strstr(err.msg, "chmod 600"));
        assert_no_secret(&err);
        free(path);
    }
    /* a file that does not exist, and a directory */
    struct ionq_creds ionq;
    fw_error err = {0};
    assert_int_equal(creds_ionq("/nonexistent/fwpcast.env", &ionq, &err), FW_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/fwpcast.env"));
    assert_int_equal(creds_ionq(dir, &ionq, &err), FW_EINVAL);
}

static void test_malformed_lines_do_not_leak(void **state)
{
    (void)state;
    struct ionq_creds ionq;
    fw_error err = {0};
    /* a line without '=' that holds a secret: reported by number only */
    char *path = write_creds("bad.env", "# ok\n" SECRET "\nIONQ_API_KEY=x\n", 0600);
    assert_int_equal(creds_ionq(path, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_no_secret(&err);
    free(path);
    /* a value with a space */
    path = write_creds("space.env", "IONQ_API_KEY=" SECRET " tail\n", 0600);
    assert_int_equal(creds_ionq(path, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_no_secret(&err);
    free(path);
    /* a bad environment value */
    setenv(CREDS_IONQ_API_KEY, SECRET " x", 1);
    assert_int_equal(creds_ionq(NULL, &ionq, &err), FW_EINVAL);
    assert_non_null(strstr(err.msg, "IONQ_API_KEY"));
    assert_no_secret(&err);
    /* too long */
    char *longv = malloc(CREDS_MAX + 16);
    assert_non_null(longv);
    memset(longv, 'k', CREDS_MAX + 8);
    longv[CREDS_MAX + 8] = '\0';
    setenv(CREDS_IONQ_API_KEY, longv, 1);
    assert_int_equal(creds_ionq(NULL, &ionq, &err), FW_EINVAL);
    assert_null(strstr(err.msg, "kkkkkkkk"));
    free(longv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_names_the_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines_do_not_leak, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
