/*
 * store_quantum — the quantum_jobs table (db/store.h, store_quantum_job_record): one row per
 * (job, provider) recording the work a quantum job submitted to a provider. The rows belong to
 * the database and go with their job (ON DELETE CASCADE); nothing here allocates.
 */
#include "db/store_private.h"
#include "db/db.h"

int store_quantum_job_record(sqlite3 *db, int64_t job_id, const char *provider,
                             const char *remote_ids, const char *state, int64_t circuits,
                             int64_t shots, const char *cost_json, fw_error *err)
{
    if (!provider || !*provider || !state || !*state || circuits < 0 || shots < 0)
        return fw_error_set(err, FW_EINVAL,
                            "a quantum job needs a provider, a state and "
                            "non-negative counts");
    int rc = st_require_row(db, SQL_JOB_EXISTS, "job", job_id, err);
    if (rc)
        return rc;
    /* update the (job, provider) row if there is one, else insert it; both statements take the
     * same numbered parameters */
    static const char *const sql[] = {
        "UPDATE quantum_jobs SET remote_id = ?3, state = ?4, circuits = ?5, shots = ?6, "
        "cost_json = ?7, updated_at = " SQL_NOW " WHERE job_id = ?1 AND provider = ?2",
        "INSERT INTO quantum_jobs (job_id, provider, remote_id, state, circuits, shots, "
        "cost_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    };
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *stmt = NULL;
        if ((rc = db_prepare(db, sql[i], &stmt, err)))
            return rc;
        sqlite3_bind_int64(stmt, 1, job_id);
        sqlite3_bind_text(stmt, 2, provider, -1, SQLITE_STATIC);
        st_bind_opt_text(stmt, 3, remote_ids);
        sqlite3_bind_text(stmt, 4, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, circuits);
        sqlite3_bind_int64(stmt, 6, shots);
        st_bind_opt_text(stmt, 7, cost_json);
        rc = st_step_done(db, stmt, "recording a quantum job", err);
        int changed = sqlite3_changes(db);
        sqlite3_finalize(stmt);
        if (rc || changed)
            return rc;
    }
    return FW_OK;
}
