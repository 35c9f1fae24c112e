//! The demo's portal: the first demo patient (MRN RSP-001000) consents to
//! e-mail and has a PHQ-9 to answer in the portal, so that staff can invite
//! them from the chart and the patient can answer (tests/browser/portal).

use jiff::Timestamp;
use respite_domain::messaging::MessageChannel;

use crate::{to_millis, StoreResult};

pub(crate) async fn portal(conn: &mut sqlx::AnyConnection, now: Timestamp) -> StoreResult<()> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, email FROM patients WHERE mrn = 'RSP-001000'")
            .fetch_optional(&mut *conn)
            .await?;
    let Some((patient_id, Some(email))) = row else {
        return Ok(());
    };
    crate::consents::insert(
        conn,
        None,
        &email,
        MessageChannel::Email,
        true,
        now,
        "demo: consent given at the clinic",
    )
    .await?;
    sqlx::query(
        "INSERT INTO questionnaire_assignments (patient_id, instrument, source, assigned_at, \
         assigned_by) VALUES ($1, 'phq-9', 'portal', $2, 'nurse@demo.respite.test')",
    )
    .bind(patient_id)
    .bind(to_millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
