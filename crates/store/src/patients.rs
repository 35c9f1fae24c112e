//! Patients: demographics and contact data (the directory every staff role
//! may search), and the chart's header.

use jiff::Timestamp;

use crate::{from_millis, to_millis, Store, StoreResult};

/// One line of the patient list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PatientSummary {
    pub id: i64,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub phone_e164: Option<String>,
}

/// A patient's demographics.
#[derive(Clone, Debug)]
pub struct PatientRecord {
    pub id: i64,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub sex: String,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// A patient to create.
#[derive(Clone, Debug)]
pub struct NewPatient<'a> {
    pub mrn: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: jiff::civil::Date,
    pub sex: &'a str,
    pub phone_e164: Option<&'a str>,
    pub email: Option<&'a str>,
    pub time_zone: &'a str,
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    id: i64,
    mrn: String,
    given_name: String,
    family_name: String,
    birth_date: String,
    sex: String,
    phone_e164: Option<String>,
    email: Option<String>,
    time_zone: String,
    created_at: i64,
}

impl Store {
    /// Patients whose name, MRN or phone contains `query` (case-insensitive),
    /// by family name. An empty query lists the first `limit`.
    pub async fn search_patients(
        &self,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<PatientSummary>> {
        let pattern = format!("%{}%", escape_like(&query.trim().to_lowercase()));
        Ok(sqlx::query_as(
            "SELECT id, mrn, given_name, family_name, birth_date, phone_e164 FROM patients \
             WHERE LOWER(given_name || ' ' || family_name) LIKE $1 ESCAPE '\\' \
                OR LOWER(family_name || ', ' || given_name) LIKE $1 ESCAPE '\\' \
                OR LOWER(mrn) LIKE $1 ESCAPE '\\' \
                OR COALESCE(phone_e164, '') LIKE $1 ESCAPE '\\' \
             ORDER BY family_name, given_name, id LIMIT $2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn patient(&self, id: i64) -> StoreResult<Option<PatientRecord>> {
        let row: Option<PatientRow> = sqlx::query_as(
            "SELECT id, mrn, given_name, family_name, birth_date, sex, phone_e164, email, \
             time_zone, created_at FROM patients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(PatientRecord {
                id: row.id,
                mrn: row.mrn,
                given_name: row.given_name,
                family_name: row.family_name,
                birth_date: row.birth_date,
                sex: row.sex,
                phone_e164: row.phone_e164,
                email: row.email,
                time_zone: row.time_zone,
                created_at: from_millis(row.created_at)?,
            })
        })
        .transpose()
    }

    pub async fn count_patients(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM patients")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub async fn insert_patient(
        &self,
        patient: &NewPatient<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await?;
        insert_patient(&mut conn, patient, now).await
    }
}

pub(crate) async fn insert_patient(
    conn: &mut sqlx::AnyConnection,
    patient: &NewPatient<'_>,
    now: Timestamp,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO patients (mrn, given_name, family_name, birth_date, sex, phone_e164, email, \
         time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(patient.mrn)
    .bind(patient.given_name)
    .bind(patient.family_name)
    .bind(patient.birth_date.to_string())
    .bind(patient.sex)
    .bind(patient.phone_e164)
    .bind(patient.email)
    .bind(patient.time_zone)
    .bind(to_millis(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Escapes `%`, `_` and `\` so a search for "50%" means the text itself.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
