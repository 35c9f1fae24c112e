//! The multimodal treatment plan (SPEC §1 step 4), versioned: a change
//! writes a new version (FHIR CarePlan meta.versionId), old ones stay as they
//! were written. Stored only as a `CheckedPlan`, which `respite_clinical`
//! alone makes.

use jiff::civil::Date;
use jiff::Timestamp;
use respite_clinical::plan::{Activity, ActivityKind, ActivityStatus, CheckedPlan, Goal};

use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};

/// One version of a plan, whole.
#[derive(Clone, Debug)]
pub struct TreatmentPlanRecord {
    pub id: i64,
    pub patient_id: i64,
    pub version: i64,
    pub title: String,
    pub addresses: String,
    pub note: String,
    pub review_on: Date,
    pub author: String,
    pub created_at: Timestamp,
    pub goals: Vec<Goal>,
    pub activities: Vec<Activity>,
}

/// One line of a plan's version list.
#[derive(Clone, Debug)]
pub struct PlanVersionSummary {
    pub id: i64,
    pub version: i64,
    pub author: String,
    pub created_at: Timestamp,
    pub review_on: Date,
}

/// A plan version as the last step stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPlan {
    pub id: i64,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: i64,
    patient_id: i64,
    version: i64,
    title: String,
    addresses: String,
    note: String,
    review_on: String,
    author: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct GoalRow {
    template: String,
    description: String,
    measure: String,
    target: String,
    source: String,
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    kind: String,
    status: String,
    description: String,
    protocol_id: Option<String>,
    sessions: Option<i64>,
    duration: String,
}

const PLAN_COLUMNS: &str = "p.id, p.patient_id, p.version, p.title, p.addresses, p.note, \
     p.review_on, u.display_name AS author, p.created_at \
     FROM treatment_plans p JOIN staff_users u ON u.id = p.author_user_id";

fn parse_date(text: &str, what: &str) -> StoreResult<Date> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {text} is not a date")))
}

impl Store {
    /// Stores `plan` as the patient's next version, with the audit entry of
    /// the request (naming the patient). `Ok(None)` when there is no such
    /// patient. Two clinicians saving at once both get a version: the second
    /// retries with the next number.
    pub async fn insert_treatment_plan(
        &self,
        patient_id: i64,
        author_user_id: i64,
        plan: &CheckedPlan,
        at: Timestamp,
    ) -> StoreResult<Option<StoredPlan>> {
        for _ in 0..3 {
            match self
                .try_insert_plan(patient_id, author_user_id, plan, at)
                .await
            {
                Err(StoreError::Database(err)) if is_unique_violation(&err) => continue,
                other => return other,
            }
        }
        Err(StoreError::Corrupt(
            "plan version: taken three times in a row".into(),
        ))
    }

    async fn try_insert_plan(
        &self,
        patient_id: i64,
        author_user_id: i64,
        plan: &CheckedPlan,
        at: Timestamp,
    ) -> StoreResult<Option<StoredPlan>> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<(i64, i64)> = sqlx::query_as(
            "INSERT INTO treatment_plans (patient_id, version, title, addresses, note, review_on, \
             author_user_id, created_at) \
             SELECT p.id, COALESCE((SELECT MAX(version) FROM treatment_plans t \
                                    WHERE t.patient_id = p.id), 0) + 1, \
                    $1, $2, $3, $4, $5, $6 FROM patients p WHERE p.id = $7 \
             RETURNING id, version",
        )
        .bind(&plan.title)
        .bind(&plan.addresses)
        .bind(&plan.note)
        .bind(plan.review_on.to_string())
        .bind(author_user_id)
        .bind(to_millis(at))
        .bind(patient_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, version)) = inserted else {
            tx.rollback().await?;
            return Ok(None);
        };
        for (position, goal) in plan.goals.iter().enumerate() {
            sqlx::query(
                "INSERT INTO treatment_plan_goals (plan_id, position, template, description, \
                 measure, target, source) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(position as i64)
            .bind(&goal.template)
            .bind(&goal.description)
            .bind(&goal.measure)
            .bind(&goal.target)
            .bind(&goal.source)
            .execute(&mut *tx)
            .await?;
        }
        for (position, activity) in plan.activities.iter().enumerate() {
            sqlx::query(
                "INSERT INTO treatment_plan_activities (plan_id, position, kind, status, \
                 description, protocol_id, sessions, duration) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(position as i64)
            .bind(activity.kind.code())
            .bind(activity.status.code())
            .bind(&activity.description)
            .bind(activity.protocol.as_deref())
            .bind(activity.sessions.map(i64::from))
            .bind(&activity.duration)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(Some(StoredPlan { id, version }))
    }

    /// The patient's plan versions, newest first.
    pub async fn treatment_plan_versions(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<PlanVersionSummary>> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!(
            "SELECT {PLAN_COLUMNS} WHERE p.patient_id = $1 ORDER BY p.version DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(PlanVersionSummary {
                    id: row.id,
                    version: row.version,
                    review_on: parse_date(&row.review_on, "plan review date")?,
                    author: row.author,
                    created_at: from_millis(row.created_at)?,
                })
            })
            .collect()
    }

    /// One version of a plan, by its id.
    pub async fn treatment_plan(&self, id: i64) -> StoreResult<Option<TreatmentPlanRecord>> {
        let row: Option<PlanRow> =
            sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some(self.whole_plan(row).await?)),
            None => Ok(None),
        }
    }

    /// The patient's newest plan version.
    pub async fn current_treatment_plan(
        &self,
        patient_id: i64,
    ) -> StoreResult<Option<TreatmentPlanRecord>> {
        let row: Option<PlanRow> = sqlx::query_as(&format!(
            "SELECT {PLAN_COLUMNS} WHERE p.patient_id = $1 ORDER BY p.version DESC LIMIT 1"
        ))
        .bind(patient_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.whole_plan(row).await?)),
            None => Ok(None),
        }
    }

    async fn whole_plan(&self, row: PlanRow) -> StoreResult<TreatmentPlanRecord> {
        let goals: Vec<GoalRow> = sqlx::query_as(
            "SELECT template, description, measure, target, source FROM treatment_plan_goals \
             WHERE plan_id = $1 ORDER BY position",
        )
        .bind(row.id)
        .fetch_all(&self.pool)
        .await?;
        let activities: Vec<ActivityRow> = sqlx::query_as(
            "SELECT kind, status, description, protocol_id, sessions, duration \
             FROM treatment_plan_activities WHERE plan_id = $1 ORDER BY position",
        )
        .bind(row.id)
        .fetch_all(&self.pool)
        .await?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("plan {}: {what}", row.id));
        let activities = activities
            .into_iter()
            .map(|a| {
                Ok(Activity {
                    kind: ActivityKind::from_code(&a.kind)
                        .ok_or_else(|| corrupt("activity kind"))?,
                    status: ActivityStatus::from_code(&a.status)
                        .ok_or_else(|| corrupt("activity status"))?,
                    description: a.description,
                    protocol: a.protocol_id,
                    sessions: a
                        .sessions
                        .map(u32::try_from)
                        .transpose()
                        .map_err(|_| corrupt("sessions"))?,
                    duration: a.duration,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(TreatmentPlanRecord {
            id: row.id,
            patient_id: row.patient_id,
            version: row.version,
            review_on: parse_date(&row.review_on, "plan review date")?,
            title: row.title,
            addresses: row.addresses,
            note: row.note,
            author: row.author,
            created_at: from_millis(row.created_at)?,
            goals: goals
                .into_iter()
                .map(|g| Goal {
                    template: g.template,
                    description: g.description,
                    measure: g.measure,
                    target: g.target,
                    source: g.source,
                })
                .collect(),
            activities,
        })
    }
}
