//! The consultation record and converting an inquiry to a patient chart
//! (SPEC §1 step 2, "hold the consultation and record it", and the chart
//! that screening, step 3, starts from).

use jiff::civil::Date;
use jiff::Timestamp;
use respite_domain::consultation::{ConsultationNote, NextStep};

use respite_domain::thread::{ClosedReason, InquiryStatus};

use crate::{from_millis, inquiries, to_millis, Store, StoreError, StoreResult};

/// A stored consultation note, as pages show it.
#[derive(Clone, Debug)]
pub struct ConsultationNoteRecord {
    pub id: i64,
    /// 1 for the first note of the inquiry; each edit adds the next.
    pub version: i64,
    pub author_email: String,
    pub at: Timestamp,
    pub pain_location: String,
    pub pain_duration_amount: i64,
    pub pain_duration_unit: String,
    pub diagnosis: Option<String>,
    pub diagnosed_by: Option<String>,
    pub diagnosed_on: Option<String>,
    pub icd10cm_code: Option<String>,
    /// One per line, `treatment: why it stopped`.
    pub treatments_tried: Vec<String>,
    pub hopes: String,
    pub red_flags: String,
    pub next_step: String,
    pub not_candidate_reason: Option<String>,
}

/// The demographics a chart needs that an inquiry does not hold.
#[derive(Clone, Debug)]
pub struct NewChart<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: Date,
    /// female, male, other or unknown.
    pub sex: &'a str,
}

/// The chart made from an inquiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertedChart {
    pub patient_id: i64,
    pub mrn: String,
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    id: i64,
    version: i64,
    author_email: String,
    at: i64,
    pain_location: String,
    pain_duration_amount: i64,
    pain_duration_unit: String,
    diagnosis: Option<String>,
    diagnosed_by: Option<String>,
    diagnosed_on: Option<String>,
    icd10cm_code: Option<String>,
    treatments_tried: String,
    hopes: String,
    red_flags: String,
    next_step: String,
    not_candidate_reason: Option<String>,
}

impl NoteRow {
    fn parse(self) -> StoreResult<ConsultationNoteRecord> {
        Ok(ConsultationNoteRecord {
            id: self.id,
            version: self.version,
            author_email: self.author_email,
            at: from_millis(self.at)?,
            pain_location: self.pain_location,
            pain_duration_amount: self.pain_duration_amount,
            pain_duration_unit: self.pain_duration_unit,
            diagnosis: self.diagnosis,
            diagnosed_by: self.diagnosed_by,
            diagnosed_on: self.diagnosed_on,
            icd10cm_code: self.icd10cm_code,
            treatments_tried: self
                .treatments_tried
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            hopes: self.hopes,
            red_flags: self.red_flags,
            next_step: self.next_step,
            not_candidate_reason: self.not_candidate_reason,
        })
    }
}

impl Store {
    /// Stores a consultation note as the inquiry's first version, or as the
    /// next version on top of whatever is latest (see
    /// [`Store::save_consultation_note`]).
    pub async fn insert_consultation_note(
        &self,
        inquiry_id: i64,
        author_user_id: i64,
        note: &ConsultationNote,
        at: Timestamp,
    ) -> StoreResult<Option<i64>> {
        self.save_consultation_note(inquiry_id, author_user_id, note, None, at)
            .await
    }

    /// Stores a version of the inquiry's clinical consultation note: the
    /// next after the latest. `based_on` is the version the author edited
    /// (0 for a first note): when another version was saved meanwhile the
    /// note is refused (`NoteChanged`), so that no one overwrites what they
    /// have not read; `None` adds on top without the check. Earlier versions
    /// are kept as they were. A "not a candidate" note closes the thread
    /// (reason not-a-candidate) and its open callbacks in the same
    /// transaction. `Ok(None)` when there is no such inquiry.
    pub async fn save_consultation_note(
        &self,
        inquiry_id: i64,
        author_user_id: i64,
        note: &ConsultationNote,
        based_on: Option<i64>,
        at: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let diagnosis = note.diagnosis.as_ref();
        let treatments = note
            .treatments_tried
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let reason = match &note.next_step {
            NextStep::NotACandidate { reason } => Some(reason.as_str()),
            _ => None,
        };
        let mut tx = self.begin_write().await?;
        let version = next_version(&mut tx, "consultation_notes", inquiry_id, based_on).await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO consultation_notes (inquiry_id, author_user_id, at, pain_location, \
             pain_duration_amount, pain_duration_unit, diagnosis, diagnosed_by, diagnosed_on, \
             icd10cm_code, treatments_tried, hopes, red_flags, next_step, not_candidate_reason, \
             version) \
             SELECT id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16 \
             FROM inquiries WHERE id = $15 RETURNING id",
        )
        .bind(author_user_id)
        .bind(to_millis(at))
        .bind(&note.pain_location)
        .bind(i64::from(note.pain_duration.amount()))
        .bind(note.pain_duration.unit().as_str())
        .bind(diagnosis.map(|d| d.description.clone()))
        .bind(diagnosis.map(|d| d.diagnosed_by.clone()))
        .bind(
            diagnosis
                .and_then(|d| d.diagnosed_on)
                .map(|d| d.to_string()),
        )
        .bind(diagnosis.and_then(|d| d.icd10cm_code.clone()))
        .bind(treatments)
        .bind(&note.hopes)
        .bind(&note.red_flags)
        .bind(note.next_step.as_str())
        .bind(reason)
        .bind(inquiry_id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| version_taken(err, version))?;
        let Some((id,)) = inserted else {
            tx.rollback().await?;
            return Ok(None);
        };
        if reason.is_some() {
            inquiries::close(&mut tx, inquiry_id, ClosedReason::NotACandidate).await?;
            inquiries::finish_callbacks(&mut tx, inquiry_id, at).await?;
        }
        // The entry names the inquiry (the route's path id).
        self.commit(tx, None).await?;
        Ok(Some(id))
    }

    /// Stores a version of the front desk's record of the consultation call
    /// (as [`Store::save_consultation_note`]: the next version, refused when
    /// `based_on` is not the latest). A person reached on a thread that was
    /// new is now contacted, in the same transaction. `Ok(None)` when there
    /// is no such inquiry.
    pub async fn save_consultation_call(
        &self,
        inquiry_id: i64,
        author_user_id: i64,
        call: &ConsultationCall,
        based_on: Option<i64>,
        at: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let version = next_version(&mut tx, "consultation_calls", inquiry_id, based_on).await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO consultation_calls (inquiry_id, version, author_user_id, at, reached, \
             booked, asked) SELECT id, $1, $2, $3, $4, $5, $6 FROM inquiries WHERE id = $7 \
             RETURNING id",
        )
        .bind(version)
        .bind(author_user_id)
        .bind(to_millis(at))
        .bind(i64::from(call.reached))
        .bind(i64::from(call.booked))
        .bind(&call.asked)
        .bind(inquiry_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| version_taken(err, version))?;
        let Some((id,)) = inserted else {
            tx.rollback().await?;
            return Ok(None);
        };
        if call.reached && inquiries::status_of(&mut tx, inquiry_id).await? == InquiryStatus::New {
            inquiries::mark_contacted(&mut tx, inquiry_id).await?;
        }
        self.commit(tx, None).await?;
        Ok(Some(id))
    }

    /// The versions of the inquiry's call record, newest first.
    pub async fn consultation_calls(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<ConsultationCallRecord>> {
        let rows: Vec<CallRow> = sqlx::query_as(
            "SELECT c.id, c.version, u.email AS author_email, c.at, c.reached, c.booked, c.asked \
             FROM consultation_calls c JOIN staff_users u ON u.id = c.author_user_id \
             WHERE c.inquiry_id = $1 ORDER BY c.version DESC",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ConsultationCallRecord {
                    id: row.id,
                    version: row.version,
                    author_email: row.author_email,
                    at: from_millis(row.at)?,
                    reached: row.reached != 0,
                    booked: row.booked != 0,
                    asked: row.asked,
                })
            })
            .collect()
    }

    /// The versions of the inquiry's consultation note, newest first.
    pub async fn consultation_notes(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<ConsultationNoteRecord>> {
        let rows: Vec<NoteRow> = sqlx::query_as(
            "SELECT n.id, u.email AS author_email, n.at, n.pain_location, n.pain_duration_amount, \
             n.pain_duration_unit, n.diagnosis, n.diagnosed_by, n.diagnosed_on, n.icd10cm_code, \
             n.treatments_tried, n.hopes, n.red_flags, n.next_step, n.not_candidate_reason, \
             n.version \
             FROM consultation_notes n JOIN staff_users u ON u.id = n.author_user_id \
             WHERE n.inquiry_id = $1 ORDER BY n.version DESC",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(NoteRow::parse).collect()
    }

    /// The consultation notes of the inquiries converted to this patient's
    /// chart, newest first: the person's own account (treatments tried and
    /// why they stopped, hopes, red flags) that screening starts from.
    pub async fn consultation_notes_for_patient(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<ConsultationNoteRecord>> {
        let inquiries: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM inquiries WHERE patient_id = $1 ORDER BY id")
                .bind(patient_id)
                .fetch_all(&self.pool)
                .await?;
        let mut notes = Vec::new();
        for (inquiry_id,) in inquiries {
            notes.extend(self.consultation_notes(inquiry_id).await?);
        }
        notes.sort_by_key(|n| std::cmp::Reverse((n.at, n.id)));
        Ok(notes)
    }

    /// The chart an inquiry was converted to, if any.
    pub async fn inquiry_chart(&self, inquiry_id: i64) -> StoreResult<Option<ConvertedChart>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT p.id, p.mrn FROM inquiries i JOIN patients p ON p.id = i.patient_id \
             WHERE i.id = $1",
        )
        .bind(inquiry_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(patient_id, mrn)| ConvertedChart { patient_id, mrn }))
    }

    /// Converts an inquiry into a patient chart, all in one transaction: a
    /// patient with a generated MRN and the inquiry's contact data, the
    /// inquiry linked to it, and the latest consultation note's diagnosis as
    /// a condition (diagnosed by and on as stated; onset estimated from the
    /// stated duration and marked as estimated; code empty until a clinician
    /// codes it, when the note had none). Refused as a conflict when the
    /// inquiry already has a chart, has no consultation note, or its latest
    /// note says "not a candidate". `Ok(None)` when there is no such inquiry.
    pub async fn convert_inquiry_to_patient(
        &self,
        inquiry_id: i64,
        chart: &NewChart<'_>,
        at: Timestamp,
    ) -> StoreResult<Option<ConvertedChart>> {
        let Some(inquiry) = self.inquiry(inquiry_id).await? else {
            return Ok(None);
        };
        let note = self
            .consultation_notes(inquiry_id)
            .await?
            .into_iter()
            .next();
        let Some(note) = note else {
            return Err(StoreError::NoConsultationNote);
        };
        if note.next_step == "not-a-candidate" {
            return Err(StoreError::NotACandidate);
        }
        let already = || StoreError::AlreadyConverted;
        if self.inquiry_chart(inquiry_id).await?.is_some() {
            return Err(already());
        }

        let mut tx = self.begin_write().await?;
        // The placeholder MRN is unique per inquiry and replaced below.
        let (patient_id,): (i64,) = sqlx::query_as(
            "INSERT INTO patients (mrn, given_name, family_name, birth_date, sex, phone_e164, \
             email, time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(format!("pending-inquiry-{inquiry_id}"))
        .bind(chart.given_name)
        .bind(chart.family_name)
        .bind(chart.birth_date.to_string())
        .bind(chart.sex)
        .bind(&inquiry.phone_e164)
        .bind(&inquiry.email)
        .bind(&inquiry.time_zone)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| {
            if crate::is_unique_violation(&err) {
                already()
            } else {
                err.into()
            }
        })?;
        // Claims the inquiry; a concurrent conversion finds it taken.
        if !inquiries::link_patient(&mut tx, inquiry_id, patient_id).await? {
            tx.rollback().await?;
            return Err(already());
        }
        let mrn = medical_record_number(patient_id);
        sqlx::query("UPDATE patients SET mrn = $1 WHERE id = $2")
            .bind(&mrn)
            .bind(patient_id)
            .execute(&mut *tx)
            .await?;

        if let (Some(diagnosis), Some(diagnosed_by)) = (&note.diagnosis, &note.diagnosed_by) {
            // The onset is counted back from the day of the call, on the
            // person's own calendar.
            let stated_on = jiff::tz::TimeZone::get(&inquiry.time_zone)
                .map(|tz| note.at.to_zoned(tz).date())
                .map_err(|err| StoreError::Corrupt(format!("time zone: {err}")))?;
            let onset = estimated_onset(&note, stated_on)?;
            sqlx::query(
                "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, \
                 diagnosed_by, diagnosed_on, onset_estimated) VALUES ($1, $2, $3, $4, $5, $6, 1)",
            )
            .bind(patient_id)
            .bind(note.icd10cm_code.clone().unwrap_or_default())
            .bind(diagnosis)
            .bind(onset.to_string())
            .bind(diagnosed_by)
            .bind(note.diagnosed_on.clone().unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(Some(ConvertedChart { patient_id, mrn }))
    }
}

/// The front desk's record of the consultation call, to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultationCall {
    /// The person was reached on the call.
    pub reached: bool,
    /// A visit was booked on the call.
    pub booked: bool,
    /// What the person asked, in the front desk's words.
    pub asked: String,
}

/// A stored version of the call record.
#[derive(Clone, Debug)]
pub struct ConsultationCallRecord {
    pub id: i64,
    pub version: i64,
    pub author_email: String,
    pub at: Timestamp,
    pub reached: bool,
    pub booked: bool,
    pub asked: String,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    version: i64,
    author_email: String,
    at: i64,
    reached: i64,
    booked: i64,
    asked: String,
}

/// The version a new note or call record of the inquiry takes: one after
/// the latest. Refused when the author edited another version than the
/// latest (`based_on`; 0 for "there was none").
async fn next_version(
    conn: &mut sqlx::AnyConnection,
    table: &'static str,
    inquiry_id: i64,
    based_on: Option<i64>,
) -> StoreResult<i64> {
    let (latest,): (i64,) = sqlx::query_as(&format!(
        "SELECT COALESCE(MAX(version), 0) FROM {table} WHERE inquiry_id = $1"
    ))
    .bind(inquiry_id)
    .fetch_one(&mut *conn)
    .await?;
    match based_on {
        Some(edited) if edited != latest => Err(StoreError::NoteChanged { latest }),
        _ => Ok(latest + 1),
    }
}

/// Two authors saving at once on PostgreSQL: the unique (inquiry, version)
/// index refuses the second, who is told that the note changed.
fn version_taken(err: sqlx::Error, version: i64) -> StoreError {
    if crate::is_unique_violation(&err) {
        StoreError::NoteChanged { latest: version }
    } else {
        err.into()
    }
}

fn estimated_onset(note: &ConsultationNoteRecord, stated_on: Date) -> StoreResult<Date> {
    use respite_domain::consultation::{DurationUnit, StatedDuration};
    let corrupt = || StoreError::Corrupt(format!("consultation note {} duration", note.id));
    let unit: DurationUnit = note.pain_duration_unit.parse().map_err(|()| corrupt())?;
    let amount = u16::try_from(note.pain_duration_amount).map_err(|_| corrupt())?;
    StatedDuration::new(amount, unit)
        .map_err(|_| corrupt())?
        .estimated_onset(stated_on)
        .ok_or_else(corrupt)
}

/// A medical record number from the patient's id: `RSP-000042-7`, six
/// digits and a Luhn check digit (ISO/IEC 7812-1 Annex B), so that a
/// mistyped digit is caught. The check digit keeps these apart from the
/// demo's `RSP-001000` numbers.
pub fn medical_record_number(patient_id: i64) -> String {
    let digits = format!("{:06}", patient_id.unsigned_abs());
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    format!("RSP-{digits}-{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    #[test]
    fn mrn_check_digits_follow_luhn() {
        // The Luhn example in ISO/IEC 7812-1 Annex B (and Wikipedia,
        // "Luhn algorithm"): payload 7992739871 has check digit 3.
        assert!(super::medical_record_number(7_992_739_871).ends_with("-3"));
        assert_eq!(super::medical_record_number(42), "RSP-000042-2");
    }
}
