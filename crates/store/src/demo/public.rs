//! The demo clinic's public details (name, contacts, address, hours,
//! privacy notice), as an administrator would enter them on
//! `/staff/settings`. Every detail is invented: the telephone number is in
//! the 555-0100–0199 range reserved for fiction, the e-mail domain is
//! `.example` (RFC 2606).

use jiff::Timestamp;
use respite_domain::clinic::{ClinicProfile, DEFAULT_PRIVACY_NOTICE};
use respite_domain::{Email, PhoneNumber};

use crate::{StoreError, StoreResult};

/// The demo clinic's name, as `respite demo` serves it.
pub const DEMO_CLINIC_NAME: &str = "Respite Pain Clinic";

/// The demo clinic's public details.
pub fn demo_profile() -> StoreResult<ClinicProfile> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("demo clinic {what}"));
    Ok(ClinicProfile {
        name: DEMO_CLINIC_NAME.to_owned(),
        phone: Some(PhoneNumber::parse("+15035550100", "US").map_err(|_| corrupt("phone"))?),
        email: Some(
            Email::parse("frontdesk@respite-clinic.example").map_err(|_| corrupt("e-mail"))?,
        ),
        address: "2150 Cedar Hills Boulevard, Suite 210\nPortland, OR 97225".to_owned(),
        hours: "Monday to Friday, 8 am to 5 pm\nPhone consultations: Monday to Friday, 9 am to 5 pm\nClosed on public holidays".to_owned(),
        privacy_notice: DEFAULT_PRIVACY_NOTICE.to_owned(),
    })
}

/// Writes the demo clinic's public details, saved by "demo" at `now`.
pub(super) async fn clinic_profile(
    conn: &mut sqlx::AnyConnection,
    now: Timestamp,
) -> StoreResult<()> {
    crate::clinic_profile::write_profile(conn, &demo_profile()?, "demo", now).await
}
