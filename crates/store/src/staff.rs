//! Staff users, their server-side sessions and failed sign-ins.

use jiff::Timestamp;
use respite_domain::Role;

use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

/// A live session and whose it is. The token itself is never stored: only
/// its SHA-256, so a copy of the database cannot be used to sign in.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: StaffUser,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The longest e-mail a failed sign-in stores: RFC 5321 §4.5.3.1.3 limits a
/// path to 256 octets including the angle brackets.
pub const MAX_STORED_EMAIL_CHARS: usize = 254;

/// Failed sign-ins for one e-mail address (from one source) within a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: i64,
    pub latest: Option<Timestamp>,
}

/// A staff user as stored.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    active: i64,
}

/// A staff user with their password hash, for sign-in.
#[derive(sqlx::FromRow)]
struct SignInRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

/// A session with its user.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    created_at: i64,
    last_seen_at: i64,
}

fn user_from_row(row: UserRow) -> StoreResult<StaffUser> {
    let role = row
        .role
        .parse::<Role>()
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    Ok(StaffUser {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        role,
        active: row.active != 0,
    })
}

impl Store {
    pub async fn create_staff_user(
        &self,
        email: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<StaffUser> {
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO staff_users (email, display_name, role, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(email)
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok((id,)) => Ok(StaffUser {
                id,
                email: email.to_owned(),
                display_name: display_name.to_owned(),
                role,
                active: true,
            }),
            Err(err) if is_unique_violation(&err) => {
                Err(StoreError::StaffEmailTaken(email.to_owned()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The user with this e-mail and their password hash.
    pub async fn staff_user_for_sign_in(
        &self,
        email: &str,
    ) -> StoreResult<Option<(StaffUser, String)>> {
        let row: Option<SignInRow> = sqlx::query_as(
            "SELECT id, email, display_name, role, active, password_hash \
             FROM staff_users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_from_row(row.user)?, row.password_hash)))
            .transpose()
    }

    pub async fn staff_users(&self) -> StoreResult<Vec<StaffUser>> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, email, display_name, role, active FROM staff_users ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(user_from_row).collect()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.display_name, u.role, u.active, s.created_at, s.last_seen_at \
             FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id \
             WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            user: user_from_row(row.user)?,
            created_at: from_millis(row.created_at)?,
            last_seen_at: from_millis(row.last_seen_at)?,
        }))
    }

    pub async fn touch_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(to_millis(now))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes sessions idle since `idle_before` or created before
    /// `created_before`.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM staff_sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(to_millis(idle_before))
                .bind(to_millis(created_before))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Records a failed sign-in for `email` from `source` (an address or
    /// network, as the web layer keys it), and prunes failures older than
    /// `prune_before`: the table holds one throttle window, not a history
    /// (the audit trail is the history). The e-mail is cut to 254
    /// characters (RFC 5321's longest path), so that a failed sign-in cannot
    /// grow the database by more than a short row.
    pub async fn record_login_failure(
        &self,
        email: &str,
        source: &str,
        now: Timestamp,
        prune_before: Timestamp,
    ) -> StoreResult<()> {
        let email: String = email.chars().take(MAX_STORED_EMAIL_CHARS).collect();
        let source: String = source.chars().take(64).collect();
        sqlx::query("INSERT INTO login_failures (email, source, at) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(source)
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(to_millis(prune_before))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed sign-ins for `email` from `source` since `since`.
    pub async fn login_failures_since(
        &self,
        email: &str,
        source: &str,
        since: Timestamp,
    ) -> StoreResult<LoginFailures> {
        let email: String = email.chars().take(MAX_STORED_EMAIL_CHARS).collect();
        let (count, latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM login_failures \
             WHERE email = $1 AND source = $2 AND at >= $3",
        )
        .bind(email)
        .bind(source)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(LoginFailures {
            count,
            latest: latest.map(from_millis).transpose()?,
        })
    }

    /// Forgets the failures of `email` from `source` (after a successful
    /// sign-in from there); failures from other sources stay counted.
    pub async fn clear_login_failures(&self, email: &str, source: &str) -> StoreResult<()> {
        let email: String = email.chars().take(MAX_STORED_EMAIL_CHARS).collect();
        sqlx::query("DELETE FROM login_failures WHERE email = $1 AND source = $2")
            .bind(email)
            .bind(source)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Rows in the failed sign-in table and the longest e-mail among them,
    /// for tests and the operator.
    pub async fn login_failure_rows(&self) -> StoreResult<(i64, i64)> {
        let (rows, longest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(CAST(LENGTH(email) AS BIGINT)) FROM login_failures",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, longest.unwrap_or(0)))
    }
}
