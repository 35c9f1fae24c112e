//! Patients: demographics and contact data (the directory every staff role
//! may search), and the chart's header.

use jiff::Timestamp;

use crate::lists::{contains, escape_like, Keyset, PageAt, Paged, Param};
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
    pub email: Option<String>,
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

/// What the patient list is searched for. Empty fields match everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// What was typed in the search box. A phone number in any formatting
    /// ("555-0115", "(312) 555-0115", "+1 312 555 0115") is compared by its
    /// digits with the stored E.164 number, which is all digits after its
    /// `+`; otherwise every word must be found in the name, the MRN (with
    /// or without its dashes), the e-mail address or, with three digits or
    /// more, the phone number.
    pub text: String,
    /// A condition: an ICD-10-CM code or its start ("M54", "g90.5"), or
    /// words of its name ("migraine"). For roles that read clinical records
    /// only: the web layer never passes it for the others (SPEC §2).
    pub condition: String,
    /// Code prefixes the condition's words name in the clinic's code table
    /// (e.g. "CRPS" names G90.5 and G56.4), found by the web layer.
    pub condition_codes: Vec<String>,
}

/// The patient list's order: family name, given name, id (index
/// `patients_name_order`).
const PATIENT_KEY: &str = "p.family_name, p.given_name, p.id";

impl Store {
    /// Patients whose name, MRN or phone contains `query` (case-insensitive),
    /// by family name: the first `limit`.
    pub async fn search_patients(
        &self,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<PatientSummary>> {
        let query = PatientQuery {
            text: query.to_owned(),
            ..PatientQuery::default()
        };
        Ok(self.patient_page(&query, PageAt::First, limit).await?.rows)
    }

    /// One page of the patient list matching `query`, by family name, given
    /// name and id (keyset: see `lists`).
    pub async fn patient_page(
        &self,
        query: &PatientQuery,
        at: PageAt,
        size: i64,
    ) -> StoreResult<Paged<PatientSummary>> {
        let (filter, params) = patient_filter(query);
        let list = Keyset {
            select: "SELECT p.id, p.mrn, p.given_name, p.family_name, p.birth_date, \
                     p.phone_e164, p.email FROM patients p",
            from: "FROM patients p",
            filter,
            params,
            key: PATIENT_KEY,
            key_of: "SELECT family_name, given_name, id FROM patients WHERE id = ",
            descending: false,
        };
        self.keyset_page(&list, at, size, |p: &PatientSummary| p.id)
            .await
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

/// The most words of a search that are used; more refine nothing useful.
const MOST_WORDS: usize = 6;

/// The SQL filter of `query`, with its parameters (`$1 …`): fixed fragments,
/// every typed value bound.
fn patient_filter(query: &PatientQuery) -> (String, Vec<Param>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    let next = |params: &mut Vec<Param>, value: String| {
        params.push(Param::Text(value));
        params.len()
    };
    let text = query.text.trim();
    if let Some(digits) = phone_digits(text) {
        let a = next(&mut params, format!("%{digits}%"));
        let trimmed = digits.trim_start_matches('0');
        let b = next(
            &mut params,
            format!("%{}%", if trimmed.len() >= 3 { trimmed } else { &digits }),
        );
        clauses.push(format!(
            "(COALESCE(p.phone_e164, '') LIKE ${a} OR COALESCE(p.phone_e164, '') LIKE ${b})"
        ));
    } else {
        let words = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|w| !w.is_empty())
            .take(MOST_WORDS);
        for word in words {
            let a = next(&mut params, contains(word));
            let b = next(&mut params, contains(&word.replace('-', "")));
            let digits: String = word.chars().filter(char::is_ascii_digit).collect();
            let c = next(
                &mut params,
                if digits.len() >= 3 {
                    format!("%{digits}%")
                } else {
                    String::new()
                },
            );
            clauses.push(format!(
                "(LOWER(p.given_name || ' ' || p.family_name) LIKE ${a} ESCAPE '\\' \
                 OR LOWER(p.family_name || ', ' || p.given_name) LIKE ${a} ESCAPE '\\' \
                 OR LOWER(p.mrn) LIKE ${a} ESCAPE '\\' \
                 OR REPLACE(LOWER(p.mrn), '-', '') LIKE ${b} ESCAPE '\\' \
                 OR LOWER(COALESCE(p.email, '')) LIKE ${a} ESCAPE '\\' \
                 OR (${c} <> '' AND COALESCE(p.phone_e164, '') LIKE ${c}))"
            ));
        }
    }
    let condition = query.condition.trim();
    if !condition.is_empty() {
        let mut alternatives = Vec::new();
        let name = next(&mut params, contains(condition));
        alternatives.push(format!("LOWER(c.display) LIKE ${name} ESCAPE '\\'"));
        if let Some(code) = code_prefix(condition) {
            let code = next(&mut params, format!("{}%", escape_like(&code)));
            alternatives.push(format!(
                "REPLACE(UPPER(c.icd10cm_code), '.', '') LIKE ${code} ESCAPE '\\'"
            ));
        }
        for prefix in query.condition_codes.iter().take(20) {
            let code = next(&mut params, format!("{}%", escape_like(prefix)));
            alternatives.push(format!("c.icd10cm_code LIKE ${code} ESCAPE '\\'"));
        }
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM conditions c WHERE c.patient_id = p.id AND ({}))",
            alternatives.join(" OR ")
        ));
    }
    if clauses.is_empty() {
        return ("1 = 1".to_owned(), params);
    }
    (clauses.join(" AND "), params)
}

/// The digits of `text` when it is a phone number or part of one: only
/// digits, spaces and `+ - ( ) .`, with at least three digits.
pub fn phone_digits(text: &str) -> Option<String> {
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'))
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 3).then_some(digits)
}

/// `text` as the start of an ICD-10-CM code, upper-case and without its
/// dot ("m54.5" → "M545"), when it has a code's shape: a letter, a digit,
/// then up to five letters or digits (CMS, ICD-10-CM Official Guidelines,
/// Section I.A).
fn code_prefix(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| *c != '.')
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = code.as_bytes();
    let shaped = (2..=7).contains(&bytes.len())
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && bytes.iter().all(u8::is_ascii_alphanumeric);
    shaped.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_fragments_in_any_formatting_are_their_digits() {
        let check = |typed: &str, expected: Option<&str>| {
            assert_eq!(phone_digits(typed).as_deref(), expected, "{typed}");
        };
        check("555-0115", Some("5550115"));
        check("(312) 555-0115", Some("3125550115"));
        check("3125550115", Some("3125550115"));
        check("+1 312.555.0115", Some("13125550115"));
        check("12", None);
        check("Ana 555", None);
        check("RSP-001015", None);
    }

    #[test]
    fn condition_codes_are_prefixes_without_the_dot() {
        assert_eq!(code_prefix("m54.5").as_deref(), Some("M545"));
        assert_eq!(code_prefix("G90").as_deref(), Some("G90"));
        assert_eq!(code_prefix("migraine"), None);
        assert_eq!(code_prefix("M"), None);
    }
}
