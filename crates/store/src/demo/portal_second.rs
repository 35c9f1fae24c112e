//! A second portal patient in the demo: RSP-001001 consents to e-mail, so
//! that staff can invite them too, and the portal can be walked by two
//! patients at once — each sees only their own (SPEC §2: "a patient can
//! never reach another patient's data, by any route or identifier";
//! tests/browser/portal.test.js tries the first patient's ids as this one).

use jiff::Timestamp;
use respite_domain::messaging::MessageChannel;

use crate::StoreResult;

/// The second portal patient's MRN.
const SECOND_PORTAL_PATIENT: &str = "RSP-001001";

pub(crate) async fn second_portal_patient(
    conn: &mut sqlx::AnyConnection,
    now: Timestamp,
) -> StoreResult<()> {
    let email: Option<(Option<String>,)> =
        sqlx::query_as("SELECT email FROM patients WHERE mrn = $1")
            .bind(SECOND_PORTAL_PATIENT)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((Some(email),)) = email else {
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
    .await
}
