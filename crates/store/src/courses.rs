//! Course summaries for the clinic-wide results (SPEC §1 step 6;
//! docs/outcomes.md, "Scale"): one row per treated patient in
//! `treatment_courses` holding respite-clinical's assessment of the course,
//! so that `/staff/results` reads 100,000 rows rather than every pain report.
//!
//! Kept true by the database, not by the write paths: triggers on pain
//! reports, infusion sessions and diagnoses (migration 0021) mark the
//! patient in `course_refresh`. Before summaries are read the store
//! refreshes the marked patients in batches — the same four set-based
//! queries as [`Store::treated_courses`], restricted to the batch — judges
//! each course with `outcomes::assess_course`, upserts the summary and
//! removes the mark only where its seq is unchanged (a write racing the
//! refresh keeps its mark). Two servers refreshing at once write the same
//! answer. The store decides nothing clinical.

use std::collections::HashSet;

use jiff::Timestamp;
use respite_clinical::outcomes::{
    AssessedCourse, BaselineSettings, ConditionGroup, CourseOutcome, Durability, PainChange,
};

use crate::results::{course_queries, ResultsPeriod};
use crate::{from_millis, to_millis, Engine, Store, StoreError, StoreResult};

/// Marked patients refreshed per batch: four queries read their facts, and
/// their summaries are written in one transaction.
pub const COURSE_REFRESH_BATCH: i64 = 2_000;

/// Rows per multi-row upsert (14 parameters each: under SQLite's limit of
/// 32,766 and PostgreSQL's of 65,535).
const UPSERT_ROWS: usize = 200;

/// The upsert's column types, in order (CAST names both engines read:
/// SQLite gives DOUBLE PRECISION real affinity).
const COLUMN_TYPES: [&str; 14] = [
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "TEXT",
    "BIGINT",
    "BIGINT",
    "TEXT",
    "DOUBLE PRECISION",
    "TEXT",
    "TEXT",
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "BIGINT",
];

/// The pain reports of the patients with ids in $1..=$2 (an index range on
/// (patient_id, time), not a scan of every report: 1.4 s a batch on
/// PostgreSQL at 100,000 patients without it, bench/outcomes).
const BATCH_PAIN: &str = "pain AS (\
    SELECT patient_id, observed_at AS at, value FROM observations \
    WHERE code_system = 'http://loinc.org' AND code = $4 \
      AND patient_id >= $1 AND patient_id <= $2 \
    UNION ALL \
    SELECT patient_id, effective_at AS at, value FROM score_observations \
    WHERE code_system = 'http://loinc.org' AND code = $4 AND value IS NOT NULL \
      AND patient_id >= $1 AND patient_id <= $2)";

/// The courses of the marked patients with ids in $1..=$2.
const STALE_COURSES: &str = "courses AS (\
    SELECT patient_id, MIN(started_at) AS first_at, MAX(started_at) AS last_at \
    FROM infusion_sessions WHERE patient_id IN (\
      SELECT patient_id FROM course_refresh WHERE patient_id >= $1 AND patient_id <= $2) \
    GROUP BY patient_id)";

impl Store {
    /// Every patient whose first infusion falls in `period`, each course
    /// judged by respite-clinical, read from the summaries after refreshing
    /// the marked ones; in no particular order (nothing in
    /// `summarise_clinic` depends on it). The same courses and outcomes as
    /// [`Store::treated_courses`] judged from scratch
    /// ([`Store::assessed_courses_from_scratch`]).
    pub async fn assessed_courses(
        &self,
        period: ResultsPeriod,
        settings: &BaselineSettings,
        now: Timestamp,
    ) -> StoreResult<Vec<AssessedCourse>> {
        self.refresh_courses(settings, now).await?;
        let window = i64::from(settings.window_days);
        let mut rows = self.summary_rows(period).await?;
        if rows.iter().any(|r| r.baseline_window_days != window) {
            // The window setting changed: take those summaries again.
            self.mark_other_windows(window).await?;
            self.refresh_courses(settings, now).await?;
            rows = self.summary_rows(period).await?;
        }
        rows.into_iter().map(SummaryRow::into_course).collect()
    }

    /// The summaries of the period; the whole table (a plain scan) when
    /// the period is open at both ends.
    async fn summary_rows(&self, period: ResultsPeriod) -> StoreResult<Vec<SummaryRow>> {
        if period.from.is_none() && period.until.is_none() {
            return Ok(sqlx::query_as(SUMMARIES_ALL).fetch_all(&self.pool).await?);
        }
        let from = period.from.map_or(i64::MIN, to_millis);
        let until = period.until.map_or(i64::MAX, to_millis);
        Ok(sqlx::query_as(SUMMARIES)
            .bind(from)
            .bind(until)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The old path, kept to prove the summaries: every course read from
    /// its pain reports and judged now.
    pub async fn assessed_courses_from_scratch(
        &self,
        period: ResultsPeriod,
        settings: &BaselineSettings,
    ) -> StoreResult<Vec<AssessedCourse>> {
        let courses = self.treated_courses(period, settings.window_days).await?;
        Ok(courses
            .iter()
            .map(|course| AssessedCourse::of(course, settings))
            .collect())
    }

    /// Patients whose summary is marked out of date.
    pub async fn stale_course_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM course_refresh")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Recomputes every marked patient's summary, in batches of
    /// [`COURSE_REFRESH_BATCH`] in patient order; returns how many were
    /// recomputed. A patient marked again while being recomputed stays
    /// marked for the next call.
    pub async fn refresh_courses(
        &self,
        settings: &BaselineSettings,
        now: Timestamp,
    ) -> StoreResult<usize> {
        let window = i64::from(settings.window_days);
        let [courses, conditions, pain, before] =
            course_queries(STALE_COURSES, BATCH_PAIN).map(|q| q.1);
        let queries = [courses, conditions, pain, before];
        let mut after = i64::MIN;
        let mut done = 0;
        loop {
            let marks: Vec<(i64, i64)> = sqlx::query_as(MARKS)
                .bind(after)
                .bind(COURSE_REFRESH_BATCH)
                .fetch_all(&self.pool)
                .await?;
            let (Some(&(lo, _)), Some(&(hi, _))) = (marks.first(), marks.last()) else {
                break;
            };
            after = hi;
            let (ids, treated) = self
                .gather_courses(&queries, lo, hi, settings.window_days)
                .await?;
            let batch: HashSet<i64> = marks.iter().map(|m| m.0).collect();
            let mut summaries = Vec::with_capacity(marks.len());
            for (patient_id, course) in ids.into_iter().zip(&treated) {
                if batch.contains(&patient_id) {
                    let assessed = AssessedCourse::of(course, settings);
                    summaries.push(summary_binds(patient_id, course, &assessed, window, now)?);
                }
            }
            let treated_ids: HashSet<i64> = summaries.iter().map(|s| s.patient_id).collect();
            let untreated: Vec<i64> = batch
                .iter()
                .copied()
                .filter(|id| !treated_ids.contains(id))
                .collect();
            self.write_summaries(&summaries, &untreated, &marks).await?;
            done += marks.len();
        }
        Ok(done)
    }

    /// Marks the patients whose summary was taken with another baseline
    /// window (the setting changed).
    async fn mark_other_windows(&self, window: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let seq = match self.engine() {
            Engine::Postgres => "nextval('course_refresh_seq')",
            Engine::Sqlite => {
                sqlx::query("UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                "(SELECT seq FROM course_refresh_clock WHERE id = 1)"
            }
        };
        sqlx::query(&format!(
            "INSERT INTO course_refresh (patient_id, seq) \
             SELECT patient_id, {seq} FROM treatment_courses WHERE baseline_window_days <> $1 \
             ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq"
        ))
        .bind(window)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One transaction: upserts the batch's summaries, deletes those of
    /// patients no longer treated, and removes the marks whose seq is
    /// still the one read before the facts were.
    async fn write_summaries(
        &self,
        summaries: &[SummaryBinds],
        untreated: &[i64],
        marks: &[(i64, i64)],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for chunk in summaries.chunks(UPSERT_ROWS) {
            let mut sql = String::from(
                "INSERT INTO treatment_courses (patient_id, first_infusion_at, series_end_at, \
                 protocol, condition_groups, baseline_window_days, outcome, baseline, pain_change, \
                 durability, durability_days, durability_at, confirmed_at, computed_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let p = i * COLUMN_TYPES.len();
                sql.push('(');
                for (k, column_type) in COLUMN_TYPES.iter().enumerate() {
                    if k > 0 {
                        sql.push_str(", ");
                    }
                    // Typed: PostgreSQL cannot infer a NULL's type in a
                    // multi-row VALUES list.
                    if k == 7 {
                        // The baseline is bound as a number even when there is
                        // none (sqlx 0.8's Any driver declares a NULL f64 as
                        // float4, which a cached statement then keeps): NULL
                        // is written where the outcome says no baseline.
                        sql.push_str(&format!(
                            "CASE WHEN CAST(${} AS TEXT) = 'no-baseline' THEN NULL \
                             ELSE CAST(${} AS {column_type}) END",
                            p + 7,
                            p + 8
                        ));
                    } else {
                        sql.push_str(&format!("CAST(${} AS {column_type})", p + k + 1));
                    }
                }
                sql.push(')');
            }
            sql.push_str(
                " ON CONFLICT (patient_id) DO UPDATE SET \
                 first_infusion_at = excluded.first_infusion_at, \
                 series_end_at = excluded.series_end_at, protocol = excluded.protocol, \
                 condition_groups = excluded.condition_groups, \
                 baseline_window_days = excluded.baseline_window_days, \
                 outcome = excluded.outcome, baseline = excluded.baseline, \
                 pain_change = excluded.pain_change, durability = excluded.durability, \
                 durability_days = excluded.durability_days, \
                 durability_at = excluded.durability_at, confirmed_at = excluded.confirmed_at, \
                 computed_at = excluded.computed_at",
            );
            let mut query = sqlx::query(&sql);
            for s in chunk {
                query = query
                    .bind(s.patient_id)
                    .bind(s.first_infusion_at)
                    .bind(s.series_end_at)
                    .bind(s.protocol.clone())
                    .bind(s.condition_groups)
                    .bind(s.window_days)
                    .bind(s.outcome)
                    .bind(s.baseline.unwrap_or(0.0))
                    .bind(s.pain_change)
                    .bind(s.durability)
                    .bind(s.durability_days)
                    .bind(s.durability_at)
                    .bind(s.confirmed_at)
                    .bind(s.computed_at);
            }
            query.execute(&mut *tx).await?;
        }
        for &patient_id in untreated {
            sqlx::query("DELETE FROM treatment_courses WHERE patient_id = $1")
                .bind(patient_id)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in marks.chunks(UPSERT_ROWS) {
            let pairs: Vec<String> = (0..chunk.len())
                .map(|i| format!("(patient_id = ${} AND seq = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!("DELETE FROM course_refresh WHERE {}", pairs.join(" OR "));
            let mut query = sqlx::query(&sql);
            for &(patient_id, seq) in chunk {
                query = query.bind(patient_id).bind(seq);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The queries of the course summaries, named (public so that
/// bench/outcomes can print their plans): the page's read of the summaries
/// ($1..$2 bound the first infusion), the stale marks of a batch, and the
/// four queries that read a batch's facts ($1..$2 bound the marked patient
/// ids, $3 is the baseline window in ms, $4 the pain LOINC code).
pub fn course_summary_queries() -> Vec<(&'static str, String)> {
    let mut queries = vec![
        ("summaries", SUMMARIES.to_owned()),
        ("all summaries", SUMMARIES_ALL.to_owned()),
        ("stale marks", MARKS.to_owned()),
    ];
    queries.extend(course_queries(STALE_COURSES, BATCH_PAIN).map(|(name, sql)| (name, sql)));
    queries
}

/// A batch of stale marks after patient $1.
const MARKS: &str = "SELECT patient_id, seq FROM course_refresh WHERE patient_id > $1 \
    ORDER BY patient_id LIMIT $2";

/// The summaries of the patients whose first infusion is in $1..$2.
const SUMMARIES: &str = "SELECT baseline_window_days, protocol, condition_groups, outcome, \
    baseline, pain_change, durability, durability_days, durability_at, confirmed_at \
    FROM treatment_courses WHERE first_infusion_at >= $1 AND first_infusion_at < $2";

/// Every summary (the period open at both ends).
const SUMMARIES_ALL: &str = "SELECT baseline_window_days, protocol, condition_groups, outcome, \
    baseline, pain_change, durability, durability_days, durability_at, confirmed_at \
    FROM treatment_courses";

/// The bit of each condition group in `treatment_courses.condition_groups`
/// (stored: never renumber).
fn group_bit(group: ConditionGroup) -> i64 {
    match group {
        ConditionGroup::BackPain => 1,
        ConditionGroup::Headache => 1 << 1,
        ConditionGroup::JointPain => 1 << 2,
        ConditionGroup::Fibromyalgia => 1 << 3,
        ConditionGroup::Endometriosis => 1 << 4,
        ConditionGroup::Crps => 1 << 5,
        ConditionGroup::OtherChronicPain => 1 << 6,
    }
}

fn pain_change_code(change: PainChange) -> &'static str {
    match change {
        PainChange::NoImportantReduction => "none",
        PainChange::MinimalReduction => "minimal",
        PainChange::ModerateReduction => "moderate",
        PainChange::SubstantialReduction => "substantial",
    }
}

fn pain_change_of(code: &str) -> StoreResult<PainChange> {
    Ok(match code {
        "none" => PainChange::NoImportantReduction,
        "minimal" => PainChange::MinimalReduction,
        "moderate" => PainChange::ModerateReduction,
        "substantial" => PainChange::SubstantialReduction,
        other => return Err(corrupt("pain_change", other)),
    })
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("treatment_courses.{column}: {value:?}"))
}

/// One summary's values, in the order of the upsert's columns.
struct SummaryBinds {
    patient_id: i64,
    first_infusion_at: i64,
    series_end_at: i64,
    protocol: String,
    condition_groups: i64,
    window_days: i64,
    outcome: &'static str,
    baseline: Option<f64>,
    pain_change: Option<&'static str>,
    durability: Option<&'static str>,
    durability_days: Option<i64>,
    durability_at: Option<i64>,
    confirmed_at: Option<i64>,
    computed_at: i64,
}

fn summary_binds(
    patient_id: i64,
    course: &respite_clinical::outcomes::TreatedCourse,
    assessed: &AssessedCourse,
    window_days: i64,
    now: Timestamp,
) -> StoreResult<SummaryBinds> {
    let mut s = SummaryBinds {
        patient_id,
        first_infusion_at: to_millis(course.first_infusion),
        series_end_at: to_millis(course.series_end),
        protocol: assessed.protocol.clone(),
        condition_groups: assessed
            .conditions
            .iter()
            .fold(0, |bits, &g| bits | group_bit(g)),
        window_days,
        outcome: "no-baseline",
        baseline: None,
        pain_change: None,
        durability: None,
        durability_days: None,
        durability_at: None,
        confirmed_at: None,
        computed_at: to_millis(now),
    };
    match &assessed.outcome {
        CourseOutcome::NoBaseline => {}
        CourseOutcome::NoReportAfterSeries { baseline } => {
            s.outcome = "awaiting-report";
            s.baseline = Some(*baseline);
        }
        CourseOutcome::Assessed {
            baseline,
            change,
            durability,
        } => {
            s.outcome = "assessed";
            s.baseline = Some(*baseline);
            s.pain_change = Some(pain_change_code(*change));
            match *durability {
                Durability::NotAResponder { first_report_at } => {
                    s.durability = Some("not-a-responder");
                    s.durability_at = Some(to_millis(first_report_at));
                }
                Durability::Returned {
                    days,
                    returned_at,
                    confirmed_at,
                } => {
                    s.durability = Some("returned");
                    s.durability_days = Some(i64::from(days));
                    s.durability_at = Some(to_millis(returned_at));
                    s.confirmed_at = Some(to_millis(confirmed_at));
                }
                Durability::StillRelieved {
                    days,
                    last_report_at,
                } => {
                    s.durability = Some("still-relieved");
                    s.durability_days = Some(i64::from(days));
                    s.durability_at = Some(to_millis(last_report_at));
                }
            }
        }
    }
    Ok(s)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    baseline_window_days: i64,
    protocol: String,
    condition_groups: i64,
    outcome: String,
    baseline: Option<f64>,
    pain_change: Option<String>,
    durability: Option<String>,
    durability_days: Option<i64>,
    durability_at: Option<i64>,
    confirmed_at: Option<i64>,
}

impl SummaryRow {
    fn into_course(self) -> StoreResult<AssessedCourse> {
        let conditions = ConditionGroup::ALL
            .into_iter()
            .filter(|&g| self.condition_groups & group_bit(g) != 0)
            .collect();
        let baseline = || self.baseline.ok_or_else(|| corrupt("baseline", "NULL"));
        let outcome = match self.outcome.as_str() {
            "no-baseline" => CourseOutcome::NoBaseline,
            "awaiting-report" => CourseOutcome::NoReportAfterSeries {
                baseline: baseline()?,
            },
            "assessed" => {
                let change = pain_change_of(self.pain_change.as_deref().unwrap_or(""))?;
                let days = || -> StoreResult<u32> {
                    let d = self
                        .durability_days
                        .ok_or_else(|| corrupt("durability_days", "NULL"))?;
                    u32::try_from(d).map_err(|_| corrupt("durability_days", &d.to_string()))
                };
                let at = |v: Option<i64>, column: &str| -> StoreResult<Timestamp> {
                    from_millis(v.ok_or_else(|| corrupt(column, "NULL"))?)
                };
                let durability = match self.durability.as_deref().unwrap_or("") {
                    "not-a-responder" => Durability::NotAResponder {
                        first_report_at: at(self.durability_at, "durability_at")?,
                    },
                    "returned" => Durability::Returned {
                        days: days()?,
                        returned_at: at(self.durability_at, "durability_at")?,
                        confirmed_at: at(self.confirmed_at, "confirmed_at")?,
                    },
                    "still-relieved" => Durability::StillRelieved {
                        days: days()?,
                        last_report_at: at(self.durability_at, "durability_at")?,
                    },
                    other => return Err(corrupt("durability", other)),
                };
                CourseOutcome::Assessed {
                    baseline: baseline()?,
                    change,
                    durability,
                }
            }
            other => return Err(corrupt("outcome", other)),
        };
        Ok(AssessedCourse {
            conditions,
            protocol: self.protocol,
            outcome,
        })
    }
}
