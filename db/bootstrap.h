/*
 * bootstrap — first-start data: loads the SILSO sunspot series bundled in data/ into a database
 * that holds no dataset yet, so that `fwpcast init` and the server's first start have real data
 * to train on and plot.
 *
 * The files are read from the caller's data directory (the CLI's cli_data_dir(): $FWPCAST_DATA
 * or "data"). The connection is the caller's, already migrated; nothing is kept.
 */
#ifndef FW_BOOTSTRAP_H
#define FW_BOOTSTRAP_H

#include <sqlite3.h>

#include "base/error.h"

/* The bundled series and the names they are stored under. */
#define BOOTSTRAP_MONTHLY_FILE  "SN_m_tot_V2.0.csv" /* monthly mean total sunspot number */
#define BOOTSTRAP_MONTHLY_NAME  "silso-monthly"
#define BOOTSTRAP_SMOOTHED_FILE "SN_ms_tot_V2.0.csv" /* 13-month smoothed */
#define BOOTSTRAP_SMOOTHED_NAME "silso-smoothed"

/* The credit line SILSO asks for, wherever its data is shown. */
#define SILSO_CREDIT "Source: WDC-SILSO, Royal Observatory of Belgium, Brussels"

/* If the database holds no dataset, imports data_dir/SN_m_tot_V2.0.csv as "silso-monthly" and
 * data_dir/SN_ms_tot_V2.0.csv as "silso-smoothed", both in one transaction (both or neither).
 * A database that already holds a dataset is left alone (returns 0). A missing or broken file
 * is an error naming it. */
int db_bootstrap_bundled(sqlite3 *db, const char *data_dir, fw_error *err);

#endif
