/* main — the `fwpcast` command: dispatches to the subcommands in cli/cmd_*.c. */
#include "cli/cli.h"

#include <cblas.h>

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"serve", cmd_serve,
     "run the HTTP service: [--port 8080] [--bind 127.0.0.1] [--db PATH] [--workers N] "
     "[--token-file F] [--static DIR] [--max-body BYTES] [--cors-origins URL,URL]"},
    {"healthcheck", cmd_healthcheck, "exit 0 if the local service answers /healthz"},
    {"init", cmd_init, "create the database and load the bundled SILSO data if it is empty"},
    {"import", cmd_import, "import a series: fwpcast import FILE [--name NAME] [--db PATH]"},
    {"datasets", cmd_datasets, "list the stored datasets"},
    {"architectures", cmd_architectures, "list the model architectures [--json]"},
    {"train", cmd_train,
     "train a model: --model NAME --protocol paper|live [--dataset ID|FILE] [--epochs N] "
     "[--seed S] [--cutoff YYYY-MM] [--threads N] --out FILE [--db PATH] [--json]"},
    {"eval", cmd_eval, "test metrics of a model: fwpcast eval MODEL [--protocol paper] [--json]"},
    {"forecast", cmd_forecast,
     "forecast: fwpcast forecast MODEL [--dataset ID|FILE] [--h N] [--level 80 ...] "
     "[--cutoff YYYY-MM] [--json]"},
    {"compare", cmd_compare,
     "every model on the paper protocol: [--models all|a,b] [--seeds 0-4] [--epochs 100] "
     "[--threads N] [--db PATH] [--json] (resumes: stored runs are not repeated)"},
    {"benchmark", cmd_benchmark,
     "the time-series suite: --suite timeseries [--models all|a,b] [--datasets all|a,b] "
     "[--seeds 0-2] [--epochs 100] [--json]"},
    {"hindcast", cmd_hindcast,
     "the cycle hindcast suite: [--cycles 21-25] [--model ARCH] [--seed N | --seeds 0-4] "
     "[--epochs N] [--config k=v;...] [--threads N] [--dataset ID|FILE] [--db PATH] [--json] "
     "(resumes)"},
    {"qcompare", cmd_qcompare,
     "exact vs shots on the test windows: fwpcast qcompare MODEL [--shots 1024] [--noise NAME] "
     "[--sweep] [--json]"},
    {"export", cmd_export, "write a model as JSON (PyTorch state_dict names) or binary"},
    {"import-model", cmd_import_model, "read a JSON model (ours or the authors' state_dict)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: fwpcast <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nenvironment: FWPCAST_DB (default var/fwpcast.db)\n");
}

int main(int argc, char **argv)
{
    /* parallelism comes from fwpcast's own threads (batches, requests, jobs); a BLAS call runs
     * on the thread that makes it, instead of waking OpenBLAS's spinning pool */
    openblas_set_num_threads(1);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "fwpcast: unknown command '%s' (try 'fwpcast help')\n", argv[1]);
    return 2;
}
