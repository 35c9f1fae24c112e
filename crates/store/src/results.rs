//! Clinic-wide results (SPEC §1 step 6): every treated patient's pain
//! reports, diagnoses, protocol and infusion dates, gathered in four
//! set-based queries whatever the number of patients (no query per patient),
//! for `respite_clinical::outcomes::clinic_results` to judge. The store
//! decides nothing: which report is a baseline, a response or a return of
//! pain is respite-clinical's (docs/outcomes.md, "Clinic-wide").

use std::collections::HashMap;

use jiff::Timestamp;
use respite_clinical::outcomes::{ConditionGroup, ScoreReport, TreatedCourse};

use crate::{from_millis, to_millis, Store, StoreResult};

/// Pain intensity, NRS 0–10: LOINC 72514-3 (shared/clinical/instruments.md),
/// whether recorded as an observation or scored from a questionnaire.
pub const PAIN_LOINC: &str = "72514-3";

/// Which patients: those whose first infusion falls in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResultsPeriod {
    /// First infusion at or after this instant.
    pub from: Option<Timestamp>,
    /// First infusion before this instant.
    pub until: Option<Timestamp>,
}

impl Store {
    /// Every patient whose first infusion falls in `period`, as a treated
    /// course: the condition groups of their current diagnoses (entered in
    /// error left out), the protocol of their first infusion, first and last
    /// infusion, and the pain reports the outcome rules can use — those in
    /// the `baseline_window_days` before the first infusion, the last one
    /// before that window (the baseline's fallback), and every one at or
    /// after the last infusion. Reports during the series are not read:
    /// no rule uses them. Ordered by patient id.
    pub async fn treated_courses(
        &self,
        period: ResultsPeriod,
        baseline_window_days: u16,
    ) -> StoreResult<Vec<TreatedCourse>> {
        let from = period.from.map_or(i64::MIN, to_millis);
        let until = period.until.map_or(i64::MAX, to_millis);
        let queries = results_queries().map(|q| q.1);
        let (_, courses) = self
            .gather_courses(&queries, from, until, baseline_window_days)
            .await?;
        Ok(courses)
    }

    /// Runs the four queries of [`results_queries`] (or their form for a
    /// batch of patients, `$1`..`$2` then bounding what the courses CTE
    /// says) and builds the treated courses, with their patient ids.
    pub(crate) async fn gather_courses(
        &self,
        queries: &[String; 4],
        lo: i64,
        hi: i64,
        baseline_window_days: u16,
    ) -> StoreResult<(Vec<i64>, Vec<TreatedCourse>)> {
        let window_ms = i64::from(baseline_window_days) * 86_400_000;
        let [courses_sql, conditions_sql, pain_sql, before_sql] = queries;

        // 1. Courses: first and last infusion, the first infusion's protocol.
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(courses_sql)
            .bind(lo)
            .bind(hi)
            .fetch_all(&self.pool)
            .await?;
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
        let mut courses: Vec<TreatedCourse> = Vec::with_capacity(rows.len());
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        for (patient_id, first_at, last_at, protocol) in rows {
            if index.contains_key(&patient_id) {
                continue; // two sessions at the same first instant: one protocol
            }
            index.insert(patient_id, courses.len());
            ids.push(patient_id);
            courses.push(TreatedCourse {
                conditions: Vec::new(),
                protocol,
                first_infusion: from_millis(first_at)?,
                series_end: from_millis(last_at)?,
                pain: Vec::new(),
            });
        }
        if courses.is_empty() {
            return Ok((ids, courses));
        }

        // 2. Current diagnoses, as condition groups (one lookup per distinct code).
        let rows: Vec<(i64, String)> = sqlx::query_as(conditions_sql)
            .bind(lo)
            .bind(hi)
            .fetch_all(&self.pool)
            .await?;
        let mut groups: HashMap<String, ConditionGroup> = HashMap::new();
        for (patient_id, code) in rows {
            let Some(&at) = index.get(&patient_id) else {
                continue;
            };
            let group = *groups
                .entry(code)
                .or_insert_with_key(|code| ConditionGroup::of_code(code));
            let conditions = &mut courses[at].conditions;
            if !conditions.contains(&group) {
                conditions.push(group);
            }
        }

        // 3. Pain reports in the baseline window and from the series' end on.
        let rows: Vec<(i64, i64, f64)> = sqlx::query_as(pain_sql)
            .bind(lo)
            .bind(hi)
            .bind(window_ms)
            .bind(PAIN_LOINC)
            .fetch_all(&self.pool)
            .await?;
        push_reports(&mut courses, &index, rows)?;

        // 4. The last report before the window (the baseline when the
        //    window is empty).
        let rows: Vec<(i64, i64, f64)> = sqlx::query_as(before_sql)
            .bind(lo)
            .bind(hi)
            .bind(window_ms)
            .bind(PAIN_LOINC)
            .fetch_all(&self.pool)
            .await?;
        push_reports(&mut courses, &index, rows)?;
        for course in &mut courses {
            course.pain.sort_by_key(|r| r.at);
        }
        Ok((ids, courses))
    }
}

/// The four queries of [`Store::treated_courses`], named, as it runs them
/// (public so that bench/outcomes can print their plans). Parameters: $1
/// and $2 bound the first infusion (ms), $3 is the baseline window (ms), $4
/// the pain LOINC code.
pub fn results_queries() -> [(&'static str, String); 4] {
    course_queries(COURSES, PAIN)
}

/// The four queries over the courses that `courses` (a CTE named
/// `courses`, bound by $1 and $2) selects, with `pain` (a CTE named `pain`
/// on $4) their pain reports.
pub(crate) fn course_queries(courses: &str, pain: &str) -> [(&'static str, String); 4] {
    [
        (
            "courses",
            format!(
                "WITH {courses} \
                 SELECT c.patient_id, c.first_at, c.last_at, s.protocol \
                 FROM courses c JOIN infusion_sessions s \
                   ON s.patient_id = c.patient_id AND s.started_at = c.first_at \
                 ORDER BY c.patient_id, s.id"
            ),
        ),
        (
            "conditions",
            format!(
                "WITH {courses} \
                 SELECT d.patient_id, d.icd10cm_code FROM conditions d \
                 JOIN courses c ON c.patient_id = d.patient_id \
                 WHERE d.entered_in_error_at IS NULL"
            ),
        ),
        (
            "pain",
            format!(
                "WITH {courses}, {pain} \
                 SELECT p.patient_id, p.at, p.value FROM pain p \
                 JOIN courses c ON c.patient_id = p.patient_id \
                 WHERE p.at >= c.last_at OR (p.at >= c.first_at - $3 AND p.at < c.first_at)"
            ),
        ),
        (
            "last_before_window",
            // Per course, the newest pain report of each source before the
            // window: an index seek on (patient_id, time) per patient, not a
            // scan of every report (the first form of this query scanned
            // them twice: 18 s at 100,000 patients, bench/outcomes).
            format!(
                "WITH {courses}, \
                 latest AS (SELECT c.patient_id, \
                   (SELECT MAX(o.observed_at) FROM observations o \
                    WHERE o.patient_id = c.patient_id AND o.code_system = 'http://loinc.org' \
                    AND o.code = $4 AND o.observed_at < c.first_at - $3) AS observed_at, \
                   (SELECT MAX(s.effective_at) FROM score_observations s \
                    WHERE s.patient_id = c.patient_id AND s.code_system = 'http://loinc.org' \
                    AND s.code = $4 AND s.value IS NOT NULL AND s.effective_at < c.first_at - $3) \
                   AS effective_at \
                   FROM courses c) \
                 SELECT l.patient_id, o.observed_at, o.value FROM latest l \
                 JOIN observations o ON o.patient_id = l.patient_id AND o.observed_at = l.observed_at \
                 WHERE o.code_system = 'http://loinc.org' AND o.code = $4 \
                 UNION ALL \
                 SELECT l.patient_id, s.effective_at, s.value FROM latest l \
                 JOIN score_observations s ON s.patient_id = l.patient_id \
                   AND s.effective_at = l.effective_at \
                 WHERE s.code_system = 'http://loinc.org' AND s.code = $4 AND s.value IS NOT NULL"
            ),
        ),
    ]
}

/// Each treated patient's first and last infusion; $1..$2 bound the first.
const COURSES: &str = "courses AS (\
    SELECT patient_id, MIN(started_at) AS first_at, MAX(started_at) AS last_at \
    FROM infusion_sessions GROUP BY patient_id \
    HAVING MIN(started_at) >= $1 AND MIN(started_at) < $2)";

/// Every pain intensity report ($4 = LOINC 72514-3): recorded observations
/// and scored questionnaires (a score that could not be computed has no
/// value and is left out).
pub(crate) const PAIN: &str = "pain AS (\
    SELECT patient_id, observed_at AS at, value FROM observations \
    WHERE code_system = 'http://loinc.org' AND code = $4 \
    UNION ALL \
    SELECT patient_id, effective_at AS at, value FROM score_observations \
    WHERE code_system = 'http://loinc.org' AND code = $4 AND value IS NOT NULL)";

fn push_reports(
    courses: &mut [TreatedCourse],
    index: &HashMap<i64, usize>,
    rows: Vec<(i64, i64, f64)>,
) -> StoreResult<()> {
    for (patient_id, at, score) in rows {
        if let Some(&i) = index.get(&patient_id) {
            courses[i].pain.push(ScoreReport {
                at: from_millis(at)?,
                score,
            });
        }
    }
    Ok(())
}
