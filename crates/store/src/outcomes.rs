//! One patient's outcomes (SPEC §1 step 6): every score observation the
//! portal or a paper form produced, with the PHQ-9 safety answer beside it,
//! and the infusion sessions to mark on the trajectories. Two queries; the
//! route that calls them audits the read. Judging the change (baseline,
//! responder, durability) is respite-clinical's, not this module's.

use jiff::Timestamp;

use crate::portal::ScoreRecord;
use crate::{from_millis, Store, StoreResult};

/// A patient's scores and infusions, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientOutcomes {
    pub scores: Vec<OutcomeScore>,
    pub infusions: Vec<InfusionMark>,
}

/// A score observation, with the PHQ-9 item 9 answer of its questionnaire.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeScore {
    pub record: ScoreRecord,
    /// The questionnaire's source: `portal` or `paper`.
    pub source: String,
    /// PHQ-9 only: `Some(None)` when item 9 was left unanswered (safety
    /// status unknown, never zero); `None` for other instruments.
    pub safety_answer: Option<Option<i32>>,
}

/// An infusion session to mark on a trajectory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfusionMark {
    pub id: i64,
    pub started_at: Timestamp,
    pub protocol: String,
}

#[allow(clippy::type_complexity)]
type ScoreRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<String>,
    i32,
    String,
    String,
    i64,
    Option<i32>,
);

impl Store {
    /// `patient_id`'s score observations and infusion sessions, oldest first.
    pub async fn patient_outcomes(&self, patient_id: i64) -> StoreResult<PatientOutcomes> {
        let rows: Vec<ScoreRow> = sqlx::query_as(
            "SELECT s.assignment_id, q.instrument, q.source, s.scale, s.code_system, s.code, \
             s.value, s.band, s.prorated, s.missing_items, s.rule, s.effective_at, a.value \
             FROM score_observations s \
             JOIN questionnaire_assignments q ON q.id = s.assignment_id \
             LEFT JOIN questionnaire_answers a ON a.assignment_id = s.assignment_id \
               AND a.link_id = '9' AND q.instrument = 'phq-9' \
             WHERE s.patient_id = $1 ORDER BY s.effective_at, s.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let scores = rows
            .into_iter()
            .map(|r| {
                let phq9 = r.1 == "phq-9";
                Ok(OutcomeScore {
                    record: ScoreRecord {
                        assignment_id: r.0,
                        instrument: r.1,
                        scale: r.3,
                        code_system: r.4,
                        code: r.5,
                        value: r.6,
                        band: r.7,
                        prorated: r.8 != 0,
                        missing_items: r.9,
                        rule: r.10,
                        effective_at: from_millis(r.11)?,
                    },
                    source: r.2,
                    safety_answer: phq9.then_some(r.12),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let sessions: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, started_at, protocol FROM infusion_sessions WHERE patient_id = $1 \
             ORDER BY started_at, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let infusions = sessions
            .into_iter()
            .map(|(id, at, protocol)| {
                Ok(InfusionMark {
                    id,
                    started_at: from_millis(at)?,
                    protocol,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(PatientOutcomes { scores, infusions })
    }
}
