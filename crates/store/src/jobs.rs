//! The job queue: work to do at a time (a reminder text), kept in the
//! database. Claiming is one statement that sets a lease: on PostgreSQL it
//! picks rows with `FOR UPDATE SKIP LOCKED`, so concurrent servers never
//! claim the same job; on SQLite the single `UPDATE … RETURNING` runs under
//! the database's one write lock. A job whose worker died is claimed again
//! once its lease runs out (at least once); a job is unique by its
//! idempotency key, so it is never enqueued twice.

use jiff::{SignedDuration, Timestamp};

use crate::{from_millis, to_millis, Engine, Store, StoreResult};

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub idempotency_key: String,
    pub consultation_id: Option<i64>,
    pub run_at: Timestamp,
}

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub consultation_id: Option<i64>,
    pub run_at: Timestamp,
    /// Counting this one.
    pub attempts: i64,
}

/// A stored job, for tests and the staff pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    pub kind: String,
    pub idempotency_key: String,
    pub run_at: Timestamp,
    pub attempts: i64,
    pub done: bool,
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    kind: String,
    idempotency_key: String,
    consultation_id: Option<i64>,
    run_at: i64,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    kind: String,
    idempotency_key: String,
    run_at: i64,
    attempts: i64,
    done_at: Option<i64>,
    last_error: Option<String>,
}

pub(crate) async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    job: &NewJob,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, idempotency_key, consultation_id, run_at, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(&job.idempotency_key)
    .bind(job.consultation_id)
    .bind(to_millis(job.run_at))
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Claims up to `limit` due jobs for `lease`.
    pub async fn claim_due_jobs(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: i64,
    ) -> StoreResult<Vec<Job>> {
        let lock = match self.engine {
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET attempts = attempts + 1, locked_until = $1 WHERE id IN (\
             SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $2 \
             AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at, id LIMIT $3{lock}) \
             RETURNING id, kind, idempotency_key, consultation_id, run_at, attempts"
        );
        let rows: Vec<ClaimedRow> = sqlx::query_as(&sql)
            .bind(to_millis(now + lease))
            .bind(to_millis(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut jobs = rows
            .into_iter()
            .map(|row| {
                Ok(Job {
                    id: row.id,
                    kind: row.kind,
                    idempotency_key: row.idempotency_key,
                    consultation_id: row.consultation_id,
                    run_at: from_millis(row.run_at)?,
                    attempts: row.attempts,
                })
            })
            .collect::<StoreResult<Vec<Job>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Marks a job finished for good (done, or given up with `error`).
    pub async fn finish_job(
        &self,
        id: i64,
        now: Timestamp,
        error: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
        )
        .bind(to_millis(now))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a failed job back, to be tried again at `retry_at`.
    pub async fn retry_job(&self, id: i64, retry_at: Timestamp, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE jobs SET locked_until = $1, last_error = $2 WHERE id = $3")
            .bind(to_millis(retry_at))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets the jobs of `kind` finished before `before`; returns how
    /// many. For jobs whose row keeps nothing worth reading later (the
    /// hourly questionnaire sweep: what it assigns is audited with each
    /// assignment), which would otherwise add a row an hour for ever.
    pub async fn forget_finished_jobs(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE kind = $1 AND done_at IS NOT NULL AND done_at < $2",
        )
        .bind(kind)
        .bind(to_millis(before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Every job, in run order.
    pub async fn jobs(&self) -> StoreResult<Vec<JobRecord>> {
        let rows: Vec<JobRow> = sqlx::query_as(
            "SELECT kind, idempotency_key, run_at, attempts, done_at, last_error FROM jobs \
             ORDER BY run_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(JobRecord {
                    kind: row.kind,
                    idempotency_key: row.idempotency_key,
                    run_at: from_millis(row.run_at)?,
                    attempts: row.attempts,
                    done: row.done_at.is_some(),
                    last_error: row.last_error,
                })
            })
            .collect()
    }
}
