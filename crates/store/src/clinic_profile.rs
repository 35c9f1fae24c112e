//! The clinic's public details (`clinic_profile`, one row): what the public
//! pages show around every page, edited by the administrator (SPEC §2,
//! clinic settings). Validation is `respite_domain::clinic`'s; this module
//! reads and writes the row.

use jiff::Timestamp;
use respite_domain::clinic::ClinicProfile;
use respite_domain::{Email, PhoneNumber};

use crate::{from_millis, to_millis, Store, StoreError, StoreResult};

/// The stored profile, with who saved it last and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClinicProfileRecord {
    pub profile: ClinicProfile,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    name: String,
    phone_e164: String,
    email: String,
    address: String,
    hours: String,
    privacy_notice: String,
    updated_at: i64,
    updated_by: String,
}

impl ProfileRow {
    fn parse(self) -> StoreResult<ClinicProfileRecord> {
        let phone =
            match self.phone_e164.as_str() {
                "" => None,
                stored => Some(PhoneNumber::from_e164(stored).map_err(|err| {
                    StoreError::Corrupt(format!("clinic_profile.phone_e164: {err}"))
                })?),
            };
        let email = match self.email.as_str() {
            "" => None,
            stored => Some(
                Email::parse(stored)
                    .map_err(|err| StoreError::Corrupt(format!("clinic_profile.email: {err}")))?,
            ),
        };
        Ok(ClinicProfileRecord {
            profile: ClinicProfile {
                name: self.name,
                phone,
                email,
                address: self.address,
                hours: self.hours,
                privacy_notice: self.privacy_notice,
            },
            updated_at: from_millis(self.updated_at)?,
            updated_by: self.updated_by,
        })
    }
}

impl Store {
    /// The clinic's public details, or `None` until an administrator (or
    /// the demo) saved them.
    pub async fn clinic_profile(&self) -> StoreResult<Option<ClinicProfileRecord>> {
        let row: Option<ProfileRow> = sqlx::query_as(
            "SELECT name, phone_e164, email, address, hours, privacy_notice, updated_at, \
             updated_by FROM clinic_profile WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(ProfileRow::parse).transpose()
    }

    /// Saves the clinic's public details (insert or replace the one row),
    /// with the stamp's audit entry in the same transaction.
    pub async fn save_clinic_profile(
        &self,
        profile: &ClinicProfile,
        by: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        write_profile(&mut tx, profile, by, at).await?;
        self.commit(tx, Some("clinic")).await
    }
}

/// The one row, inserted or replaced; the demo seeds it through this too.
pub(crate) async fn write_profile(
    conn: &mut sqlx::AnyConnection,
    profile: &ClinicProfile,
    by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO clinic_profile (id, name, phone_e164, email, address, hours, \
         privacy_notice, updated_at, updated_by) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone_e164 = excluded.phone_e164, \
         email = excluded.email, address = excluded.address, hours = excluded.hours, \
         privacy_notice = excluded.privacy_notice, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(&profile.name)
    .bind(profile.phone.as_ref().map_or("", |p| p.as_e164()))
    .bind(profile.email.as_ref().map_or("", |e| e.as_str()))
    .bind(&profile.address)
    .bind(&profile.hours)
    .bind(&profile.privacy_notice)
    .bind(to_millis(at))
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
